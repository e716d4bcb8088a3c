"""`duban overdue`: every overdue open item across plans, with its working days late and the
rung of the ladder it has reached, as the office asks for it on a given day."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import event

from schemas.db import create_schema, engine_for, session_scope, sessions
from tasks.plans.importer import import_plan
from tasks.sweep import overdue
from tasks.sweep.overdue import OVERDUE_LEVELS, Rules, ladder_of, overdue_items
from tasks.sweep.pipeline import SINGLE_DATE, evaluate, read_open_work

from .conftest import PLANS

PILOT = PLANS / "chongqing-2019-pilot.yaml"
PLAN = "cq-2019-pilot"
NOW = dt.datetime(2019, 7, 1, tzinfo=dt.UTC)


def listed(duban, *args: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    result = duban("overdue", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def keyed(items: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(i["task"], i["unit_name"]): i for i in items}


def test_each_overdue_item_says_its_plan_task_unit_due_date_lateness_and_rung(duban):
    duban("import", str(PILOT))
    items = keyed(listed(duban, "--as-of", "2019-09-10"))
    # Due 31 July; 29 working days to 10 September. t01 is on the critical path, where 通报
    # comes after 5 working days; t02 is not, and is reported after 15.
    assert items["t01", "市卫生健康委"] == {
        "plan": PLAN,
        "task": "t01",
        "title": "成立综合监管工作领导小组",
        "unit": "cqwjw",
        "unit_name": "市卫生健康委",
        "role": "lead",
        "state": "not_started",
        "due": "2019-07-31",
        "overdue_workdays": 29,
        "level": "report",
        "rung": "5wd-overdue",
    }
    assert (items["t02", "市卫生健康委"]["level"], items["t02", "市卫生健康委"]["rung"]) == (
        "report",
        "15wd-overdue",
    )
    due_2_september = items["t13", "市卫生计生监督执法局"]
    assert (due_2_september["overdue_workdays"], due_2_september["level"]) == (6, "supervise")


def test_the_most_overdue_come_first_and_the_table_says_the_same(duban):
    duban("import", str(PILOT))
    items = listed(duban, "--as-of", "2019-10-08")
    dues = [i["due"] for i in items]
    assert dues == sorted(dues) and len(items) > 10
    table = duban("overdue", "--as-of", "2019-10-08")
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0] == f"overdue as of 2019-10-08: {len(items)} item(s), late in working days"
    assert lines[1].split() == ["plan", "task", "unit", "role", "due", "late", "rung", "title"]
    assert lines[3].split()[:7] == [
        PLAN,
        items[0]["task"],
        items[0]["unit_name"],
        "lead",
        items[0]["due"],
        str(items[0]["overdue_workdays"]),
        items[0]["level"],
    ]
    assert len(lines) == 3 + len(items)


def test_nothing_is_overdue_on_its_due_day_or_until_a_working_day_has_passed(duban):
    duban("import", str(PILOT))
    assert not [i for i in listed(duban, "--as-of", "2019-07-31") if i["due"] == "2019-07-31"]
    late = [i for i in listed(duban, "--as-of", "2019-08-01") if i["due"] == "2019-07-31"]
    assert late and {i["overdue_workdays"] for i in late} == {1}
    # Due Monday 30 September; 1-7 October are the National Day holidays: not late until the 8th
    holiday = listed(duban, "--as-of", "2019-10-07")
    assert not [i for i in holiday if i["due"] == "2019-09-30"]
    assert {i["overdue_workdays"] for i in listed(duban, "--as-of", "2019-10-08")
            if i["due"] == "2019-09-30"} == {1}  # fmt: skip


def test_work_handed_in_or_accepted_is_not_overdue_while_returned_work_is(duban):
    duban("import", str(PILOT))
    moves = [
        ("submit", PLAN, "t01", "--note", "x", "--as", "市卫生健康委", "--as-of", "2019-08-05"),
        ("submit", PLAN, "t02", "--note", "x", "--as", "市卫生健康委", "--as-of", "2019-08-05"),
        ("accept", PLAN, "t01", "--unit", "市卫生健康委", "--as", "综合监督处",
         "--as-of", "2019-08-06"),
        ("return", PLAN, "t02", "--reason", "再改", "--as", "综合监督处", "--as-of", "2019-08-06"),
    ]  # fmt: skip
    for move in moves:
        assert duban(*move).exit_code == 0, move
    items = keyed(listed(duban, "--as-of", "2019-09-10"))
    assert ("t01", "市卫生健康委") not in items
    assert items["t02", "市卫生健康委"]["state"] == "returned"


def test_each_owed_report_of_a_recurring_task_is_an_item_of_its_own(duban):
    duban("import", str(PILOT))
    reports = [i for i in listed(duban, "--as-of", "2019-12-20") if i["task"] == "stage-summary"]
    assert reports and {i["due"] for i in reports} == {"2019-09-20"}
    later = [i for i in listed(duban, "--as-of", "2019-12-23") if i["task"] == "stage-summary"]
    assert {i["due"] for i in later} == {"2019-09-20", "2019-12-20"}


def test_filters_narrow_to_a_plan_a_unit_by_any_of_its_names_and_a_rung_or_higher(duban):
    duban("import", str(PILOT))
    duban("import", str(PLANS / "rongchang-2019.yaml"))
    everything = listed(duban, "--as-of", "2019-12-31")
    assert {i["plan"] for i in everything} == {PLAN, "rongchang-2019"}
    assert {i["plan"] for i in listed(duban, "--as-of", "2019-12-31", "--plan", PLAN)} == {PLAN}
    by_name = listed(duban, "--as-of", "2019-12-31", "--unit", "南岸区")
    assert by_name and {i["unit"] for i in by_name} == {"na"}
    assert listed(duban, "--as-of", "2019-12-31", "--unit", "na") == by_name
    assert listed(duban, "--as-of", "2019-12-31", "--unit", "南岸区卫生健康委") == by_name  # alias
    supervised = listed(duban, "--as-of", "2019-12-31", "--level", "supervise")
    assert supervised and {i["level"] for i in supervised} <= {"supervise", "report"}
    assert supervised == [i for i in everything if i["level"] in ("supervise", "report")]
    assert listed(duban, "--as-of", "2019-12-31", "--level", "督办") == supervised
    reported = listed(duban, "--as-of", "2019-12-31", "--level", "report")
    assert reported == [i for i in everything if i["level"] == "report"]


def test_what_the_filters_name_must_exist(duban):
    duban("import", str(PILOT))
    assert duban("overdue", "--plan", "nope").exit_code == 4
    unknown = duban("overdue", "--unit", "火星局")
    assert unknown.exit_code == 4 and unknown.stderr == 'error: no unit "火星局"\n'
    elsewhere = duban("overdue", "--unit", "南岸区", "--plan", "rongchang-2019")
    assert elsewhere.exit_code == 4 and "rongchang-2019" in elsewhere.stderr
    # A unit that exists and has nothing overdue is an empty list, not an error.
    assert listed(duban, "--as-of", "2019-07-01", "--unit", "南岸区") == []


def test_a_plan_adopted_under_way_climbs_from_its_first_day_and_has_no_rung_before(duban, tmp_path):
    adopted = tmp_path / "adopted.yaml"
    text = PILOT.read_text(encoding="utf-8")
    adopted.write_text(
        text.replace("\nplan:\n", "\nplan:\n  supervise_from: 2019-09-02\n", 1), encoding="utf-8"
    )
    duban("import", str(adopted))
    before = keyed(listed(duban, "--as-of", "2019-08-21"))
    assert before["t02", "市卫生健康委"]["overdue_workdays"] == 15
    assert before["t02", "市卫生健康委"]["level"] is None
    first_day = keyed(listed(duban, "--as-of", "2019-09-02"))
    assert first_day["t02", "市卫生健康委"]["overdue_workdays"] == 23
    assert first_day["t02", "市卫生健康委"]["level"] == "urge"


@pytest.mark.parametrize(
    "day",
    [dt.date(2019, 8, 2), dt.date(2019, 9, 10), dt.date(2019, 12, 31), dt.date(2020, 7, 15)],
)
def test_the_rung_is_the_one_the_sweep_finds_for_every_overdue_item(database_url, day):
    """The same answer as the sweep's own evaluation, for every item it finds past due."""
    create_schema(database_url)
    for plan in ("chongqing-2019-pilot.yaml", "rongchang-2019.yaml", "shanghai-2020.yaml"):
        with session_scope(database_url) as session:
            import_plan(session, PLANS / plan, at=NOW)
    with sessions(database_url)() as session:
        contexts, items, _ = read_open_work(session, as_of=day)
    swept = {
        (f.item.plan_code, f.item.task_code, f.item.unit_code, f.item.due): f.rung.level
        for f in evaluate(items, contexts, day)
        if f.rung.level in OVERDUE_LEVELS and f.item.due < day
    }
    with engine_for(database_url).connect() as connection:
        found = overdue_items(connection, day)
    ours = {
        (i.plan, i.task, i.unit, dt.date.fromisoformat(i.due)): i.level
        for i in found
        if i.level is not None
    }
    assert swept and ours == swept


