"""Importing a plan: what lands in the database, what a re-import changes, what a dry run does,
and how recalculation after a calendar change is shown before it is applied."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlmodel import col, select

from calendars.clock import utc
from calendars.workdays import DATA_DIR
from schemas.db import create_schema, reading, session_scope
from schemas.tables import Assignment, AuditEvent, ImportRecord, Occurrence, Task, Unit
from tasks.plans.importer import import_plan
from tasks.plans.recalc import apply_recalc, date_moves
from tasks.plans.views import plan_overview, unit_tasks
from tasks.work import lifecycle
from tasks.work.actors import Actor

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
    with reading(database_url) as connection:
        overview = plan_overview(connection, "example-2019")
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


def test_every_assignment_is_made_at_the_instant_the_import_was_given(database_url, tmp_path):
    """Both ways an import writes assignments (plain rows; objects, for work with dated
    reports) date them by the import's clock, not the machine's."""
    imported(database_url, write(tmp_path, EXAMPLE))
    with session_scope(database_url) as session:
        made = session.exec(select(Assignment.created_at, Assignment.updated_at)).all()
        with_reports = session.exec(select(Occurrence.assignment_id)).all()
    assert made and with_reports
    assert {utc(stamp) for row in made for stamp in row} == {IMPORTED}


def test_a_due_date_on_a_rest_day_moves_to_the_next_working_day(database_url, tmp_path):
    imported(database_url, write(tmp_path, EXAMPLE))
    with session_scope(database_url) as session:
        rows = unit_tasks(session.connection(), "南岸区", "example-2019")
        report = next(r for r in rows if r["task"] == "r1")
        occurrences = session.exec(
            select(Occurrence.due).join(Assignment).join(Task).where(Task.code == "r1")
        ).all()
    # 2020-06-20 is a Saturday: the summary is due on Monday 2020-06-22.
    assert report["due"] == "2020-06-22"
    assert dt.date(2020, 6, 22) in occurrences and dt.date(2020, 6, 20) not in occurrences


def test_a_plan_with_no_work_yet_imports_and_takes_its_tasks_on_a_reimport(database_url, tmp_path):
    """A plan file may name its units, meeting and phases before its tasks and reports."""
    path = write(tmp_path, EXAMPLE.split("\ntasks:")[0] + "\n")
    report = imported(database_url, path)
    assert (report.created, report.tasks, report.assignments) == (True, 0, 0)
    path.write_text(EXAMPLE, encoding="utf-8")
    report = imported(database_url, path)
    assert report.tasks == 6
    assert {"task t1 added", "task r2 added"} <= set(report.changes)


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


def test_a_reimport_says_every_change_of_the_plan_file(database_url, tmp_path):
    """Not only tasks: a unit's mail address, the office seat, a liaison, a group, a phase and
    the escalation policy changing are each said (and so audited with the import)."""
    imported(database_url, write(tmp_path, EXAMPLE))
    revised = (
        EXAMPLE.replace("emails: [whc@example.org]", "emails: [zhjd@example.org]")
        .replace("  office: 联席会议办公室\n", "  office: 区卫生健康委\n")
        .replace("name: 王敏, email: wangmin@example.org", "name: 王敏, email: wm@example.org")
        .replace("members: [na, yc]}", "members: [na]}")
        .replace("window: 2019年8月至2020年6月}", "window: 2019年8月至2020年8月}")
    )
    revised += "escalation: {supervise_after: 3}\n"
    report = imported(database_url, write(tmp_path, revised))
    for change in (
        "unit whc: emails ['whc@example.org'] → ['zhjd@example.org']",
        "joint meeting: office '联席会议办公室' → '区卫生健康委'",
        "joint meeting: members 区财政局: email 'wangmin@example.org' → 'wm@example.org'",
        "group pilots: members ['na', 'yc'] → ['na']",
        "phase work: window '2019年8月至2020年6月' → '2019年8月至2020年8月'",
        "escalation: supervise_after 5 → 3",
    ):
        assert change in report.changes
    assert imported(database_url, write(tmp_path, revised)).changes == []


def test_a_unit_removed_and_added_back_is_said_to_be_restored(database_url, tmp_path):
    imported(database_url, write(tmp_path, EXAMPLE))
    without_yc = EXAMPLE.replace(
        "  - {code: yc, name: 永川区, kind: district, emails: [yc@example.org]}\n", ""
    ).replace("members: [na, yc]}", "members: [na]}")
    assert "unit yc (永川区) removed" in imported(database_url, write(tmp_path, without_yc)).changes
    assert "unit yc (永川区) restored" in imported(database_url, write(tmp_path, EXAMPLE)).changes


def test_a_reimport_keeps_the_offices_reassignment(database_url, tmp_path):
    """The office gave t1 from 区卫生健康委 to 区财政局; the plan still names the former. A
    re-import leaves the work with 区财政局, and a new date in the plan reaches it."""
    path = write(tmp_path, EXAMPLE)
    imported(database_url, path)
    with session_scope(database_url) as session:
        moved = lifecycle.reassign(
            session,
            actor=Actor("office", "office"),
            plan="example-2019",
            task="t1",
            from_unit="whc",
            to_unit="fin",
            reason="职责调整",
            at=IMPORTED,
        )
        moved_id = moved.id
    same = imported(database_url, path)
    later = imported(
        database_url, write(tmp_path, EXAMPLE.replace("2019年7月\n", "2019年8月\n", 1))
    )
    assert not [c for c in same.changes + later.changes if "re-assigned" in c]
    with session_scope(database_url) as session:
        held = session.get(Assignment, moved_id)
        work = lifecycle.find_work(session, "example-2019", "t1", "fin")
        assert held is not None and held.active and held.state == "not_started"
        assert work.assignment.id == moved_id
        assert held.due == dt.date(2019, 9, 2)  # 2019-08-31 is a Saturday: the next working day


def _accepted_first_report(url: str) -> int:
    """南岸区's first stage summary (r1, due 2019-09-20), submitted and accepted; its id."""
    with session_scope(url) as session:
        lifecycle.submit(
            session,
            actor=Actor("unit", "na"),
            plan="example-2019",
            task="r1",
            note="第一季度总结",
            at=IMPORTED,
            occurrence=dt.date(2019, 9, 20),
        )
        lifecycle.accept(
            session,
            actor=Actor("office", "office"),
            plan="example-2019",
            task="r1",
            unit="na",
            at=IMPORTED,
            occurrence=dt.date(2019, 9, 20),
        )
        return session.exec(
            select(Occurrence.id).where(
                Occurrence.due == dt.date(2019, 9, 20), Occurrence.state == "accepted"
            )
        ).one()


