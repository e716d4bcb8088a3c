"""The review as Markdown (mail text, the CLI) and as one self-contained HTML page with charts.

The HTML page (templates/review/page.html) fetches nothing: its CSS is inline and its three
charts (render.charts) are inline SVG: phase progress `chart-phases`, the timeline
`chart-timeline` with its as-of line, the unit ranking `chart-ranking`. It prints on A4. The
templates escape every value from the data (HTML) or keep it to one plain line (Markdown,
templates/review/page.md); this module only chooses and words what they show. The wording is
Chinese (`review.language == "zh"`) or English; render.xlsx and render.documents share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from calendars.clock import long_date
from render.charts import COLOURS, phase_chart, ranking_chart, timeline_chart
from render.environment import iso, pct, render
from schemas.vocabulary import LIGHT_SEVERITY, Cause, Light
from tasks.review.model import Counts, ItemReview, Review, TaskReview, UnitScore

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "lang": "zh-CN",
        "report": "阶段评估报告",
        "plan_scope": "全方案",
        "scope": "评估范围",
        "as_of": "截至",
        "summary": "总体情况",
        "phases": "各阶段进展",
        "timeline": "进度时间轴",
        "flagged": "红灯、黄灯事项",
        "critical": "关键路径风险",
        "ranking": "单位排名",
        "figure": "指标",
        "value": "数值",
        "tasks": "任务",
        "assignments": "责任事项",
        "accepted": "已办结",
        "accepted_on_time": "其中按时办结",
        "submitted": "已报送待审核",
        "in_progress": "推进中",
        "not_started": "未启动",
        "overdue": "当前逾期",
        "extended": "经批准延期",
        "waived": "免除或取消",
        "completion": "完成率",
        "on_time": "按时办结率",
        "count": "{n}项",
        "phase": "阶段",
        "window": "起止时间",
        "ready": "可否验收",
        "yes": "可以验收",
        "no": "尚不能验收",
        "missing": "尚缺",
        "more": "等{n}项",
        "light": "灯",
        "task": "任务",
        "unit": "责任单位",
        "state": "状态",
        "original_due": "原定时限",
        "approved_due": "批准时限",
        "forecast_due": "预计完成",
        "actual": "实际报送",
        "late": "逾期工作日",
        "cause": "原因",
        "due": "完成时限",
        "blocks": "影响的后续任务",
        "path": "关键路径",
        "none_flagged": "无红灯、黄灯事项。",
        "none_at_risk": "关键路径上的任务均为绿灯。",
        "rank": "名次",
        "name": "单位",
        "assigned": "承担事项",
        "accepted_late": "逾期办结",
        "overdue_now": "当前逾期",
        "own_delays": "自身延误",
        "upstream_delays": "上游延误（不计入）",
        "avg_late": "平均逾期工作日",
        "summaries": "阶段总结按时/应报",
        "open_escalations": "未结督办",
        "unit_on_time": "按时办结",
        "headline": "**完成率 {completion}**，**按时办结率 {on_time}**；{lights}",
        "upstream_detail": "{task}迟{n}个工作日",
        "occurrence": "（{date}期）",
        "escalated": "已督办",
        "on_path": "关键路径",
        "green": "绿灯",
        "yellow": "黄灯",
        "red": "红灯",
        "lights": "红灯{red}项、黄灯{yellow}项、绿灯{green}项",
        "legend_forecast": "斜纹：已逾期或预计推迟",
        "legend_critical": "深色边框：关键路径",
        "legend_as_of": "虚线：截至日",
        "no_phase": "未分阶段",
        "total": "合计",
        "own_bar": "自身延误（计入排名）",
        "upstream_bar": "上游延误（不计入排名）",
        "no_delay": "无延误",
        "own_short": "自身",
        "upstream_short": "上游",
        "sep": "、",
        "colon": "：",
        "footer": "本报告由 duban 督办系统根据工作方案、工作日历和办理记录生成，数据截至{day}。",
        "state.not_started": "未启动",
        "state.in_progress": "推进中",
        "state.submitted": "已报送待审核",
        "state.returned": "退回修改",
        "state.accepted": "已办结",
        "state.waived": "已免除",
        "state.cancelled": "已取消",
        "cause.on_time": "按时",
        "cause.own": "自身延误",
        "cause.upstream": "上游延误",
        "cause.extension": "已批准延期",
        "cause.open": "办理中",
        "role.lead": "牵头单位",
        "role.co": "配合单位",
        "role.participant": "参与单位",
    },
    "en": {
        "lang": "en",
        "report": "Phase review",
        "plan_scope": "whole plan",
        "scope": "Scope",
        "as_of": "As of",
        "summary": "Summary",
        "phases": "Phases",
        "timeline": "Timeline",
        "flagged": "Red and yellow items",
        "critical": "Critical path at risk",
        "ranking": "Unit ranking",
        "figure": "Figure",
        "value": "Value",
        "tasks": "Tasks",
        "assignments": "Assignments",
        "accepted": "Accepted",
        "accepted_on_time": "of which on time",
        "submitted": "Awaiting acceptance",
        "in_progress": "In progress",
        "not_started": "Not started",
        "overdue": "Overdue now",
        "extended": "Extended (approved)",
        "waived": "Waived or cancelled",
        "completion": "Completion",
        "on_time": "On time",
        "count": "{n}",
        "phase": "Phase",
        "window": "Window",
        "ready": "Ready",
        "yes": "ready",
        "no": "not ready",
        "missing": "Missing",
        "more": "({n} in all)",
        "light": "Light",
        "task": "Task",
        "unit": "Unit",
        "state": "State",
        "original_due": "Original due",
        "approved_due": "Approved due",
        "forecast_due": "Forecast",
        "actual": "Submitted",
        "late": "Working days late",
        "cause": "Cause",
        "due": "Due",
        "blocks": "Holds up",
        "path": "Critical path",
        "none_flagged": "No red or yellow items.",
        "none_at_risk": "Every task on the critical path is green.",
        "rank": "Rank",
        "name": "Unit",
        "assigned": "Assigned",
        "accepted_late": "Accepted late",
        "overdue_now": "Overdue now",
        "own_delays": "Own delays",
        "upstream_delays": "Upstream delays (not counted)",
        "avg_late": "Avg working days late",
        "summaries": "Reports on time / due",
        "open_escalations": "Open escalations",
        "unit_on_time": "Accepted on time",
        "headline": "**Completion {completion}**, **On time {on_time}**; {lights}",
        "upstream_detail": "{task} {n} working days late",
        "occurrence": " (due {date})",
        "escalated": "escalated",
        "on_path": "critical",
        "green": "green",
        "yellow": "yellow",
        "red": "red",
        "lights": "{red} red, {yellow} yellow, {green} green",
        "legend_forecast": "hatched: overdue or forecast slip",
        "legend_critical": "dark outline: critical",
        "legend_as_of": "dashed: as-of day",
        "no_phase": "No phase",
        "total": "Total",
        "own_bar": "own delays (ranked)",
        "upstream_bar": "upstream delays (not ranked)",
        "no_delay": "no delays",
        "own_short": "own",
        "upstream_short": "upstream",
        "sep": ", ",
        "colon": ": ",
        "footer": "Generated by duban from the work plan, the working calendar and the record "
        "of work, as of {day}.",
        "state.not_started": "not started",
        "state.in_progress": "in progress",
        "state.submitted": "awaiting acceptance",
        "state.returned": "returned",
        "state.accepted": "accepted",
        "state.waived": "waived",
        "state.cancelled": "cancelled",
        "cause.on_time": "on time",
        "cause.own": "own delay",
        "cause.upstream": "upstream delay",
        "cause.extension": "approved extension",
        "cause.open": "open",
        "role.lead": "lead",
        "role.co": "co-responsible",
        "role.participant": "participant",
    },
}
TINTS: dict[Light, str] = {Light.GREEN: "C6EFCE", Light.YELLOW: "FFEB9C", Light.RED: "FFC7CE"}
SHOWN = 5  # list at most this many "missing" or "blocks" lines, then "and N more"


def labels(review: Review) -> dict[str, str]:
    return LABELS.get(review.language, LABELS["zh"])


def late_days(item: ItemReview) -> int:
    """Working days late: still open past due, or submitted after it."""
    return item.overdue_workdays or item.late_workdays


def cause_text(item: ItemReview, words: dict[str, str]) -> str:
    """自身延误 / 上游延误：t03迟12个工作日 / 已批准延期 …"""
    text = words[f"cause.{item.cause}"]
    if item.cause == Cause.UPSTREAM and item.upstream:
        text += words["colon"] + words["sep"].join(
            words["upstream_detail"].format(task=t, n=n) for t, n in item.upstream
        )
    return text


def flagged(items: Iterable[ItemReview]) -> list[ItemReview]:
    """Red then yellow, the latest first, then by task."""
    return sorted(
        (i for i in items if i.light != Light.GREEN),
        key=lambda i: (-LIGHT_SEVERITY[i.light], -late_days(i), i.task, i.unit),
    )


def shortened(lines: Sequence[str], words: dict[str, str]) -> list[str]:
    if len(lines) <= SHOWN:
        return list(lines)
    return [*lines[:SHOWN], words["more"].format(n=len(lines))]


def light_counts(review: Review) -> dict[str, int]:
    return {light: sum(i.light == light for i in review.items) for light in COLOURS}


COUNT_KEYS = (
    "tasks",
    "assignments",
    "accepted",
    "accepted_on_time",
    "submitted",
    "in_progress",
    "not_started",
    "overdue",
    "extended",
    "waived",
)  # Counts' fields and label keys


def on_time(counts: Counts) -> str:
    """The on-time rate, or a dash while nothing is accepted."""
    return pct(counts.on_time_pct) if counts.accepted else "—"


def count_rows(counts: Counts, words: dict[str, str]) -> list[tuple[str, str]]:
    """Every figure of the counts, labelled, the two percentages last."""
    rows = [(words[key], words["count"].format(n=getattr(counts, key))) for key in COUNT_KEYS]
    return [
        *rows,
        (words["completion"], pct(counts.completion_pct)),
        (words["on_time"], on_time(counts)),
    ]


def scope(review: Review, words: dict[str, str]) -> str:
    chosen = next((p.name for p in review.phases if p.code == review.phase), review.phase)
    return chosen or words["plan_scope"]


def unit_row(u: UnitScore) -> list[str]:
    return [
        str(u.rank),
        u.name,
        str(u.assigned),
        str(u.accepted_on_time),
        str(u.accepted_late),
        str(u.overdue_now),
        str(u.own_delays),
        str(u.upstream_delays),
        f"{u.avg_workdays_late:.1f}",
        f"{u.summaries_on_time}/{u.summaries_due}",
        str(u.open_escalations),
    ]


UNIT_COLUMNS = (
    "rank",
    "name",
    "assigned",
    "unit_on_time",
    "accepted_late",
    "overdue_now",
    "own_delays",
    "upstream_delays",
    "avg_late",
    "summaries",
    "open_escalations",
)
ITEM_COLUMNS = (
    "light",
    "task",
    "unit",
    "state",
    "original_due",
    "approved_due",
    "forecast_due",
    "actual",
    "late",
    "cause",
)


def item_cells(item: ItemReview, words: dict[str, str]) -> list[str]:
    task = f"{item.task} {item.task_title}"
    if item.occurrence:
        task += words["occurrence"].format(date=iso(item.occurrence))
    return [
        words[item.light],
        task,
        item.unit_name,
        words.get(f"state.{item.state}", item.state),
        iso(item.original_due),
        iso(item.approved_due),
        iso(item.forecast_due),
        iso(item.actual),
        str(late_days(item) or ""),
        cause_text(item, words),
    ]


def at_risk_tasks(review: Review) -> list[TaskReview]:
    by_code = {t.code: t for t in review.tasks}
    return [by_code[c] for c in review.at_risk if c in by_code]


def meta(review: Review, words: dict[str, str]) -> list[str]:
    """The line under the title: document number, the day, the scope."""
    parts = (
        review.document_number,
        f"{words['as_of']} {long_date(review.as_of, review.language)}",
        f"{words['scope']}{words['colon']}{scope(review, words)}",
    )
    return [p for p in parts if p]


def render_markdown(review: Review) -> str:
    """The review as Markdown: figures, phases, red and yellow items, critical path, ranking."""
    w = labels(review)
    counts = review.counts
    headline = w["headline"].format(
        completion=pct(counts.completion_pct),
        lights=w["lights"].format(**light_counts(review)),
        on_time=on_time(counts),
    )
    phase_rows = [
        (
            p.name,
            f"{iso(p.start)} – {iso(p.due)}",
            pct(p.counts.completion_pct),
            on_time(p.counts),
            w["yes" if p.ready else "no"],
            "；".join(shortened(p.missing, w)) or "—",
        )
        for p in review.phases
    ]
    risky_rows = [
        (
            w[t.light],
            f"{t.code} {t.title}",
            iso(t.due),
            iso(t.forecast_due),
            w["sep"].join(shortened(t.blocks, w)) or "—",
        )
        for t in at_risk_tasks(review)
    ]
    return render(
        "review/page.md",
        review=review,
        w=w,
        meta=meta(review, w),
        headline=headline,
        figures=count_rows(counts, w),
        phase_rows=phase_rows,
        flagged_rows=[item_cells(i, w) for i in flagged(review.items)],
        risky_rows=risky_rows,
        unit_rows=[unit_row(u) for u in review.units],
        item_columns=[w[c] for c in ITEM_COLUMNS],
        unit_columns=[w[c] for c in UNIT_COLUMNS],
    )


def render_html(review: Review) -> str:
    """One self-contained, printable HTML page: figures, three SVG charts, tables."""
    w = labels(review)
    counts = review.counts
    lights = light_counts(review)
    cards = (
        ("", pct(counts.completion_pct), w["completion"]),
        ("", on_time(counts), w["on_time"]),
        ("red", lights["red"], w["red"]),
        ("yellow", lights["yellow"], w["yellow"]),
        ("green", lights["green"], w["green"]),
        ("", counts.overdue, w["overdue"]),
    )
    charts = {
        "phases": phase_chart(review, w),
        "timeline": timeline_chart(review, w),
        "ranking": ranking_chart(review, w),
    }
    return render(
        "review/page.html",
        review=review,
        w=w,
        lang=w["lang"],
        meta=meta(review, w),
        cards=cards,
        figures=count_rows(counts, w),
        charts=charts,
        flagged=[(i, item_cells(i, w)) for i in flagged(review.items)],
        risky=at_risk_tasks(review),
        shortened=shortened,
        unit_row=unit_row,
        item_columns=ITEM_COLUMNS,
        unit_columns=UNIT_COLUMNS,
    )
