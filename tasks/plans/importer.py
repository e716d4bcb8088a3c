"""Writing a resolved plan into the database, in one transaction, and saying what changed.

Re-importing a revised plan updates rows in place: an assignment keeps its id, state and
history; what the revision drops is marked inactive, not deleted. A change of calendar data
alone never moves a stored date here: that is `recalc`'s job, done only when asked.

What the office did stands: an assignment it re-assigned stays with the unit it went to (for as
long as the plan still names the one it replaced), and a dated report whose date the revision
moves keeps its submission and acceptance. Every import is an audit event with its changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from bisect import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlmodel import Session, col, select

from schemas.tables import (
    Assignment,
    Dependency,
    ImportRecord,
    JointMeetingSeat,
    Occurrence,
    Phase,
    Plan,
    Task,
    Unit,
    UnitGroup,
)
from schemas.vocabulary import ActorKind, Operation, Role
from tasks.plans.changes import plan_file_changes
from tasks.plans.horizon import resolve_within_calendar
from tasks.plans.lint import lint_plan
from tasks.plans.reader import read_plan_file
from tasks.plans.resolution import ResolvedAssignment, ResolvedPlan, ResolvedTask
from tasks.plans.table import is_table, read_plan_table
from tasks.work import audit
from tasks.work.actors import Actor

Coded = TypeVar("Coded", Unit, UnitGroup, Phase, Task)
Key = tuple[str, str]  # (unit code, role): an assignment as the plan names it
THE_OFFICE = Actor(ActorKind.OFFICE)  # who imports, when the caller names no one


@dataclass
class ImportReport:
    """What an import did (or, dry, would do)."""

    plan: str
    created: bool
    dry_run: bool
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tasks: int = 0
    assignments: int = 0
    record: int | None = None  # the ImportRecord written


def record_import(
    session: Session,
    report: ImportReport,
    *,
    action: Operation,
    by: Actor,
    at: dt.datetime,
    details: dict[str, Any],
) -> None:
    """The import (or recalculation) into the audit trail, with every change it made."""
    audit.record(
        session,
        actor=str(by),
        person=by.person,
        channel=by.channel,
        action=action,
        subject=audit.Subject("import", report.record, report.plan),
        at=at,
        after={**details, "created": report.created, "changes": report.changes},
    )


def load_plan(path: Path, *, calendar_dir: Path | None = None) -> ResolvedPlan:
    """Read, validate and resolve a plan file (YAML, or a task table) without a database."""
    spec, locator = read_plan_table(path) if is_table(path) else read_plan_file(path)
    return resolve_within_calendar(spec, locator, calendar_dir=calendar_dir)


def import_plan(
    session: Session,
    path: Path,
    *,
    at: dt.datetime,
    dry_run: bool = False,
    calendar_dir: Path | None = None,
    by: Actor = THE_OFFICE,
    supervise_from: dt.date | None = None,
) -> ImportReport:
    """Import or re-import the plan at `path` at the instant `at`, as `by`; on a dry run, roll
    everything back. `supervise_from` (`duban import --from`) overrides the file's: a plan
    adopted under way is supervised from that day."""
    plan = load_plan(path, calendar_dir=calendar_dir)
    if supervise_from is not None:
        plan.spec.plan.supervise_from = supervise_from
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    report = write_plan(session, plan, at=at, source_path=str(path), source_sha256=digest)
    record_import(
        session,
        report,
        action=Operation.IMPORT,
        by=by,
        at=at,
        details={"file": str(path), "sha256": digest, "calendar": plan.calendar.version},
    )
    report.warnings = [str(w) for w in lint_plan(plan)]
    report.dry_run = dry_run
    if dry_run:
        session.rollback()
    return report


def write_plan(
    session: Session,
    plan: ResolvedPlan,
    *,
    at: dt.datetime,
    source_path: str | None = None,
    source_sha256: str | None = None,
    recalculate: bool = False,
) -> ImportReport:
    meta = plan.spec.plan
    row = session.exec(select(Plan).where(Plan.code == meta.code)).first()
    report = ImportReport(plan=meta.code, created=row is None, dry_run=False)
    spec = plan.spec.model_dump(mode="json")
    if row is None:
        row = Plan(code=meta.code, title=meta.title, calendar_version=plan.calendar.version)
        session.add(row)
    else:
        report.changes += plan_file_changes(row.spec, spec)
    row.title, row.document_number, row.issuer = meta.title, meta.document_number, meta.issuer
    row.issued, row.timezone = meta.issued, meta.timezone
    row.span_start, row.span_end = plan.span or (None, None)
    row.spec = spec
    row.source_path, row.source_sha256 = source_path, source_sha256
    row.imported_at = at
    session.flush()
    assert row.id is not None
    units = _write_units(session, row.id, plan, report)
    _write_groups(session, row.id, plan)
    _write_seats(session, row.id, plan, units)
    _write_phases(session, row.id, plan)
    if report.created:
        tasks = _write_new_plans_work(session, row.id, plan, units, report, at)
    else:
        tasks = _write_tasks(session, row.id, plan, units, report, recalculate, at)
    _write_dependencies(session, row.id, plan, tasks)
    row.calendar_version = plan.calendar.version
    record = ImportRecord(
        plan_id=row.id,
        source_path=source_path,
        source_sha256=source_sha256,
        calendar_version=plan.calendar.version,
        changes=report.changes,
    )
    session.add(record)
    session.flush()
    report.record = record.id
    report.tasks = len(plan.tasks)
    report.assignments = sum(len(t.assignments) for t in plan.tasks)
    return report


def _by_code(rows: Iterable[Coded]) -> dict[str, Coded]:
    return {r.code: r for r in rows}


def _write_units(
    session: Session, plan_id: int, plan: ResolvedPlan, report: ImportReport
) -> dict[str, Unit]:
    existing = _by_code(session.exec(select(Unit).where(Unit.plan_id == plan_id)))
    wanted = {u.code for u in plan.spec.units}
    for spec in plan.spec.units:
        unit = existing.get(spec.code)
        if unit is None:
            unit = existing[spec.code] = Unit(plan_id=plan_id, code=spec.code, name=spec.name)
            if not report.created:
                report.changes.append(f"unit {spec.code} ({spec.name}) added")
        elif not unit.active:
            report.changes.append(f"unit {spec.code} ({spec.name}) restored")
        unit.name, unit.full_name, unit.kind = spec.name, spec.full_name, spec.kind
        unit.parent_code, unit.aliases = spec.parent, list(spec.aliases)
        unit.emails, unit.contact_role, unit.active = (
            [str(e) for e in spec.emails],
            spec.contact_role,
            True,
        )
        session.add(unit)
    for code, unit in existing.items():
        if code not in wanted and unit.active:
            unit.active = False
            report.changes.append(f"unit {code} ({unit.name}) removed")
    session.flush()
    return existing


def _write_groups(session: Session, plan_id: int, plan: ResolvedPlan) -> None:
    existing = _by_code(session.exec(select(UnitGroup).where(UnitGroup.plan_id == plan_id)))
    for spec in plan.spec.groups:
        group = existing.pop(spec.code, None) or UnitGroup(
            plan_id=plan_id, code=spec.code, name=spec.name
        )
        group.name, group.unit_codes = spec.name, list(plan.groups[spec.code])
        session.add(group)
    for stale in existing.values():
        session.delete(stale)


def _write_seats(
    session: Session, plan_id: int, plan: ResolvedPlan, units: dict[str, Unit]
) -> None:
    for seat in session.exec(select(JointMeetingSeat).where(JointMeetingSeat.plan_id == plan_id)):
        session.delete(seat)
    for resolved in plan.seats:
        session.add(
            JointMeetingSeat(
                plan_id=plan_id,
                unit_id=_id(units[resolved.unit]),
                role=resolved.role,
                person_name=resolved.person_name,
                person_title=resolved.person_title,
                liaison_name=resolved.liaison_name,
                liaison_title=resolved.liaison_title,
                liaison_email=resolved.liaison_email,
                liaison_phone=resolved.liaison_phone,
            )
        )


def _write_phases(session: Session, plan_id: int, plan: ResolvedPlan) -> None:
    existing = _by_code(session.exec(select(Phase).where(Phase.plan_id == plan_id)))
    for spec in plan.phases:
        phase = existing.pop(spec.code, None) or Phase(
            plan_id=plan_id,
            code=spec.code,
            kind=spec.kind,
            name=spec.name,
            window_text=spec.window_text,
        )
        phase.kind, phase.name, phase.window_text = spec.kind, spec.name, spec.window_text
        phase.start, phase.due, phase.position = spec.start, spec.due, spec.position
        session.add(phase)
    for stale in existing.values():
        session.delete(stale)


def _write_tasks(
    session: Session,
    plan_id: int,
    plan: ResolvedPlan,
    units: dict[str, Unit],
    report: ImportReport,
    recalculate: bool,
    at: dt.datetime,
) -> dict[str, int]:
    """A stored plan's tasks and their assignments, task by task, each compared with what is
    stored; the ids of its tasks by code."""
    existing = _by_code(session.exec(select(Task).where(Task.plan_id == plan_id)))
    unit_code = {u.id: code for code, u in units.items()}
    for spec in plan.tasks:
        task = existing.get(spec.code)
        if task is None:
            task = existing[spec.code] = Task(plan_id=plan_id, code=spec.code, title=spec.title)
            report.changes.append(f"task {spec.code} added")
        else:
            report.changes.extend(_task_changes(task, spec))
        keep_dates = (
            not recalculate
            and task.id is not None
            and task.deadline_text == _text(spec)
            and task.calendar_version not in (None, plan.calendar.version)
        )
        if keep_dates:
            report.changes.append(
                f"task {spec.code}: dates kept on calendar {task.calendar_version}; "
                f"`duban recalc {plan.code}` shows what the new calendar data would move"
            )
        for name, value in _task_fields(spec, plan, keep_calendar=keep_dates).items():
            setattr(task, name, value)
        session.add(task)
        session.flush()
        _write_assignments(
            session, plan_id, _id(task), spec, units, unit_code, report, keep_dates, at
        )
    kept = {t.code for t in plan.tasks}
    for code, task in existing.items():
        if code not in kept and task.active:
            task.active = False
            report.changes.append(f"task {code} removed")
            for assignment in session.exec(select(Assignment).where(Assignment.task_id == task.id)):
                assignment.active = False
    return {code: _id(task) for code, task in existing.items()}


def _text(spec: ResolvedTask) -> str | None:
    return spec.deadline.text if spec.deadline else None


def _task_changes(task: Task, spec: ResolvedTask) -> list[str]:
    changes = []
    if not task.active:
        changes.append(f"task {spec.code} restored")
    if (task.title, task.text) != (spec.title, spec.text):
        changes.append(f"task {spec.code} re-worded")
    if task.deadline_text != _text(spec):
        changes.append(f"task {spec.code} re-dated: {task.deadline_text!r} → {_text(spec)!r}")
    return changes


def _task_fields(spec: ResolvedTask, plan: ResolvedPlan, *, keep_calendar: bool) -> dict[str, Any]:
    """What the plan says of a task, as its row's columns; its calendar's version unless the
    stored dates are kept on the calendar they were worked out on."""
    deadline = spec.deadline
    fields = {
        "title": spec.title,
        "text": spec.text,
        "kind": spec.kind,
        "phase_code": spec.phase,
        "responsibility_text": spec.responsibility_text,
        "remarks": spec.remarks,
        "position": spec.position,
        "active": True,
        "deadline_text": deadline.text if deadline else None,
        "deadline_kind": deadline.kind if deadline else None,
        "start": deadline.start if deadline else None,
        "due": deadline.due if deadline else None,
        "rule": deadline.rule if deadline else None,
        "deadline_note": deadline.note if deadline else None,
    }
    if not keep_calendar:
        fields["calendar_version"] = plan.calendar.version if deadline else None
    return fields


def _write_assignments(
    session: Session,
    plan_id: int,
    task_id: int,
    spec: ResolvedTask,
    units: dict[str, Unit],
    unit_code: dict[int | None, str],
    report: ImportReport,
    keep_dates: bool,
    at: dt.datetime,
) -> None:
    wanted = _wanted(spec)
    rows = session.exec(select(Assignment).where(Assignment.task_id == task_id)).all()
    existing = {(unit_code[a.unit_id], a.role): a for a in rows}
    named = _named_leads(existing, wanted)
    owed = {  # what the plan asks of each: a re-assigned unit owes what the replaced one did
        **{key: a for key, a in wanted.items() if key not in named.values()},
        **{key: wanted[origin] for key, origin in _stand_ins(existing, wanted).items()},
        **{key: wanted[origin] for key, origin in named.items()},
    }
    added = [k for k in owed if k not in existing or not existing[k].active]
    dropped = [k for k, a in existing.items() if k not in owed and a.active]
    if rows and (added or dropped):
        report.changes.append(
            f"task {spec.code} re-assigned: "
            + ", ".join(
                [f"+{units[u].name}({r})" for u, r in added]
                + [f"-{units[u].name}({r})" for u, r in dropped]
            )
        )
    for key in dropped:
        existing[key].active = False
    fresh = {
        key: Assignment(**_fresh_row(plan_id, task_id, _id(units[key[0]]), key, resolved, at))
        for key, resolved in wanted.items()
        if key not in existing and key not in named.values()
    }
    session.add_all(fresh.values())
    for key, assignment in existing.items():
        if key in owed:
            assignment.active = True
            if not keep_dates:
                _move_due(assignment, owed[key], at)
    if keep_dates:
        return
    if any(resolved.occurrences for resolved in owed.values()) or rows:
        session.flush()
        _write_occurrences(session, {**existing, **fresh}, owed)


def _write_new_plans_work(
    session: Session,
    plan_id: int,
    plan: ResolvedPlan,
    units: dict[str, Unit],
    report: ImportReport,
    at: dt.datetime,
) -> dict[str, int]:
    """A new plan's tasks in one insert and its assignments in another, of plain rows (no
    object to build and track for each of 1,000 tasks and 10,000 assignments); work with
    dated reports takes the way a re-import takes, which writes the occurrences. The ids of
    its tasks by code."""
    session.flush()
    connection = session.connection()
    if plan.tasks:  # a plan may name its units and phases before its work
        connection.execute(
            insert(Task),
            [
                {
                    "plan_id": plan_id,
                    "code": spec.code,
                    **_task_fields(spec, plan, keep_calendar=False),
                }
                for spec in plan.tasks
            ],
        )
    ids = connection.execute(select(Task.code, Task.id).where(Task.plan_id == plan_id))
    tasks: dict[str, int] = dict(ids.all())
    unit_code = {u.id: code for code, u in units.items()}
    unit_id = {code: _id(unit) for code, unit in units.items()}
    plain = []
    for spec in plan.tasks:
        task = tasks[spec.code]
        if any(a.occurrences for a in spec.assignments):
            _write_assignments(session, plan_id, task, spec, units, unit_code, report, False, at)
        else:
            plain += [
                _fresh_row(plan_id, task, unit_id[k[0]], k, a, at) for k, a in _wanted(spec).items()
            ]
    if plain:
        connection.execute(insert(Assignment), plain)
    return tasks


def _wanted(spec: ResolvedTask) -> dict[Key, ResolvedAssignment]:
    return {(a.unit, a.role): a for a in spec.assignments}


def _fresh_row(
    plan_id: int,
    task_id: int,
    unit_id: int,
    key: Key,
    resolved: ResolvedAssignment,
    at: dt.datetime,
) -> dict[str, Any]:
    """A new assignment, made at the import's instant (not the clock's, read once per row)."""
    return {
        "plan_id": plan_id,
        "task_id": task_id,
        "unit_id": unit_id,
        "role": key[1],
        "original_due": resolved.due,
        "due": resolved.due,
        "created_at": at,
        "updated_at": at,
    }


def _stand_ins(
    existing: dict[Key, Assignment], wanted: dict[Key, ResolvedAssignment]
) -> dict[Key, Key]:
    """The office's re-assignments the plan does not name, each with the assignment of the
    plan it stands in for: the first the plan still names, back along what each replaced."""
    key_of = {a.id: key for key, a in existing.items()}
    by_id = {a.id: a for a in existing.values()}
    found: dict[Key, Key] = {}
    for key, receiver in existing.items():
        seen = {receiver.id}
        step = by_id.get(receiver.replaces_id)
        while key not in wanted and step is not None and step.id not in seen:
            if key_of[step.id] in wanted:
                found[key] = key_of[step.id]
                break
            seen.add(step.id)
            step = by_id.get(step.replaces_id)
    return found


def _named_leads(
    existing: dict[Key, Assignment], wanted: dict[Key, ResolvedAssignment]
) -> dict[Key, Key]:
    """Leads the office named (`duban lead`) on a task whose plan names none, each with the
    plan's assignment of the same unit it stands for, so a re-import keeps the named lead."""
    if any(role == Role.LEAD for _, role in wanted):
        return {}
    return {
        (unit, role): next(key for key in wanted if key[0] == unit)
        for (unit, role), assignment in existing.items()
        if role == Role.LEAD and assignment.active and any(key[0] == unit for key in wanted)
    }


