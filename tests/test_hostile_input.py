"""Bad input and hostile text (#11 §5): a file, a setting or a date that cannot be used is
refused with one line naming it, before it costs memory or time, and never with a traceback."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tasks.plans.reader import MAX_DEPTH, MAX_NODES, YAML_LIMIT_BYTES, PlanInvalid, read_plan_file

from .conftest import ROOT

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def refusal(path: Path) -> str:
    with pytest.raises(PlanInvalid) as caught:
        read_plan_file(path)
    message = str(caught.value)
    assert message.count("\n") == 0 and message.startswith(str(path))
    return message


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BILLION_LAUGHS)
    assert "expands to more than" in refusal(bomb)


def test_a_file_larger_than_the_limit_is_not_parsed(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("plan:\n  notes: '" + "x" * YAML_LIMIT_BYTES + "'\n")
    assert "larger than" in refusal(big)


def test_nesting_deeper_than_the_limit_is_refused_with_its_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("plan:\n  x: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n")
    assert "nested deeper" in refusal(deep)
    assert refusal(deep).startswith(f"{deep}:2:")


def test_a_tree_of_too_many_values_is_refused_without_any_alias(tmp_path: Path) -> None:
    wide = tmp_path / "wide.yaml"
    wide.write_text("plan:\n  x: [" + ",".join("0" * (MAX_NODES + 1)) + "]\n")
    assert "expands to more than" in refusal(wide)


def test_the_bundled_plans_still_read(tmp_path: Path) -> None:
    for plan in sorted((ROOT / "plans").glob("*.yaml")):
        read_plan_file(plan)


def test_a_story_for_the_demo_is_read_through_the_same_reader(tmp_path: Path) -> None:
    from duban.replay import replay_story

    bomb = tmp_path / "story.yaml"
    bomb.write_text(BILLION_LAUGHS)
    with pytest.raises(PlanInvalid, match="expands"):
        replay_story("sqlite://", bomb, transport=None)  # type: ignore[arg-type]


def test_a_story_for_a_plan_not_imported_names_the_plans_there_are(
    tmp_path: Path, database_url: str
) -> None:
    from duban.errors import NotFound
    from duban.replay import replay_story
    from schemas.db import create_schema, session_scope
    from tasks.plans.importer import import_plan

    create_schema(database_url)
    with session_scope(database_url) as session:
        import_plan(session, ROOT / "plans" / "chongqing-2019-pilot.yaml", at=datetime.now(UTC))
    story = tmp_path / "story.yaml"
    story.write_text("plan: cq-2020-other\nstart: 2019-07-01\nend: 2019-07-05\nevents: []\n")
    with pytest.raises(NotFound, match=r'no plan "cq-2020-other" \(plans: cq-2019-pilot\)'):
        replay_story(database_url, story, transport=None)  # type: ignore[arg-type]


def test_an_alias_inside_its_own_block_is_refused(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.write_text("plan: &p\n  self: *p\n")
    assert "holds it" in refusal(loop)


@pytest.fixture
def run(here: Path):  # type: ignore[no-untyped-def]
    """`duban …` in an empty folder; an exception that is not a DubanError fails the test."""
    from duban.cli import app

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(app, list(args), catch_exceptions=False)

    return invoke


def one_line(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code not in (0, 1), result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


PILOT = ROOT / "plans" / "chongqing-2019-pilot.yaml"


def test_a_date_that_does_not_exist_is_named_with_its_line(run, here: Path) -> None:  # type: ignore[no-untyped-def]
    plan = here / "plan.yaml"
    plan.write_text(
        PILOT.read_text(encoding="utf-8").replace("issued: 2019-07-11", "issued: 2019-02-30")
    )
    assert one_line(run("import", str(plan))).startswith(f"error: {plan}:8: 2019-02-30: not a date")


def test_a_window_that_ends_before_it_starts_is_named(run, here: Path) -> None:  # type: ignore[no-untyped-def]
    plan = here / "plan.yaml"
    text = PILOT.read_text(encoding="utf-8")
    plan.write_text(text.replace("window: 2019年8月至2020年8月", "window: 2020年8月至2019年8月"))
    assert "ends before it starts" in one_line(run("import", str(plan)))


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("DUBAN_SMTP_PORT", "notaport", "DUBAN_SMTP_PORT"),
        ("DUBAN_DATABASE_URL", "not a url", "DUBAN_DATABASE_URL"),
        ("DUBAN_LINK_DAYS", "soon", "DUBAN_LINK_DAYS"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(run, monkeypatch, variable, value, named) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(variable, value)
    assert named in one_line(run("deliver"))


def test_a_read_only_command_names_a_bad_database_url_and_leaves_the_rest_to_others(
    run, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """`plans` reads where the database is and nothing more (schemas.location): a bad mail
    setting is for the commands that send mail, and `duban doctor`, to name."""
    monkeypatch.setenv("DUBAN_DATABASE_URL", "not a url")
    assert "DUBAN_DATABASE_URL" in one_line(run("plans"))


def test_a_settings_file_that_is_not_toml_is_named(run, here: Path) -> None:  # type: ignore[no-untyped-def]
    (here / "duban.toml").write_text('home = "unfinished\n')
    line = one_line(run("plans"))
    assert str(here / "duban.toml") in line and "line 1" in line


def test_the_demo_refuses_to_clear_a_folder_it_did_not_make(run, here: Path) -> None:  # type: ignore[no-untyped-def]
    theirs = here / ".duban" / "demo"
    theirs.mkdir(parents=True)
    (theirs / "thesis.docx").write_text("三年的工作")
    line = one_line(run("demo"))
    assert str(theirs) in line and ".duban-demo" in line
    assert (theirs / "thesis.docx").read_text() == "三年的工作"


def test_the_demo_clears_only_its_own_marked_folder(tmp_path: Path) -> None:
    from duban.demo import MARKER, clear_demo_folder

    folder = tmp_path / "demo"
    clear_demo_folder(folder)
    assert (folder / MARKER).is_file()
    (folder / "duban.db").write_text("old run")
    clear_demo_folder(folder)
    assert sorted(p.name for p in folder.iterdir()) == [MARKER]
