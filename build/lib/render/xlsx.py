"""The review as an XLSX workbook for the office: 汇总 (summary), 任务 (one row per item), 单位
(the ranking, then the units not ranked yet), 尚缺 (every open item of each phase: the detail
behind the summary of what a phase lacks), or Summary / Items / Units / Missing in English.

Dates are real Excel dates, percentages real percentages; each sheet's header row is frozen and
the item and unit sheets have an auto-filter on it; an item's traffic light is its fill colour
(the whole row for red and yellow); every sheet prints on A4 landscape, one page wide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from render.review import (
    COUNT_KEYS,
    TINTS,
    folded,
    labels,
    light_counts,
    scope,
)
from render.review_rows import cause_text
from schemas.vocabulary import CLOSED, Light
from tasks.review.model import PhaseReview, Review

SHEETS = {"zh": ("汇总", "任务", "单位", "尚缺"), "en": ("Summary", "Items", "Units", "Missing")}
WORDS = {
    "zh": {
        "figure": "指标",
        "value": "数值",
        "number": "文号",
        "code": "任务",
        "title": "任务名称",
        "role": "角色",
        "occurrence": "报送期次",
        "overdue_days": "当前逾期工作日",
        "late_accepted": "逾期办结工作日",
        "critical": "关键路径",
        "escalated": "已督办",
        "start": "开始",
        "end": "结束",
        "summaries_on_time": "阶段总结按时",
        "summaries_due": "阶段总结应报",
        "supporting": "配合单位逾期（不计入）",
        "see_missing": "明细见“尚缺”工作表（{n}项）",
        "flag_yes": "是",
        "flag_no": "否",
    },
    "en": {
        "figure": "Figure",
        "value": "Value",
        "number": "Document",
        "code": "Task",
        "title": "Title",
        "role": "Role",
        "occurrence": "Occurrence",
        "overdue_days": "Working days overdue",
        "late_accepted": "Working days late (done)",
        "critical": "Critical path",
        "escalated": "Escalated",
        "start": "Start",
        "end": "End",
        "summaries_on_time": "Reports on time",
        "summaries_due": "Reports due",
        "supporting": "Late as co-responsible (not counted)",
        "see_missing": "Detail: the Missing sheet ({n} items)",
        "flag_yes": "yes",
        "flag_no": "no",
    },
}
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
FILLS = {light: PatternFill("solid", fgColor=tint) for light, tint in TINTS.items()}
BOLD = Font(bold=True)
DATE = "yyyy-mm-dd"
WRAP = Alignment(wrap_text=True, vertical="top")


def write_xlsx(review: Review, path: Path) -> None:
    """Write the review's workbook to `path` (overwritten if it exists)."""
    book = Workbook()
    book.properties.title = f"{review.title} {labels(review)['report']}"
    book.properties.creator = "duban"
    book.properties.created = dt.datetime.combine(review.as_of, dt.time())
    names = SHEETS.get(review.language, SHEETS["zh"])
    summary = book.active
    assert summary is not None
    summary.title = names[0]
    _summary(summary, review)
    _items(book.create_sheet(names[1]), review)
    _units(book.create_sheet(names[2]), review)
    _missing(book.create_sheet(names[3]), review)
    book.save(path)


def _words(review: Review) -> dict[str, str]:
    return {**labels(review), **WORDS.get(review.language, WORDS["zh"])}


def _header(ws: Worksheet, row: int, names: Sequence[str]) -> None:
    for column, name in enumerate(names, 1):
        cell = ws.cell(row, column, name)
        cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, WRAP


def _put(ws: Worksheet, row: int, values: Sequence[object]) -> None:
    for column, value in enumerate(values, 1):
        cell = ws.cell(row, column, value)
        if isinstance(value, dt.date):
            cell.number_format = DATE


def _summary(ws: Worksheet, review: Review) -> None:
    w = _words(review)
    ws["A1"] = f"{review.title} {w['report']}"
    ws["A1"].font = Font(bold=True, size=14)
    _header(ws, 2, (w["figure"], w["value"]))
    lights = light_counts(review)
    figures: list[tuple[str, object]] = [
        (w["number"], review.document_number or ""),
        (w["as_of"], review.as_of),
        (w["scope"], scope(review, w)),
        *((w[key], getattr(review.counts, key)) for key in COUNT_KEYS),
        (w["completion"], review.counts.completion_pct / 100),
        (w["on_time"], review.counts.on_time_pct / 100 if review.counts.accepted else None),
        *((w[light], lights[light]) for light in (Light.RED, Light.YELLOW, Light.GREEN)),
    ]
    for row, (name, value) in enumerate(figures, 3):
        _put(ws, row, (name, value))
        if name in (w["completion"], w["on_time"]):
            ws.cell(row, 2).number_format = "0.0%"
    if review.phases:
        _phases(ws, review, len(figures) + 4)
    ws.freeze_panes = "A3"
    _finish(ws, widths={10: 60}, skip_rows=1)


def _phases(ws: Worksheet, review: Review, top: int) -> None:
    """The phase table under the figures: readiness, and what is missing in summary."""
    w = _words(review)
    _header(
        ws,
        top,
        (
            w["phase"],
            w["start"],
            w["end"],
            w["tasks"],
            w["assignments"],
            w["accepted"],
            w["completion"],
            w["on_time"],
            w["ready"],
            w["missing"],
        ),
    )
    for row, phase in enumerate(review.phases, top + 1):
        _put(
            ws,
            row,
            (
                phase.name,
                phase.start,
                phase.due,
                phase.counts.tasks,
                phase.counts.assignments,
                phase.counts.accepted,
                phase.counts.completion_pct / 100,
                phase.counts.on_time_pct / 100 if phase.counts.accepted else None,
                w["yes" if phase.ready else "no"],
                "\n".join(_missing_summary(phase, w)),
            ),
        )
        for column in (7, 8):
            ws.cell(row, column).number_format = "0.0%"
        ws.cell(row, 10).alignment = WRAP


