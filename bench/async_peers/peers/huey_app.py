"""Huey on SQLite (its ``SqliteHuey``: WAL, its default synchronous setting), storing ``None`` results so that a
finished no-op is visible; one no-op task."""

import os

from huey import SqliteHuey

DB_PATH = "/tmp/lambdahost-bench-huey/huey.db"
os.makedirs(os.path.dirname(DB_PATH), exist_ok=True)

huey = SqliteHuey("bench", filename=DB_PATH, store_none=True)


@huey.task()
def noop() -> None:
    return None
