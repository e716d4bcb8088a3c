"""The review as Markdown (mail text, the CLI) and as one self-contained HTML page with charts.

The HTML page fetches nothing: its CSS is inline and its three charts (render.charts) are
inline SVG: phase progress `chart-phases`, the timeline `chart-timeline` with its as-of line,
the unit ranking `chart-ranking`. It prints on A4. Every value from the data is escaped. The
wording is Chinese (`review.language == "zh"`) or English; render.xlsx and
render.documents share it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from html import escape

from render.charts import COLOURS, iso, pct, phase_chart, ranking_chart, timeline_chart
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


def long_date(day: dt.date | None, language: str) -> str:
    """2020年9月30日, or 30 September 2020."""
    if day is None:
        return ""
    return (
        f"{day.year}年{day.month}月{day.day}日"
        if language == "zh"
        else f"{day.day} {day:%B} {day.year}"
    )


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


def count_rows(counts: Counts, words: dict[str, str]) -> list[tuple[str, str]]:
    """Every figure of the counts, labelled, the two percentages last."""
    rows = [(words[key], words["count"].format(n=getattr(counts, key))) for key in COUNT_KEYS]
    return [
        *rows,
        (words["completion"], pct(counts.completion_pct)),
        (words["on_time"], pct(counts.on_time_pct) if counts.accepted else "—"),
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


# Markdown ------------------------------------------------------------------------------------


def _md(value: object) -> str:
    """One table cell or line: no line breaks, and nothing Markdown would read as markup."""
    text = " ".join(str(value).split())
    for char in "\\|<>[]`":
        text = text.replace(char, "\\" + char)
    return text


def _md_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = [
        "| " + " | ".join(_md(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def render_markdown(review: Review) -> str:
    """The review as Markdown: figures, phases, red and yellow items, critical path, ranking."""
    w = labels(review)
    counts = review.counts
    lights = light_counts(review)
    head = [f"# {_md(review.title)} {w['report']}", ""]
    head.append(
        " · ".join(
            _md(p)
            for p in (
                review.document_number,
                f"{w['as_of']} {long_date(review.as_of, review.language)}",
                f"{w['scope']}{w['colon']}{scope(review, w)}",
            )
            if p
        )
    )
    head += [
        "",
        f"## {w['summary']}",
        "",
        w["headline"].format(
            completion=pct(counts.completion_pct),
            lights=w["lights"].format(**lights),
            on_time=pct(counts.on_time_pct) if counts.accepted else "—",
        ),
        "",
    ]
    lines = head + _md_table((w["figure"], w["value"]), count_rows(counts, w))
    lines += [f"## {w['phases']}", ""]
    lines += _md_table(
        (w["phase"], w["window"], w["completion"], w["on_time"], w["ready"], w["missing"]),
        (
            (
                p.name,
                f"{iso(p.start)} – {iso(p.due)}",
                pct(p.counts.completion_pct),
                pct(p.counts.on_time_pct) if p.counts.accepted else "—",
                w["yes" if p.ready else "no"],
                "；".join(shortened(p.missing, w)) or "—",
            )
            for p in review.phases
        ),
    )
    lines += [f"## {w['flagged']}", ""]
    marked = flagged(review.items)
    lines += (
        _md_table([w[c] for c in ITEM_COLUMNS], (item_cells(i, w) for i in marked))
        if marked
        else [w["none_flagged"], ""]
    )
    lines += [
        f"## {w['critical']}",
        "",
        f"{w['path']}{w['colon']}{' → '.join(_md(c) for c in review.critical_path) or '—'}",
        "",
    ]
    risky = at_risk_tasks(review)
    lines += (
        _md_table(
            (w["light"], w["task"], w["due"], w["forecast_due"], w["blocks"]),
            (
                (
                    w[t.light],
                    f"{t.code} {t.title}",
                    iso(t.due),
                    iso(t.forecast_due),
                    w["sep"].join(shortened(t.blocks, w)) or "—",
                )
                for t in risky
            ),
        )
        if risky
        else [w["none_at_risk"], ""]
    )
    lines += [f"## {w['ranking']}", "", _md(review.ranking_rule), ""]
    lines += _md_table([w[c] for c in UNIT_COLUMNS], (unit_row(u) for u in review.units))
    return "\n".join(lines)


# HTML ----------------------------------------------------------------------------------------

FONTS = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif'
)
CSS = """
@page { size: A4; margin: 14mm 12mm 16mm; }
:root { --ink: #1f2933; --muted: #5f6b7a; --line: #d5dbe1; --accent: #1565c0; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1040px; padding: 24px 28px 40px; color: var(--ink);
       background: #fff; font: 14px/1.6 FONTS; }
header { border-bottom: 3px solid #b71c1c; padding-bottom: 8px; margin-bottom: 16px; }
.kicker { color: #b71c1c; font-weight: 700; letter-spacing: .2em; margin: 0; }
h1 { font-size: 24px; line-height: 1.3; margin: 4px 0; }
.meta, figcaption, footer { color: var(--muted); }
.meta { margin: 0; }
h2 { font-size: 18px; border-left: 4px solid var(--accent); padding-left: 8px;
     margin: 26px 0 10px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 10px; }
.card { flex: 1 1 130px; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.card b { display: block; font-size: 24px; line-height: 1.2; }
.card span { color: var(--muted); font-size: 12px; }
.card.red b { color: #c62828; } .card.yellow b { color: #b07800; }
.card.green b { color: #2e7d32; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; margin: 6px 0 10px; }
th, td { border: 1px solid var(--line); padding: 4px 6px; text-align: left;
         vertical-align: top; }
th { background: #eef2f6; font-weight: 600; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.d { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.w { white-space: nowrap; }
tr.red td { background: #fde4e7; } tr.yellow td { background: #fff6d9; }
.dot { display: inline-block; width: .8em; height: .8em; border-radius: 50%;
       margin-right: 4px; vertical-align: -1px; }
.dot.red { background: #e53935; } .dot.yellow { background: #f9a825; }
.dot.green { background: #43a047; }
.badge { font-size: 11px; border: 1px solid; border-radius: 3px; padding: 0 3px;
         margin-left: 4px; white-space: nowrap; }
.badge.esc { color: #b71c1c; } .badge.cp { color: #1a237e; }
ul { margin: 0; padding-left: 1.2em; }
figure { margin: 8px 0 14px; }
figcaption { font-size: 12px; }
svg.chart { display: block; width: 100%; height: auto; font-size: 12px; }
.rule { background: #f5f7fa; border: 1px solid var(--line); padding: 6px 10px; }
footer { margin-top: 24px; font-size: 12px; border-top: 1px solid var(--line);
         padding-top: 6px; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  table { font-size: 8.5pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, tr, .cards, .rule, header { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
}
""".replace("FONTS", FONTS)
PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
{body}
</body>
</html>
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], classes: Sequence[str] = ()
) -> str:
    """Header cells are escaped here; row cells arrive as HTML already."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        (f'<tr class="{classes[n]}">' if classes else "<tr>") + "".join(row) + "</tr>"
        for n, row in enumerate(rows)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(value: object, cls: str = "") -> str:
    return f'<td class="{cls}">{_e(value)}</td>' if cls else f"<td>{_e(value)}</td>"


def _dot(light: Light, words: dict[str, str]) -> str:
    return f'<span class="dot {light}"></span>{_e(words[light])}'


def _list(lines: Sequence[str], words: dict[str, str]) -> str:
    if not lines:
        return "—"
    return "<ul>" + "".join(f"<li>{_e(line)}</li>" for line in shortened(lines, words)) + "</ul>"


def render_html(review: Review) -> str:
    """One self-contained, printable HTML page: figures, three SVG charts, tables."""
    w = labels(review)
    counts = review.counts
    lights = light_counts(review)
    meta = " · ".join(
        _e(p)
        for p in (
            review.document_number,
            f"{w['as_of']} {long_date(review.as_of, review.language)}",
            f"{w['scope']}{w['colon']}{scope(review, w)}",
        )
        if p
    )
    cards = "".join(
        f'<div class="card {cls}"><b>{_e(value)}</b><span>{_e(name)}</span></div>'
        for cls, value, name in (
            ("", pct(counts.completion_pct), w["completion"]),
            ("", pct(counts.on_time_pct) if counts.accepted else "—", w["on_time"]),
            ("red", lights["red"], w["red"]),
            ("yellow", lights["yellow"], w["yellow"]),
            ("green", lights["green"], w["green"]),
            ("", counts.overdue, w["overdue"]),
        )
    )
    figures = count_rows(counts, w)
    parts = [
        f'<header><p class="kicker">{_e(w["report"])}</p><h1>{_e(review.title)}</h1>'
        f'<p class="meta">{meta}</p></header>',
        f'<section id="summary"><h2>{_e(w["summary"])}</h2><div class="cards">{cards}</div>',
        _table([f for f, _ in figures], [[_td(v, "n") for _, v in figures]]) + "</section>",
    ]
    phase_rows = [
        [
            _td(p.name),
            _td(f"{iso(p.start)} – {iso(p.due)}", "d"),
            _td(pct(p.counts.completion_pct), "n"),
            _td(pct(p.counts.on_time_pct) if p.counts.accepted else "—", "n"),
            _td(w["yes" if p.ready else "no"]),
            f"<td>{_list(p.missing, w)}</td>",
        ]
        for p in review.phases
    ]
    parts.append(
        f'<section id="phases"><h2>{_e(w["phases"])}</h2>'
        f"<figure>{phase_chart(review, w)}</figure>"
        + _table(
            (w["phase"], w["window"], w["completion"], w["on_time"], w["ready"], w["missing"]),
            phase_rows,
        )
        + "</section>"
    )
    legend = " · ".join(_e(w[k]) for k in ("legend_forecast", "legend_critical", "legend_as_of"))
    parts.append(
        f'<section id="timeline"><h2>{_e(w["timeline"])}</h2><figure>'
        f"{timeline_chart(review, w)}<figcaption>{legend}</figcaption></figure></section>"
    )
    marked = flagged(review.items)
    item_rows = []
    for item in marked:
        cells = item_cells(item, w)
        badges = "".join(
            f'<span class="badge {c}">{_e(w[k])}</span>'
            for c, k, on in (("esc", "escalated", item.escalated), ("cp", "on_path", item.critical))
            if on
        )
        item_rows.append(
            [
                f'<td class="w">{_dot(item.light, w)}</td>',
                f"<td>{_e(cells[1])}{badges}</td>",
                _td(cells[2]),
                _td(cells[3], "w"),
                *(_td(c, "d") for c in cells[4:8]),
                _td(cells[8], "n"),
                _td(cells[9]),
            ]
        )
    parts.append(
        f'<section id="flagged"><h2>{_e(w["flagged"])}</h2>'
        + (
            _table([w[c] for c in ITEM_COLUMNS], item_rows, [i.light for i in marked])
            if marked
            else f"<p>{_e(w['none_flagged'])}</p>"
        )
        + "</section>"
    )
    risky = at_risk_tasks(review)
    path = " → ".join(_e(c) for c in review.critical_path) or "—"
    parts.append(
        f'<section id="critical"><h2>{_e(w["critical"])}</h2>'
        f"<p>{_e(w['path'])}{_e(w['colon'])}{path}</p>"
        + (
            _table(
                (w["light"], w["task"], w["unit"], w["due"], w["forecast_due"], w["blocks"]),
                [
                    [
                        f'<td class="w">{_dot(t.light, w)}</td>',
                        _td(f"{t.code} {t.title}"),
                        _td(w["sep"].join(t.units)),
                        _td(iso(t.due), "d"),
                        _td(iso(t.forecast_due), "d"),
                        f"<td>{_list(t.blocks, w)}</td>",
                    ]
                    for t in risky
                ],
            )
            if risky
            else f"<p>{_e(w['none_at_risk'])}</p>"
        )
        + "</section>"
    )
    unit_rows = [
        [_td(c, "" if n == 1 else "n") for n, c in enumerate(unit_row(u))] for u in review.units
    ]
    parts.append(
        f'<section id="ranking"><h2>{_e(w["ranking"])}</h2>'
        f'<p class="rule">{_e(review.ranking_rule)}</p>'
        f"<figure>{ranking_chart(review, w)}</figure>"
        + _table([w[c] for c in UNIT_COLUMNS], unit_rows)
        + "</section>"
    )
    parts.append(
        f"<footer>{_e(w['footer'].format(day=long_date(review.as_of, review.language)))}</footer>"
    )
    return PAGE.format(
        lang=w["lang"], title=_e(f"{review.title} {w['report']}"), css=CSS, body="\n".join(parts)
    )
