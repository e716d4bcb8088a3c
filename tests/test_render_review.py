"""The review's outputs, built from one hand-made review: Markdown, the self-contained HTML page
with its three charts, the XLSX workbook, and the printable 督办单 and 通报; then the pages of
real plans with many units on one task (tests/county.py) and with no phases.

The review is a district's pilot plan as of 16 March 2020: three phases, eight tasks, thirteen
items over four units; two items red (one escalated, one held up upstream), three yellow.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pytest

from render.charts import GOAL_COLOUR
from render.documents import ranking_circular_html, supervision_sheet_html
from render.review import render_html, render_markdown
from render.xlsx import write_xlsx
from schemas.db import create_schema, session_scope
from schemas.plan_file import EscalationPolicy
from tasks.plans.importer import import_plan
from tasks.review.compute import review_plan
from tasks.review.model import Counts, ItemReview, PhaseReview, Review, TaskReview, UnitScore
from tasks.review.ranking import ranking_rule

from .conftest import DATA
from .county import COUNTIES, build_county
from .county import PLAN as COUNTY

D = dt.date
RULE = ranking_rule(EscalationPolicy())
GOALS_FILE = DATA / "plans" / "goals-2020.yaml"
UNITS = {"wjw": "区卫生健康委", "scj": "区市场监管局", "ybj": "区医保局", "gaj": "区公安分局"}


def counts(
    tasks: int,
    assignments: int,
    accepted: int = 0,
    on_time: int = 0,
    *,
    in_progress: int = 0,
    not_started: int = 0,
    overdue: int = 0,
    extended: int = 0,
) -> Counts:
    return Counts(
        tasks=tasks,
        assignments=assignments,
        accepted=accepted,
        accepted_on_time=on_time,
        submitted=0,
        in_progress=in_progress,
        not_started=not_started,
        overdue=overdue,
        extended=extended,
        waived=0,
    )


def item(
    task: str,
    title: str,
    phase: str,
    unit: str,
    state: str,
    light: str,
    due: dt.date,
    **more: object,
) -> ItemReview:
    fields: dict[str, object] = {
        "role": "lead",
        "original_due": due,
        "approved_due": due,
        "forecast_due": None,
        "actual": None,
        "overdue_workdays": 0,
        "late_workdays": 0,
        "cause": "on_time" if state == "accepted" else "open",
    }
    fields.update(more)
    return ItemReview(
        task=task,
        task_title=title,
        phase=phase,
        unit=unit,
        unit_name=UNITS[unit],
        state=state,
        light=light,
        **fields,
    )  # type: ignore[arg-type]


def task(
    code: str,
    title: str,
    phase: str,
    light: str,
    start: dt.date,
    due: dt.date,
    units: tuple[str, ...],
    **more: object,
) -> TaskReview:
    fields: dict[str, object] = {
        "kind": "task",
        "forecast_due": None,
        "done": False,
        "critical": False,
        "blocks": (),
    }
    fields.update(more)
    return TaskReview(
        code=code,
        title=title,
        phase=phase,
        light=light,
        start=start,
        due=due,
        units=tuple(UNITS[u] for u in units),
        **fields,
    )  # type: ignore[arg-type]


def sample_review(**changes: object) -> Review:
    """The district pilot plan as of 2020-03-16 (the fixture every test here reads)."""
    items = (
        item(
            "t01",
            "成立试点工作领导小组",
            "p1",
            "wjw",
            "accepted",
            "green",
            D(2019, 7, 31),
            actual=D(2019, 7, 20),
        ),
        item(
            "t02",
            "制定试点实施方案",
            "p1",
            "wjw",
            "accepted",
            "green",
            D(2019, 8, 31),
            actual=D(2019, 8, 28),
        ),
        item(
            "t02",
            "制定试点实施方案",
            "p1",
            "ybj",
            "accepted",
            "green",
            D(2019, 8, 31),
            role="co",
            actual=D(2019, 9, 6),
            late_workdays=5,
            cause="supporting",
        ),
        item(
            "t03",
            "建立部门联合执法机制",
            "p2",
            "scj",
            "accepted",
            "green",
            D(2019, 12, 31),
            original_due=D(2019, 11, 29),
            actual=D(2019, 12, 25),
            cause="extension",
            critical=True,
        ),
        item(
            "t03",
            "建立部门联合执法机制",
            "p2",
            "gaj",
            "accepted",
            "green",
            D(2019, 12, 31),
            role="co",
            actual=D(2020, 1, 10),
            late_workdays=7,
            cause="upstream",
            upstream=(("t02", 5),),
            critical=True,
        ),
        item(
            "t04",
            "开展医疗机构依法执业专项检查",
            "p2",
            "wjw",
            "in_progress",
            "yellow",
            D(2020, 3, 31),
        ),
        item(
            "t04",
            "开展医疗机构依法执业专项检查",
            "p2",
            "scj",
            "not_started",
            "yellow",
            D(2020, 3, 31),
            role="co",
        ),
        item(
            "t05",
            "推进“双随机、一公开”抽查",
            "p2",
            "scj",
            "not_started",
            "red",
            D(2020, 2, 28),
            overdue_workdays=12,
            cause="own",
            critical=True,
            escalated=True,
        ),
        item(
            "t05",
            "推进“双随机、一公开”抽查",
            "p2",
            "ybj",
            "in_progress",
            "red",
            D(2020, 2, 28),
            role="co",
            forecast_due=D(2020, 3, 20),
            overdue_workdays=12,
            cause="upstream",
            upstream=(("t03", 7),),
            critical=True,
        ),
        item(
            "t06",
            "报送季度工作进展",
            "p2",
            "wjw",
            "accepted",
            "green",
            D(2019, 12, 20),
            actual=D(2019, 12, 18),
            occurrence=D(2019, 12, 20),
        ),
        item(
            "t06",
            "报送季度工作进展",
            "p2",
            "wjw",
            "not_started",
            "yellow",
            D(2020, 3, 20),
            occurrence=D(2020, 3, 20),
        ),
        item("t07", "开展试点中期评估", "p2", "wjw", "not_started", "green", D(2020, 6, 30)),
        item(
            "t08",
            "形成试点工作总结报告",
            "p3",
            "wjw",
            "not_started",
            "green",
            D(2020, 9, 15),
            critical=True,
        ),
    )
    tasks = (
        task(
            "t01",
            "成立试点工作领导小组",
            "p1",
            "green",
            D(2019, 7, 1),
            D(2019, 7, 31),
            ("wjw",),
            done=True,
            critical=True,
        ),
        task(
            "t02",
            "制定试点实施方案",
            "p1",
            "green",
            D(2019, 7, 1),
            D(2019, 8, 31),
            ("wjw", "ybj"),
            done=True,
        ),
        task(
            "t03",
            "建立部门联合执法机制",
            "p2",
            "green",
            D(2019, 9, 1),
            D(2019, 12, 31),
            ("scj", "gaj"),
            done=True,
            critical=True,
        ),
        task(
            "t04",
            "开展医疗机构依法执业专项检查",
            "p2",
            "yellow",
            D(2019, 9, 1),
            D(2020, 3, 31),
            ("wjw", "scj"),
        ),
        task(
            "t05",
            "推进“双随机、一公开”抽查",
            "p2",
            "red",
            D(2019, 10, 1),
            D(2020, 2, 28),
            ("scj", "ybj"),
            forecast_due=D(2020, 3, 20),
            critical=True,
            blocks=("t07 开展试点中期评估", "总结评估", "t08 形成试点工作总结报告"),
        ),
        task(
            "t06",
            "报送季度工作进展",
            "p2",
            "yellow",
            D(2019, 9, 1),
            D(2020, 3, 20),
            ("wjw",),
            kind="report",
        ),
        task("t07", "开展试点中期评估", "p2", "green", D(2020, 4, 1), D(2020, 6, 30), ("wjw",)),
        task(
            "t08",
            "形成试点工作总结报告",
            "p3",
            "green",
            D(2020, 7, 1),
            D(2020, 9, 15),
            ("wjw",),
            critical=True,
        ),
    )
    open_p2 = (
        "t04 区卫生健康委: in_progress, due 2020-03-31",
        "t04 区市场监管局: not_started, due 2020-03-31",
        "t05 区市场监管局: not_started, due 2020-02-28",
        "t05 区医保局: in_progress, due 2020-02-28",
        "t06 区卫生健康委: not_started, due 2020-03-20",
        "t07 区卫生健康委: not_started, due 2020-06-30",
    )
    phases = (
        PhaseReview(
            "p1",
            "launch",
            "动员部署",
            D(2019, 7, 1),
            D(2019, 8, 31),
            counts(2, 3, 3, 2),
            ready=True,
            missing=(),
            missing_summary=(),
        ),
        PhaseReview(
            "p2",
            "implementation",
            "组织实施",
            D(2019, 9, 1),
            D(2020, 6, 30),
            counts(5, 9, 3, 2, in_progress=2, not_started=4, overdue=2, extended=1),
            ready=False,
            missing=open_p2,
            missing_summary=(
                "t04 开展医疗机构依法执业专项检查: 2 units not finished "
                "(1 in_progress, 1 not_started), due 2020-03-31",
                "t05 推进“双随机、一公开”抽查: 2 units not finished "
                "(1 not_started, 1 in_progress), due 2020-02-28",
                "t06 区卫生健康委: not_started, due 2020-03-20",
                "t07 区卫生健康委: not_started, due 2020-06-30",
            ),
        ),
        PhaseReview(
            "p3",
            "final_evaluation",
            "总结评估",
            D(2020, 7, 1),
            D(2020, 9, 30),
            counts(1, 1, not_started=1),
            ready=False,
            missing=(
                "t08 区卫生健康委: not_started, due 2020-09-15",
                "phase p2 (组织实施) has 6 item(s) not finished",
            ),
            missing_summary=(
                "t08 区卫生健康委: not_started, due 2020-09-15",
                "phase p2 (组织实施) has 6 item(s) not finished",
            ),
        ),
    )
    # unit, name, assigned, due, on time, accepted on time, accepted late, overdue now, own,
    # upstream, supporting delays, average working days late, summaries on time, due, 督办
    units = (
        UnitScore("wjw", "区卫生健康委", 7, 3, 3, 3, 0, 0, 0, 0, 0, 0.0, 1, 1, 0, rank=1),
        UnitScore("scj", "区市场监管局", 3, 2, 1, 1, 0, 1, 1, 0, 0, 12.0, 0, 0, 1, rank=2),
    )
    apart = (  # co-responsible only: nothing of theirs is counted
        UnitScore("gaj", "区公安分局", 1, 0, 0, 0, 1, 0, 0, 1, 0, 0.0, 0, 0, 0),
        UnitScore("ybj", "区医保局", 2, 0, 0, 0, 1, 1, 0, 1, 1, 0.0, 0, 0, 0),
    )
    review = Review(
        plan="na-2019-pilot",
        title="南岸区医疗卫生行业综合监管制度试点实施方案",
        document_number="南岸卫发〔2019〕15号",
        as_of=D(2020, 3, 16),
        phase=None,
        counts=counts(8, 13, 6, 4, in_progress=2, not_started=5, overdue=2, extended=1),
        phases=phases,
        tasks=tasks,
        items=items,
        units=units,
        ranking_rule=RULE,
        critical_path=("t01", "t03", "t05", "t08"),
        at_risk=("t05",),
        span=(D(2019, 7, 1), D(2020, 9, 30)),
        not_yet_due=apart,
    )
    return dataclasses.replace(review, **changes)  # type: ignore[arg-type]


def with_title(review: Review, code: str, title: str) -> Review:
    """The same review with one task renamed everywhere it appears."""
    return dataclasses.replace(
        review,
        items=tuple(i._replace(task_title=title) if i.task == code else i for i in review.items),
        tasks=tuple(t._replace(title=title) if t.code == code else t for t in review.tasks),
    )


def svg(html: str, name: str) -> ET.Element:
    """One chart of the page, parsed as the XML it is."""
    found = re.search(rf'<svg id="{name}".*?</svg>', html, re.S)
    assert found, f"no chart {name}"
    return ET.fromstring(found.group(0))


def row_of(lines: list[str], *words: str) -> str:
    (line,) = [line for line in lines if all(w in line for w in words)]
    return line


# Markdown ------------------------------------------------------------------------------------


def test_the_markdown_opens_with_the_plan_the_day_and_the_figures():
    text = render_markdown(sample_review())
    assert text.startswith("# 南岸区医疗卫生行业综合监管制度试点实施方案 阶段评估报告\n")
    assert "南岸卫发〔2019〕15号 · 截至 2020年3月16日 · 评估范围：全方案" in text
    assert "**完成率 46.2%**，**按时办结率 66.7%**；红灯2项、黄灯3项、绿灯8项" in text
    for figure in (
        "| 责任事项 | 13项 |",
        "| 已办结 | 6项 |",
        "| 其中按时办结 | 4项 |",
        "| 当前逾期 | 2项 |",
        "| 经批准延期 | 1项 |",
    ):
        assert figure in text


def test_the_markdown_phase_table_says_whether_each_phase_is_ready_and_what_is_missing():
    lines = render_markdown(sample_review()).splitlines()
    assert row_of(lines, "| 动员部署 |") == (
        "| 动员部署 | 2019-07-01 – 2019-08-31 | 100.0% | 66.7% | 可以验收 | — |"
    )
    implementation = row_of(lines, "| 组织实施 |")
    assert "| 33.3% | 66.7% | 尚不能验收 |" in implementation
    assert "t05 推进“双随机、一公开”抽查: 2 units not finished" in implementation
    assert "t05 区市场监管局" not in implementation  # the detail is folded into the summary
    assert implementation.endswith("；明细（6项） |")  # and counted
    assert "| 总结评估 | 2020-07-01 – 2020-09-30 | 0.0% | — | 尚不能验收 |" in "\n".join(lines)


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        (
            "区市场监管局",
            "| 红灯 | t05 推进“双随机、一公开”抽查 | 区市场监管局 | 未启动 | 2020-02-28 | "
            "2020-02-28 | — | — | 12 | 自身延误 |",
        ),
        (
            "区医保局",
            "| 红灯 | t05 推进“双随机、一公开”抽查 | 区医保局 | 推进中 | 2020-02-28 | "
            "2020-02-28 | 2020-03-20 | — | 12 | 上游延误：t03迟7个工作日 |",
        ),
    ],
)
def test_red_items_show_the_four_dates_side_by_side_and_the_cause(unit, expected):
    lines = render_markdown(sample_review()).splitlines()
    assert row_of(lines, "| t05 ", f"| {unit} |") == expected


def test_red_items_come_before_yellow_ones_and_green_ones_are_left_out():
    text = render_markdown(sample_review())
    flagged = text.split("## 红灯、黄灯事项")[1].split("## 关键路径风险")[0]
    lights = re.findall(r"^\| (红灯|黄灯|绿灯) \|", flagged, re.M)
    assert lights == ["红灯", "红灯", "黄灯", "黄灯", "黄灯"]
    assert "t06 报送季度工作进展（2020-03-20期）" in flagged


def test_the_markdown_names_the_critical_path_and_what_the_task_at_risk_blocks():
    text = render_markdown(sample_review())
    assert "关键路径：t01 → t03 → t05 → t08" in text
    assert (
        "| 红灯 | t05 推进“双随机、一公开”抽查 | 2020-02-28 | 2020-03-20 | "
        "t07 开展试点中期评估、总结评估、t08 形成试点工作总结报告 |"
    ) in text


def test_the_markdown_ranking_states_its_rule_and_lists_units_in_rank_order():
    text = render_markdown(sample_review())
    ranking = text.split("## 单位排名")[1]
    assert "按时完成率" in ranking and "因上游任务延误导致的逾期不计入本单位" in ranking
    assert re.findall(r"^\| (\d) \| (\S+) \|", ranking, re.M) == [
        ("1", "区卫生健康委"),
        ("2", "区市场监管局"),
    ]
    assert "| 2 | 区市场监管局 | 3 | 2 | 1 | 50.0% | 1 | 1 | 0 | 12.0 | 0/0 | 1 |" in ranking
    assert "尚无到期事项、不参与排名的单位（2个）：区公安分局、区医保局" in ranking


def test_markdown_table_cells_cannot_break_the_table_or_add_markup():
    review = with_title(sample_review(), "t05", "抽查|通报\n<b>[链接](x)</b>")
    text = render_markdown(review)
    assert "抽查\\|通报 \\<b\\>\\[链接\\](x)\\</b\\>" in text
    assert "<b>" not in text


def test_an_english_review_is_written_in_english():
    text = render_markdown(sample_review(language="en"))
    assert "**Completion 46.2%**, **On time 66.7%**; 2 red, 3 yellow, 8 green" in text
    assert "upstream delay: t03 7 working days late" in text
    assert "As of 16 March 2020" in text


def test_a_review_with_nothing_flagged_says_so():
    calm = sample_review(
        items=tuple(i for i in sample_review().items if i.light == "green"), at_risk=()
    )
    text = render_markdown(calm)
    assert "无红灯、黄灯事项。" in text and "关键路径上的任务均为绿灯。" in text


# HTML ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "pattern"),
    [
        ("a remote src or href", r"""(?:src|href)\s*=\s*["']?\s*(?:[a-z]+:)?//"""),
        ("any src or href at all", r"""\b(?:src|href)\s*="""),
        ("a linked stylesheet", r"<link\b"),
        ("a script", r"<script\b"),
        ("a CSS import or remote url()", r"@import|url\(\s*['\"]?(?:[a-z]+:)?//"),
        ("a web address", r"https?:"),
    ],
)
def test_the_html_page_fetches_nothing(what, pattern):
    html = render_html(sample_review())
    assert not re.search(pattern, html, re.I), what


