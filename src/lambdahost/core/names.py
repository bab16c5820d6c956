"""Function names, qualifiers and ARNs, parsed and built exactly as AWS Lambda does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from lambdahost.core.errors import InvalidParameterValue
from lambdahost.core.model import LATEST

NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
QUALIFIER_RE = re.compile(r"^(\$LATEST|[0-9]+|(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128})$")
_ARN_RE = re.compile(
    r"^(?:arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z0-9-]+):)?"
    r"(?P<account>\d{12}):function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$"
)
_PLAIN_RE = re.compile(r"^(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")
ROLE_RE = re.compile(r"^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")


@dataclass(frozen=True)
class FunctionRef:
    """A function named by a client, in any of AWS's accepted forms, split into name and qualifier."""

    name: str
    qualifier: str | None = None


def parse_function_ref(raw: str, qualifier: str | None = None) -> FunctionRef:
    """Parse ``name``, ``name:qual``, a full or partial ARN (URL-encoded or not).

    A qualifier given both inside the name and separately must agree, as on AWS.
    """
    text = unquote(raw)
    match = _ARN_RE.match(text) or _PLAIN_RE.match(text)
    if not match:
        raise InvalidParameterValue(
            f"1 validation error detected: Value '{text}' at 'functionName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
            "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
        )
    name = match.group("name")
    inner = match.group("qualifier")
    if not NAME_RE.match(name):
        raise InvalidParameterValue(
            f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and length <= 64"
        )
    if inner and qualifier and inner != qualifier:
        raise InvalidParameterValue(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    final = qualifier or inner
    if final is not None and not QUALIFIER_RE.match(final):
        raise InvalidParameterValue(
            f"1 validation error detected: Value '{final}' at 'qualifier' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)"
        )
    return FunctionRef(name=name, qualifier=final)


def validate_function_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise InvalidParameterValue(
            f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and length <= 64"
        )
    return name


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    """The function's ARN; unqualified for ``$LATEST`` when no qualifier is asked for."""
    base = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def resolved_version(qualifier: str | None) -> str:
    return qualifier or LATEST


# Any ARN a destination may name (the pattern of AWS's DestinationConfig), and the two kinds lambdahost delivers to.
DESTINATION_ARN_RE = re.compile(
    r"^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)
QUEUE_ARN_RE = re.compile(
    r"^arn:aws[a-zA-Z-]*:sqs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<name>[A-Za-z0-9_-]{1,80}(\.fifo)?)$"
)


def queue_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"
