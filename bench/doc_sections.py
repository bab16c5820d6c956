"""Marked sections of docs/benchmarks.md. A benchmark run on its own (the asynchronous peers, the queue mapping)
writes its section between two markers; ``python -m bench``, which rewrites the rest of the page, keeps every
marked section in place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Section:
    name: str  # the marker's name: <!-- NAME:start ... --> ... <!-- NAME:end -->
    module: str  # the benchmark that writes it

    @property
    def start(self) -> str:
        return f"<!-- {self.name}:start (written by `python -m {self.module}`; `python -m bench` keeps it) -->"

    @property
    def end(self) -> str:
        return f"<!-- {self.name}:end -->"

    def find(self, text: str) -> str | None:
        """The section in ``text``, markers included (matched by the start marker's name, whatever its note)."""
        start, end = text.find(f"<!-- {self.name}:start"), text.find(self.end)
        return text[start : end + len(self.end)] if start >= 0 and end > start else None

    def write(self, body: str, doc: Path) -> None:
        """Replace this section of ``doc`` with ``body`` (or append it)."""
        text = doc.read_text() if doc.exists() else "# Benchmarks\n"
        old = self.find(text)
        new = f"{self.start}\n{body.strip()}\n{self.end}"
        doc.write_text(text.replace(old, new) if old else text.rstrip("\n") + "\n\n" + new + "\n")


ASYNC_PEERS = Section("async-peers", "bench.async_peers")
QUEUE_MAPPING = Section("queue-mapping", "bench.queue_mapping")
JTL_REPORT = Section("jtl-report", "bench.jtl_report")
UI_PAGES = Section("ui-pages", "bench.ui_pages")
RUNTIMES = Section("runtimes", "bench.runtimes")
SECTIONS = (ASYNC_PEERS, QUEUE_MAPPING, JTL_REPORT, UI_PAGES, RUNTIMES)


def keep_sections(report: str, doc: Path) -> str:
    """``report`` (a whole new page) with every marked section of the current ``doc`` appended, in order."""
    text = doc.read_text() if doc.exists() else ""
    kept = [found for found in (section.find(text) for section in SECTIONS) if found is not None]
    return "\n\n".join([report.rstrip("\n"), *kept]) + "\n"
