"""`duban lint` shows the deadline readings an office should confirm (#12 §2): a year alone
("到2027年", "2027年前"), and a recurring deadline in a plan with neither phases nor span,
which would otherwise have no dates at all."""

from __future__ import annotations

import re
from pathlib import Path

from tasks.plans.importer import load_plan
from tasks.plans.lint import lint_plan

from .conftest import ROOT

EXAMPLE = (ROOT / "docs" / "example-plan.yaml").read_text(encoding="utf-8")


def _lint(tmp_path: Path, text: str) -> list[str]:
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    return [str(w) for w in lint_plan(load_plan(plan))]


def test_a_year_alone_is_a_lint_warning(tmp_path: Path) -> None:
    found = _lint(tmp_path, EXAMPLE.replace("deadline: 2020年6月\n", "deadline: 到2020年\n"))
    assert (
        "example-2019 t3: '到2020年' names a year only: read as due 2020-12-31; "
        "say the month if the plan means another day"
    ) in found


def test_a_recurring_deadline_without_phases_or_span_is_a_lint_warning(tmp_path: Path) -> None:
    text = EXAMPLE[: EXAMPLE.index("phases:")] + EXAMPLE[EXAMPLE.index("tasks:") :]
    text = re.sub(r"\n    phase: \w+", "", text).replace(
        "deadline: 2019年7月\n", "deadline: 每季度\n"
    )
    found = _lint(tmp_path, text)
    assert (
        "example-2019 t1: '每季度' recurs (quarterly), but the plan has neither phases nor "
        "span, so it has no dates: give plan.span"
    ) in found
    assert not any("recurs" in w for w in _lint(tmp_path, EXAMPLE))
