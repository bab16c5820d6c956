"""Reading ``--code`` and showing upload progress."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lambdahost.client import Progress

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

PROGRESS_THRESHOLD = 1024 * 1024  # only uploads larger than this get a progress bar


def read_code(path: Path) -> bytes:
    """The zip for ``--code``: a ``.zip`` file as is, or a folder zipped deterministically with the files
    ``lambdahost package`` selects (its excludes and ``.lambdahostignore``; no dependencies vendored)."""
    from lambdahost.code.folder import read_code_arg
    from lambdahost.code.packaging import build_package

    if path.is_dir():
        return build_package(path).data
    return read_code_arg(path)


@contextlib.contextmanager
def upload_progress(label: str) -> Iterator[Progress | None]:
    """A progress callback drawing a bar on stderr for bodies over 1 MB, when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    with contextlib.ExitStack() as stack:
        shown = 0
        bar: ProgressBar[int] | None = None

        def update(sent: int, total: int) -> None:
            nonlocal bar, shown
            if total <= PROGRESS_THRESHOLD:
                return
            if bar is None:
                bar = stack.enter_context(
                    click.progressbar(length=total, label=label, file=sys.stderr, show_percent=True)
                )
            bar.update(sent - shown)
            shown = sent

        yield update