def test_it_reads_in_the_same_few_queries_however_many_plans_and_items(database_url):
    create_schema(database_url)
    engine = engine_for(database_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    counts = []
    for plan in ("chongqing-2019-pilot.yaml", "rongchang-2019.yaml", "shanghai-2020.yaml"):
        with session_scope(database_url) as session:
            import_plan(session, PLANS / plan, at=NOW)
        statements.clear()
        with engine.connect() as connection:
            found = overdue_items(connection, dt.date(2020, 7, 15))
        assert found
        counts.append(len(statements))
    # the plans, the items, their tasks and units by id, a critical path's edges and phases
    assert counts[0] == counts[-1] <= 6, counts


def test_a_stored_policy_is_read_as_the_plan_file_model_reads_it():
    from schemas.plan_file import EscalationPolicy

    custom = {"remind_before": [3], "urge_after": 2, "report_after": 20, "co_units": "chased"}
    for given in ({}, custom):
        model = EscalationPolicy.model_validate(given)
        stored = model.model_dump(mode="json")
        light = ladder_of(stored)
        assert isinstance(light, Rules)
        assert light == Rules(*(getattr(model, f) for f in Rules._fields))._replace(
            remind_before=tuple(model.remind_before)
        )
    # a policy stored without every field is validated again: the model's defaults fill it
    assert ladder_of({"urge_after": 2}) == EscalationPolicy.model_validate({"urge_after": 2})


def test_the_single_date_deadline_kinds_are_the_sweeps():
    assert overdue.SINGLE_DATE == SINGLE_DATE