def test_the_html_page_is_chinese_utf8_and_prints_on_a4():
    html = render_html(sample_review())
    assert html.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert '<meta charset="utf-8">' in html
    assert "@page { size: A4;" in html and "@media print" in html
    assert "<title>南岸区医疗卫生行业综合监管制度试点实施方案 阶段评估报告</title>" in html


def test_the_html_page_has_the_three_charts():
    html = render_html(sample_review())
    assert [
        svg(html, n).get("class") for n in ("chart-phases", "chart-timeline", "chart-ranking")
    ] == ["chart chart-phases", "chart chart-timeline", "chart chart-ranking"]


def test_the_phase_chart_draws_completion_and_on_time_bars_per_phase_and_the_total():
    chart = svg(render_html(sample_review()), "chart-phases")
    labels = [t.text for t in chart.iter("text")]
    for name in ("动员部署", "组织实施", "总结评估", "合计"):
        assert name in labels
    assert labels.count("—") == 1  # nothing accepted in 总结评估 yet: no on-time figure
    assert {"100.0%", "33.3%", "46.2%", "66.7%"} <= set(labels)


def test_the_timeline_draws_the_as_of_line_at_the_review_day():
    chart = svg(render_html(sample_review()), "chart-timeline")
    (line,) = [e for e in chart.iter("line") if e.get("id") == "as-of-line"]
    span = (D(2020, 9, 30) - D(2019, 7, 1)).days
    share = (D(2020, 3, 16) - D(2019, 7, 1)).days / span
    assert float(line.get("x1", "")) == pytest.approx(250 + 630 * share, abs=0.1)
    assert "截至 2020-03-16" in [t.text for t in chart.iter("text")]


