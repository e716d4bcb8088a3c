"""The review as an XLSX workbook for the office: 汇总 (summary), 任务 (one row per item), 单位
(the ranking, then the units not ranked yet), 尚缺 (every open item of each phase: the detail
behind the summary of what a phase lacks), or Summary / Items / Units / Missing in English.

Dates are real Excel dates, percentages real percentages; each sheet's header row is frozen and
the item and unit sheets have an auto-filter on it; an item's traffic light is its fill colour
(the whole row for red and yellow); every sheet prints on A4 landscape, one page wide.

Every workbook duban writes (this one, the plan's task table, the office's export) is written
through a `Book`, with XlsxWriter; openpyxl only reads (tasks.plans.table). Each cell goes
through `Book.put`: text from data is never a formula. Text that starts with = + - @ or a tab
or carriage return is stored as text with Excel's quote prefix (as typing a leading apostrophe
does), so `=HYPERLINK(…)` or `=cmd|…` in a task title shows as written and is not evaluated,
even when the cell is edited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

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
DATE = "yyyy-mm-dd"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
A4 = 9  # the paper size's number in the file format
REVIEW_STYLES: dict[str, dict[str, Any]] = {
    "header": {"bold": True, "bg_color": "#DDE4EE", "text_wrap": True, "valign": "top"},
    "title": {"bold": True, "font_size": 14},
    "wrapped": {"text_wrap": True, "valign": "top"},
    "percent": {"num_format": "0.0%"},
    "one decimal": {"num_format": "0.0"},
    **{f"light {light}": {"bg_color": f"#{tint}"} for light, tint in TINTS.items()},
}


class Styled(NamedTuple):
    """A value with one of its workbook's styles."""

    value: object
    style: str


Row = Sequence[object]  # values, and Styled values


class Book:
    """A workbook being written, row after row (XlsxWriter's constant-memory mode: a plan of
    2,500 items fills 50,000 cells of its review, the office's export a row per assignment),
    with its styles by name.

    Each combination of a style with the date format or the quote prefix becomes one format
    of the workbook, made the first time a cell asks for it.
    """

    def __init__(self, target: Path | IO[bytes], styles: Mapping[str, Mapping[str, Any]]):
        options = {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        }
        self.workbook = Workbook(target, options)
        self.styles = styles
        self._formats: dict[tuple[str | None, bool, bool], Format | None] = {}

    def sheet(self, name: str) -> Worksheet:
        return self.workbook.add_worksheet(name)

    def format(
        self, style: str | None, *, date: bool = False, quoted: bool = False
    ) -> Format | None:
        key = (style, date, quoted)
        if key not in self._formats:
            properties = dict(self.styles[style]) if style else {}
            if date:
                properties["num_format"] = DATE
            if quoted:
                properties["quote_prefix"] = True
            self._formats[key] = self.workbook.add_format(properties) if properties else None
        return self._formats[key]

    def put(
        self, sheet: Worksheet, row: int, column: int, value: object, style: str | None = None
    ) -> None:
        """Write `value` at (row, column), counted from 0: a date as an Excel date, text always
        as text, nothing for None unless it has a style (a tinted row is tinted throughout)."""
        if isinstance(value, str):
            quoted = value.startswith(FORMULA_STARTS)
            sheet.write_string(row, column, value, self.format(style, quoted=quoted))
        elif isinstance(value, dt.date):
            sheet.write_datetime(row, column, value, self.format(style, date=True))
        elif isinstance(value, int | float):
            sheet.write_number(row, column, value, self.format(style))
        elif value is None:
            if style is not None:
                sheet.write_blank(row, column, None, self.format(style))
        else:
            raise TypeError(f"no spreadsheet cell holds {type(value).__name__} {value!r}")

    def put_row(self, sheet: Worksheet, row: int, values: Row) -> None:
        """Write a row from column 0, a Styled value with its style."""
        for column, value in enumerate(values):
            if isinstance(value, Styled):
                self.put(sheet, row, column, value.value, value.style)
            else:
                self.put(sheet, row, column, value)

    def close(self) -> None:
        self.workbook.close()


def write_xlsx(review: Review, path: Path) -> None:
    """Write the review's workbook to `path` (overwritten if it exists)."""
    book = Book(path, REVIEW_STYLES)
    book.workbook.set_properties(
        {
            "title": f"{review.title} {labels(review)['report']}",
            "author": "duban",
            "created": dt.datetime.combine(review.as_of, dt.time()),
        }
    )
    names = SHEETS.get(review.language, SHEETS["zh"])
    _summary(book, book.sheet(names[0]), review)
    _items(book, book.sheet(names[1]), review)
    _units(book, book.sheet(names[2]), review)
    _missing(book, book.sheet(names[3]), review)
    book.close()


def _words(review: Review) -> dict[str, str]:
    return {**labels(review), **WORDS.get(review.language, WORDS["zh"])}


