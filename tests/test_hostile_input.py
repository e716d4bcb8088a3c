"""Bad input and hostile text (#11 §5): a file, a setting or a date that cannot be used is
refused with one line naming it, before it costs memory or time, and never with a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tasks.plans.reader import MAX_DEPTH, YAML_LIMIT_BYTES, PlanInvalid, read_plan_file

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


def test_the_bundled_plans_still_read(tmp_path: Path) -> None:
    for plan in sorted((ROOT / "plans").glob("*.yaml")):
        read_plan_file(plan)


def test_a_story_for_the_demo_is_read_through_the_same_reader(tmp_path: Path) -> None:
    from duban.replay import replay_story

    bomb = tmp_path / "story.yaml"
    bomb.write_text(BILLION_LAUGHS)
    with pytest.raises(PlanInvalid, match="expands"):
        replay_story("sqlite://", bomb, transport=None)  # type: ignore[arg-type]


def test_an_alias_inside_its_own_block_is_refused(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.write_text("plan: &p\n  self: *p\n")
    assert "holds it" in refusal(loop)
