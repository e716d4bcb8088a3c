"""Locks that live where the data does, so they hold across processes and machines that share
a database: on PostgreSQL a session-level advisory lock, keyed by what it guards and the
schema duban's tables are in; on a SQLite file, an exclusive `flock` on a file beside the
database. Either is released by the kernel or the database server when its holder dies, kill
-9 included.

`changing_the_schema` is the one every process takes before it makes or migrates a database
(`schemas.db.create_schema`): workers started together on a new database would otherwise each
create the same tables, and all but one fail. `duban serve` keeps its own (duban.serve_lock).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from schemas.db import engine_for, sqlite_file

LOCK_CLASS = 0x6475  # "du": the first key of duban's advisory locks


def advisory_key(connection: Connection, purpose: str) -> int:
    """The second key of `purpose`'s advisory lock on the schema this connection uses (the
    suite gives each test a schema of its own: their locks must not meet)."""
    schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    return zlib.crc32(f"duban {purpose} {schema}".encode()) & 0x7FFFFFFF


def lock_file(url: str, purpose: str) -> Path | None:
    """The file beside a SQLite database that `purpose`'s lock is taken on; None when the
    database is not a SQLite file (PostgreSQL, or in memory: this process's alone)."""
    database = sqlite_file(url)
    return None if database is None else database.with_name(f"{database.name}.{purpose}-lock")


@contextmanager
def changing_the_schema(url: str) -> Iterator[None]:
    """Hold the database's schema lock while the block runs, waiting for it as long as
    another process holds it (a migration takes seconds, not minutes)."""
    if make_url(url).get_backend_name() == "postgresql":
        with engine_for(url).connect() as connection:
            keys = {"class": LOCK_CLASS, "key": advisory_key(connection, "schema")}
            connection.execute(text("SELECT pg_advisory_lock(:class, :key)"), keys)
            connection.commit()
            try:
                yield
            finally:
                with suppress(SQLAlchemyError):  # a server gone has freed it
                    connection.execute(text("SELECT pg_advisory_unlock(:class, :key)"), keys)
                    connection.commit()
        return
    path = lock_file(url, "schema")
    if path is None:
        yield
        return
    import fcntl  # a SQLite file's lock; PostgreSQL needs none of it

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
