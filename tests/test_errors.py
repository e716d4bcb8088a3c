"""Errors as a user meets them: every command, given a bad argument or an unreachable database,
ends with one line on stderr (or one JSON object with --json) and its family's exit code, never
a traceback. The commands are enumerated from the typer app, so a new one is covered or fails
here until it is."""

from __future__ import annotations

import importlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

import duban.errors
from duban.cli import app
from duban.errors import FAMILIES, DubanError
from schemas.db import create_schema

from .conftest import PLANS, ROOT

PLAN_FILE = str(PLANS / "chongqing-2019-pilot.yaml")
UNREACHABLE = "postgresql+psycopg://duban:s3cret-pw@127.0.0.1:1/none"
BAD_SETTING = {"DUBAN_SMTP_PORT": "not-a-port"}

# command -> (arguments, extra environment, expected exit code) on an empty database
BAD_ARGUMENT: dict[str, tuple[list[str], dict[str, str], int]] = {
    "init": ([], BAD_SETTING, 2),
    "doctor": ([], BAD_SETTING, 2),
    "import": (["/nonexistent/plan.yaml"], {}, 2),
    "lint": (["nope"], {}, 4),
    "draft": (["/nonexistent/plan.docx"], {}, 2),
    "recalc": (["nope"], {}, 4),
    "who": (["区卫生健康委牵头", "--plan", "nope"], {}, 4),
    "graph": (["nope", "--format", "png"], {}, 2),
    "plans": ([], {"DUBAN_DATABASE_URL": "not a url"}, 2),
    "show": (["nope"], {}, 4),
    "tasks": (["--unit", "火星局"], {}, 4),
    "overdue": (["--level", "紧急"], {}, 2),
    "schema": ([], {}, 0),
    "template": (["pdf"], {}, 2),
    "export": (
        ["nope", "--format", "xlsx", "--out", "x.xlsx"],
        {},
        4,
    ),  # takes nothing that can be wrong (usage errors aside)
    "demo": (["--plans-dir", "/nonexistent"], {}, 2),
    "due": (["2019年9月下旬左右"], {}, 2),
    "calendar show": (["2031"], {}, 6),
    "calendar add-notice": (["/nonexistent/notice.txt", "--yes"], {}, 2),
    "workdays": (["2019-13-01", "--plus", "1"], {}, 2),
    "progress": (["nope", "t1", "--note", "x", "--as", "office"], {}, 4),
    "submit": (["nope", "t1", "--note", "x", "--as", "office"], {}, 4),
    "accept": (["nope", "t1", "--as", "office", "--as-of", "2019-02-30"], {}, 2),
    "return": (["nope", "t1", "--reason", "x", "--as", "office"], {}, 4),
    "extend": (["nope", "t1", "--to", "2019-13-01", "--reason", "x", "--as", "office"], {}, 2),
    "decide": (["nope", "1", "--approve", "--as", "office"], {}, 4),
    "waive": (["nope", "t1", "--reason", "x", "--as", "office"], {}, 4),
    "reassign": (
        ["nope", "t1", "--from", "a", "--to", "b", "--reason", "-", "--as", "office"],
        {},
        4,
    ),
    "lead": (["nope", "t1", "a", "--reason", "-", "--as", "office"], {}, 4),
    "extensions": (["nope"], {}, 4),
    "history": (["nope", "t1"], {}, 4),
    "audit verify": (["--against", "/nonexistent/head.json"], {}, 2),
    "audit export-head": ([], {}, 4),  # an empty trail has no head to file
    "sweep": (["--as-of", "2019-08-32"], {}, 2),
    "outbox": (["--pending", "--failed"], {}, 2),
    "outbox retry": (["--id", "5"], {}, 4),  # not a message given up on
    "deliver": ([], BAD_SETTING, 2),
    "ack": (["DB0000000000", "--as", "office"], {}, 4),
    "receipts": ([], BAD_SETTING, 2),
    "serve": ([], BAD_SETTING, 2),
    "automations": (["--webhook", "https://robot.example.org/x"], {}, 2),  # no PREFECT_API_URL
    "escalations": (["nope"], {}, 4),
    "sheet": (["nope", "1", "--out", "/nonexistent/sheet.html"], {}, 4),
    "review": (["nope", "--format", "pdf"], {}, 2),
    "ranking": (["nope"], {}, 4),
    "digest": (["nope"], {}, 4),
    "web": ([], BAD_SETTING, 2),
    "users add": (["x", "--role", "chief", "--password", "long-enough-1"], {}, 2),
    "users list": ([], BAD_SETTING, 2),
    "users disable": (["nobody"], {}, 4),
    "users reset": (["nobody", "--password", "long-enough-1"], {}, 4),
    "evidence list": (["nope", "t1"], {}, 4),
    "evidence get": (["1", "--out", "/nonexistent/x.pdf"], {}, 4),
}

