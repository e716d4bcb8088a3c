"""A plan as the task table (任务分工表) offices pass around, in XLSX or CSV.

The workbook holds 任务分工表 (a title row, then one row per task or report), 单位, 分组, 阶段
and 方案 (the document's own fields, and as JSON the blocks a table has no columns for), so that
`duban import` reads it back into the same plan; `duban template xlsx` writes it empty. A CSV
holds the task sheet alone. The column words come from `tasks.plans.table_columns`, as the
reader's do.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from xlsxwriter.worksheet import Worksheet

from render.xlsx import Book, Styled
from schemas.plan_file import ExplicitResponsibility, PlanFile, ReportSpec, TaskSpec
from tasks.plans.table_columns import (
    GROUP_COLUMNS,
    GROUP_SHEET,
    PHASE_COLUMNS,
    PHASE_KINDS,
    PHASE_SHEET,
    PLAN_BLOCKS,
    PLAN_FIELDS,
    PLAN_SHEET,
    TASK_COLUMNS,
    TASK_KINDS,
    TASK_SHEET,
    UNIT_COLUMNS,
    UNIT_KINDS,
    UNIT_SHEET,
    Column,
)

Cell = str | int | None
WIDTHS = {"title": 28, "text": 60, "deadline": 16, "remarks": 20, "name": 20, "full_name": 28}
STYLES: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 14, "align": "center"},
    "header": {"bold": True},
}


def safe(value: Cell) -> Cell:
    """A CSV text a spreadsheet would run as a formula (= + - @) is quoted; the table reader
    takes the quote off again."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def task_rows(plan: PlanFile | None) -> list[list[Cell]]:
    """The task sheet's rows under its header: tasks, then reports, numbered 1, 2, 3…"""
    items: list[TaskSpec | ReportSpec] = [*plan.tasks, *plan.reports] if plan else []
    return [_task_row(n, item) for n, item in enumerate(items, 1)]


def _task_row(number: int, item: TaskSpec | ReportSpec) -> list[Cell]:
    kinds = {v: k for k, v in TASK_KINDS.items()}
    values: dict[str, Cell] = {
        "number": number,
        "id": item.id,
        "title": item.title,
        "text": item.text,
        "deadline": item.deadline,
        "phase": item.phase,
        "depends_on": _joined(item.depends_on),
        "remarks": item.remarks,
    }
    if isinstance(item, ReportSpec):
        values |= {"kind": kinds["report"], "lead": _joined(item.submitters)}
    else:
        values |= {"kind": kinds[item.kind], "pilots": _joined(item.pilots or ())}
        if isinstance(item.responsibility, ExplicitResponsibility):
            values |= {
                "lead": _joined(item.responsibility.lead),
                "co": _joined(item.responsibility.co),
                "participants": _joined(item.responsibility.participants),
            }
        else:
            values["clause"] = item.responsibility
    return [values.get(c.key) for c in TASK_COLUMNS]


def _joined(names: Iterable[str]) -> str | None:
    return "、".join(names) or None


def write_workbook(plan: PlanFile | None, target: Path) -> None:
    """The plan's workbook, or (no plan) the blank template with its headers."""
    book = Book(target, STYLES)
    tasks = book.sheet(TASK_SHEET)
    title = f"{plan.plan.title}任务分工表" if plan else "任务分工表"
    tasks.merge_range(0, 0, 0, len(TASK_COLUMNS) - 1, "", book.format("title"))
    book.put(tasks, 0, 0, title, "title")
    _table(book, tasks, TASK_COLUMNS, task_rows(plan), start=1)
    _table(book, book.sheet(UNIT_SHEET), UNIT_COLUMNS, _unit_rows(plan))
    _table(book, book.sheet(GROUP_SHEET), GROUP_COLUMNS, _group_rows(plan))
    _table(book, book.sheet(PHASE_SHEET), PHASE_COLUMNS, _phase_rows(plan))
    meta = book.sheet(PLAN_SHEET)
    for number, row in enumerate(_plan_rows(plan)):
        book.put_row(meta, number, row)
    meta.set_column(0, 0, 18)
    meta.set_column(1, 1, 60)
    book.close()


def _table(
    book: Book,
    sheet: Worksheet,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Cell]],
    *,
    start: int = 0,
) -> None:
    """A header row in bold at row `start` (counted from 0), frozen, and the rows under it."""
    book.put_row(sheet, start, [Styled(c.header, "header") for c in columns])
    for number, row in enumerate(rows, start + 1):
        book.put_row(sheet, number, row)
    for n, column in enumerate(columns):
        sheet.set_column(n, n, WIDTHS.get(column.key, 12))
    sheet.freeze_panes(start + 1, 0)


def _unit_rows(plan: PlanFile | None) -> list[list[Cell]]:
    kinds = {v: k for k, v in UNIT_KINDS.items()}
    return [
        [
            u.code,
            u.name,
            u.full_name,
            _joined(u.aliases),
            kinds[u.kind],
            u.parent,
            _joined(u.emails),
            u.contact_role,
        ]
        for u in (plan.units if plan else ())
    ]


def _group_rows(plan: PlanFile | None) -> list[list[Cell]]:
    return [
        [g.code, g.name, _joined(g.aliases), _joined(g.members)]
        for g in (plan.groups if plan else ())
    ]


def _phase_rows(plan: PlanFile | None) -> list[list[Cell]]:
    kinds = {v: k for k, v in PHASE_KINDS.items()}
    return [
        [
            p.code,
            kinds[p.kind],
            p.name,
            p.window,
            p.start.isoformat() if p.start else None,
            p.due.isoformat() if p.due else None,
            p.text,
        ]
        for p in (plan.phases if plan else ())
    ]


def _plan_rows(plan: PlanFile | None) -> list[list[Cell]]:
    if plan is None:
        return [[label, None] for _, label in (*PLAN_FIELDS, *PLAN_BLOCKS)]
    meta = plan.plan.model_dump(mode="json", exclude_defaults=True)
    blocks = {
        "joint_meeting": plan.joint_meeting.model_dump(mode="json", exclude_defaults=True)
        if plan.joint_meeting
        else None,
        "office": plan.office.model_dump(mode="json", exclude_defaults=True)
        if plan.office
        else None,
        "escalation": plan.escalation.model_dump(mode="json", exclude_defaults=True) or None,
    }
    rows: list[list[Cell]] = []
    for key, label in (*PLAN_FIELDS, *PLAN_BLOCKS):
        value = meta.get(key, blocks.get(key))
        if isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False) if value else None
        elif isinstance(value, list):
            value = "至".join(value)
        rows.append([label, value])
    return rows


def write_plan_table(plan: PlanFile | None, path: Path, *, fmt: str) -> None:
    """Write the workbook (xlsx) or the task sheet alone (csv, UTF-8 with a BOM for Excel)."""
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([c.header for c in TASK_COLUMNS])
            writer.writerows([safe(v) for v in row] for row in task_rows(plan))
        return
    write_workbook(plan, path)