def _report_dates(url: str, unit: str) -> dict[dt.date, str]:
    with session_scope(url) as session:
        rows = session.exec(
            select(Occurrence)
            .join(Assignment)
            .join(Task)
            .join(Unit)
            .where(Task.code == "r1", Unit.code == unit, Occurrence.active)
        ).all()
        return {row.due: row.state for row in rows}


def test_moving_a_report_date_keeps_its_acceptance(database_url, tmp_path):
    imported(database_url, write(tmp_path, EXAMPLE))
    accepted = _accepted_first_report(database_url)
    moved = EXAMPLE.replace("deadline: 2019年9月20日、", "deadline: 2019年9月25日、")
    imported(database_url, write(tmp_path, moved))
    assert _report_dates(database_url, "na") == {
        dt.date(2019, 9, 25): "accepted",
        dt.date(2019, 12, 20): "not_started",
        dt.date(2020, 3, 20): "not_started",
        dt.date(2020, 6, 22): "not_started",
    }
    with session_scope(database_url) as session:
        row = session.get(Occurrence, accepted)
        assert row is not None and row.due == dt.date(2019, 9, 25)  # the same row, moved
    assert _report_dates(database_url, "yc")[dt.date(2019, 9, 25)] == "not_started"


def test_a_report_date_dropped_and_another_added_elsewhere_is_not_a_move(database_url, tmp_path):
    """Dropping September and adding the next September crosses the dates kept between them:
    the accepted September report is retired, the new date owed afresh."""
    imported(database_url, write(tmp_path, EXAMPLE))
    _accepted_first_report(database_url)
    shifted = EXAMPLE.replace(
        "deadline: 2019年9月20日、12月20日，2020年3月20日、6月20日",
        "deadline: 2019年12月20日，2020年3月20日、6月20日、9月20日",
    )
    imported(database_url, write(tmp_path, shifted))
    dates = _report_dates(database_url, "na")
    assert dt.date(2019, 9, 20) not in dates and set(dates.values()) == {"not_started"}
    assert dt.date(2020, 9, 21) in dates  # 2020-09-20 is a Sunday


