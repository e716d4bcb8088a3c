"""The review as an XLSX workbook for the office: 汇总 (summary), 任务 (one row per item), 单位
(the ranking, then the units not ranked yet), 尚缺 (every open item of each phase: the detail
behind the summary of what a phase lacks), or Summary / Items / Units / Missing in English.

Dates are real Excel dates, percentages real percentages; each sheet's header row is frozen and
the item and unit sheets have an auto-filter on it; an item's traffic light is its fill colour
(the whole row for red and yellow); every sheet prints on A4 landscape, one page wide.

Every cell any of duban's workbooks holds is written by `put_cell` (or `put_row`): text from
data is never a formula. Text that starts with = + - @ or a tab or carriage return is stored as
text with Excel's quote prefix (as typing a leading apostrophe does), so `=HYPERLINK(…)` or
`=cmd|…` in a task title shows as written and is not evaluated, even when the cell is edited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
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
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Row = list[object]  # values, and cells where a value has a style


def write_xlsx(review: Review, path: Path) -> None:
    """Write the review's workbook to `path` (overwritten if it exists).

    Written in openpyxl's write-only mode with named styles: a review of 40 plans holds some
    700,000 cells, and a styled cell of a normal workbook costs five times a plain one.
    """
    book = Workbook(write_only=True)
    book.properties.title = f"{review.title} {labels(review)['report']}"
    book.properties.creator = "duban"
    book.properties.created = dt.datetime.combine(review.as_of, dt.time())
    for style in _named_styles():
        book.add_named_style(style)
    names = SHEETS.get(review.language, SHEETS["zh"])
    _summary(book.create_sheet(names[0]), review)
    _items(book.create_sheet(names[1]), review)
    _units(book.create_sheet(names[2]), review)
    _missing(book.create_sheet(names[3]), review)
    book.save(path)


def _named_styles() -> list[NamedStyle]:
    """The styles a review's cells use, by name: a new set for each workbook, which binds them."""
    lights = [
        NamedStyle(f"light {light}{suffix}", fill=fill, number_format=number_format)
        for light, fill in FILLS.items()
        for suffix, number_format in (("", "General"), (" date", DATE))
    ]
    return [
        NamedStyle("header", font=BOLD, fill=HEADER_FILL, alignment=WRAP),
        NamedStyle("title", font=Font(bold=True, size=14)),
        NamedStyle("wrapped", alignment=WRAP),
        NamedStyle("percent", number_format="0.0%"),
        NamedStyle("one decimal", number_format="0.0"),
        *lights,
    ]


def _words(review: Review) -> dict[str, str]:
    return {**labels(review), **WORDS.get(review.language, WORDS["zh"])}


def held_as_text(cell: Cell) -> Cell:
    """Text Excel would read as a formula, kept as text with the quote prefix (as typing a
    leading apostrophe does)."""
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def put_cell(ws: Worksheet, row: int, column: int, value: object) -> Cell:
    """Write `value` at (row, column) of a normal sheet: a date as an Excel date, text always
    as text."""
    cell = held_as_text(ws.cell(row, column, value))
    if isinstance(value, dt.date):
        cell.number_format = DATE
    return cell


def put_row(ws: Worksheet, row: int, values: Sequence[object]) -> None:
    for column, value in enumerate(values, 1):
        put_cell(ws, row, column, value)


def styled(ws: WriteOnlyWorksheet, value: object, style: str) -> Cell:
    """A cell of a write-only sheet with one of the workbook's named styles."""
    cell = WriteOnlyCell(ws, value)
    cell.style = style
    return held_as_text(cell)


def plain(ws: WriteOnlyWorksheet, values: Sequence[object]) -> Row:
    """A row as it goes into a write-only sheet: values as they are (dates take Excel's date
    format by themselves), formula-like text in a cell holding it as text."""
    return [
        held_as_text(WriteOnlyCell(ws, v))
        if isinstance(v, str) and v.startswith(FORMULA_STARTS)
        else v
        for v in values
    ]


def _header(ws: WriteOnlyWorksheet, names: Sequence[str]) -> Row:
    return [styled(ws, name, "header") for name in names]


def _summary(ws: WriteOnlyWorksheet, review: Review) -> None:
    w = _words(review)
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
    rows: list[Row] = [
        [styled(ws, f"{review.title} {w['report']}", "title")],
        _header(ws, (w["figure"], w["value"])),
    ]
    for name, value in figures:
        row = plain(ws, (name, value))
        if name in (w["completion"], w["on_time"]):
            row[1] = styled(ws, value, "percent")
        rows.append(row)
    if review.phases:
        rows += [[], *_phases(ws, review)]
    _write(ws, rows, frozen=2, widths={10: 60}, skip_rows=1)