# command -> arguments that would work on a reachable database; None: needs no database
ON_UNREACHABLE: dict[str, list[str] | None] = {
    "init": [],
    "doctor": None,  # reports an unreachable database in its table (tests/test_doctor.py)
    "import": [PLAN_FILE],
    "lint": ["cq-2019-pilot"],
    "draft": None,  # reads a document, writes a file
    "recalc": ["cq-2019-pilot"],
    "who": ["区卫生健康委牵头", "--plan", "cq-2019-pilot"],
    "graph": ["cq-2019-pilot"],
    "plans": [],
    "show": ["cq-2019-pilot"],
    "tasks": ["--unit", "南岸区"],
    "overdue": [],
    "schema": None,
    "template": None,  # writes a blank table, reads no database
    "export": ["cq-2019-pilot", "--format", "xlsx", "--out", "x.xlsx"],
    "demo": None,  # keeps its own SQLite database under the home folder
    "due": None,
    "calendar show": None,
    "calendar add-notice": None,
    "workdays": None,
    "progress": ["cq-2019-pilot", "t02", "--note", "x", "--as", "南岸区"],
    "submit": ["cq-2019-pilot", "t02", "--note", "x", "--as", "南岸区"],
    "accept": ["cq-2019-pilot", "t02", "--as", "office"],
    "return": ["cq-2019-pilot", "t02", "--reason", "x", "--as", "office"],
    "extend": ["cq-2019-pilot", "t02", "--to", "2019-12-31", "--reason", "x", "--as", "南岸区"],
    "decide": ["cq-2019-pilot", "1", "--approve", "--as", "office"],
    "waive": ["cq-2019-pilot", "t02", "--reason", "x", "--as", "office"],
    "lead": ["cq-2019-pilot", "t02", "a", "--reason", "-", "--as", "office"],
    "reassign": [
        "cq-2019-pilot",
        "t02",
        "--from",
        "a",
        "--to",
        "b",
        "--reason",
        "-",
        "--as",
        "office",
    ],
    "extensions": ["cq-2019-pilot"],
    "history": ["cq-2019-pilot", "t02"],
    "audit verify": [],
    "audit export-head": [],
    "sweep": ["--as-of", "2019-08-01"],
    "outbox": [],
    "outbox retry": [],
    "deliver": [],
    "ack": ["DB0000000000", "--as", "office"],
    "receipts": [],
    "serve": [],
    "automations": None,  # talks to the Prefect server only
    "escalations": ["cq-2019-pilot"],
    "sheet": ["cq-2019-pilot", "1", "--out", "sheet.html"],
    "review": ["cq-2019-pilot"],
    "ranking": ["cq-2019-pilot"],
    "digest": ["cq-2019-pilot"],
    "web": [],  # stops on the database before it serves
    "users add": ["x", "--role", "office", "--password", "long-enough-1"],
    "users list": [],
    "users disable": ["x"],
    "users reset": ["x", "--password", "long-enough-1"],
    "evidence list": ["cq-2019-pilot", "t02"],
    "evidence get": ["1", "--out", "x.pdf"],
}


def command_paths(group: object = None, prefix: str = "") -> Iterator[str]:
    """Every command the app registers, sub-apps included (`audit verify`)."""
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        if hasattr(command, "commands"):
            if command.invoke_without_command:  # type: ignore[attr-defined]  # `duban outbox`
                yield f"{prefix}{name}"
            yield from command_paths(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}"


COMMANDS = sorted(command_paths())


