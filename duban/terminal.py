"""Terminal output: rich tables and calendar grids for the read-only commands.

The one `console` every command prints through reads no markup, emoji codes or highlighting
from what it is given: a unit's reason that says `[/]` or `[bold]` or `:warning:` is printed
as written (markup in data crashed `duban extensions` before). duban's own colours are
`rich.text.Text` objects made by `styled`, never markup in a string.
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from schemas.vocabulary import Light

console = Console(markup=False, emoji=False, highlight=False)


def styled(text: object, style: str) -> Text:
    """`text` in `style` (e.g. "bold", "red"), its characters printed as they are."""
    return Text(str(text), style=style)


def _cell(value: object) -> Text | str:
    return value if isinstance(value, Text) else "" if value is None else str(value)


def table(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    grid = Table(title=title)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*(_cell(row.get(c)) for c in columns))
    console.print(grid)


def month_grid(year: int, month: int, infos: Sequence[Any]) -> None:
    """A month as a Monday-first grid: 休 marks a holiday, 班 a make-up working day."""
    grid = Table(title=f"{year}年{month}月", show_lines=False)
    for name in "一二三四五六日":
        grid.add_column(name, justify="right")
    by_day = {i.date.day: i for i in infos}
    for week in month_calendar.Calendar().monthdayscalendar(year, month):
        cells: list[Text | str] = []
        for day in week:
            info = by_day.get(day)
            if info is None:
                cells.append("")
            elif info.holiday:
                cells.append(styled(f"{day}休", "red"))
            elif info.makeup:
                cells.append(styled(f"{day}班", "blue"))
            elif not info.workday:
                cells.append(styled(day, "dim"))
            else:
                cells.append(str(day))
        grid.add_row(*cells)
    console.print(grid)
    for info in infos:
        if info.holiday and (
            info.date.day == 1
            or by_day.get(info.date.day - 1) is None
            or by_day[info.date.day - 1].holiday != info.holiday
        ):
            console.print(f"  {info.date.isoformat()} {info.holiday}")


def plan_tables(overview: dict[str, Any]) -> None:
    console.print(
        styled(overview["title"], "bold"),
        f"{overview['document_number'] or ''}  ({overview['code']})",
    )
    table("phases", overview["phases"], ["code", "kind", "name", "window", "start", "due"])
    rows = [
        {
            **task,
            "assignees": "、".join(f"{a['unit']}({a['role']})" for a in task["assignees"])
            or "unassigned",
        }
        for task in overview["tasks"]
    ]
    table("tasks", rows, ["code", "title", "phase", "deadline", "due", "assignees"])


LIGHTS = {
    Light.GREEN: styled("●", "green"),
    Light.YELLOW: styled("●", "yellow"),
    Light.RED: styled("●", "red"),
}


def review_tables(review: Any) -> None:
    """The review in the terminal: summary, phases, red and yellow items, the ranking."""
    counts = review.counts
    console.print(
        styled(review.title, "bold"),
        f"{review.document_number or ''} — as of {review.as_of}"
        + (f", phase {review.phase}" if review.phase else ""),
    )
    console.print(
        f"completion {counts.completion_pct}%, on time {counts.on_time_pct}%: "
        f"{counts.accepted} accepted ({counts.accepted_on_time} on time), "
        f"{counts.submitted} awaiting acceptance, {counts.in_progress} in progress, "
        f"{counts.not_started} not started, {counts.overdue} overdue, "
        f"{counts.extended} extended, {counts.waived} waived"
    )
    table(
        "phases",
        [
            {
                "phase": p.name,
                "due": p.due,
                "done %": p.counts.completion_pct,
                "ready": "yes" if p.ready else f"no ({len(p.missing)} missing)",
            }
            for p in review.phases
        ],
        ["phase", "due", "done %", "ready"],
    )
    flagged = [i for i in review.items if i.light != Light.GREEN]
    table(
        "red and yellow",
        [
            {
                "": LIGHTS[i.light],
                "task": i.task,
                "unit": i.unit_name,
                "state": i.state,
                "original": i.original_due,
                "approved": i.approved_due,
                "forecast": i.forecast_due,
                "late": i.overdue_workdays or i.late_workdays or "",
                "cause": i.cause,
            }
            for i in sorted(flagged, key=lambda i: (i.light != Light.RED, i.task))
        ],
        ["", "task", "unit", "state", "original", "approved", "forecast", "late", "cause"],
    )
    table(
        "ranking",
        [
            {
                "#": u.rank or "—",
                "unit": u.name,
                "rate %": u.rate if u.due else "—",
                "on time/due": f"{u.on_time}/{u.due}",
                "own delays": u.own_delays,
                "not counted": u.upstream_delays + u.supporting_delays,
                "overdue": u.overdue_now,
                "督办": u.open_escalations,
            }
            for u in (*review.units, *review.not_yet_due)
        ],
        ["#", "unit", "rate %", "on time/due", "own delays", "not counted", "overdue", "督办"],
    )
    console.print(review.ranking_rule)
