"""Reading HTML form posts (``application/x-www-form-urlencoded`` and ``multipart/form-data``) with the standard
library.

Starlette's ``Request.form()`` needs the ``python-multipart`` package, which is not a dependency of lambdahost;
the UI's forms are few and small (the largest part is a function's zip, at most 50 MB), so they are parsed here:
urlencoded bodies with ``urllib.parse``, multipart ones with the ``email`` package's MIME parser (what the
standard library offers since ``cgi`` was removed). Swapping in ``request.form()`` later changes this module only.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.requests import Request

from lambdahost.code.limits import MAX_ZIP_BYTES
from lambdahost.core.errors import InvalidRequestContent, RequestTooLarge

MAX_FORM_BYTES = MAX_ZIP_BYTES + 1024 * 1024  # a zip at its limit plus the other fields


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)


async def read_form(request: Request) -> Form:
    """The fields and files of a form post; ``RequestTooLarge`` past ``MAX_FORM_BYTES``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise RequestTooLarge(f"The form must be smaller than {MAX_FORM_BYTES} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise RequestTooLarge(f"The form must be smaller than {MAX_FORM_BYTES} bytes.")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        return parse_multipart(content_type, bytes(body))
    return Form(dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))


def parse_multipart(content_type: str, body: bytes) -> Form:
    """A ``multipart/form-data`` body (its ``Content-Type`` header carries the boundary)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise InvalidRequestContent("The form is not a valid multipart/form-data body.")
    form = Form()
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True)
        data = data if isinstance(data, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            if data or filename:  # a file input left empty sends an empty part with filename=""
                form.files[name] = Upload(filename, data)
        else:
            form.fields[name] = data.decode(part.get_content_charset() or "utf-8", "replace")
    return form
