"""AWS Lambda's code-package limits, plus the zip-bomb thresholds lambdahost adds on top.

AWS numbers (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html):

- a zip uploaded directly (``ZipFile`` in CreateFunction/UpdateFunctionCode) is at most 50 MB (52428800
  bytes). AWS checks the base64 request body, so its own error reads ``Request must be smaller than 69905067
  bytes for the CreateFunction operation``; the API layer renders that one (``request_too_large_message``),
  this layer checks the raw zip and names its size;
- the unzipped code is at most 250 MB (262144000 bytes), summed over every entry.

lambdahost additions, so that a small upload can never make a machine decompress gigabytes:

- at most 10000 entries (a zip with more is almost surely generated to hurt; each entry costs an inode);
- a per-entry compression ratio of at most 100:1 for entries that unpack to more than 1 MiB. Deflate tops out
  near 1030:1 and bombs live there; real code, wheels and even repetitive text or CSV stay well under 100:1.
  Small entries are exempt because a tiny file of zeros is harmless whatever its ratio;
- the same 100:1 for the whole zip (declared unzipped total over the zip's size) once the total passes 1 MiB;
- entries whose compressed bytes overlap (the "non-recursive" zip bomb that points many entries at one stream)
  are always rejected, and so is an entry that decompresses to more than its header says (headers can lie).

Every threshold is a field, so a deployment (or a test) can tighten or loosen one without touching the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024

MAX_ZIP_BYTES = 50 * MIB  # 52428800
MAX_UNZIPPED_BYTES = 250 * MIB  # 262144000
MAX_BASE64_REQUEST_BYTES = 69905067  # AWS's limit on the request body that carries the base64 zip


@dataclass(frozen=True)
class ZipLimits:
    max_zip_bytes: int = MAX_ZIP_BYTES
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES
    max_entries: int = 10_000
    max_entry_ratio: int = 100
    max_total_ratio: int = 100
    ratio_floor_bytes: int = MIB  # ratios are only checked above this many unzipped bytes

    def unzipped_too_large_message(self) -> str:
        """AWS's exact wording (with this deployment's number)."""
        return f"Unzipped size must be smaller than {self.max_unzipped_bytes} bytes"


DEFAULT_LIMITS = ZipLimits()


def request_too_large_message(operation: str = "CreateFunction") -> str:
    """AWS's message when the base64-carrying request body of ``operation`` is over the limit."""
    return f"Request must be smaller than {MAX_BASE64_REQUEST_BYTES} bytes for the {operation} operation"
