"""The review commands as leadership and the office run them."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from .conftest import PLANS

PLAN = "cq-2019-pilot"


def with_some_work(duban) -> None:  # type: ignore[no-untyped-def]
    assert duban("import", str(PLANS / "chongqing-2019-pilot.yaml")).exit_code == 0
    for args in (
        ("submit", PLAN, "t01", "--note", "x", "--as", "市卫生健康委", "--as-of", "2019-07-20"),
        (
            "accept",
            PLAN,
            "t01",
            "--unit",
            "市卫生健康委",
            "--as",
            "综合监督处",
            "--as-of",
            "2019-07-22",
        ),
    ):
        assert duban(*args).exit_code == 0
    duban("sweep", "--as-of", "2019-08-07")


def test_review_json_carries_the_figures(duban):
    with_some_work(duban)
    data = json.loads(duban("review", PLAN, "--as-of", "2019-08-09", "--format", "json").stdout)
    assert data["as_of"] == "2019-08-09" and data["counts"]["accepted"] == 1
    assert data["counts"]["completion_pct"] == round(100 / 65, 1)
    assert {i["task"] for i in data["items"] if i["light"] == "red"} >= {"t02", "t06"}


def test_review_writes_html_markdown_and_xlsx_files(duban, tmp_path):
    with_some_work(duban)
    html, md, xlsx = tmp_path / "r.html", tmp_path / "r.md", tmp_path / "r.xlsx"
    for path, form in ((html, "html"), (md, "md"), (xlsx, "xlsx")):
        result = duban(
            "review", PLAN, "--as-of", "2019-08-09", "--format", form, "--out", str(path)
        )
        assert result.exit_code == 0 and f"wrote {path}" in result.stdout
    assert "<svg" in html.read_text(encoding="utf-8")
    assert "重庆市医疗卫生行业多元化综合监管试点工作方案" in md.read_text(encoding="utf-8")
    assert load_workbook(xlsx).sheetnames == ["汇总", "任务", "单位", "尚缺"]


def test_review_of_one_phase_and_its_errors(duban):
    with_some_work(duban)
    launch = json.loads(
        duban(
            "review", PLAN, "--phase", "launch", "--as-of", "2019-08-09", "--format", "json"
        ).stdout
    )
    assert launch["phase"] == "launch" and launch["counts"]["tasks"] == 3
    assert duban("review", PLAN, "--phase", "nope").exit_code == 4
    assert duban("review", PLAN, "--format", "pdf").exit_code == 2
    assert duban("review", PLAN, "--format", "xlsx").exit_code == 2  # needs --out
    terminal = duban("review", PLAN, "--as-of", "2019-08-09")
    assert terminal.exit_code == 0 and "ranking" in terminal.stdout


def test_a_review_or_graph_of_no_such_plan_names_the_plans_there_are(duban):
    assert duban("import", str(PLANS / "chongqing-2019-pilot.yaml")).exit_code == 0
    for command in (("review", "cq-2091", "--as-of", "2019-08-09"), ("graph", "cq-2091")):
        result = duban(*command)
        assert result.exit_code == 4
        assert 'no plan "cq-2091" (plans: cq-2019-pilot)' in result.stderr


def test_ranking_prints_its_rule_and_writes_the_circular(duban, tmp_path):
    with_some_work(duban)
    data = json.loads(duban("ranking", PLAN, "--as-of", "2019-08-09", "--json").stdout)
    assert "上游" in data["rule"] and data["units"][0]["rank"] == 1
    circular = tmp_path / "tongbao.html"
    result = duban("ranking", PLAN, "--as-of", "2019-08-09", "--circular", str(circular))
    assert result.exit_code == 0 and "通报" in circular.read_text(encoding="utf-8")


def test_digest_is_queued_once_and_delivered(duban, tmp_path):
    with_some_work(duban)
    first = duban("digest", PLAN, "--as-of", "2019-08-09")
    assert first.exit_code == 0 and "督办周报" in first.stdout and "delivered 1" in first.stdout
    again = duban("digest", PLAN, "--as-of", "2019-08-09")
    assert "nothing new" in again.stdout
    review = duban("digest", PLAN, "--as-of", "2019-08-09", "--review", "launch")
    assert "阶段评估" in review.stdout


def test_a_ranking_circular_re_rendered_later_says_what_it_said_on_its_day(duban, tmp_path):
    """A circular issued on day D shows D's figures whenever it is printed again (#11 §3):
    late work accepted afterwards and items falling overdue since change nothing in it."""
    with_some_work(duban)
    day = "2019-08-09"

    def issued(name: str) -> tuple[str, str]:
        path = tmp_path / name
        assert duban("ranking", PLAN, "--as-of", day, "--circular", str(path)).exit_code == 0
        listed = duban("ranking", PLAN, "--as-of", day, "--json").stdout
        return path.read_text(encoding="utf-8"), listed

    first = issued("first.html")
    for args in (  # the late t02 handed in and accepted, t03 now overdue, more sweeps
        ("submit", PLAN, "t02", "--note", "x", "--as", "市卫生健康委", "--as-of", "2019-10-08"),
        (
            "accept",
            PLAN,
            "t02",
            "--unit",
            "市卫生健康委",
            "--as",
            "综合监督处",
            "--as-of",
            "2019-10-09",
        ),
        ("sweep", "--as-of", "2019-10-15"),
    ):
        assert duban(*args).exit_code == 0, args
    later = json.loads(duban("ranking", PLAN, "--as-of", "2019-10-15", "--json").stdout)
    assert later != json.loads(first[1])  # the figures did move on
    assert issued("again.html") == first