@pytest.mark.parametrize(
    ("code", "colour"), [("t05", "#e53935"), ("t04", "#f9a825"), ("t01", "#43a047")]
)
def test_the_timeline_colours_each_task_by_its_light(code, colour):
    chart = svg(render_html(sample_review()), "chart-timeline")
    (bar,) = [g for g in chart.iter("g") if (g.findtext("title") or "").startswith(code + " ")]
    assert bar.find("rect") is not None and bar.find("rect").get("fill") == colour  # type: ignore[union-attr]


def test_the_timeline_hatches_a_late_bar_up_to_its_forecast_and_outlines_the_critical_path():
    chart = svg(render_html(sample_review()), "chart-timeline")
    (t05,) = [g for g in chart.iter("g") if (g.findtext("title") or "").startswith("t05 ")]
    bar, slip = t05.findall("rect")
    assert bar.get("stroke") == "#1a237e"
    assert slip.get("fill") == "url(#slip)"
    end = float(slip.get("x", "")) + float(slip.get("width", ""))
    span = (D(2020, 9, 30) - D(2019, 7, 1)).days
    assert end == pytest.approx(250 + 630 * (D(2020, 3, 20) - D(2019, 7, 1)).days / span, abs=0.2)


def test_work_still_overdue_is_hatched_up_to_the_review_day():
    review = sample_review(as_of=D(2020, 4, 30))
    chart = svg(render_html(review), "chart-timeline")
    (t05,) = [g for g in chart.iter("g") if (g.findtext("title") or "").startswith("t05 ")]
    slip = t05.findall("rect")[1]
    (line,) = [e for e in chart.iter("line") if e.get("id") == "as-of-line"]
    end = float(slip.get("x", "")) + float(slip.get("width", ""))
    assert end == pytest.approx(float(line.get("x1", "")), abs=0.2)


