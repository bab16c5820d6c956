"""Reading the UI's form posts (``application/x-www-form-urlencoded`` and ``multipart/form-data``).

Parsing is Starlette's ``Request.form()`` on ``python-multipart`` (the parser Starlette is built for: streaming,
file parts spooled to disk past 1 MB, limits on the number of fields and files and on a field's size). What this
module adds: the UI's limits (``MAX_FORM_BYTES`` for the whole body, which ``api/body_limit.py`` enforces before
anything reads it: a function's zip at its limit, or a folder's files, plus the other fields); parser errors as the
platform's typed ``InvalidRequestContent``; and a plain value type (``Form``) the pages work with, where a field
may carry several files (a folder dropped on the package zone is one file part per file, named by its path).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from lambdahost.code.limits import DEFAULT_LIMITS, MAX_UNZIPPED_BYTES, MAX_ZIP_BYTES
from lambdahost.core.errors import InvalidRequestContent

# A folder's files arrive unzipped, so they may be as large as an unzipped package; a zip at most MAX_ZIP_BYTES.
MAX_FORM_BYTES = max(MAX_ZIP_BYTES, MAX_UNZIPPED_BYTES) + 1024 * 1024
MAX_FILES = DEFAULT_LIMITS.max_entries  # a folder of more files would make a zip the code store refuses
MAX_FIELDS = 1000
MAX_FIELD_BYTES = 1024 * 1024  # the largest text field (environment variables, a parameter's default) is far less


@dataclass(frozen=True)
class Upload:
    filename: str  # as the browser sent it: a base name, or a path inside a dropped folder
    data: bytes


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, list[Upload]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)

    def file(self, name: str) -> Upload | None:
        """The one file of a file input, if one was chosen."""
        uploads = self.files.get(name)
        return uploads[0] if uploads else None


async def read_form(request: Request) -> Form:
    """The fields and files of a form post; ``InvalidRequestContent`` for a body the parser refuses. Its size is
    bounded before this reads it: ``api/body_limit.py`` refuses a ``/ui/`` body past ``MAX_FORM_BYTES``."""
    try:
        parsed = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES)
    except HTTPException as exc:  # python-multipart's complaint (too many files, a field too large, bad framing)
        raise InvalidRequestContent(f"The form could not be read: {exc.detail}") from None
    form = Form()
    try:
        for name, value in parsed.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                if value.filename:  # a file input left empty sends an empty part with filename=""
                    form.files.setdefault(name, []).append(Upload(value.filename, data))
            else:
                form.fields[name] = value
    finally:
        await parsed.close()
    return form