def _move_due(assignment: Assignment, resolved: ResolvedAssignment, at: dt.datetime) -> None:
    """Follow the plan's new date, but keep an approved extension that runs later."""
    extended = assignment.due != assignment.original_due
    assignment.original_due = resolved.due
    if not extended or assignment.due is None or resolved.due is None:
        assignment.due = resolved.due
    else:
        assignment.due = max(assignment.due, resolved.due)
    assignment.updated_at = at


def _write_occurrences(
    session: Session,
    assignments: dict[Key, Assignment],
    owed: dict[Key, ResolvedAssignment],
) -> None:
    """Bring each assignment's dated occurrences in line with the plan, in one query. A date
    the plan moved takes its occurrence along, with what was submitted and accepted on it."""
    ids = [a.id for a in assignments.values()]
    stored: dict[int | None, dict[dt.date, Occurrence]] = {i: {} for i in ids}
    for row in session.exec(select(Occurrence).where(col(Occurrence.assignment_id).in_(ids))):
        stored[row.assignment_id][row.due] = row
    for key, assignment in assignments.items():
        existing = stored[assignment.id]
        days = owed[key].occurrences if key in owed else ()
        kept = sorted(day for day in days if day in existing)
        new = [day for day in days if day not in existing]
        gone = sorted(day for day, row in existing.items() if row.active and day not in days)
        for day in kept:
            occurrence = existing.pop(day)
            if not occurrence.active:
                occurrence.active = True
                session.add(occurrence)
        moves = _moved(gone, new, kept)
        for old, day in moves:
            occurrence = existing.pop(old)
            occurrence.due = day
            session.add(occurrence)
        moved_to = {day for _, day in moves}
        for day in new:
            if day not in moved_to:
                session.add(Occurrence(assignment_id=_id(assignment), due=day))
        for stale in existing.values():
            if stale.active:
                stale.active = False
                session.add(stale)


