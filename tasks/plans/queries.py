"""Finding what is stored, and the read-only views that need the ORM: extension requests,
escalations, the notice that issued a 督办单.

They return plain dicts ready for JSON or a table, so the CLI and a later web page show the
same thing. A handful of queries per call, never one per row: these must feel instant. The
views behind `plans`, `show` and `tasks` are in `tasks.plans.views`, on plain Core rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from duban.errors import NotFound
from schemas.tables import (
    Assignment,
    Escalation,
    ExtensionRequest,
    Notice,
    Plan,
    SweepRun,
    Task,
    Unit,
)
from schemas.vocabulary import ExtensionState, Level


def find_plan(session: Session, code: str) -> Plan:
    plan = session.exec(select(Plan).where(Plan.code == code)).first()
    if plan is None:
        raise no_plan(session, code)
    return plan


def no_plan(session: Session, code: str) -> NotFound:
    """The error for a plan code that names no plan, listing the plans there are."""
    known = ", ".join(session.exec(select(Plan.code).order_by(Plan.code))) or "none imported"
    return NotFound(f'no plan "{code}" (plans: {known})')


def find_task(session: Session, plan: Plan, code: str) -> Task:
    """An active task of the plan, or NotFound naming it."""
    task = session.exec(
        select(Task).where(Task.plan_id == plan.id, Task.code == code, Task.active)
    ).first()
    if task is None:
        raise NotFound(f'no task "{code}" in plan {plan.code}')
    return task


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


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None
