"""Code packages: zip validation (zip slip, symlinks, bombs, AWS size limits), the content-addressed store on
disk, and packaging a folder as a zip. Pure filesystem and zip logic; depends on ``core`` only."""

from lambdahost.code.folder import read_code_arg, zip_folder
from lambdahost.code.limits import DEFAULT_LIMITS, ZipLimits, request_too_large_message
from lambdahost.code.manifest import NOT_A_ZIP_MESSAGE
from lambdahost.code.store import CodeIntegrityError, CodeNotFound, CodeStore
from lambdahost.code.validate import validate_zip

__all__ = [
    "DEFAULT_LIMITS",
    "NOT_A_ZIP_MESSAGE",
    "CodeIntegrityError",
    "CodeNotFound",
    "CodeStore",
    "ZipLimits",
    "read_code_arg",
    "request_too_large_message",
    "validate_zip",
    "zip_folder",
]
