"""The bundled seed plans import cleanly and hold the facts of the documents they encode."""

from __future__ import annotations

import datetime as dt

import pytest

from tasks.plans.importer import load_plan
from tasks.plans.lint import lint_plan
from tasks.plans.resolution import ResolvedPlan

from .conftest import PLANS

D = dt.date


@pytest.fixture(scope="module")
def chongqing() -> ResolvedPlan:
    return load_plan(PLANS / "chongqing-2019-pilot.yaml")


@pytest.fixture(scope="module")
def rongchang() -> ResolvedPlan:
    return load_plan(PLANS / "rongchang-2019.yaml")


def units_of(plan: ResolvedPlan, task: str, role: str | None = None) -> list[str]:
    found = next(t for t in plan.tasks if t.code == task)
    return [
        plan.directory.name_of(a.unit) for a in found.assignments if role is None or a.role == role
    ]


def test_chongqing_has_the_sixteen_tasks_of_its_decomposition_table(chongqing):
    tasks = [t for t in chongqing.tasks if t.kind == "task"]
    assert [t.code for t in tasks] == [f"t{i:02d}" for i in range(1, 17)]
    assert chongqing.spec.plan.document_number == "渝卫发〔2019〕32号"


def test_chongqing_has_its_four_phases_with_their_windows(chongqing):
    assert [(p.kind, p.start, p.due) for p in chongqing.phases] == [
        ("launch", D(2019, 7, 1), D(2019, 7, 31)),
        ("implementation", D(2019, 8, 1), D(2020, 8, 31)),
        ("midterm_review", D(2019, 12, 1), D(2019, 12, 31)),
        ("final_evaluation", D(2020, 9, 1), D(2020, 9, 30)),
    ]


@pytest.mark.parametrize(
    ("task", "units"),
    [
        ("t06", ["沙坪坝区", "南岸区", "永川区", "武隆区", "忠县"]),
        ("t07", ["忠县"]),
        ("t08", ["南岸区", "永川区"]),
        ("t09", ["沙坪坝区", "武隆区"]),
        ("t10", ["武隆区", "忠县"]),
        ("t01", ["市卫生健康委"]),
        ("t11", ["市卫生计生监督执法局"]),
        ("t16", ["市医师协会", "市输血协会"]),
    ],
)
def test_chongqing_pilot_lists_restrict_who_is_assigned(chongqing, task, units):
    assert sorted(units_of(chongqing, task)) == sorted(units)


@pytest.mark.parametrize(
    ("task", "text", "due"),
    [
        ("t01", "2019年7月", D(2019, 7, 31)),
        ("t03", "2019年9月", D(2019, 9, 30)),
        ("t05", "2019年10月", D(2019, 10, 31)),
        ("t13", "2019年8月", D(2019, 8, 31)),
        ("t15", "2019年11月", D(2019, 11, 30)),
        ("t07", "2020年6月", D(2020, 6, 30)),
        ("t04", "持续开展", None),
    ],
)
def test_chongqing_deadlines_are_kept_as_written_and_read(chongqing, task, text, due):
    found = next(t for t in chongqing.tasks if t.code == task)
    assert found.deadline is not None and found.deadline.text == text
    assert found.due == due


def test_chongqing_stage_summaries_fall_on_the_report_dates(chongqing):
    summary = next(t for t in chongqing.tasks if t.code == "stage-summary")
    assert summary.deadline is not None
    assert summary.deadline.dates == (
        D(2019, 9, 20),
        D(2019, 12, 20),
        D(2020, 3, 20),
        D(2020, 6, 20),
    )
    # 2019-08-31 is a Saturday: t13 is held to Monday 2 September on the working calendar.
    t13 = next(t for t in chongqing.tasks if t.code == "t13")
    assert t13.assignments[0].due == D(2019, 9, 2)
    # Every unit reports on each date; 2020-06-20 is a Saturday, so that one is due on the 22nd.
    assert {a.occurrences for a in summary.assignments} == {
        (D(2019, 9, 20), D(2019, 12, 20), D(2020, 3, 20), D(2020, 6, 22))
    }
    assert len(summary.assignments) == 6
    final = next(t for t in chongqing.tasks if t.code == "final-summary")
    assert final.due == D(2020, 9, 15) and len(final.assignments) == 9


def test_chongqing_ongoing_items_report_progress_every_quarter(chongqing):
    t04 = next(t for t in chongqing.tasks if t.code == "t04")
    assert t04.assignments[0].due is None
    assert t04.assignments[0].occurrences[:3] == (D(2019, 9, 30), D(2019, 12, 31), D(2020, 3, 31))


def test_chongqing_joint_meeting_has_an_office_and_leadership(chongqing):
    roles = {(s.role, chongqing.directory.name_of(s.unit)) for s in chongqing.seats}
    assert ("office", "综合监督处") in roles
    assert ("leadership", "综合监管工作领导小组") in roles
    assert ("convener", "市卫生健康委") in roles


def test_rongchang_measures_carry_their_clauses_leads_and_participants(rongchang):
    assert len([t for t in rongchang.tasks if t.kind == "measure"]) == 22
    assert units_of(rongchang, "m3-1", "lead") == [
        "区卫生健康委",
        "区发展改革委",
        "区科技局",
        "区民政局",
        "区市场监管局",
    ]
    assert units_of(rongchang, "m3-1", "participant") == [
        "区大数据发展局",
        "区人力社保局",
        "区商务委",
    ]


def test_rongchang_first_listed_leads_rule_carries_to_later_clauses(rongchang):
    # "排在第一的部门为牵头单位，下同" is stated once and governs m3-4's plain list.
    assert units_of(rongchang, "m3-4", "lead") == ["区卫生健康委"]
    assert "区教委" in units_of(rongchang, "m3-4", "co")


def test_rongchang_attachment_has_seven_tasks_in_three_phases(rongchang):
    attachment = [t for t in rongchang.tasks if t.code.startswith("a1-")]
    assert len(attachment) == 7
    assert [p.kind for p in rongchang.phases] == ["launch", "implementation", "final_evaluation"]
    dues = {t.code: t.due for t in attachment}
    assert dues["a1-1"] == D(2019, 9, 30) and dues["a1-6"] == D(2020, 6, 30)
    assert dues["a1-7"] == D(2020, 12, 31)
    assert units_of(rongchang, "a1-2", "lead") == ["区卫生健康委"]


def test_rongchang_items_without_a_named_unit_are_held_unassigned(rongchang):
    assert units_of(rongchang, "a1-1") == []
    unassigned = [str(w) for w in lint_plan(rongchang) if "no responsible unit" in w.message]
    assert any("a1-1" in w for w in unassigned)


@pytest.mark.parametrize("name", ["chongqing-2019-pilot", "rongchang-2019", "shanghai-2020"])
def test_every_bundled_plan_imports_cleanly(name):
    path = PLANS / f"{name}.yaml"
    if not path.exists():
        pytest.fail(f"{path} is missing")
    plan = load_plan(path)
    assert plan.tasks