def _phases(ws: WriteOnlyWorksheet, review: Review) -> list[Row]:
    """The phase table under the figures: readiness, and what is missing in summary."""
    w = _words(review)
    rows = [
        _header(
            ws,
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
    ]
    for phase in review.phases:
        rows.append(
            [
                *plain(
                    ws,
                    (
                        phase.name,
                        phase.start,
                        phase.due,
                        phase.counts.tasks,
                        phase.counts.assignments,
                        phase.counts.accepted,
                    ),
                ),
                styled(ws, phase.counts.completion_pct / 100, "percent"),
                styled(
                    ws,
                    phase.counts.on_time_pct / 100 if phase.counts.accepted else None,
                    "percent",
                ),
                w["yes" if phase.ready else "no"],
                styled(ws, "\n".join(_missing_summary(phase, w)), "wrapped"),
            ]
        )
    return rows


def _missing_summary(phase: PhaseReview, w: dict[str, str]) -> list[str]:
    lines = list(phase.missing_summary)
    if folded(phase):
        lines.append(w["see_missing"].format(n=len(phase.missing)))
    return lines


def _missing(ws: WriteOnlyWorksheet, review: Review) -> None:
    """Every open item of each phase reviewed, one row each, with an auto-filter."""
    w = _words(review)
    rows = [
        _header(
            ws,
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
    ]
    for phase in review.phases:
        for item in review.items:
            if item.phase != phase.code or item.state in CLOSED:
                continue
            rows.append(
                plain(
                    ws,
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
            )
    _write(ws, rows, frozen=1, filtered=1)


def _items(ws: WriteOnlyWorksheet, review: Review) -> None:
    """One row per item; its traffic light is its first cell's fill, the whole row's when red
    or yellow."""
    w = _words(review)
    rows = [
        _header(
            ws,
            (
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
            ),
        )
    ]
    phases = {p.code: p.name for p in review.phases}
    for item in review.items:
        values = (
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
        )
        tinted = 1 if item.light == Light.GREEN else len(values)
        rows.append(
            [_tinted(ws, v, item.light) for v in values[:tinted]] + plain(ws, values[tinted:])
        )
    _write(ws, rows, frozen=1, filtered=1)


def _tinted(ws: WriteOnlyWorksheet, value: object, light: Light) -> Cell:
    date = " date" if isinstance(value, dt.date) else ""
    return styled(ws, value, f"light {light}{date}")


def _units(ws: WriteOnlyWorksheet, review: Review) -> None:
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
    rows = [[styled(ws, review.ranking_rule, "wrapped")], _header(ws, names)]
    for u in (*review.units, *review.not_yet_due):
        rows.append(
            [
                *plain(ws, (u.rank or None, u.name, u.assigned, u.due, u.on_time)),
                styled(ws, u.rate / 100 if u.due else None, "percent"),
                u.overdue_now,
                u.own_delays,
                u.upstream_delays,
                u.supporting_delays,
                styled(ws, u.avg_workdays_late, "one decimal"),
                u.summaries_on_time,
                u.summaries_due,
                u.open_escalations,
            ]
        )
    ws.merged_cells.add(f"A1:{get_column_letter(len(names))}1")
    ws.row_dimensions[1].height = 64
    _write(ws, rows, frozen=2, filtered=2, skip_rows=1)


def _width(value: object) -> int:
    """Display width: dates and fractions are 10, CJK characters count twice; the longest line
    counts."""
    if isinstance(value, dt.date | float):
        return 10
    lines = str(value).splitlines() or [""]
    return max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in line) for line in lines)


def _write(
    ws: WriteOnlyWorksheet,
    rows: list[Row],
    *,
    frozen: int,
    filtered: int | None = None,
    widths: dict[int, int] | None = None,
    skip_rows: int = 0,
) -> None:
    """Write the rows under what a write-only sheet needs first: column widths from the content
    (header included, capped), the header row `frozen` frozen and repeated on each printed page,
    an auto-filter from row `filtered`, A4 landscape one page wide."""
    columns = max(map(len, rows), default=0)
    for column in range(columns):
        values = (_value(row[column]) for row in rows[skip_rows:] if column < len(row))
        found = max((_width(v) for v in values if v is not None), default=6)
        wanted = (widths or {}).get(column + 1, 50)
        ws.column_dimensions[get_column_letter(column + 1)].width = min(max(found + 2, 6), wanted)
    ws.freeze_panes = f"A{frozen + 1}"
    if filtered:
        ws.auto_filter.ref = f"A{filtered}:{get_column_letter(columns)}{max(len(rows), filtered)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{frozen}:{frozen}"
    for row in rows:
        ws.append(row)


def _value(entry: object) -> object:
    return entry.value if isinstance(entry, Cell) else entry
