"""The bench virtual environment (``.bench-venv`` at the repository root) with the peers pinned in
``requirements.txt``: created on first use, reinstalled when the requirements change."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".bench-venv"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"
PYTHON = VENV / "bin" / "python"


def ensure() -> Path:
    """The bench venv's Python, after creating or updating the venv as needed."""
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = VENV / "requirements.sha256"
    if PYTHON.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return PYTHON
    if not PYTHON.exists():
        print(f"creating {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    print(f"installing the peers into {VENV} ({REQUIREMENTS.name})", file=sys.stderr)
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
        check=True,
    )
    stamp.write_text(wanted + "\n")
    return PYTHON


def py_spy() -> Path:
    ensure()
    return VENV / "bin" / "py-spy"
