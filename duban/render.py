"""Terminal output: rich tables and calendar grids for the read-only commands."""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def table(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    grid = Table(title=title)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(grid)


def month_grid(year: int, month: int, infos: Sequence[Any]) -> None:
    """A month as a Monday-first grid: 休 marks a holiday, 班 a make-up working day."""
    grid = Table(title=f"{year}年{month}月", show_lines=False)
    for name in "一二三四五六日":
        grid.add_column(name, justify="right")
    by_day = {i.date.day: i for i in infos}
    for week in month_calendar.Calendar().monthdayscalendar(year, month):
        cells = []
        for day in week:
            info = by_day.get(day)
            if info is None:
                cells.append("")
            elif info.holiday:
                cells.append(f"[red]{day}休[/red]")
            elif info.makeup:
                cells.append(f"[blue]{day}班[/blue]")
            elif not info.workday:
                cells.append(f"[dim]{day}[/dim]")
            else:
                cells.append(str(day))
        grid.add_row(*cells)
    console.print(grid)
    for info in infos:
        if info.holiday and (info.date.day == 1 or by_day.get(info.date.day - 1) is None
                             or by_day[info.date.day - 1].holiday != info.holiday):
            console.print(f"  {info.date.isoformat()} {info.holiday}")


def plan_tables(overview: dict[str, Any]) -> None:
    console.print(f"[bold]{overview['title']}[/bold] {overview['document_number'] or ''}"
                  f"  ({overview['code']})")
    table("phases", overview["phases"], ["code", "kind", "name", "window", "start", "due"])
    rows = [
        {**task, "assignees": "、".join(
            f"{a['unit']}({a['role']})" for a in task["assignees"]) or "unassigned"}
        for task in overview["tasks"]
    ]
    table("tasks", rows, ["code", "title", "phase", "deadline", "due", "assignees"])
