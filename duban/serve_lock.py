"""One `duban serve` per database: two would run every job twice (safe, since each notice and
message is claimed once, but wasted) and fight over one Prefect home.

The lock lives where the data does, so it holds across machines that share a database: on
PostgreSQL a session-level advisory lock, held by a connection whose `application_name` names
its holder (so the one refused can say who holds it); on a SQLite file, an exclusive `flock`
on a file beside the database, holding the same words. Either is released by the kernel or
the database server when the holder dies, kill -9 included: a stale lock cannot keep `serve`
from starting again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from duban.errors import EnvironmentProblem
from schemas.db import engine_for
from schemas.locks import LOCK_CLASS, advisory_key, lock_file


class AlreadyServing(EnvironmentProblem):
    """Another `duban serve` runs on this database; the message names it."""


def holder_name() -> str:
    """Who this process is, in words an operator can act on."""
    started = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    return f"duban serve pid {os.getpid()} on {socket.gethostname()} since {started}"


@contextmanager
def only_serve(url: str) -> Iterator[None]:
    """Hold this database's serve lock while the block runs; AlreadyServing if another holds
    it. An in-memory SQLite database is this process's alone and needs none."""
    path = lock_file(url, "serve")
    if make_url(url).get_backend_name() == "postgresql":
        with _advisory_lock(url):
            yield
    elif path is not None:
        with _file_lock(path):
            yield
    else:
        yield


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise AlreadyServing(_refusal(handle.read().strip() or "another process")) from None
        handle.truncate(0)
        handle.write(holder_name() + "\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory_lock(url: str) -> Iterator[None]:
    with engine_for(url).connect() as connection:
        key = advisory_key(connection, "serve")
        connection.execute(
            text("SELECT set_config('application_name', :me, false)"), {"me": holder_name()[:63]}
        )
        taken = connection.execute(
            text("SELECT pg_try_advisory_lock(:class, :key)"), {"class": LOCK_CLASS, "key": key}
        ).scalar_one()
        connection.commit()
        if not taken:
            holder = connection.execute(
                text(
                    "SELECT a.application_name FROM pg_locks l"
                    " JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted"
                    " AND l.classid = :class AND l.objid = :key AND l.objsubid = 2"
                ),
                {"class": LOCK_CLASS, "key": key},
            ).scalar()
            connection.execute(text("RESET application_name"))
            connection.commit()
            raise AlreadyServing(_refusal(holder or "another process"))
        try:
            yield
        finally:
            with contextlib.suppress(SQLAlchemyError):  # a server gone has freed it
                connection.execute(
                    text("SELECT pg_advisory_unlock(:class, :key)"),
                    {"class": LOCK_CLASS, "key": key},
                )
                connection.execute(text("RESET application_name"))
                connection.commit()


def _refusal(holder: str) -> str:
    return f"another duban serve already runs on this database ({holder}): stop it first"