def test_an_empty_review_still_renders_in_every_format(tmp_path):
    empty = sample_review(
        phases=(),
        tasks=(),
        items=(),
        units=(),
        not_yet_due=(),
        critical_path=(),
        at_risk=(),
        span=(None, None),
        counts=counts(0, 0),
    )
    assert "0.0%" in render_markdown(empty)
    html = render_html(empty)
    assert all(svg(html, name) is not None for name in ("chart-timeline", "chart-ranking"))
    assert 'id="chart-phases"' not in html  # no phases, no phase chart
    write_xlsx(empty, tmp_path / "empty.xlsx")
    assert openpyxl.load_workbook(tmp_path / "empty.xlsx")["任务"].max_row == 1
    assert "<table" in ranking_circular_html(empty, issuer="办公室")


def test_the_ranking_chart_draws_each_ranked_units_rate_in_rank_order():
    chart = svg(render_html(sample_review()), "chart-ranking")
    texts = [t.text or "" for t in chart.iter("text")]
    names = [t for t in texts if re.match(r"\d  ", t)]
    assert names == ["1  区卫生健康委", "2  区市场监管局"]
    assert "100.0%（3/3）" in texts and "50.0%（1/2） · 督办1项" in texts
    bars = [r.get("fill") for r in chart.iter("rect") if r.get("fill") in ("#43a047", "#e53935")]
    assert bars[-2:] == ["#43a047", "#e53935"]  # the unit under 督办 drawn red


