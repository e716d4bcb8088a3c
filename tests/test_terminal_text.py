"""Text that looks like rich markup is data: the terminal prints it as written and never
crashes on it (#11 §5). `[/]` in a unit's extension reason crashed `duban extensions`."""

from __future__ import annotations

import re

import pytest

from .conftest import PLANS

PLAN = "cq-2019-pilot"
HOSTILE = "[/] [bold]加粗[/bold] [link=https://evil.example]点这里[/link] :warning:"


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal wide enough that no cell wraps, so the text can be found whole."""
    monkeypatch.setenv("COLUMNS", "400")
    from duban import terminal

    monkeypatch.setattr(terminal.console, "_width", 400)


def test_markup_in_a_reason_and_a_note_is_printed_as_written(duban, wide) -> None:  # type: ignore[no-untyped-def]
    assert duban("import", str(PLANS / "chongqing-2019-pilot.yaml")).exit_code == 0
    steps = [
        ("progress", PLAN, "t08", "--note", HOSTILE, "--as", "永川区", "--as-of", "2019-09-12"),
        ("extend", PLAN, "t08", "--to", "2020-08-31", "--reason", HOSTILE, "--as", "永川区",
         "--as-of", "2020-06-20"),
    ]  # fmt: skip
    for step in steps:
        assert duban(*step).exit_code == 0
    listed = duban("extensions", PLAN)
    assert listed.exit_code == 0, listed.output
    assert HOSTILE in listed.output
    story = duban("history", PLAN, "t08")
    assert story.exit_code == 0, story.output
    assert "[/]" in story.output and "[link=https://evil.example]" in story.output


def test_markup_in_a_plan_title_is_printed_as_written(duban, tmp_path, wide) -> None:  # type: ignore[no-untyped-def]
    source = (PLANS / "chongqing-2019-pilot.yaml").read_text(encoding="utf-8")
    hostile = re.sub(r"(?m)^  title: .*$", "  title: '[/] [bold]标题 :warning:'", source, count=1)
    plan = tmp_path / "plan.yaml"
    plan.write_text(hostile, encoding="utf-8")
    assert duban("import", str(plan)).exit_code == 0
    shown = duban("show", PLAN)
    assert shown.exit_code == 0, shown.output
    assert "[/] [bold]标题 :warning:" in shown.output
    assert duban("review", PLAN, "--as-of", "2019-12-31").exit_code == 0