def test_a_task_with_no_lead_is_imported_without_one_linted_and_can_be_given_one(
    database_url, tmp_path
):
    """t2's clause names no lead: no unit is made lead, lint says so, the office names one
    (audited with person and channel), and a re-import keeps the lead the office named."""
    text = EXAMPLE.replace(
        "区卫生健康委牵头，区财政局、区市场监管局参与", "区财政局、区市场监管局按职责分工负责"
    )
    path = write(tmp_path, text)
    report = imported(database_url, path)
    assert "example-2019 t2: 牵头单位未明确: no lead unit is named (name one: duban lead)" in (
        report.warnings
    )
    office = Actor("office", "office", person="王文书", channel="cli")
    with session_scope(database_url) as session:
        assert _roles(session, "t2") == {("fin", "co"), ("mkt", "co")}
        named = lifecycle.name_lead(
            session,
            actor=office,
            plan="example-2019",
            task="t2",
            unit="fin",
            reason="办公室会议确定",
            at=IMPORTED,
        )
        named_id = named.id
        event = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
        assert event is not None
        assert (event.action, event.person, event.channel) == ("reassign", "王文书", "cli")
        assert event.before is not None and event.before["role"] == "co"
        assert event.after is not None and event.after["role"] == "lead"
        assert event.after["reason"] == "办公室会议确定"
        with pytest.raises(lifecycle.InvalidRequest, match="already has a lead unit"):
            lifecycle.name_lead(
                session,
                actor=office,
                plan="example-2019",
                task="t2",
                unit="mkt",
                reason="再定",
                at=IMPORTED,
            )
    again = imported(database_url, path)
    assert not [c for c in again.changes if "t2" in c]
    with session_scope(database_url) as session:
        assert _roles(session, "t2") == {("fin", "lead"), ("mkt", "co")}
        assert session.get(Assignment, named_id).active


def _roles(session, task_code: str) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    rows = session.exec(
        select(Unit.code, Assignment.role)
        .join(Assignment, col(Assignment.unit_id) == Unit.id)
        .join(Task, col(Assignment.task_id) == Task.id)
        .where(Task.code == task_code, col(Assignment.active))
    ).all()
    return set(rows)


def test_duban_lint_lists_a_task_with_no_lead_and_duban_lead_names_one(duban, tmp_path):
    text = EXAMPLE.replace(
        "区卫生健康委牵头，区财政局、区市场监管局参与", "区财政局、区市场监管局按职责分工负责"
    )
    assert duban("import", str(write(tmp_path, text))).exit_code == 0
    lint = duban("lint", "example-2019")
    assert "example-2019 t2: 牵头单位未明确" in lint.stdout
    done = duban(
        "lead", "example-2019", "t2", "区财政局", "--reason", "办公室会议确定", "--as", "office"
    )
    assert done.exit_code == 0, done.output
    assert "区财政局 now leads example-2019 t2" in done.stdout


@pytest.mark.parametrize(
    ("written", "due"),
    [
        ("立行立改", dt.date(2019, 7, 11)),  # due on the day the plan was issued
        ("即日起至2019年9月", dt.date(2019, 9, 30)),
        ("10个工作日内", dt.date(2019, 7, 25)),  # counted from the issue date, on its calendar
    ],
)
def test_forms_counted_from_now_count_from_the_plans_issue_date(
    tmp_path: Path, written: str, due: dt.date
) -> None:
    """plan.issued is 2019-07-11, a Thursday; the phases begin on 2019-07-01."""
    from tasks.plans.importer import load_plan

    text = EXAMPLE.replace("deadline: 2019年7月\n", f"deadline: {written}\n", 1)
    (task, *_) = load_plan(write(tmp_path, text)).tasks
    assert task.code == "t1" and task.due == due
    if written != "立行立改":
        assert task.deadline is not None and task.deadline.start == dt.date(2019, 7, 11)


def test_several_plan_files_import_together_or_not_at_all(duban, tmp_path):
    """`duban import A B …` in one process, one transaction: a problem in one file leaves the
    database as it was, the files before it included."""
    plans = sorted((ROOT / "plans").glob("*.yaml"))
    broken = write(tmp_path, EXAMPLE.replace("code: example-2019", "code: [not, a, code]"))
    refused = duban("import", *map(str, plans), str(broken))
    assert refused.exit_code != 0 and str(broken) in refused.output
    assert "nothing was written" in refused.output
    assert json.loads(duban("plans", "--json").stdout) == []
    done = duban("import", *map(str, plans))
    assert done.exit_code == 0, done.output
    said = [line.split()[1].rstrip(":") for line in done.stdout.splitlines() if "tasks" in line]
    listed = [plan["code"] for plan in json.loads(duban("plans", "--json").stdout)]
    assert len(plans) >= 3 and sorted(said) == sorted(listed) and len(listed) == len(plans)
