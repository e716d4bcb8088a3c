"""Engines and sessions: the only place that talks to a database driver.

SQLite is the zero-setup default; it is opened in WAL mode with a busy timeout so that a sweep
and a command-line user can work on one file at once. PostgreSQL is used as given by its URL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, event, insert, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from duban.errors import EnvironmentProblem

if TYPE_CHECKING:  # sessions load the ORM tables when first made, not when this is imported
    from sqlmodel import Session

_ENGINES: dict[str, Engine] = {}


class DatabaseUnreachable(EnvironmentProblem):
    """The database URL cannot be used, or its server does not answer; the message names the
    host and database, never the password."""


def engine_for(url: str) -> Engine:
    """One engine per URL per process, so connection pools are shared, not multiplied.

    A URL that cannot be used, and any failure to connect, raise DatabaseUnreachable."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES.setdefault(url, _new_engine(url))
    return engine


def dispose_engines() -> None:
    """Close every pooled connection and forget the engines (the next use opens new ones).

    A pool keeps its connections open for the life of the process; a process that goes through
    many databases (the test suite makes a schema per test) must let them go, or a shared
    PostgreSQL runs out of connections for everyone."""
    while _ENGINES:
        _, engine = _ENGINES.popitem()
        engine.dispose()


def _new_engine(url: str) -> Engine:
    try:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _tune_sqlite)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError, OSError) as exc:
        raise _unreachable(url, exc) from None
    event.listen(engine, "handle_error", _refused_connection)
    return engine


def _refused_connection(context: ExceptionContext) -> None:
    """Errors while connecting (no connection yet) are the environment's, not a bug."""
    if context.connection is None and context.engine is not None:
        raise _unreachable(context.engine.url, context.original_exception) from None


def _unreachable(url: str | URL, exc: BaseException) -> DatabaseUnreachable:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return DatabaseUnreachable("the database URL (DUBAN_DATABASE_URL) is not a URL")
    where = (
        parsed.database
        if parsed.get_backend_name() == "sqlite"
        else f"{parsed.host or 'localhost'}{f':{parsed.port}' if parsed.port else ''}"
        f"/{parsed.database or ''}"
    )
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if parsed.password:
        reason = reason.replace(parsed.password, "***")
    return DatabaseUnreachable(f"cannot use the database {where}: {reason}")


def _tune_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL's recommended setting: a commit is not synced to disk until the next checkpoint, so a
    # power cut may roll back the last commits but never corrupts the file; each commit is then
    # a write, not a wait for the disk (the outbox commits twice per mail it sends).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


MIGRATIONS = Path(__file__).with_name("migrations")
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})  # kept in the same database by `duban serve`
HEAD = "0011"  # the newest migration; a test checks it against schemas/migrations/versions


class SchemaAhead(EnvironmentProblem):
    """The database was migrated by a newer duban than this one: this code must not touch it
    (a worker left on the old version after an upgrade, say)."""


def create_schema(url: str) -> None:
    """Bring the database to the current schema through the migrations (a no-op when it is);
    SchemaAhead when a newer duban has migrated it past what this one knows.

    A database without any of duban's tables is made at the current schema in one step, as
    Alembic's cookbook builds one from scratch: replaying every migration on SQLite copies each
    table a migration alters (0.2 s for a new database, paid by `duban init`, the demo and each
    of the suite's hundreds of databases). tests/test_migrations.py checks that the two ways
    make the same database.

    Processes that find the database behind take turns (`schemas.locks`), each looking again
    once its turn comes: workers started together on a new database make it once, and the
    others find it made."""
    if _known_version(url) == HEAD:
        return
    from schemas.locks import changing_the_schema

    with changing_the_schema(url):
        level = _known_version(url)
        if level == HEAD:
            return
        if level is None and not _holds_our_tables(url):
            _create_at_head(url)
            return
        from alembic import command

        command.upgrade(migration_config(url), "head")


def _known_version(url: str) -> str | None:
    """The database's migration, None for none; SchemaAhead when it is past this duban's."""
    level = schema_version(url)
    if level is not None and level > HEAD:  # revisions are zero-padded numbers: "0009" > "0008"
        raise SchemaAhead(
            f"the database is at migration {level}, newer than this duban knows ({HEAD}): "
            "install the duban version that migrated it here"
        )
    return level


def _holds_our_tables(url: str) -> bool:
    with engine_for(url).connect() as connection:
        return bool(set(inspect(connection).get_table_names()) - FOREIGN_TABLES)


def _create_at_head(url: str) -> None:
    """The models' tables, the audit trail's head row (the migrations make it), and the
    version table stamped at HEAD, in one transaction: a process stopped half-way leaves the
    database as it found it, and the next one starts again."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlmodel import SQLModel

    from schemas.tables import GENESIS, AuditHead

    with _all_or_nothing(url) as connection:
        SQLModel.metadata.create_all(connection)
        connection.execute(insert(AuditHead).values(id=1, last_id=0, last_hash=GENESIS))
        scripts = ScriptDirectory.from_config(migration_config(url))
        MigrationContext.configure(connection).stamp(scripts, "head")


@contextmanager
def _all_or_nothing(url: str) -> Iterator[Connection]:
    """A transaction that holds DDL too. PostgreSQL's do; Python's sqlite3 driver commits
    each CREATE TABLE on its own unless the transaction is begun explicitly, with its own
    handling of transactions off (the driver's autocommit mode, for this connection only)."""
    engine = engine_for(url)
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    with engine.connect() as pooled:
        connection = pooled.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.exec_driver_sql("ROLLBACK")
            raise
        connection.exec_driver_sql("COMMIT")


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


class NoDatabase(EnvironmentProblem):
    """The SQLite file a command would read does not exist (it is never created to read).

    To be re-parented on `duban.errors.EnvironmentProblem` (exit 6) once that exists.
    """


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def require_database(url: str) -> None:
    """Raise NoDatabase when `url` names a SQLite file that does not exist.

    Reading commands call this first: opening the URL would create an empty file, and an
    empty database answers every question with "nothing", silently, from the wrong folder.
    A PostgreSQL database is not checked here; connecting to it says whether it is there.
    """
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise NoDatabase(
            f"no database at {path.resolve()}: run `duban init` or `duban import PLAN` to "
            "create one, or point DUBAN_HOME / DUBAN_DATABASE_URL (or a duban.toml) at yours"
        )


SessionFactory = Callable[[], "AbstractContextManager[Session]"]


def sessions(url: str) -> SessionFactory:
    """New sessions on one database, each committed or rolled back as a whole.

    What the shell hands to a step that must commit on its own (an outbox claim committed
    before the mail is sent, a write retried after a concurrent sweep won): the step gets
    fresh transactions without ever seeing the URL.
    """
    return partial(session_scope, url)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session whose work is committed together or not at all."""
    from sqlmodel import Session

    from schemas import tables  # noqa: F401  (registers the tables on SQLModel.metadata)

    with Session(engine_for(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def reading(url: str) -> Iterator[Connection]:
    """A plain connection for a read that needs no ORM (the read-only commands' views): it
    loads neither SQLModel nor the table classes, and writes nothing."""
    with engine_for(url).connect() as connection:
        yield connection