def _header(names: Sequence[str]) -> Row:
    return [Styled(name, "header") for name in names]


def _summary(book: Book, sheet: Worksheet, review: Review) -> None:
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
    rows: list[Row] = [_header((w["figure"], w["value"]))]
    for name, value in figures:
        percent = name in (w["completion"], w["on_time"])
        rows.append([name, Styled(value, "percent") if percent else value])
    if review.phases:
        rows += [[], *_phases(review)]
    book.put(sheet, 0, 0, f"{review.title} {w['report']}", "title")
    _write(book, sheet, rows, start=1, frozen=2, widths={10: 60})


def _phases(review: Review) -> list[Row]:
    """The phase table under the figures: readiness, and what is missing in summary."""
    w = _words(review)
    rows = [
        _header(
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
        counts = phase.counts
        rows.append(
            [
                phase.name,
                phase.start,
                phase.due,
                counts.tasks,
                counts.assignments,
                counts.accepted,
                Styled(counts.completion_pct / 100, "percent"),
                Styled(counts.on_time_pct / 100 if counts.accepted else None, "percent"),
                w["yes" if phase.ready else "no"],
                Styled("\n".join(_missing_summary(phase, w)), "wrapped"),
            ]
        )
    return rows


def _missing_summary(phase: PhaseReview, w: dict[str, str]) -> list[str]:
    lines = list(phase.missing_summary)
    if folded(phase):
        lines.append(w["see_missing"].format(n=len(phase.missing)))
    return lines


def _missing(book: Book, sheet: Worksheet, review: Review) -> None:
    """Every open item of each phase reviewed, one row each, with an auto-filter."""
    w = _words(review)
    rows = [
        _header(
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
                )
            )
    _write(book, sheet, rows, frozen=1, filtered=1)


def _items(book: Book, sheet: Worksheet, review: Review) -> None:
    """One row per item; its traffic light is its first cell's fill, the whole row's when red
    or yellow."""
    w = _words(review)
    rows = [
        _header(
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
        tint = f"light {item.light}"
        tinted = 1 if item.light == Light.GREEN else len(values)
        rows.append([Styled(v, tint) for v in values[:tinted]] + list(values[tinted:]))
    _write(book, sheet, rows, frozen=1, filtered=1)


def _units(book: Book, sheet: Worksheet, review: Review) -> None:
    """The ranking rule above the table, then the ranked units in rank order (tied ones share
    a rank), then those not ranked yet."""
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
    rows: list[Row] = [_header(names)]
    for u in (*review.units, *review.not_yet_due):
        rows.append(
            [
                u.rank or None,
                u.name,
                u.assigned,
                u.due,
                u.on_time,
                Styled(u.rate / 100 if u.due else None, "percent"),
                u.overdue_now,
                u.own_delays,
                u.upstream_delays,
                u.supporting_delays,
                Styled(u.avg_workdays_late, "one decimal"),
                u.summaries_on_time,
                u.summaries_due,
                u.open_escalations,
            ]
        )
    sheet.set_row(0, 64)
    sheet.merge_range(0, 0, 0, len(names) - 1, "", book.format("wrapped"))
    book.put(sheet, 0, 0, review.ranking_rule, "wrapped")
    _write(book, sheet, rows, start=1, frozen=2, filtered=2)


def _width(value: object) -> int:
    """Display width: dates and fractions are 10, CJK characters count twice; the longest line
    counts."""
    if isinstance(value, dt.date | float):
        return 10
    lines = str(value).splitlines() or [""]
    return max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in line) for line in lines)


def _write(
    book: Book,
    sheet: Worksheet,
    rows: Sequence[Row],
    *,
    frozen: int,
    start: int = 0,
    filtered: int | None = None,
    widths: dict[int, int] | None = None,
) -> None:
    """Write the rows from row `start` (counted from 0), with column widths from their content
    (capped), the first `frozen` rows frozen and the last of them repeated on each printed
    page, an auto-filter from row `filtered` (counted from 1, as Excel shows it) to the last,
    A4 landscape one page wide."""
    columns = max(map(len, rows), default=0)
    for column in range(columns):
        # a column repeats its words (units, states, titles of many items): each measured once,
        # by type too (1 and 1.0 are equal, but a fraction is as wide as a date)
        values = {(type(v), v) for v in (_value(row[column]) for row in rows if column < len(row))}
        found = max((_width(v) for _, v in values if v is not None), default=6)
        wanted = (widths or {}).get(column + 1, 50)
        sheet.set_column(column, column, min(max(found + 2, 6), wanted))
    sheet.freeze_panes(frozen, 0)
    if filtered:
        last = max(start + len(rows), filtered)
        sheet.autofilter(filtered - 1, 0, last - 1, columns - 1)
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(frozen - 1)
    for number, row in enumerate(rows, start):
        book.put_row(sheet, number, row)


def _value(entry: object) -> object:
    return entry.value if isinstance(entry, Styled) else entry