def test_everything_from_the_data_is_escaped():
    review = with_title(sample_review(), "t05", '<script>alert("x")</script> & "引号"')
    html = render_html(review)
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;引号&#34;" in html
    svg(html, "chart-timeline")  # the tooltip still parses


def test_the_html_page_shows_causes_badges_and_the_ranking_rule():
    html = render_html(sample_review())
    assert '<tr class="red"><td class="w"><span class="dot red"></span>红灯</td>' in html
    assert "上游延误：t03迟7个工作日" in html
    assert '<span class="badge esc">已督办</span>' in html
    assert f'<p class="rule">{RULE}</p>' in html


def test_an_english_page_uses_the_english_labels():
    html = render_html(sample_review(language="en"))
    assert '<html lang="en">' in html and "Unit ranking" in html and "As of 2020-03-16" in html


# XLSX ----------------------------------------------------------------------------------------

RED, YELLOW, GREEN = "FFC7CE", "FFEB9C", "C6EFCE"


@pytest.fixture
def workbook(tmp_path: Path) -> openpyxl.Workbook:
    path = tmp_path / "review.xlsx"
    write_xlsx(sample_review(), path)
    return openpyxl.load_workbook(path)


def fill(cell: object) -> str:
    return str(cell.fill.fgColor.rgb)[-6:]  # type: ignore[attr-defined]


def header(sheet: object) -> dict[str, int]:
    """Column numbers by header text, from the sheet's frozen header row."""
    row = int(str(sheet.freeze_panes)[1:]) - 1  # type: ignore[attr-defined]
    return {c.value: c.column for c in sheet[row] if c.value}  # type: ignore[index]


def test_the_workbook_has_a_summary_an_item_a_unit_and_a_missing_sheet(workbook):
    assert workbook.sheetnames == ["汇总", "任务", "单位", "尚缺"]


def test_english_sheet_names_for_an_english_review(tmp_path):
    write_xlsx(sample_review(language="en"), tmp_path / "en.xlsx")
    assert openpyxl.load_workbook(tmp_path / "en.xlsx").sheetnames == [
        "Summary",
        "Items",
        "Units",
        "Missing",
    ]