@pytest.fixture
def run(sqlite_url, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """`duban …` in-process on an empty SQLite file in an empty folder; env adds settings."""
    monkeypatch.setenv("DUBAN_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DUBAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    create_schema(sqlite_url)  # an empty database: a missing one is its own error (exit 6)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)

    return invoke


def one_line(result) -> str:  # type: ignore[no-untyped-def]
    """The single `error: …` line on stderr; fails on anything more, or a traceback."""
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_every_command_has_a_bad_argument_and_an_unreachable_case():
    assert sorted(BAD_ARGUMENT) == COMMANDS, "a new command needs its cases here"
    assert sorted(ON_UNREACHABLE) == COMMANDS, "a new command needs its cases here"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_argument_is_one_line_with_its_family_code(run, command):
    args, env, code = BAD_ARGUMENT[command]
    result = run(*command.split(), *args, env=env)
    assert result.exit_code == code, (result.stdout, result.stderr)
    if code:
        one_line(result)


@pytest.mark.parametrize("command", [c for c in COMMANDS if ON_UNREACHABLE.get(c) is not None])
def test_an_unreachable_database_is_one_line_naming_the_host_not_the_password(run, command):
    args = ON_UNREACHABLE[command]
    assert args is not None
    result = run(*command.split(), *args, env={"DUBAN_DATABASE_URL": UNREACHABLE})
    assert result.exit_code == 6, (result.stdout, result.stderr)
    line = one_line(result)
    assert "127.0.0.1:1/none" in line and "s3cret-pw" not in result.output


def test_a_day_beyond_the_calendar_data_is_an_environment_problem(run):
    run("import", PLAN_FILE)
    result = run("digest", "cq-2019-pilot", "--as-of", "2035-01-01")
    assert result.exit_code == 6
    assert "no working-day calendar data" in one_line(result)


def test_a_circular_into_a_missing_folder_names_the_path(run):
    run("import", PLAN_FILE)
    result = run("ranking", "cq-2019-pilot", "--as-of", "2019-09-02", "--circular", "/no/x.html")
    assert result.exit_code == 2
    assert one_line(result) == "error: /no/x.html: No such file or directory"


def test_with_json_the_error_is_one_object_on_stdout(run):
    result = run("show", "nope", "--json")
    assert result.exit_code == 4 and result.stderr == ""
    assert json.loads(result.stdout) == {
        "error": {
            "type": "NotFound",
            "family": "NotFound",
            "message": 'no plan "nope" (plans: none imported)',
        }
    }
    refused = json.loads(run("calendar", "2031", "--json").stdout)["error"]
    assert (refused["type"], refused["family"]) == ("MissingCalendarYear", "EnvironmentProblem")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_sweep_whose_mail_is_refused_exits_7_after_its_summary(run):
    run("import", PLAN_FILE)
    smtp = {"DUBAN_SMTP_HOST": "127.0.0.1", "DUBAN_SMTP_PORT": str(closed_port())}
    result = run("sweep", "--as-of", "2019-08-01", env=smtp)
    assert result.exit_code == 7
    assert "delivered 0, failed 7" in result.stdout
    assert "7 message(s) not delivered" in one_line(result)


def test_a_sweep_with_json_reports_the_failure_in_its_summary(run):
    run("import", PLAN_FILE)
    smtp = {"DUBAN_SMTP_HOST": "127.0.0.1", "DUBAN_SMTP_PORT": str(closed_port())}
    result = run("sweep", "--as-of", "2019-08-01", "--json", env=smtp)
    assert result.exit_code == 7 and json.loads(result.stdout)["failed"] == 7


def test_each_family_has_its_own_exit_code():
    codes = [family.exit_code for family in FAMILIES]
    assert codes == [2, 3, 4, 5, 6, 7]


DEFINING = (  # the modules that define error classes, imported before the tree is walked
    "calendars.deadlines",
    "calendars.workdays",
    "schemas.db",
    "tasks.plans.graph",
    "tasks.plans.reader",
    "tasks.plans.responsibility",
    "tasks.plans.draft_text",
    "tasks.sweep.outbox",
    "tasks.sweep.links",
    "tasks.work.lifecycle",
    "tasks.work.accounts",
    "duban.serve",
    "duban.web.app",
    "duban.web.sessions",
)


def every_error_class() -> set[type[DubanError]]:
    for module in DEFINING:
        importlib.import_module(module)
    found: set[type[DubanError]] = set()
    todo = [DubanError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def test_the_tree_in_the_docstring_names_every_error_class():
    tree = duban.errors.__doc__ or ""
    missing = [c.__name__ for c in every_error_class() if f"── {c.__name__}" not in tree]
    assert not missing, f"draw these in duban/errors.py's tree: {missing}"


def test_the_errors_doc_lists_every_family():
    doc = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    for family in FAMILIES:
        assert f"| {family.exit_code} | `{family.__name__}`" in doc


def test_no_layer_defines_an_error_outside_the_tree():
    """A new exception class in the code base must hang off a family, not a built-in."""
    import re

    pattern = re.compile(r"^class (\w+)\((\w*(Error|Exception))\):", re.M)
    outside = [
        f"{path.relative_to(ROOT)}: {m.group(1)}({m.group(2)})"
        for folder in ("calendars", "schemas", "tasks", "render", "flows", "duban")
        for path in Path(ROOT, folder).rglob("*.py")
        if path != ROOT / "duban" / "errors.py"
        for m in pattern.finditer(path.read_text(encoding="utf-8"))
        if m.group(2) not in {c.__name__ for c in every_error_class()} | {"DubanError"}
    ]
    assert not outside