def _missing_summary(phase: PhaseReview, w: dict[str, str]) -> list[str]:
    lines = list(phase.missing_summary)
    if folded(phase):
        lines.append(w["see_missing"].format(n=len(phase.missing)))
    return lines


def _missing(ws: Worksheet, review: Review) -> None:
    """Every open item of each phase reviewed, one row each, with an auto-filter."""
    w = _words(review)
    _header(
        ws,
        1,
        (
            w["phase"],
            w["code"],
            w["title"],
            w["unit"],
            w["role"],
            w["state"],
            w["occurrence"],
            w["approved_due"],
            w["overdue_days"],
        ),
    )
    row = 2
    for phase in review.phases:
        for item in review.items:
            if item.phase != phase.code or item.state in CLOSED:
                continue
            _put(
                ws,
                row,
                (
                    phase.name,
                    item.task,
                    item.task_title,
                    item.unit_name,
                    w.get(f"role.{item.role}", item.role),
                    w.get(f"state.{item.state}", item.state),
                    item.occurrence,
                    item.approved_due,
                    item.overdue_workdays or None,
                ),
            )
            row += 1
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(ws.max_column)}{max(ws.max_row, 1)}"
    _finish(ws)


def _items(ws: Worksheet, review: Review) -> None:
    w = _words(review)
    columns = (
        w["light"],
        w["code"],
        w["title"],
        w["phase"],
        w["unit"],
        w["role"],
        w["state"],
        w["occurrence"],
        w["original_due"],
        w["approved_due"],
        w["forecast_due"],
        w["actual"],
        w["overdue_days"],
        w["late_accepted"],
        w["cause"],
        w["critical"],
        w["escalated"],
    )
    _header(ws, 1, columns)
    phases = {p.code: p.name for p in review.phases}
    for row, item in enumerate(review.items, 2):
        _put(
            ws,
            row,
            (
                w[item.light],
                item.task,
                item.task_title,
                phases.get(item.phase or "", item.phase),
                item.unit_name,
                w.get(f"role.{item.role}", item.role),
                w.get(f"state.{item.state}", item.state),
                item.occurrence,
                item.original_due,
                item.approved_due,
                item.forecast_due,
                item.actual,
                item.overdue_workdays or None,
                item.late_workdays or None,
                cause_text(item, w),
                w["flag_yes" if item.critical else "flag_no"],
                w["flag_yes" if item.escalated else "flag_no"],
            ),
        )
        tint = FILLS[item.light]
        for column in range(1, len(columns) + 1 if item.light != Light.GREEN else 2):
            ws.cell(row, column).fill = tint
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(ws.max_column)}{ws.max_row}"
    _finish(ws)


def _units(ws: Worksheet, review: Review) -> None:
    """The ranked units in rank order (tied ones share a rank), then those not ranked yet."""
    w = _words(review)
    names = (
        w["rank"],
        w["name"],
        w["assigned"],
        w["due_items"],
        w["on_time_items"],
        w["rate"],
        w["overdue_now"],
        w["own_delays"],
        w["upstream_delays"],
        w["supporting"],
        w["avg_late"],
        w["summaries_on_time"],
        w["summaries_due"],
        w["open_escalations"],
    )
    ws["A1"] = review.ranking_rule
    ws["A1"].alignment = WRAP
    ws.merge_cells(start_row=1, end_row=1, start_column=1, end_column=len(names))
    ws.row_dimensions[1].height = 64
    _header(ws, 2, names)
    for row, u in enumerate((*review.units, *review.not_yet_due), 3):
        _put(
            ws,
            row,
            (
                u.rank or None,
                u.name,
                u.assigned,
                u.due,
                u.on_time,
                u.rate / 100 if u.due else None,
                u.overdue_now,
                u.own_delays,
                u.upstream_delays,
                u.supporting_delays,
                u.avg_workdays_late,
                u.summaries_on_time,
                u.summaries_due,
                u.open_escalations,
            ),
        )
        ws.cell(row, 6).number_format = "0.0%"
        ws.cell(row, 11).number_format = "0.0"
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(names))}{max(ws.max_row, 2)}"
    _finish(ws, skip_rows=1)


def _width(value: object) -> int:
    """Display width: dates and fractions are 10, CJK characters count twice; the longest line
    counts."""
    if isinstance(value, dt.date | float):
        return 10
    lines = str(value).splitlines() or [""]
    return max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in line) for line in lines)


def _finish(ws: Worksheet, *, widths: dict[int, int] | None = None, skip_rows: int = 0) -> None:
    """Column widths from the content (header included, capped), A4 landscape printing."""
    for column, cells in enumerate(ws.iter_cols(min_row=1 + skip_rows, values_only=True), 1):
        found = max((_width(v) for v in cells if v is not None), default=6)
        wanted = (widths or {}).get(column, 50)
        ws.column_dimensions[get_column_letter(column)].width = min(max(found + 2, 6), wanted)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{skip_rows + 1}:{skip_rows + 1}"