@pytest.mark.parametrize(
    ("sheet", "frozen", "filtered"),
    [
        ("汇总", "A3", None),
        ("任务", "A2", "A1:Q14"),
        ("单位", "A3", "A2:N6"),
        ("尚缺", "A2", "A1:I8"),
    ],
)
def test_each_sheet_freezes_its_header_row_and_lists_are_filtered(
    workbook, sheet, frozen, filtered
):
    ws = workbook[sheet]
    assert ws.freeze_panes == frozen
    assert ws.auto_filter.ref == filtered
    head = ws[int(frozen[1:]) - 1]
    assert all(c.font.bold and fill(c) == "DDE4EE" for c in head if c.value)


@pytest.mark.parametrize(("sheet", "header"), [("汇总", 2), ("任务", 1), ("单位", 2), ("尚缺", 1)])
def test_each_sheet_prints_on_a4_landscape_one_page_wide_its_header_on_every_page(
    workbook, sheet, header
):
    ws = workbook[sheet]
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert int(ws.page_setup.fitToWidth or 1) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.print_title_rows == f"${header}:${header}"


def test_the_summary_sheet_holds_the_plan_the_day_and_the_figures(workbook):
    ws = workbook["汇总"]
    values = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(1, ws.max_row + 1)}
    assert ws["A1"].value == "南岸区医疗卫生行业综合监管制度试点实施方案 阶段评估报告"
    assert values["文号"].value == "南岸卫发〔2019〕15号"
    assert values["截至"].value == dt.datetime(2020, 3, 16)
    assert values["截至"].is_date
    assert (values["责任事项"].value, values["已办结"].value, values["红灯"].value) == (13, 6, 2)
    assert values["完成率"].value == pytest.approx(0.462)
    assert values["完成率"].number_format == "0.0%"
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "阶段")
    assert fill(ws.cell(top, 1)) == "DDE4EE"
    assert [(ws.cell(r, 1).value, ws.cell(r, 9).value) for r in range(top + 1, top + 4)] == [
        ("动员部署", "可以验收"),
        ("组织实施", "尚不能验收"),
        ("总结评估", "尚不能验收"),
    ]


def test_item_rows_carry_the_four_dates_as_real_dates(workbook):
    ws = workbook["任务"]
    col = header(ws)
    row = next(
        r
        for r in range(2, ws.max_row + 1)
        if (ws.cell(r, col["任务"]).value, ws.cell(r, col["责任单位"]).value) == ("t05", "区医保局")
    )
    cells = {
        name: ws.cell(row, col[name]) for name in ("原定时限", "批准时限", "预计完成", "实际报送")
    }
    assert [c.value for c in cells.values()] == [
        dt.datetime(2020, 2, 28),
        dt.datetime(2020, 2, 28),
        dt.datetime(2020, 3, 20),
        None,
    ]
    assert all(c.is_date and c.number_format == "yyyy-mm-dd" for c in cells.values() if c.value)
    assert ws.cell(row, col["当前逾期工作日"]).value == 12
    assert ws.cell(row, col["原因"]).value == "上游延误：t03迟7个工作日"


@pytest.mark.parametrize(
    ("task_code", "unit", "colour", "whole_row"),
    [
        ("t05", "区市场监管局", RED, True),
        ("t04", "区市场监管局", YELLOW, True),
        ("t01", "区卫生健康委", GREEN, False),
    ],
)
def test_the_traffic_light_is_the_fill_colour(workbook, task_code, unit, colour, whole_row):
    ws = workbook["任务"]
    col = header(ws)
    row = next(
        r
        for r in range(2, ws.max_row + 1)
        if (ws.cell(r, col["任务"]).value, ws.cell(r, col["责任单位"]).value) == (task_code, unit)
    )
    assert fill(ws.cell(row, col["灯"])) == colour
    fills = {fill(c) for c in ws[row]}
    assert fills == {colour} if whole_row else fills == {colour, "000000"}


def test_the_unit_sheet_lists_the_ranking_with_its_rule(workbook):
    ws = workbook["单位"]
    assert ws["A1"].value == RULE
    assert [c.value for c in ws[2]] == [
        "名次",
        "单位",
        "承担事项",
        "到期事项",
        "按时完成",
        "按时率",
        "当前逾期",
        "自身延误",
        "上游延误（不计入）",
        "配合单位逾期（不计入）",
        "平均逾期工作日",
        "阶段总结按时",
        "阶段总结应报",
        "未结督办",
    ]
    col = header(ws)
    assert [ws.cell(r, col["单位"]).value for r in range(3, 7)] == [
        "区卫生健康委",
        "区市场监管局",
        "区公安分局",  # then, unranked, the units with nothing due
        "区医保局",
    ]
    assert [ws.cell(r, col["名次"]).value for r in range(3, 7)] == [1, 2, None, None]
    assert [ws.cell(r, col["按时率"]).value for r in range(3, 5)] == [1.0, 0.5]
    assert ws.cell(3, col["按时率"]).number_format == "0.0%"


def test_columns_are_wide_enough_for_their_text(workbook):
    ws = workbook["任务"]
    col = header(ws)
    title = openpyxl.utils.get_column_letter(col["任务名称"])
    assert 20 <= ws.column_dimensions[title].width <= 60


# Documents -----------------------------------------------------------------------------------