def _moved(
    gone: Sequence[dt.date], new: Sequence[dt.date], kept: Sequence[dt.date]
) -> list[tuple[dt.date, dt.date]]:
    """(old, new) for each date the plan moved: a date gone and a new one between the same two
    kept dates, paired in order. A date that would cross a kept one was dropped and another
    added, not moved."""
    pairs: list[tuple[dt.date, dt.date]] = []
    for gap in sorted({bisect(kept, day) for day in gone}):
        olds = [day for day in gone if bisect(kept, day) == gap]
        news = sorted(day for day in new if bisect(kept, day) == gap)
        pairs += zip(olds, news, strict=False)
    return pairs


def _write_dependencies(
    session: Session, plan_id: int, plan: ResolvedPlan, tasks: dict[str, int]
) -> None:
    for edge in session.exec(select(Dependency).where(Dependency.plan_id == plan_id)):
        session.delete(edge)
    session.flush()
    for spec in plan.tasks:
        for before in spec.depends_on:
            session.add(
                Dependency(
                    plan_id=plan_id,
                    task_id=tasks[spec.code],
                    depends_on_id=tasks[before],
                )
            )


def _id(row: Unit | Task | Assignment) -> int:
    """The id of a flushed row (the models say `int | None`: None only before the insert)."""
    assert row.id is not None
    return row.id
