"""Derived status: overdue in working days and blocked by unfinished predecessors."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from calendars.workdays import load_calendar
from tasks.work.status import overdue_workdays

from .conftest import PLANS

PLAN = "cq-2019-pilot"


def row(duban, task: str, as_of: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    rows = json.loads(
        duban("tasks", "--unit", "南岸区", "--plan", PLAN, "--as-of", as_of, "--json").stdout
    )
    return next(r for r in rows if r["task"] == task)


def test_overdue_counts_working_days_and_blocked_names_the_predecessor(duban):
    duban("import", str(PLANS / "chongqing-2019-pilot.yaml"))
    late = row(duban, "t06", "2019-08-10")
    assert late["overdue_workdays"] == 7  # 8月1、2、5、6、7、8、9日
    assert late["blocked_by"] == ["t01"]
    assert row(duban, "t06", "2019-07-31")["overdue_workdays"] == 0


def test_finishing_the_predecessor_unblocks_and_submitting_stops_the_clock(duban):
    duban("import", str(PLANS / "chongqing-2019-pilot.yaml"))
    for args in (
        ("submit", PLAN, "t01", "--note", "x", "--as", "市卫生健康委"),
        ("accept", PLAN, "t01", "--unit", "市卫生健康委", "--as", "综合监督处"),
        ("submit", PLAN, "t06", "--note", "x", "--as", "南岸区"),
    ):
        assert duban(*args).exit_code == 0
    now = row(duban, "t06", dt.date(2019, 8, 10).isoformat())
    assert now["blocked_by"] == [] and now["overdue_workdays"] == 0
    assert now["state"] == "submitted"


# Overdue, as docs/sweep.md and docs/review.md count it: working days past the due date, for
# work that is open and not waiting for the office; never for closed or submitted work, never on
# or before the due day. Due Monday 30 September 2019; 1-7 October were holidays.
OVERDUE = [
    # state,         as of,                  working days overdue
    ("not_started", dt.date(2019, 10, 8), 1),
    ("in_progress", dt.date(2019, 10, 12), 5),  # a make-up Saturday counts
    ("returned", dt.date(2019, 10, 8), 1),
    ("submitted", dt.date(2019, 10, 8), 0),
    ("accepted", dt.date(2019, 10, 8), 0),
    ("waived", dt.date(2019, 10, 8), 0),
    ("cancelled", dt.date(2019, 10, 8), 0),
    ("not_started", dt.date(2019, 9, 30), 0),
    ("not_started", dt.date(2019, 9, 27), 0),
    ("not_started", dt.date(2019, 10, 7), 0),  # past due, but no working day yet
]


@pytest.mark.parametrize(("state", "as_of", "late"), OVERDUE)
def test_overdue_working_days_by_state_and_day(state, as_of, late):
    calendar = load_calendar()
    assert overdue_workdays(dt.date(2019, 9, 30), state, as_of, calendar) == late
    assert overdue_workdays(None, state, as_of, calendar) == 0
