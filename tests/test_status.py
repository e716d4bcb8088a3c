"""Derived status: overdue in working days and blocked by unfinished predecessors."""

from __future__ import annotations

import datetime as dt
import json

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
