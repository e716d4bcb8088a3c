"""Read-only views of what is stored: the answers behind `plans`, `show` and `tasks`.

They return plain dicts ready for JSON or a table, so the CLI and a later web page show the
same thing. A handful of queries per call, never one per row: these must feel instant.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from duban.errors import NotFound
from schemas.tables import (
    Assignment,
    Escalation,
    ExtensionRequest,
    JointMeetingSeat,
    Notice,
    Occurrence,
    Phase,
    Plan,
    SweepRun,
    Task,
    Unit,
)
from schemas.vocabulary import ExtensionState, Level


def find_plan(session: Session, code: str) -> Plan:
    plan = session.exec(select(Plan).where(Plan.code == code)).first()
    if plan is None:
        known = ", ".join(session.exec(select(Plan.code).order_by(Plan.code))) or "none imported"
        raise NotFound(f'no plan "{code}" (plans: {known})')
    return plan


def find_task(session: Session, plan: Plan, code: str) -> Task:
    """An active task of the plan, or NotFound naming it."""
    task = session.exec(
        select(Task).where(Task.plan_id == plan.id, Task.code == code, Task.active)
    ).first()
    if task is None:
        raise NotFound(f'no task "{code}" in plan {plan.code}')
    return task


def list_plans(session: Session) -> list[dict[str, Any]]:
    counts: dict[int | None, int] = dict(
        session.exec(
            select(Task.plan_id, func.count()).where(Task.active).group_by(col(Task.plan_id))
        ).all()
    )
    assigned: dict[int | None, int] = dict(
        session.exec(
            select(Assignment.plan_id, func.count())
            .where(Assignment.active)
            .group_by(col(Assignment.plan_id))
        ).all()
    )
    return [
        {
            "code": p.code,
            "title": p.title,
            "document_number": p.document_number,
            "issued": p.issued.isoformat() if p.issued else None,
            "tasks": counts.get(p.id, 0),
            "assignments": assigned.get(p.id, 0),
        }
        for p in session.exec(select(Plan).order_by(Plan.code))
    ]


def plan_overview(session: Session, code: str) -> dict[str, Any]:
    plan = find_plan(session, code)
    units = {u.id: u for u in session.exec(select(Unit).where(Unit.plan_id == plan.id))}
    phases = session.exec(
        select(Phase).where(Phase.plan_id == plan.id).order_by(col(Phase.position))
    )
    tasks = session.exec(
        select(Task).where(Task.plan_id == plan.id, Task.active).order_by(col(Task.position))
    ).all()
    assignees = _assignees(session, plan.id, units)
    seats = session.exec(select(JointMeetingSeat).where(JointMeetingSeat.plan_id == plan.id))
    return {
        "code": plan.code,
        "title": plan.title,
        "document_number": plan.document_number,
        "issuer": plan.issuer,
        "issued": _iso(plan.issued),
        "span": [_iso(plan.span_start), _iso(plan.span_end)],
        "calendar_version": plan.calendar_version,
        "joint_meeting": [{"role": s.role, "unit": units[s.unit_id].name} for s in seats],
        "phases": [
            {
                "code": p.code,
                "kind": p.kind,
                "name": p.name,
                "window": p.window_text,
                "start": _iso(p.start),
                "due": _iso(p.due),
            }
            for p in phases
        ],
        "tasks": [
            {
                "code": t.code,
                "title": t.title,
                "kind": t.kind,
                "phase": t.phase_code,
                "deadline": t.deadline_text,
                "deadline_kind": t.deadline_kind,
                "due": _iso(t.due),
                "assignees": assignees.get(t.id, []),
            }
            for t in tasks
        ],
    }


def unit_tasks(session: Session, unit: str, plan_code: str | None = None) -> list[dict[str, Any]]:
    """Every active assignment of the unit named (by code, name or alias) across plans."""
    query = select(Unit, Plan).join(Plan, col(Unit.plan_id) == Plan.id).where(Unit.active)
    if plan_code is not None:
        query = query.where(Plan.code == find_plan(session, plan_code).code)
    matches = [
        (u, p) for u, p in session.exec(query) if unit in (u.code, u.name, u.full_name, *u.aliases)
    ]
    if not matches:
        raise NotFound(f'no unit "{unit}"' + (f" in plan {plan_code}" if plan_code else ""))
    rows = []
    for found, plan in matches:
        assigned = (
            select(Assignment, Task)
            .join(Task, col(Assignment.task_id) == Task.id)
            .where(Assignment.unit_id == found.id, Assignment.active, Task.active)
            .order_by(col(Task.position))
        )
        for assignment, task in session.exec(assigned):
            rows.append(
                {
                    "plan": plan.code,
                    "task": task.code,
                    "title": task.title,
                    "role": assignment.role,
                    "state": assignment.state,
                    "deadline": task.deadline_text,
                    "due": _iso(assignment.due),
                    "unit": found.name,
                }
            )
    return rows


def extension_requests(
    session: Session, plan_code: str, *, pending_only: bool = False
) -> list[dict[str, Any]]:
    plan = find_plan(session, plan_code)
    query = (
        select(ExtensionRequest, Task, Unit)
        .join(Assignment, col(ExtensionRequest.assignment_id) == Assignment.id)
        .join(Task, col(Assignment.task_id) == Task.id)
        .join(Unit, col(Assignment.unit_id) == Unit.id)
        .where(Assignment.plan_id == plan.id)
        .order_by(col(ExtensionRequest.id))
    )
    if pending_only:
        query = query.where(ExtensionRequest.state == ExtensionState.REQUESTED)
    return [
        {
            "id": r.id,
            "task": t.code,
            "unit": u.name,
            "current_due": _iso(r.current_due),
            "requested_due": _iso(r.requested_due),
            "state": r.state,
            "reason": r.reason,
            "decision_reason": r.decision_reason,
        }
        for r, t, u in session.exec(query)
    ]


def escalations(
    session: Session, plan_code: str, *, open_only: bool = False
) -> list[dict[str, Any]]:
    """The plan's 督办 escalations, with the receipt code of the notice that opened each."""
    find_plan(session, plan_code)
    query = select(Escalation).where(Escalation.plan_code == plan_code).order_by(col(Escalation.id))
    if open_only:
        query = query.where(col(Escalation.closed_on).is_(None))
    receipts: dict[tuple[int, object], str] = {}
    for assignment_id, due, code in session.exec(
        select(Notice.assignment_id, col(Notice.due), Notice.receipt_code)
        .where(Notice.plan_code == plan_code, col(Notice.receipt_code).is_not(None))
        .order_by(col(Notice.id))
    ):
        receipts.setdefault((assignment_id, due), code or "")
    rows = []
    for esc in session.exec(query):
        receipt = receipts.get((esc.assignment_id, esc.due))
        rows.append(
            {
                "id": esc.id,
                "task": esc.task_code,
                "unit": esc.unit_code,
                "due": _iso(esc.due),
                "original_due": _iso(esc.original_due),
                "opened_on": _iso(esc.opened_on),
                "overdue_workdays": esc.overdue_workdays,
                "reported": esc.reported,
                "blocks": esc.blocks,
                "receipt": receipt,
                "closed_on": _iso(esc.closed_on),
                "resolution": esc.resolution,
            }
        )
    return rows


