"""The command line: every command's output and its errors, as a user sees them."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from render.environment import pct
from schemas.db import session_scope
from tasks.review.compute import review_plan

from .conftest import ROOT

EXAMPLE = str(ROOT / "docs" / "example-plan.yaml")
LAST_DAY = dt.date(2020, 9, 30)  # the bundled story's last day


@pytest.fixture
def cli(sqlite_url, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """The CLI on a SQLite file; the database-backed commands also run on PostgreSQL below."""
    monkeypatch.setenv("DUBAN_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)
    from typer.testing import CliRunner

    from duban.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def test_due_prints_one_json_object_with_the_promised_keys(cli):
    result = cli("due", "2019年9月至2020 年 6 月", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "text": "2019年9月至2020 年 6 月",
        "kind": "window",
        "start": "2019-09-01",
        "due": "2020-06-30",
        "dates": [],
        "rule": None,
        "note": None,
    }


def test_due_takes_the_year_for_forms_without_one(cli):
    result = cli("due", "年底前", "--year", "2020", "--json")
    assert json.loads(result.stdout)["due"] == "2020-12-31"


def test_due_fails_with_exit_2_and_one_line_on_unreadable_text(cli):
    result = cli("due", "2019年9月下旬左右")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert 'cannot read "左右"' in result.stderr


def test_due_prints_a_readable_summary_without_json(cli):
    result = cli("due", "2019年9月前")
    assert "due: 2019-09-30" in result.stdout and "note:" in result.stdout


def test_calendar_json_lists_every_day_of_the_year(cli):
    days = json.loads(cli("calendar", "2020", "--json").stdout)
    assert len(days) == 366
    by_date = {d["date"]: d for d in days}
    assert by_date["2020-01-25"] == {
        "date": "2020-01-25",
        "workday": False,
        "holiday": "春节",
        "makeup": False,
    }
    assert by_date["2020-01-19"] == {
        "date": "2020-01-19",
        "workday": True,
        "holiday": None,
        "makeup": True,
    }


def test_calendar_shows_a_month_grid_with_holidays_and_makeup_days(cli):
    out = cli("calendar", "2019", "--month", "10").stdout
    assert "2019年10月" in out and "1休" in out and "12班" in out


def test_calendar_for_a_year_without_data_names_the_year(cli):
    result = cli("calendar", "2031", "--json")
    error = json.loads(result.stdout)["error"]
    assert result.exit_code == 6 and error["type"] == "MissingCalendarYear"
    assert error["family"] == "EnvironmentProblem" and "2031" in error["message"]


def test_workdays_adds_subtracts_and_counts(cli):
    assert cli("workdays", "2019-09-27", "--plus", "2").stdout.strip() == "2019-09-30"
    assert cli("workdays", "2019-10-08", "--minus", "2").stdout.strip() == "2019-09-29"
    assert cli("workdays", "2019-09-30", "2019-10-08").stdout.strip() == "1"


def test_workdays_refuses_ambiguous_arguments(cli):
    result = cli("workdays", "2019-09-27", "2019-10-08", "--plus", "1")
    assert result.exit_code == 2 and "exactly one" in result.stderr
    assert cli("workdays", "2019-13-01", "--plus", "1").exit_code == 2


def test_who_reads_a_clause_as_written(cli):
    result = cli("who", "区卫生健康委牵头，区财政局参与（试点区县：南岸区、永川区）", "--json")
    assert json.loads(result.stdout) == {
        "lead": ["区卫生健康委"],
        "co": [],
        "participants": ["区财政局"],
        "pilots": ["南岸区", "永川区"],
    }


def test_who_with_a_plan_resolves_aliases_and_expands_groups(duban):
    duban("import", EXAMPLE)
    result = duban("who", "卫生健康委牵头，试点区县参与", "--plan", "example-2019", "--json")
    assert json.loads(result.stdout) == {
        "lead": ["区卫生健康委"],
        "co": [],
        "participants": ["南岸区", "永川区"],
        "pilots": [],
    }
    unknown = duban("who", "区财务局牵头", "--plan", "example-2019")
    assert unknown.exit_code == 2 and "区财务局" in unknown.stderr and "区财政局" in unknown.stderr


def test_import_show_tasks_plans_and_graph(duban):
    imported = duban("import", EXAMPLE)
    assert imported.exit_code == 0
    assert "imported example-2019: 6 tasks" in imported.stdout
    assert "warning:" in imported.stdout  # the 2020-06-20 report date is a Saturday

    plans = json.loads(duban("plans", "--json").stdout)
    assert [p["code"] for p in plans] == ["example-2019"] and plans[0]["tasks"] == 6

    shown = json.loads(duban("show", "example-2019", "--json").stdout)
    assert [p["kind"] for p in shown["phases"]] == ["launch", "implementation", "final_evaluation"]
    assert "成立领导小组" in duban("show", "example-2019").stdout

    rows = json.loads(duban("tasks", "--unit", "南岸区", "--json").stdout)
    assert {r["task"] for r in rows} == {"t3", "r1", "r2"}

    graph = json.loads(duban("graph", "example-2019", "--format", "json").stdout)
    assert graph["acyclic"] and ["t1", "t2"] in graph["edges"]
    assert "flowchart LR" in duban("graph", "example-2019").stdout
    assert "digraph plan" in duban("graph", "example-2019", "--format", "dot").stdout
    impact = duban("graph", "example-2019", "--impact", "t1").stdout.split("\n")
    assert "t2 建立协同监管制度" in impact and "r2 全面总结" in impact


def test_read_commands_name_what_exists_when_something_is_missing(duban):
    duban("import", EXAMPLE)
    missing = duban("show", "nope")
    assert missing.exit_code == 4 and "example-2019" in missing.stderr
    assert duban("tasks", "--unit", "火星局").exit_code == 4
    assert duban("graph", "example-2019", "--impact", "t9").exit_code == 4
    assert duban("graph", "example-2019", "--format", "png").exit_code == 2


def test_import_of_a_bad_file_lists_each_problem_and_writes_nothing(duban, tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "docs" / "example-plan.yaml").read_text(encoding="utf-8")
    bad.write_text(
        text.replace("deadline: 2020年6月", "deadline: 尽快").replace(
            "depends_on: [t1]", "depends_on: [t7]"
        ),
        encoding="utf-8",
    )
    result = duban("import", str(bad))
    assert result.exit_code == 2
    assert "2 problem(s); nothing was written" in result.stderr
    assert f"{bad}:" in result.stderr and "tasks[2] (t3).deadline" in result.stderr
    assert json.loads(duban("plans", "--json").stdout) == []


def test_lint_and_recalc_on_an_imported_plan(duban):
    duban("import", EXAMPLE)
    linted = duban("lint", "example-2019")
    assert "2020-06-20 is not a working day" in linted.stdout
    assert duban("lint", EXAMPLE).stdout == linted.stdout
    recalc = duban("recalc", "example-2019")
    assert "no due date moves" in recalc.stdout


def test_import_dry_run_says_would(duban):
    result = duban("import", EXAMPLE, "--dry-run")
    assert "would import example-2019" in result.stdout
    assert json.loads(duban("plans", "--json").stdout) == []


def test_the_main_job_replays_the_bundled_plan_from_any_folder(cli, tmp_path):
    result = cli("demo")
    assert result.exit_code == 0, result.stdout
    assert "replaying chongqing-2019-pilot.yaml" in result.stdout
    assert "final evaluation review" in result.stdout
    page = tmp_path / ".duban" / "demo" / "cq-2019-pilot-final-evaluation.html"
    assert page.exists()
    # the figures printed are the file's: the final phase's, not the whole plan's (#11)
    db = f"sqlite:///{tmp_path / '.duban' / 'demo' / 'duban.db'}"
    with session_scope(db) as session:
        final = review_plan(session, "cq-2019-pilot", LAST_DAY, phase="final_evaluation")
        whole = review_plan(session, "cq-2019-pilot", LAST_DAY)
    said = f"{pct(final.counts.completion_pct)} complete"
    assert said in " ".join(result.stdout.split())
    assert pct(final.counts.completion_pct) in page.read_text(encoding="utf-8")
    assert whole.counts.completion_pct != final.counts.completion_pct  # they did not agree
    assert cli("demo", "--plans-dir", str(tmp_path)).exit_code == 2


def test_read_commands_on_a_new_database_answer_instead_of_failing(duban):
    assert duban("init").exit_code == 0
    for args in (("show", "x"), ("graph", "x"), ("recalc", "x"), ("tasks", "--unit", "x")):
        result = duban(*args)
        assert result.exit_code == 4 and result.stderr.startswith("error: no "), args
