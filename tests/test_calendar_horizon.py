"""A plan that reaches past the last year of calendar data: one error naming the plan file,
the first item's line and what to set, not one identical line per assignment."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from calendars.workdays import DATA_DIR, load_calendar
from schemas.db import create_schema, session_scope
from tasks.plans.importer import import_plan, load_plan
from tasks.plans.reader import PlanInvalid
from tasks.work.horizon import WARN_WORKDAYS, plans_past_the_calendar

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


def _imported_example(url: str, tmp_path: Path) -> Path:
    """The example plan (2019-07 to 2020-09) imported; returns a calendar folder holding only
    2019, as if 2020's notice had not appeared yet."""
    create_schema(url)
    plan = tmp_path / "plan.yaml"
    plan.write_text(EXAMPLE, encoding="utf-8")
    with session_scope(url) as session:
        import_plan(session, plan, at=dt.datetime(2019, 7, 1, tzinfo=dt.UTC))
    folder = tmp_path / "calendar"
    (folder / "cn").mkdir(parents=True)
    shutil.copy(DATA_DIR / "cn" / "2019.toml", folder / "cn" / "2019.toml")
    return folder


def test_an_open_plan_past_the_data_is_warned_of_from_30_working_days_ahead(
    sqlite_url: str, tmp_path: Path
) -> None:
    folder = _imported_example(sqlite_url, tmp_path)
    calendar = load_calendar(data_dir=folder)
    first = calendar.add_workdays(dt.date(2019, 12, 31), -WARN_WORKDAYS)
    with session_scope(sqlite_url) as session:
        before = plans_past_the_calendar(session, calendar.previous_workday(first), data_dir=folder)
        on_the_day = plans_past_the_calendar(session, first, data_dir=folder)
        with_data = plans_past_the_calendar(session, first)  # the bundled data reaches 2026
    assert before == [] and with_data == []
    assert [p.plan for p in on_the_day] == ["example-2019"]
    message = str(on_the_day[0])
    assert "runs to 2020-09-30" in message and "(ends 2019-12-31)" in message
    assert "the State Council's notice for 2020" in message
    assert "`duban calendar add-notice NOTICE.txt`" in message


def test_the_sweep_prints_the_warning(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from duban.cli import app

    folder = _imported_example(sqlite_url, tmp_path)
    monkeypatch.setenv("DUBAN_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DUBAN_CALENDAR_DIR", str(folder))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["sweep", "--as-of", "2019-12-02", "--dry-run", "--json"])
    summary = json.loads(result.stdout)
    assert len(summary["calendar_warnings"]) == 1
    assert summary["calendar_warnings"][0].startswith("plan example-2019 ")


def test_doctor_warns_of_the_horizon_as_of_a_day_and_still_passes(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from duban.cli import app

    folder = _imported_example(sqlite_url, tmp_path)
    monkeypatch.setenv("DUBAN_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DUBAN_CALENDAR_DIR", str(folder))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    warned = runner.invoke(app, ["doctor", "--as-of", "2019-12-02", "--json"])
    quiet = runner.invoke(app, ["doctor", "--as-of", "2019-10-08", "--json"])
    assert warned.exit_code == 0, warned.output  # a warning, not a failure
    checks = {c["name"]: c for c in json.loads(warned.stdout)["checks"]}
    horizon = checks["calendar horizon"]
    assert (horizon["ok"], horizon["required"]) == (False, False)
    assert horizon["detail"].startswith("plan example-2019 ")
    assert "`duban calendar add-notice NOTICE.txt`" in horizon["detail"]
    assert checks["calendar"]["ok"]  # 2019, the day's year, is in the data
    assert {c["name"]: c for c in json.loads(quiet.stdout)["checks"]}["calendar horizon"]["ok"]


def test_serve_logs_the_warning_when_a_sweep_job_starts(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from duban.serve import warn_past_the_calendar
    from schemas.settings import Settings

    folder = _imported_example(sqlite_url, tmp_path)
    monkeypatch.setenv("DUBAN_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DUBAN_CALENDAR_DIR", str(folder))
    with caplog.at_level("WARNING", logger="duban.serve"):
        warn_past_the_calendar(Settings(), dt.date(2019, 10, 8))
        assert caplog.records == []
        warn_past_the_calendar(Settings(), dt.date(2019, 12, 2))
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert caplog.records[0].getMessage().startswith("plan example-2019 ")
