"""Benchmarks (``scripts/bench`` or ``python -m bench``). Never run as timed tests."""
