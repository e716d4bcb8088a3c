"""A plan that reaches past the last year of calendar data: one error naming the plan file,
the first item's line and what to set, not one identical line per assignment."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.plans.importer import load_plan
from tasks.plans.reader import PlanInvalid

from .conftest import ROOT

EXAMPLE = (ROOT / "docs" / "example-plan.yaml").read_text(encoding="utf-8")


def test_deadlines_past_the_data_are_one_error_with_the_line_and_the_yaml_key(
    tmp_path: Path,
) -> None:
    text = EXAMPLE.replace("deadline: 2019年9月前", "deadline: 2027年3月底前")
    text = text.replace("deadline: 2020年6月\n", "deadline: 2027年3月底前\n", 1)
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    line = text[: text.index("2027年3月底前")].count("\n") + 1
    with pytest.raises(PlanInvalid) as raised:
        load_plan(plan)
    problems = raised.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    message = str(problems[0])
    assert message.startswith(f"{plan}:{line}: tasks[1] (t2).deadline: 2 item(s) reach 2027")
    assert "duban calendar add-notice" in message
    assert "`weekend_fallback: true` under `plan.calendar`" in message


def test_the_plan_counts_once_its_calendar_says_weekends_only_past_the_data(
    tmp_path: Path,
) -> None:
    text = EXAMPLE.replace("deadline: 2019年9月前", "deadline: 2027年3月底前")
    text = text.replace("calendar: {region: cn}", "calendar: {region: cn, weekend_fallback: true}")
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    task = next(t for t in load_plan(plan).tasks if t.code == "t2")
    assert task.assignments[0].due.isoformat() == "2027-03-31"  # a Wednesday
