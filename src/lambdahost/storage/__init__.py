"""The only package that talks to a database: one ``Store`` interface, SQLite and PostgreSQL behind it."""

from lambdahost.storage.base import Store, open_store

__all__ = ["Store", "open_store"]
