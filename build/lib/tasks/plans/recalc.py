"""Recalculating stored due dates after the calendar data changed (a new State Council notice,
a correction): shown first, applied only when asked, each move with its reason, and the moves
applied recorded in the audit trail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from schemas.plan_file import PlanFile
from schemas.tables import Assignment, Occurrence, Task, Unit
from schemas.vocabulary import Operation
from tasks.plans.importer import THE_OFFICE, record_import, write_plan
from tasks.plans.queries import find_plan
from tasks.plans.reader import Locator
from tasks.plans.resolution import ResolvedPlan, resolve_plan
from tasks.work.actors import Actor


@dataclass(frozen=True)
class DateMove:
    plan: str
    task: str
    unit: str
    old: dt.date | None
    new: dt.date | None
    reason: str

    def __str__(self) -> str:
        return f"{self.plan} {self.task} {self.unit}: {self.old} → {self.new} ({self.reason})"


def date_moves(
    session: Session, plan_code: str, *, calendar_dir: Path | None = None
) -> list[DateMove]:
    """Every stored date the current calendar data would put elsewhere."""
    plan = find_plan(session, plan_code)
    resolved = resolve_stored(plan.spec, plan_code, calendar_dir=calendar_dir)
    tasks = {t.code: t for t in session.exec(select(Task).where(Task.plan_id == plan.id))}
    units = {u.id: u for u in session.exec(select(Unit).where(Unit.plan_id == plan.id))}
    stored: dict[tuple[int | None, str, str], Assignment] = {}
    query = select(Assignment).where(Assignment.plan_id == plan.id, Assignment.active)
    for a in session.exec(query):
        stored[(a.task_id, units[a.unit_id].code, a.role)] = a
    moves = []
    for task in resolved.tasks:
        row = tasks.get(task.code)
        if row is None:
            continue
        for wanted in task.assignments:
            have = stored.get((row.id, wanted.unit, wanted.role))
            if have is None:
                continue
            name = units[have.unit_id].name
            pairs = [(have.original_due, wanted.due)]
            old_occurrences = sorted(
                session.exec(
                    select(col(Occurrence.due)).where(
                        Occurrence.assignment_id == have.id, Occurrence.active
                    )
                )
            )
            if old_occurrences != list(wanted.occurrences):
                pairs += list(zip(old_occurrences, wanted.occurrences, strict=False))
            for old, new in dict.fromkeys(pairs):
                if old != new:
                    moves.append(
                        DateMove(
                            plan_code,
                            task.code,
                            name,
                            old,
                            new,
                            _why(resolved, old, new, row.calendar_version),
                        )
                    )
    return moves


def apply_recalc(
    session: Session,
    plan_code: str,
    *,
    at: dt.datetime,
    calendar_dir: Path | None = None,
    by: Actor = THE_OFFICE,
) -> list[DateMove]:
    """Move the stored dates to the current calendar data, as `by`; the moves made (none: then
    nothing is written)."""
    moves = date_moves(session, plan_code, calendar_dir=calendar_dir)
    if not moves:
        return moves
    plan = find_plan(session, plan_code)
    resolved = resolve_stored(plan.spec, plan_code, calendar_dir=calendar_dir)
    report = write_plan(
        session,
        resolved,
        at=at,
        source_path=plan.source_path,
        source_sha256=plan.source_sha256,
        recalculate=True,
    )
    details = {"calendar": resolved.calendar.version, "moves": [str(move) for move in moves]}
    record_import(session, report, action=Operation.RECALC, by=by, at=at, details=details)
    return moves


def resolve_stored(
    spec: dict[str, Any],
    plan_code: str,
    *,
    calendar_dir: Path | None = None,
) -> ResolvedPlan:
    """The plan as stored at its last import, resolved again on the current calendar data."""
    return resolve_plan(
        PlanFile.model_validate(spec),
        Locator(f"stored plan {plan_code}"),
        calendar_dir=calendar_dir,
    )


def _why(plan: ResolvedPlan, old: dt.date | None, new: dt.date | None, version: str | None) -> str:
    calendar = plan.calendar
    if old is not None and calendar.covers(old) and not calendar.is_workday(old):
        holiday = calendar.holiday_name(old)
        return f"{old} is now a rest day" + (f" ({holiday})" if holiday else "")
    if new is not None and old is not None and new < old:
        return f"{new} is now a working day"
    return f"calendar data {version} → {calendar.version}"
