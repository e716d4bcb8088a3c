"""The suite holds a handful of PostgreSQL connections however many PostgreSQL tests it runs.

Each test gets its own schema, hence its own URL and engine; an engine that outlives its test
keeps its pooled connections open, and a PostgreSQL shared with other clients then refuses
everyone ("too many clients already"). The many small tests below each leave a pooled
connection behind unless their engine is disposed; the last one counts this run's connections
(named by APPLICATION_NAME) after them and after every test that ran before this module.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from schemas.db import engine_for

from .conftest import APPLICATION_NAME, postgres_connect

MANY = 30
BOUND = 10


@pytest.mark.parametrize("n", range(MANY))
def test_a_postgres_test_uses_its_engine(postgres_url: str, n: int) -> None:
    with engine_for(postgres_url).connect() as connection:
        assert connection.execute(text("SELECT :n"), {"n": n}).scalar() == n


def test_the_suite_holds_few_connections_after_many_postgres_tests(postgres_url: str) -> None:
    with postgres_connect() as conn:
        held = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (APPLICATION_NAME,),
        ).fetchone()
    assert held is not None and held[0] < BOUND
