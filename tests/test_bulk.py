"""A sweep and a review run with the cyclic collector paused, and leave it as they found it
(tasks.bulk): they allocate much and free little, and the collector's walks found nothing."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from schemas.db import engine_for, session_scope
from tasks.bulk import collector_paused
from tasks.review.compute import review_plan

from .conftest import sweep_once, with_the_pilot

IMPORTED = dt.datetime(2019, 7, 1, tzinfo=dt.UTC)


@pytest.fixture
def url(sqlite_url: str) -> str:
    return with_the_pilot(sqlite_url, at=IMPORTED)


@pytest.fixture
def collecting(url: str) -> Iterator[list[bool]]:
    """Whether the collector was on at each statement sent to the database, the collector on
    when the test starts."""
    seen: list[bool] = []

    def note(*_: object) -> None:
        seen.append(gc.isenabled())

    engine = engine_for(url)
    gc.enable()
    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)
    gc.enable()


def test_a_sweep_runs_with_the_collector_off_and_leaves_it_on(url, collecting):
    outcome = sweep_once(url, as_of=dt.date(2019, 8, 7))
    assert outcome.written and collecting and not any(collecting) and gc.isenabled()


def test_a_review_runs_with_the_collector_off_and_leaves_it_on(url, collecting):
    with session_scope(url) as session:
        review = review_plan(session, "cq-2019-pilot", dt.date(2019, 12, 31))
    assert review.items and collecting and not any(collecting) and gc.isenabled()


def test_a_pause_inside_a_pause_leaves_the_collector_off_until_the_outer_one_ends():
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
