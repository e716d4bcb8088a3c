"""A due date the rest-day rule moved into the next month is told as such in the notice:
"2019年8月底前" kept on Monday 2 September reads
"原定2019年8月31日（星期六），顺延至2019年9月2日"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from schemas.db import create_schema, session_scope
from tasks.plans.importer import import_plan

from .conftest import ROOT, sweep_once

EXAMPLE = (ROOT / "docs" / "example-plan.yaml").read_text(encoding="utf-8")


def test_the_sweep_tells_the_plan_date_a_rest_day_moved(sqlite_url: str, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(EXAMPLE.replace("deadline: 2019年7月\n", "deadline: 2019年8月底前\n"), "utf-8")
    create_schema(sqlite_url)
    with session_scope(sqlite_url) as session:
        import_plan(session, plan, at=dt.datetime(2019, 7, 1, tzinfo=dt.UTC))
    outcome = sweep_once(sqlite_url, as_of=dt.date(2019, 9, 2), dry_run=True)
    t1 = [n.content for n in outcome.planned if n.content.task_code == "t1"]
    assert t1 and all(c.due == dt.date(2019, 9, 2) for c in t1)
    assert all(c.moved_from == dt.date(2019, 8, 31) for c in t1)
    others = [n.content for n in outcome.planned if n.content.task_code != "t1"]
    assert all(c.moved_from is None for c in others)
