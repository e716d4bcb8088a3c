"""Read-only views of what is stored: the answers behind `plans`, `show` and `tasks`.

They return plain dicts ready for JSON or a table, so the CLI and a later web page show the
same thing. They read through SQLAlchemy Core on a plain connection (`schemas.db.reading`):
no ORM objects, no pydantic, and no stored plan file decoded to answer them, because a cold
command is all import time otherwise. A handful of queries per call, never one per row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, or_, select, text

from duban.errors import NotFound
from schemas import columns as c
from tasks.plans.waits import PhaseNode, TaskNode


def missing_plan(connection: Connection, code: str) -> NotFound:
    """The NotFound for a plan code that is not imported, naming those that are."""
    known = ", ".join(connection.scalars(select(c.plan.c.code).order_by(c.plan.c.code)))
    return NotFound(f'no plan "{code}" (plans: {known or "none imported"})')


def plan_id(connection: Connection, code: str) -> int:
    """The id of the imported plan `code`, or NotFound naming the plans there are."""
    found = connection.scalar(select(c.plan.c.id).where(c.plan.c.code == code))
    if found is None:
        raise missing_plan(connection, code)
    return int(found)


def unit_named(connection: Connection, name: str) -> ColumnElement[bool]:
    """Units called `name`: by code, name, full name or one of their aliases (a JSON list,
    matched in SQL, so no unit's aliases are decoded to find it)."""
    u = c.unit.c
    if connection.dialect.name == "sqlite":
        alias = "EXISTS (SELECT 1 FROM json_each(unit.aliases) WHERE json_each.value = :alias)"
    else:
        alias = "CAST(unit.aliases AS JSONB) @> jsonb_build_array(CAST(:alias AS TEXT))"
    return or_(
        u.code == name, u.name == name, u.full_name == name, text(alias).bindparams(alias=name)
    )


def of_unit(connection: Connection, name: str) -> ColumnElement[bool]:
    """Assignments of the units called `name`: the units are found once, in a subquery, not
    matched again on every assignment row."""
    named = select(c.unit.c.id).where(unit_named(connection, name))
    return c.assignment.c.unit_id.in_(named)


def missing_unit(
    connection: Connection, name: str, plan_code: str | None = None
) -> NotFound | None:
    """NotFound when no active unit (of `plan_code`, if given) is called `name`, else None."""
    query = select(c.unit.c.id).where(c.unit.c.active, unit_named(connection, name)).limit(1)
    if plan_code is not None:
        query = query.join(c.plan, c.plan.c.id == c.unit.c.plan_id).where(
            c.plan.c.code == plan_code
        )
    if connection.scalar(query) is not None:
        return None
    return NotFound(f'no unit "{name}"' + (f" in plan {plan_code}" if plan_code else ""))


def list_plans(connection: Connection) -> list[dict[str, Any]]:
    p, t, a = c.plan.c, c.task.c, c.assignment.c
    tasks = select(func.count()).where(t.plan_id == p.id, t.active).scalar_subquery()
    assigned = select(func.count()).where(a.plan_id == p.id, a.active).scalar_subquery()
    query = select(p.code, p.title, p.document_number, p.issued, tasks, assigned)
    return [
        {
            "code": code,
            "title": title,
            "document_number": number,
            "issued": _iso(issued),
            "tasks": n_tasks,
            "assignments": n_assigned,
        }
        for code, title, number, issued, n_tasks, n_assigned in connection.execute(
            query.order_by(p.code)
        )
    ]


PEOPLE = ("person_", "liaison_")  # the seat's holder and its liaison officer, where named


def plan_overview(connection: Connection, code: str) -> dict[str, Any]:
    p = c.plan.c
    plan = connection.execute(
        select(
            p.id,
            p.code,
            p.title,
            p.document_number,
            p.issuer,
            p.issued,
            p.span_start,
            p.span_end,
            p.calendar_version,
        ).where(p.code == code)
    ).first()
    if plan is None:
        raise missing_plan(connection, code)
    units = {
        row.id: row
        for row in connection.execute(
            select(c.unit.c.id, c.unit.c.code, c.unit.c.name).where(c.unit.c.plan_id == plan.id)
        )
    }
    s = c.jointmeetingseat.c
    seats = connection.execute(
        select(
            s.role,
            s.unit_id,
            s.person_name,
            s.person_title,
            s.liaison_name,
            s.liaison_title,
            s.liaison_phone,
            s.liaison_email,
        )
        .where(s.plan_id == plan.id)
        .order_by(s.id)
    )
    ph = c.phase.c
    phases = connection.execute(
        select(ph.code, ph.kind, ph.name, ph.window_text, ph.start, ph.due)
        .where(ph.plan_id == plan.id)
        .order_by(ph.position)
    )
    t = c.task.c
    tasks = connection.execute(
        select(t.id, t.code, t.title, t.kind, t.phase_code, t.deadline_text, t.deadline_kind, t.due)
        .where(t.plan_id == plan.id, t.active)
        .order_by(t.position)
    )
    assignees = _assignees(connection, plan.id, units)
    return {
        "code": plan.code,
        "title": plan.title,
        "document_number": plan.document_number,
        "issuer": plan.issuer,
        "issued": _iso(plan.issued),
        "span": [_iso(plan.span_start), _iso(plan.span_end)],
        "calendar_version": plan.calendar_version,
        "joint_meeting": [
            {"role": seat.role, "unit": units[seat.unit_id].name}
            | {k: v for k, v in seat._mapping.items() if k.startswith(PEOPLE) and v}
            for seat in seats
        ],
        "phases": [
            {
                "code": row.code,
                "kind": row.kind,
                "name": row.name,
                "window": row.window_text,
                "start": _iso(row.start),
                "due": _iso(row.due),
            }
            for row in phases
        ],
        "tasks": [
            {
                "code": row.code,
                "title": row.title,
                "kind": row.kind,
                "phase": row.phase_code,
                "deadline": row.deadline_text,
                "deadline_kind": row.deadline_kind,
                "due": _iso(row.due),
                "assignees": assignees.get(row.id, []),
            }
            for row in tasks
        ],
    }


def unit_tasks(
    connection: Connection, unit: str, plan_code: str | None = None
) -> list[dict[str, Any]]:
    """Every active assignment of the unit named (by code, name or alias) across plans, in one
    query: the plan file stored with each plan is not read, let alone decoded per row."""
    if plan_code is not None:
        plan_id(connection, plan_code)  # NotFound, naming the plans, when it is not imported
    p, u, a, t = c.plan.c, c.unit.c, c.assignment.c, c.task.c
    query = (
        select(p.code, t.code, t.title, a.role, a.state, t.deadline_text, a.due, u.name)
        .select_from(c.assignment)
        .join(c.task, t.id == a.task_id)
        .join(c.unit, u.id == a.unit_id)
        .join(c.plan, p.id == a.plan_id)
        .where(u.active, a.active, t.active, of_unit(connection, unit))
        .order_by(p.code, u.id, t.position, a.id)
    )
    if plan_code is not None:
        query = query.where(p.code == plan_code)
    rows = [
        {
            "plan": plan,
            "task": task,
            "title": title,
            "role": role,
            "state": state,
            "deadline": deadline,
            "due": _iso(due),
            "unit": name,
        }
        for plan, task, title, role, state, deadline, due, name in connection.execute(query).all()
    ]
    if not rows and (missing := missing_unit(connection, unit, plan_code)) is not None:
        raise missing
    return rows


def stored_nodes(
    connection: Connection,
    plans: Iterable[int],
    tasks: Sequence[tuple[int, int, str, str | None, dt.date | None]] | None = None,
) -> dict[int, tuple[list[TaskNode], list[PhaseNode]]]:
    """The tasks (with their depends_on) and phases of each plan, as `tasks.plans.waits`
    walks them: three queries however many plans. `tasks`: the plans' active tasks as (plan,
    id, code, phase, due), when the caller has read them already."""
    wanted = list(plans)
    t, d, ph = c.task.c, c.dependency.c, c.phase.c
    if tasks is None:
        tasks = connection.execute(
            select(t.plan_id, t.id, t.code, t.phase_code, t.due).where(
                t.plan_id.in_(wanted), t.active
            )
        ).all()
    codes = {ident: code for _, ident, code, _, _ in tasks}
    needs: dict[int, list[str]] = defaultdict(list)
    for task, before in connection.execute(
        select(d.task_id, d.depends_on_id).where(d.plan_id.in_(wanted))
    ):
        if task in codes and before in codes:
            needs[task].append(codes[before])
    found: dict[int, tuple[list[TaskNode], list[PhaseNode]]] = {p: ([], []) for p in wanted}
    for plan, ident, code, phase, due in tasks:
        if plan in found:
            found[plan][0].append(TaskNode(code, phase, due, tuple(needs[ident])))
    for plan, code, kind in connection.execute(
        select(ph.plan_id, ph.code, ph.kind).where(ph.plan_id.in_(wanted)).order_by(ph.position)
    ):
        found[plan][1].append(PhaseNode(code, kind))
    return found


def _assignees(
    connection: Connection, plan: int, units: dict[int, Any]
) -> dict[int, list[dict[str, Any]]]:
    a, o = c.assignment.c, c.occurrence.c
    occurrences: dict[int, list[str]] = defaultdict(list)
    dated = (
        select(o.assignment_id, o.due)
        .join(c.assignment, a.id == o.assignment_id)
        .where(a.plan_id == plan, o.active)
        .order_by(o.due)
    )
    for assignment, due in connection.execute(dated):
        occurrences[assignment].append(due.isoformat())
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    query = select(a.id, a.task_id, a.unit_id, a.role, a.state, a.due).where(
        a.plan_id == plan, a.active
    )
    for ident, task, unit, role, state, due in connection.execute(query.order_by(a.id)):
        found[task].append(
            {
                "unit": units[unit].name,
                "code": units[unit].code,
                "role": role,
                "state": state,
                "due": _iso(due),
                "occurrences": occurrences.get(ident, []),
            }
        )
    return found


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
