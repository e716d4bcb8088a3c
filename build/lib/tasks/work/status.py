"""What is derived, never stored: whether an assignment is overdue (and by how many working
days) and whether it is blocked (a task it waits on in the graph is not finished yet)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
from sqlmodel import Session, select

from calendars.workdays import WorkCalendar, load_calendar
from schemas.plan_file import CalendarChoice, PlanFile
from schemas.tables import Assignment, Plan, Task
from schemas.vocabulary import CLOSED, WITH_UNIT
from tasks.plans.graph import task_predecessors


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


def plan_calendar(plan: Plan, data_dir: Path | None = None) -> WorkCalendar:
    return calendar_of(PlanFile.model_validate(plan.spec).plan.calendar, data_dir)


def overdue_workdays(
    due: dt.date | None, state: str, as_of: dt.date, calendar: WorkCalendar
) -> int:
    """Working days past due for open work; 0 when not late, closed, or submitted in time."""
    if due is None or state not in WITH_UNIT or as_of <= due:
        return 0
    return calendar.workdays_between(due, as_of)


def finished_tasks(session: Session, plan_id: int | None) -> set[str]:
    """Tasks whose every active assignment is accepted, waived or cancelled."""
    states: dict[str, list[str]] = defaultdict(list)
    query = (
        select(Task.code, Assignment.state)
        .join(Assignment)
        .where(Task.plan_id == plan_id, Task.active, Assignment.active)
    )
    for code, state in session.exec(query):
        states[code].append(state)
    return {code for code, found in states.items() if all(s in CLOSED for s in found)}


def blocked_by(graph: nx.DiGraph, task: str, finished: set[str]) -> tuple[str, ...]:
    """The unfinished tasks `task` waits on directly (looking through phase nodes)."""
    if task not in graph:
        return ()
    return tuple(t for t in task_predecessors(graph, task) if t not in finished)


def with_derived(
    session: Session,
    rows: list[dict[str, Any]],
    as_of: dt.date,
    calendar_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """Add `overdue_workdays` and `blocked_by` to rows from tasks.plans.queries.unit_tasks."""
    from tasks.plans.plan_graph import plan_graph
    from tasks.plans.queries import find_plan

    plans: dict[str, tuple[WorkCalendar, nx.DiGraph, set[str]]] = {}
    for row in rows:
        if row["plan"] not in plans:
            plan = find_plan(session, row["plan"])
            graph, _ = plan_graph(session, plan.code)
            plans[row["plan"]] = (
                plan_calendar(plan, calendar_dir),
                graph,
                finished_tasks(session, plan.id),
            )
        calendar, graph, finished = plans[row["plan"]]
        due = dt.date.fromisoformat(row["due"]) if row["due"] else None
        row["overdue_workdays"] = overdue_workdays(due, row["state"], as_of, calendar)
        row["blocked_by"] = list(blocked_by(graph, row["task"], finished))
    return rows
