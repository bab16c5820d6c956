"""Asynchronous invocations against peers (Celery, Dramatiq, Huey, procrastinate): ``python -m bench.async_peers``.

The peers run in their own virtual environment (``.bench-venv``, made by ``venv.py``) through
``bench.async_peers.peers``; lambdahost runs from the project's. See ``__main__.py`` for the options and the
method text written to docs/benchmarks.md."""
