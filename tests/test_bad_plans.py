"""A bad plan file gets errors naming file, line and field, and the database stays as it was.

Each case is the complete example plan (docs/example-plan.yaml) with one mistake made in it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from schemas.db import create_schema, engine_for, session_scope
from tasks.plans.importer import import_plan
from tasks.plans.reader import PlanInvalid

from .conftest import ROOT

EXAMPLE = (ROOT / "docs" / "example-plan.yaml").read_text(encoding="utf-8")
IMPORTED = dt.datetime(2019, 7, 1, tzinfo=dt.UTC)


def line_of(fragment: str) -> int:
    """The line of the example on which `fragment` first appears."""
    return EXAMPLE[: EXAMPLE.index(fragment)].count("\n") + 1


def mutate(old: str, new: str) -> str:
    assert old in EXAMPLE, old
    return EXAMPLE.replace(old, new, 1)


# (case, plan text, expected line or None, field, words the message must contain)
CASES = [
    ("not YAML", mutate("  title: 某区", "  title: [某区"), None, "", "not valid YAML"),
    ("not a mapping", "- just\n- a list\n", 1, "", "a plan file is a mapping"),
    (
        "missing plan code",
        mutate("  code: example-2019\n", ""),
        line_of("plan:"),
        "plan.code",
        "required field is missing",
    ),
    (
        "misspelt field",
        mutate("    deadline: 2019年7月\n", "    deadlin: 2019年7月\n"),
        line_of("    deadline: 2019年7月"),
        "tasks[0] (t1).deadlin",
        "unknown field",
    ),
    (
        "key given twice",
        mutate("    title: 成立领导小组\n", "    title: 成立领导小组\n    title: x\n"),
        line_of("    title: 成立领导小组") + 1,
        "tasks[0] (t1).title",
        "appears twice",
    ),
    (
        "duplicate task id",
        mutate("  - id: t2\n", "  - id: t1\n"),
        line_of("  - id: t2"),
        "tasks[1] (t1).id",
        'duplicate id "t1"',
    ),
    (
        "unknown unit in a clause",
        mutate("区财政局、区市场监管局参与", "区财务局、区市场监管局参与"),
        line_of("    responsibility: 区卫生健康委牵头"),
        "tasks[1] (t2).responsibility",
        "区财务局",
    ),
    (
        "unknown pilot",
        mutate("（试点区县：南岸区）", "（试点区县：北岸区）"),
        line_of("  - id: t3"),
        "tasks[2] (t3)",
        "北岸区",
    ),
    (
        "pilot not responsible",
        mutate("（试点区县：南岸区）", "（试点区县：区财政局）"),
        line_of("  - id: t3"),
        "tasks[2] (t3)",
        "not among the units responsible",
    ),
    (
        "unknown dependency",
        mutate("depends_on: [t1]", "depends_on: [t9]"),
        line_of("depends_on: [t1]"),
        "tasks[1] (t2).depends_on",
        'unknown task "t9"',
    ),
    (
        "dependency cycle",
        mutate("depends_on: [t1]", "depends_on: [t1, t4]").replace(
            "deadline: 持续开展", "deadline: 持续开展\n    depends_on: [t2]"
        ),
        line_of("depends_on: [t1]"),
        "tasks[1] (t2).depends_on",
        "t2 → t4 → t2",
    ),
    (
        "deadline unreadable",
        mutate("deadline: 2020年6月", "deadline: 尽快"),
        line_of("deadline: 2020年6月"),
        "tasks[2] (t3).deadline",
        '"尽快"',
    ),
    (
        "phase window unreadable",
        mutate("window: 2020年9月", "window: 九月份左右吧"),
        line_of("window: 2020年9月"),
        "phases[2] (final).window",
        "cannot read",
    ),
    (
        "unknown phase",
        mutate("    phase: launch\n", "    phase: lunch\n"),
        line_of("    phase: launch"),
        "tasks[0] (t1).phase",
        'unknown phase "lunch"',
    ),
    (
        "bad email",
        mutate("fin@example.org", "fin-at-example.org"),
        line_of("fin@example.org"),
        "units[1] (fin).emails[0]",
        "email",
    ),
    (
        "bad phase kind",
        mutate("kind: final_evaluation", "kind: wrap_up"),
        line_of("kind: final_evaluation"),
        "phases[2] (final).kind",
        "final_evaluation",
    ),
    (
        "unknown group member",
        mutate("members: [na, yc]", "members: [na, wl]"),
        line_of("members: [na, yc]"),
        "groups",
        "wl",
    ),
    (
        "two units with one name",
        mutate("name: 区财政局,", "name: 区市场监管局,"),
        None,
        "units",
        "区市场监管局",
    ),
    (
        "unknown calendar region",
        mutate("calendar: {region: cn}", "calendar: {region: mars}"),
        line_of("calendar: {region: cn}"),
        "plan.calendar",
        "mars",
    ),
    (
        "bad code",
        mutate("code: example-2019", "code: 示例 2019"),
        line_of("code: example-2019"),
        "plan.code",
        "pattern",
    ),
    (
        "unknown office",
        mutate("office: 联席会议办公室", "office: 督查室"),
        line_of("office: 联席会议办公室"),
        "joint_meeting.office",
        "督查室",
    ),
    (
        "unknown submitter",
        mutate("submitters: [试点区县]", "submitters: [试点乡镇]"),
        line_of("submitters: [试点区县]"),
        "reports[0] (r1).submitters",
        "试点乡镇",
    ),
]


def snapshot(url: str) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    engine = engine_for(url)
    with engine.connect() as conn:
        return {
            name: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr)
            for name in inspect(engine).get_table_names()
        }


@pytest.mark.parametrize(
    ("case", "content", "line", "field", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_a_bad_plan_is_refused_with_its_place_named_and_nothing_written(
    database_url: str,
    tmp_path: Path,
    case: str,
    content: str,
    line: int | None,
    field: str,
    words: str,
) -> None:
    create_schema(database_url)
    good = tmp_path / "good.yaml"
    good.write_text(EXAMPLE, encoding="utf-8")
    with session_scope(database_url) as session:
        import_plan(session, good, at=IMPORTED)
    before = snapshot(database_url)
    bad = tmp_path / "bad.yaml"
    bad.write_text(content.replace("example-2019", "example-2019", 1), encoding="utf-8")

    with pytest.raises(PlanInvalid) as caught, session_scope(database_url) as session:
        import_plan(session, bad, at=IMPORTED)

    problems = [p for p in caught.value.problems if words in p.message]
    assert problems, f"{case}: no problem mentions {words!r}: {caught.value}"
    problem = problems[0]
    assert problem.file == str(bad)
    assert problem.field.startswith(field)
    if line is not None:
        assert problem.line == line
    assert snapshot(database_url) == before
