"""Shared fixtures: real databases (a SQLite file, and PostgreSQL where the machine has one),
the bundled plans, and a CLI runner that uses the database under test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

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