SHEET: dict[str, object] = {
    "plan_title": "南岸区医疗卫生行业综合监管制度试点实施方案",
    "document_number": "南岸卫发〔2019〕15号",
    "task_code": "t05",
    "task_title": "推进“双随机、一公开”抽查",
    "unit_name": "区市场监管局",
    "original_due": D(2020, 2, 28),
    "current_due": D(2020, 2, 28),
    "overdue_workdays": 12,
    "blocks": ("t07 开展试点中期评估", "t08 形成试点工作总结报告"),
    "receipt_code": "K7QX-3M",
    "issuer": "南岸区医疗卫生行业综合监管联席会议办公室",
    "issue_date": D(2020, 3, 16),
    "sheet_number": 3,
}


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("督办事项", "t05 推进“双随机、一公开”抽查"),
        ("工作方案", "《南岸区医疗卫生行业综合监管制度试点实施方案》（南岸卫发〔2019〕15号）"),
        ("责任单位", "区市场监管局"),
        ("原定完成时限", "2020年2月28日"),
        ("现完成时限", "2020年2月28日"),
        ("逾期工作日", "12个工作日"),
        ("影响的后续任务", "t07 开展试点中期评估、t08 形成试点工作总结报告"),
        ("签收编码", "K7QX-3M"),
    ],
)
def test_the_supervision_sheet_has_each_field_of_the_form(label, value):
    html = supervision_sheet_html(**SHEET)  # type: ignore[arg-type]
    assert re.search(rf"<th[^>]*>{label}</th>\s*<td[^>]*>{re.escape(value)}</td>", html)


def test_the_supervision_sheet_is_numbered_titled_and_signed():
    html = supervision_sheet_html(**SHEET)  # type: ignore[arg-type]
    assert "<h1>督 办 单</h1>" in html
    assert "督办〔2020〕第3号" in html
    assert "南岸区医疗卫生行业综合监管联席会议办公室" in html and "2020年3月16日" in html
    assert "@page { size: A4;" in html and '<meta charset="utf-8">' in html


def test_the_supervision_sheet_escapes_its_fields():
    html = supervision_sheet_html(**{**SHEET, "task_title": "<script>x</script>"})  # type: ignore[arg-type]
    assert "<script" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_the_ranking_circular_states_the_rule_the_figures_and_the_ranking():
    html = ranking_circular_html(sample_review(), issuer="南岸区医疗卫生行业综合监管联席会议办公室")
    assert "<h1>关于南岸区医疗卫生行业综合监管制度试点工作进展情况的通报</h1>" in html
    assert "截至2020年3月16日" in html
    assert "完成率46.2%" in html and "按时办结率66.7%" in html
    assert f"<h2>二、排名规则</h2><p>{RULE.removeprefix('排名规则：')}</p>" in html
    ranked = re.findall(r'<tr><td>(\d)</td><td class="name">([^<]+)</td>', html)
    assert ranked == [("1", "区卫生健康委"), ("2", "区市场监管局")]
    assert "<td>50.0%</td>" in html
    assert "<p>尚无到期事项、不参与排名的单位（2个）：区公安分局、区医保局</p>" in html
    assert html.index("南岸区医疗卫生行业综合监管联席会议办公室</p>") < html.index(
        "2020年3月16日</p>"
    )


def test_the_circular_names_the_units_with_own_delays_and_the_overdue_items():
    html = ranking_circular_html(sample_review(), issuer="联席会议办公室")
    assert "区市场监管局（自身延误1项）" in html
    assert "区医保局（自身延误" not in html  # late only as co-responsible: not its own delay
    assert "t05 推进“双随机、一公开”抽查（区市场监管局，逾期12个工作日）" in html


# Pages of real plans: many units on one task, no phases, an overdue goal ---------------------


