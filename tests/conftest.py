"""Shared fixtures: real databases (a SQLite file, and PostgreSQL where the machine has one),
the bundled plans, and a CLI runner that uses the database under test.

What the suite needs from the machine is checked once, at the start of the run
(`pytest_configure`): a PostgreSQL that is not running skips the PostgreSQL tests, one that
is running but refuses us (too many clients, no `test` database) fails them. With `CI` set,
PostgreSQL and Chromium are required: the run stops at once with one line naming what is
missing. Every engine a test makes is disposed when the test ends, so the suite holds a few
PostgreSQL connections however many tests it runs (tests/test_postgres_connections.py).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from typer.testing import CliRunner

from calendars.clock import utc, zone_of
from render.mail import COMPOSER
from schemas.db import create_schema, dispose_engines, session_scope, sessions
from tasks.plans.importer import import_plan
from tasks.sweep.pipeline import DirectSteps, SweepOutcome, run_sweep

# An accidental flow call in a unit test must fail fast instead of starting a Prefect server.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_ENABLED", "false")

ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "plans"
DATA = Path(__file__).resolve().parent / "data"
POSTGRES = os.environ.get("DUBAN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
# Every connection this run opens carries this name, so it can count its own connections on a
# PostgreSQL shared with other clients (and other runs of the suite).
APPLICATION_NAME = f"duban-tests-{os.getpid()}"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
POSTGRES_PROBLEM = pytest.StashKey[str | None]()  # set once per run by pytest_configure


def postgres_problem() -> str | None:
    """None when PostgreSQL takes our connections; else why not, beginning with "not running"
    when nothing listens at its address (the one case a run off CI may skip)."""
    address = urlsplit(POSTGRES)
    try:
        socket.create_connection((address.hostname, address.port or 5432), timeout=2).close()
    except OSError as error:
        return f"not running at {address.hostname}:{address.port or 5432}: {error}"
    try:
        postgres_connect().close()
    except psycopg.OperationalError as error:
        reason = " ".join(str(error).split())
        return f"running at {address.hostname}:{address.port or 5432} but refuses us: {reason}"
    return None


def postgres_connect() -> psycopg.Connection:
    return psycopg.connect(
        POSTGRES, autocommit=True, connect_timeout=5, application_name=APPLICATION_NAME
    )


def pytest_configure(config: pytest.Config) -> None:
    """Check the machine once; on CI what is missing stops the run in one line."""
    config.stash[POSTGRES_PROBLEM] = problem = postgres_problem()
    if not os.environ.get("CI"):
        return
    missing = [f"PostgreSQL ({problem})"] if problem else []
    missing += [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.exit(f"CI requires {'; '.join(missing)}", returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    """Engines (and their pooled connections) live as long as the test that made them."""
    yield
    dispose_engines()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'duban.db'}"


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    problem = request.config.stash[POSTGRES_PROBLEM]
    if problem and problem.startswith("not running"):
        pytest.skip(f"PostgreSQL is {problem}")
    if problem:
        pytest.fail(f"PostgreSQL is {problem}", pytrace=False)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with postgres_connect() as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    base = POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1)
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}&application_name={APPLICATION_NAME}"
    with postgres_connect() as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current folder, with no DUBAN_* settings from the environment."""
    for name in [n for n in os.environ if n.startswith("DUBAN_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def duban(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run `duban …` in-process against the database under test; returns the Result."""
    monkeypatch.setenv("DUBAN_DATABASE_URL", database_url)
    monkeypatch.setenv("DUBAN_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    from duban.cli import app

    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def with_the_pilot(url: str, *, at: dt.datetime) -> str:
    """The database at `url`, brought to the schema, with the bundled Chongqing pilot plan
    imported at `at`."""
    create_schema(url)
    with session_scope(url) as session:
        import_plan(session, PLANS / "chongqing-2019-pilot.yaml", at=at)
    return url


def sweep_once(
    url: str,
    *,
    as_of: dt.date,
    at: dt.datetime | None = None,
    plan: str | None = None,
    dry_run: bool = False,
) -> SweepOutcome:
    """The sweep on the database at `url`, as the CLI runs it, leaving the outbox undelivered;
    recorded at `at`, by default 08:30 of the day swept on the office's clock."""
    at = at or utc(dt.datetime.combine(as_of, dt.time(8, 30), zone_of()))
    steps = DirectSteps(sessions(url), COMPOSER, at=at)
    return run_sweep(steps, as_of=as_of, plan=plan, dry_run=dry_run)