def issued_order(session: Session, escalation: Escalation) -> tuple[Notice, date] | None:
    """The notice that issued an escalation's 督办单, and its issue day (its sweep's day).

    A 督办单 is a document: printed again later it must say what it said when it was issued,
    so its figures come from this notice, written once, not from the escalation, which counts
    on with every sweep. The unit's 督办单 if one was issued, else the first receipted notice
    (a 通报, from a sweep before the ladder gave the unit its 督办单 too).
    """
    query = (
        select(Notice, col(SweepRun.as_of))
        .join(SweepRun, col(Notice.sweep_id) == SweepRun.id)
        .where(
            Notice.assignment_id == escalation.assignment_id,
            Notice.occurrence_id == escalation.occurrence_id,
            Notice.due == escalation.due,
            col(Notice.receipt_code).is_not(None),
        )
        .order_by(
            (col(Notice.level) != Level.SUPERVISE)
            | (col(Notice.recipient_code) != Notice.unit_code),
            col(Notice.id),
        )
    )
    row = session.exec(query).first()
    return (row[0], row[1]) if row is not None else None


def _assignees(
    session: Session, plan_id: int | None, units: dict[int | None, Unit]
) -> dict[int | None, list[dict[str, Any]]]:
    occurrences: dict[int | None, list[str]] = defaultdict(list)
    dated = (
        select(Occurrence)
        .join(Assignment, col(Occurrence.assignment_id) == Assignment.id)
        .where(Assignment.plan_id == plan_id, Occurrence.active)
        .order_by(col(Occurrence.due))
    )
    for occurrence in session.exec(dated):
        occurrences[occurrence.assignment_id].append(occurrence.due.isoformat())
    found: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    query = select(Assignment).where(Assignment.plan_id == plan_id, Assignment.active)
    for a in session.exec(query.order_by(col(Assignment.id))):
        found[a.task_id].append(
            {
                "unit": units[a.unit_id].name,
                "code": units[a.unit_id].code,
                "role": a.role,
                "state": a.state,
                "due": _iso(a.due),
                "occurrences": occurrences.get(a.id, []),
            }
        )
    return found


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None
