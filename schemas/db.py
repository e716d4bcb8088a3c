"""Engines and sessions: the only place that talks to a database driver.

SQLite is the zero-setup default; it is opened in WAL mode with a busy timeout so that a sweep
and a command-line user can work on one file at once. PostgreSQL is used as given by its URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from schemas import tables  # noqa: F401  (registers the tables on SQLModel.metadata)


@cache
def engine_for(url: str) -> Engine:
    """One engine per URL per process, so connection pools are shared, not multiplied."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _tune_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_schema(url: str) -> None:
    SQLModel.metadata.create_all(engine_for(url))


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session whose work is committed together or not at all."""
    with Session(engine_for(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
