"""What is derived, never stored: whether an assignment is overdue (and by how many working
days) and whether it is blocked (a task it waits on in the graph is not finished yet).

`with_derived` answers `duban tasks` on plain Core rows and `tasks.plans.waits`: no ORM, no
networkx, no plan file decoded, so the command starts as fast as its database driver.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, case, func, select

from calendars.workdays import WorkCalendar, load_calendar
from schemas import columns as c
from schemas.vocabulary import CLOSED, WITH_UNIT
from tasks.plans.views import stored_nodes
from tasks.plans.waits import nearest_tasks, predecessors

if TYPE_CHECKING:
    from schemas.plan_file import CalendarChoice
    from schemas.tables import Plan

CHOICE = ("region", "overlays", "weekend_fallback")  # what a stored calendar choice holds


@dataclass(frozen=True)
class Derived:
    overdue_workdays: int
    blocked_by: tuple[str, ...]

    @property
    def overdue(self) -> bool:
        return self.overdue_workdays > 0


def calendar_of(choice: CalendarChoice, data_dir: Path | None = None) -> WorkCalendar:
    """The working calendar a plan chose, from the bundled data or an office's own folder."""
    return load_calendar(
        choice.region,
        overlays=tuple(choice.overlays),
        weekend_fallback=choice.weekend_fallback,
        data_dir=data_dir,
    )


def stored_calendar(choice: Mapping[str, Any] | None, data_dir: Path | None = None) -> WorkCalendar:
    """The calendar of a stored plan, from the calendar choice of its stored plan file.

    That file was validated whole when it was imported and stored with every default filled
    in, so its choice is used as it is; one that lacks a field (stored by an older duban) is
    validated again to get the plan-file model's defaults."""
    if choice is None or not all(key in choice for key in CHOICE):
        from schemas.plan_file import CalendarChoice

        return calendar_of(CalendarChoice.model_validate(choice or {}), data_dir)
    return load_calendar(
        choice["region"],
        overlays=tuple(choice["overlays"]),
        weekend_fallback=bool(choice["weekend_fallback"]),
        data_dir=data_dir,
    )


def stored_calendars(
    data_dir: Path | None = None,
) -> Callable[[Mapping[str, Any] | None], WorkCalendar]:
    """`stored_calendar` for many plans read at once: plans that chose the same calendar share
    one, so an office's own data folder is read once, not once per plan."""
    built: dict[str, WorkCalendar] = {}

    def calendar(choice: Mapping[str, Any] | None) -> WorkCalendar:
        key = repr(choice)
        if key not in built:
            built[key] = stored_calendar(choice, data_dir)
        return built[key]

    return calendar


def plan_calendar(plan: Plan, data_dir: Path | None = None) -> WorkCalendar:
    """The plan's calendar. The stored spec was validated whole when loaded, so only its
    calendar choice is read (not the thousands of tasks around it)."""
    return stored_calendar(plan.spec["plan"].get("calendar"), data_dir)


def overdue_workdays(
    due: dt.date | None, state: str, as_of: dt.date, calendar: WorkCalendar
) -> int:
    """Working days past due for open work; 0 when not late, closed, or submitted in time."""
    if due is None or state not in WITH_UNIT or as_of <= due:
        return 0
    return calendar.workdays_between(due, as_of)


def finished_tasks(
    connection: Connection, plans: list[int], among: set[str] | None = None
) -> dict[int, set[str]]:
    """Each plan's tasks whose every active assignment is accepted, waived or cancelled:
    counted in SQL, one row per finished task. `among`: only tasks with these codes."""
    t, a = c.task.c, c.assignment.c
    still_open = func.sum(case((a.state.in_(CLOSED), 0), else_=1))
    query = (
        select(t.plan_id, t.code)
        .join(c.assignment, a.task_id == t.id)
        .where(t.plan_id.in_(plans), t.active, a.active)
        .group_by(t.plan_id, t.code)
        .having(still_open == 0)
    )
    if among is not None:
        query = query.where(t.code.in_(among))
    found: dict[int, set[str]] = {plan: set() for plan in plans}
    for plan, code in connection.execute(query):
        found[plan].add(code)
    return found


def blocked_by(waits_on: list[str], finished: set[str]) -> tuple[str, ...]:
    """The unfinished tasks among those a task waits on directly."""
    return tuple(t for t in waits_on if t not in finished)


def with_derived(
    connection: Connection,
    rows: list[dict[str, Any]],
    as_of: dt.date,
    calendar_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """Add `overdue_workdays` and `blocked_by` to rows from tasks.plans.views.unit_tasks.

    Each plan the rows name is read once, all of them in a handful of queries: its calendar
    choice (a few keys of the stored plan file, picked out in SQL), its graph, its finished
    tasks."""
    p = c.plan.c
    named = {row["plan"] for row in rows}
    calendar_of_plan = stored_calendars(calendar_dir)
    plans = {
        code: (ident, calendar_of_plan(choice))
        for ident, code, choice in connection.execute(
            select(p.id, p.code, p.spec["plan"]["calendar"]).where(p.code.in_(named))
        )
    }
    ids = [ident for ident, _ in plans.values()]
    nodes = stored_nodes(connection, ids)
    waits = {ident: predecessors(*nodes[ident]) for ident in ids}
    before: dict[tuple[int, str], list[str]] = {}
    for row in rows:
        ident = plans[row["plan"]][0]
        if (ident, row["task"]) not in before:
            before[ident, row["task"]] = nearest_tasks(row["task"], waits[ident])
    waited_on = {code for codes in before.values() for code in codes}
    # whether those are finished, asked only when some task waits on another
    finished = finished_tasks(connection, ids, waited_on) if waited_on else {i: set() for i in ids}
    for row in rows:
        ident, calendar = plans[row["plan"]]
        due = dt.date.fromisoformat(row["due"]) if row["due"] else None
        row["overdue_workdays"] = overdue_workdays(due, row["state"], as_of, calendar)
        row["blocked_by"] = list(blocked_by(before[ident, row["task"]], finished[ident]))
    return rows