@pytest.fixture(scope="module")
def county_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The county plan of tests/county.py after its whole story."""
    url = f"sqlite:///{tmp_path_factory.mktemp('county') / 'duban.db'}"
    build_county(url)
    return url


def reviewed(url: str, plan: str, day: dt.date) -> Review:
    with session_scope(url) as session:
        return review_plan(session, plan, day)


def test_many_units_on_one_task_make_one_row_naming_them_by_state(county_url):
    found = reviewed(county_url, COUNTY, D(2021, 7, 12))  # 24 summaries due in 3 working days
    flagged = render_markdown(found).split("## 红灯、黄灯事项")[1].split("## 关键路径风险")[0]
    (row,) = [line for line in flagged.splitlines() if line.startswith("| 黄灯 | summary ")]
    names = "、".join(COUNTIES)
    assert f"| 24个单位（未启动：{names}） | 未启动24 | 2021-07-15 | 2021-07-15 |" in row
    html = render_html(found).split('<section id="flagged">')[1].split("</section>")[0]
    (grouped,) = re.findall(r'<tr class="yellow">.*?</tr>', html)
    assert "summary 报送年度工作总结" in grouped and f"24个单位（未启动：{names}）" in grouped


def test_a_grouped_row_gives_the_span_of_dates_and_lateness_and_counts_the_causes(county_url):
    found = reviewed(county_url, COUNTY, D(2021, 7, 30))
    html = render_html(found)
    (row,) = re.findall(r'<tr class="red">.*?summary 报送年度工作总结.*?</tr>', html)
    assert "6个单位（未启动：" in row and "未启动6" in row
    assert ">11<" in row and "自身延误" in row and "已督办" not in row


def test_a_plan_without_phases_has_no_phase_chart_or_table(sqlite_url):
    create_schema(sqlite_url)
    with session_scope(sqlite_url) as session:
        import_plan(session, GOALS_FILE, at=dt.datetime(2020, 5, 1, tzinfo=dt.UTC))
    found = reviewed(sqlite_url, "goals-2020", D(2022, 3, 1))
    html = render_html(found)
    assert 'id="chart-phases"' not in html and '<section id="phases">' not in html
    assert "未分阶段" not in html  # no heading over tasks that could not have one
    assert "## 各阶段进展" not in render_markdown(found)


def test_a_goal_is_drawn_as_a_goal_never_green_or_red(sqlite_url):
    create_schema(sqlite_url)
    with session_scope(sqlite_url) as session:
        import_plan(session, GOALS_FILE, at=dt.datetime(2020, 5, 1, tzinfo=dt.UTC))
    html = render_html(reviewed(sqlite_url, "goals-2020", D(2022, 3, 1)))
    # The goals of 2021 (past) and 2030, held by nobody: grey bars titled 目标, no slip hatch.
    chart = svg(html, "chart-timeline")
    for code in ("g2021", "g2030"):
        (bar,) = [g for g in chart.iter("g") if (g.findtext("title") or "").startswith(f"{code} ")]
        assert [r.get("fill") for r in bar.findall("rect")] == [GOAL_COLOUR]
        assert " · 目标 · " in (bar.findtext("title") or "")


def test_what_a_phase_lacks_is_summarised_with_the_detail_behind_it(county_url, tmp_path):
    found = reviewed(county_url, COUNTY, D(2021, 7, 30))
    html = render_html(found)
    summary = (
        "summary 报送年度工作总结：24个单位未办结（已报送待审核18、未启动6），完成时限2021-07-15"
    )
    assert f"<li>{summary}</li>" in html
    detail = re.search(r"<details><summary>明细（25项）</summary><ul>(.*?)</ul></details>", html)
    assert detail and detail.group(1).count("<li>") == 25
    assert "summary 金沙县：未启动，完成时限2021-07-15" in detail.group(1)
    (row,) = [line for line in render_markdown(found).splitlines() if line.startswith("| 总结阶段")]
    assert f"| {summary}；实施阶段尚有4项未办结；明细（25项） |" in row
    write_xlsx(found, tmp_path / "county.xlsx")
    book = openpyxl.load_workbook(tmp_path / "county.xlsx")
    missing = book["尚缺"]
    assert missing.max_row == 1 + 4 + 24  # the header, the open items of the two phases
    phases = book["汇总"]
    cells = [str(c.value) for row in phases.iter_rows() for c in row if c.value]
    assert any(summary in c and "明细见“尚缺”工作表（25项）" in c for c in cells)


def test_tied_units_are_shown_as_tied(county_url):
    found = reviewed(county_url, COUNTY, D(2021, 7, 30))
    ranking = render_markdown(found).split("## 单位排名")[1]
    assert ranking.count("| 1（并列） |") == 17 and ranking.count("| 18（并列） |") == 7
    assert "| 25 | 白水县 |" in ranking and "| 26 | 市属医院 |" in ranking  # both under 督办


def test_a_task_whose_plan_names_no_lead_is_listed_until_the_office_names_one(
    sqlite_url: str, tmp_path: Path
) -> None:
    from tasks.work import lifecycle
    from tasks.work.actors import Actor

    example = (DATA.parent.parent / "docs" / "example-plan.yaml").read_text(encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        example.replace(
            "区卫生健康委牵头，区财政局、区市场监管局参与", "区财政局、区市场监管局按职责分工负责"
        ),
        encoding="utf-8",
    )
    create_schema(sqlite_url)
    with session_scope(sqlite_url) as session:
        import_plan(session, plan, at=dt.datetime(2019, 7, 1, tzinfo=dt.UTC))
    found = reviewed(sqlite_url, "example-2019", D(2019, 10, 8))
    assert [t.code for t in found.tasks if t.no_lead] == ["t2"]
    md, html = render_markdown(found), render_html(found)
    section = md[md.index("## 牵头单位未明确") : md.index("## 单位排名")]
    assert (
        "请办公室指定" in section and "| t2 建立协同监管制度 | 区财政局、区市场监管局 |" in section
    )
    assert '<section id="no-lead"><h2>牵头单位未明确</h2>' in html
    with session_scope(sqlite_url) as session:
        lifecycle.name_lead(
            session,
            actor=Actor("office", "office", person="王文书", channel="cli"),
            plan="example-2019",
            task="t2",
            unit="fin",
            reason="联席会议明确",
            at=dt.datetime(2019, 10, 8, tzinfo=dt.UTC),
        )
    named = reviewed(sqlite_url, "example-2019", D(2019, 10, 8))
    assert not any(t.no_lead for t in named.tasks)
    assert "牵头单位未明确" not in render_markdown(named) + render_html(named)
