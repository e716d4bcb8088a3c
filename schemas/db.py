"""Engines and sessions: the only place that talks to a database driver.

SQLite is the zero-setup default; it is opened in WAL mode with a busy timeout so that a sweep
and a command-line user can work on one file at once. PostgreSQL is used as given by its URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session, create_engine

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


MIGRATIONS = Path(__file__).with_name("migrations")
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})  # kept in the same database by `duban serve`
HEAD = "0002"  # the newest migration; a test checks it against schemas/migrations/versions


def create_schema(url: str) -> None:
    """Bring the database to the current schema through the migrations (a no-op when it is)."""
    if schema_version(url) == HEAD:
        return
    from alembic import command

    command.upgrade(migration_config(url), "head")


def schema_version(url: str) -> str | None:
    try:
        with engine_for(url).connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError:
        return None
    except ProgrammingError:  # PostgreSQL: no such table
        return None


def migration_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url  # not a main option: those are %-interpolated
    return config


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
