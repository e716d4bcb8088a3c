"""Shared fixtures: real databases (a SQLite file, and PostgreSQL where the machine has one),
the bundled plans, and a CLI runner that uses the database under test."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from render.mail import COMPOSER
from schemas.db import sessions
from tasks.sweep.pipeline import DirectSteps, SweepOutcome, run_sweep

# An accidental flow call in a unit test must fail fast instead of starting a Prefect server.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_ENABLED", "false")

ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "plans"
POSTGRES = os.environ.get("DUBAN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_available() -> bool:
    try:
        psycopg.connect(POSTGRES, connect_timeout=2).close()
    except psycopg.OperationalError:
        if os.environ.get("CI"):
            raise
        return False
    return True


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'duban.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable (CI requires it)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    base = POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1)
    yield f"{base}?options=-csearch_path%3D{schema}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
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


def sweep_once(
    url: str, *, as_of: dt.date, plan: str | None = None, dry_run: bool = False
) -> SweepOutcome:
    """The sweep on the database at `url`, as the CLI runs it, leaving the outbox undelivered."""
    steps = DirectSteps(sessions(url), COMPOSER)
    return run_sweep(steps, as_of=as_of, plan=plan, dry_run=dry_run)
