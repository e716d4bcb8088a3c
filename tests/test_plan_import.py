"""Importing a plan: what lands in the database, what a re-import changes, what a dry run does,
and how recalculation after a calendar change is shown before it is applied."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from sqlmodel import select

from calendars.workdays import DATA_DIR
from schemas.db import create_schema, session_scope
from schemas.tables import Assignment, ImportRecord, Occurrence, Task, Unit
from tasks.plans.importer import import_plan
from tasks.plans.queries import plan_overview, unit_tasks
from tasks.plans.recalc import apply_recalc, date_moves

from .conftest import ROOT

EXAMPLE = (ROOT / "docs" / "example-plan.yaml").read_text(encoding="utf-8")
IMPORTED = dt.datetime(2019, 7, 1, tzinfo=dt.UTC)


def write(tmp_path: Path, text: str, name: str = "plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def imported(url: str, path: Path, **options):  # type: ignore[no-untyped-def]
    create_schema(url)
    with session_scope(url) as session:
        return import_plan(session, path, at=IMPORTED, **options)


def test_an_import_creates_units_tasks_and_per_unit_assignments(database_url, tmp_path):
    report = imported(database_url, write(tmp_path, EXAMPLE))
    assert report.created and report.tasks == 6
    with session_scope(database_url) as session:
        overview = plan_overview(session, "example-2019")
    tasks = {t["code"]: t for t in overview["tasks"]}
    assert [(a["unit"], a["role"]) for a in tasks["t2"]["assignees"]] == [
        ("区卫生健康委", "lead"),
        ("区财政局", "participant"),
        ("区市场监管局", "participant"),
    ]
    assert [a["unit"] for a in tasks["t3"]["assignees"]] == ["南岸区"]
    assert tasks["t2"]["due"] == "2019-09-30"
    assert tasks["t4"]["deadline_kind"] == "ongoing"
    # 持续开展: quarterly progress reports over the plan's span (2019-07-01..2020-09-30)
    assert tasks["t4"]["assignees"][0]["occurrences"][:2] == ["2019-09-30", "2019-12-31"]
    assert {s["role"] for s in overview["joint_meeting"]} == {
        "convener",
        "member",
        "office",
        "leadership",
    }


def test_a_due_date_on_a_rest_day_moves_to_the_next_working_day(database_url, tmp_path):
    imported(database_url, write(tmp_path, EXAMPLE))
    with session_scope(database_url) as session:
        rows = unit_tasks(session, "南岸区", "example-2019")
        report = next(r for r in rows if r["task"] == "r1")
        occurrences = session.exec(
            select(Occurrence.due).join(Assignment).join(Task).where(Task.code == "r1")
        ).all()
    # 2020-06-20 is a Saturday: the summary is due on Monday 2020-06-22.
    assert report["due"] == "2020-06-22"
    assert dt.date(2020, 6, 22) in occurrences and dt.date(2020, 6, 20) not in occurrences


def test_a_dry_run_reports_but_writes_nothing(database_url, tmp_path):
    report = imported(database_url, write(tmp_path, EXAMPLE), dry_run=True)
    assert report.dry_run and report.tasks == 6
    with session_scope(database_url) as session:
        assert session.exec(select(Task)).all() == []


def test_a_reimport_updates_in_place_keeps_history_and_says_what_changed(database_url, tmp_path):
    path = write(tmp_path, EXAMPLE)
    imported(database_url, path)
    with session_scope(database_url) as session:
        before = {a.id for a in session.exec(select(Assignment))}
    revised = (
        EXAMPLE.replace("title: 建立协同监管制度", "title: 建立健全协同监管制度")
        .replace("deadline: 2020年6月\n", "deadline: 2020年8月\n")
        .replace("（试点区县：南岸区）", "（试点区县：永川区）")
        .replace(
            "  - id: t4\n",
            "  - id: t5\n    title: 新任务\n"
            "    responsibility: 区财政局\n    deadline: 2019年12月\n  - id: t4\n",
        )
    )
    revised = revised.replace(
        "    responsibility: {lead: [区市场监管局], co: [区卫生健康委]}\n    deadline: 持续开展\n",
        "    responsibility: 区市场监管局\n    deadline: 持续开展\n",
    )
    report = imported(database_url, write(tmp_path, revised))
    assert "task t2 re-worded" in report.changes
    assert "task t3 re-dated: '2020年6月' → '2020年8月'" in report.changes
    assert "task t3 re-assigned: +永川区(lead), -南岸区(lead)" in report.changes
    assert "task t5 added" in report.changes
    assert "task t4 re-assigned: -区卫生健康委(co)" in report.changes
    with session_scope(database_url) as session:
        rows = session.exec(select(Assignment)).all()
        records = session.exec(select(ImportRecord)).all()
    assert before <= {a.id for a in rows}, "no assignment row is ever deleted"
    dropped = [a for a in rows if not a.active]
    assert len(dropped) == 2
    assert len(records) == 2 and records[1].changes == report.changes


def test_removing_a_task_marks_it_inactive(database_url, tmp_path):
    imported(database_url, write(tmp_path, EXAMPLE))
    without_t1 = EXAMPLE.replace("    depends_on: [t1]\n", "")
    start = without_t1.index("  - id: t1\n")
    without_t1 = without_t1[:start] + without_t1[without_t1.index("  - id: t2\n") :]
    report = imported(database_url, write(tmp_path, without_t1))
    assert "task t1 removed" in report.changes
    with session_scope(database_url) as session:
        t1 = session.exec(select(Task).where(Task.code == "t1")).one()
        assert not t1.active
        assert all(
            not a.active
            for a in session.exec(select(Assignment).where(Assignment.task_id == t1.id))
        )


def test_new_calendar_data_moves_nothing_until_recalc_is_applied(database_url, tmp_path):
    calendar_dir = tmp_path / "calendar"
    shutil.copytree(DATA_DIR, calendar_dir)
    plan = write(tmp_path, EXAMPLE)
    imported(database_url, plan, calendar_dir=calendar_dir)
    # A correction: 2019-09-30 (t2's due date) becomes a holiday.
    year = calendar_dir / "cn" / "2019.toml"
    year.write_text(
        year.read_text(encoding="utf-8") + '\n[[holidays]]\nname = "测试假日"\n'
        "start = 2019-09-30\nend = 2019-09-30\n",
        encoding="utf-8",
    )

    report = imported(database_url, plan, calendar_dir=calendar_dir)
    assert any("dates kept on calendar" in change for change in report.changes)
    with session_scope(database_url) as session:
        moves = date_moves(session, "example-2019", calendar_dir=calendar_dir)
        t2 = session.exec(
            select(Assignment).join(Task).join(Unit).where(Task.code == "t2", Unit.code == "whc")
        ).one()
        assert t2.due == dt.date(2019, 9, 30)
    t2_moves = [m for m in moves if m.task == "t2"]
    assert len(t2_moves) == 3  # one per assignee
    assert t2_moves[0].new == dt.date(2019, 10, 8)  # after the National Day holiday
    assert "2019-09-30 is now a rest day (测试假日)" in str(t2_moves[0])

    with session_scope(database_url) as session:
        apply_recalc(session, "example-2019", at=IMPORTED, calendar_dir=calendar_dir)
    with session_scope(database_url) as session:
        assert date_moves(session, "example-2019", calendar_dir=calendar_dir) == []
        t2 = session.get(Assignment, t2.id)
        assert (t2.original_due, t2.due) == (dt.date(2019, 10, 8), dt.date(2019, 10, 8))
