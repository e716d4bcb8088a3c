"""The one place that changes an assignment: progress, submission, acceptance (办结), return,
extension requests (延期申请) and their decisions, waiver, cancellation and re-assignment.

The CLI, the flows and (later) the web pages call these functions and nothing else to change
work. Each call names its actor, is checked against what that actor may do and what the state
allows, changes nothing when refused, and leaves an audit event for every change. A decision
the unit must hear of (a return, an acceptance, an extension decision, a re-assignment) also
leaves a follow-up (tasks.work.followups) for the sweep to put into the unit's next letter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from calendars.workdays import CalendarError
from duban.errors import BadInput, Conflict, NotFound
from schemas.tables import (
    Assignment,
    Evidence,
    ExtensionRequest,
    JointMeetingSeat,
    Occurrence,
    Plan,
    ProgressReport,
    Submission,
    Task,
    Unit,
)
from schemas.vocabulary import (
    OCCURRENCE_WITH_UNIT,
    OPEN,
    Action,
    ActorKind,
    AssignmentState,
    Decision,
    ExtensionState,
    FollowUpEvent,
    OccurrenceState,
    Role,
    SeatRole,
)
from tasks.plans.queries import find_plan, find_task
from tasks.work import audit
from tasks.work.actors import Actor, Forbidden, check_allowed
from tasks.work.followups import record_followup
from tasks.work.states import OCCURRENCE_MOVES, next_state
from tasks.work.status import plan_calendar


class ConflictError(Conflict):
    """Someone else changed the same record first; reload and try again."""


class InvalidRequest(BadInput):
    """The request itself does not make sense (a new due date that is not later, say)."""


@dataclass
class Work:
    """An assignment with the rows around it that rules and audit events need."""

    plan: Plan
    task: Task
    unit: Unit
    assignment: Assignment

    def subject(self, entity: str = "assignment", entity_id: int | None = None) -> audit.Subject:
        return audit.Subject(
            entity, entity_id or self.assignment.id, self.plan.code, self.task.code, self.unit.code
        )


def resolve_actor(session: Session, plan_code: str, text: str) -> Actor:
    """ "office", "leadership", "system", or a unit of the plan by code, name or alias.

    A unit that holds the plan's office seat acts as the office, one holding the leadership
    seat as leadership.
    """
    if text in (ActorKind.OFFICE, ActorKind.LEADERSHIP, ActorKind.SYSTEM):
        return Actor(ActorKind(text), label=text)
    plan = find_plan(session, plan_code)
    unit = find_unit(session, plan, text)
    seats = {
        s.role
        for s in session.exec(
            select(JointMeetingSeat).where(
                JointMeetingSeat.plan_id == plan.id, JointMeetingSeat.unit_id == unit.id
            )
        )
    }
    label = f"{unit.name}({unit.code})"
    if SeatRole.OFFICE in seats:
        return Actor(ActorKind.OFFICE, unit.code, label)
    if SeatRole.LEADERSHIP in seats:
        return Actor(ActorKind.LEADERSHIP, unit.code, label)
    return Actor(ActorKind.UNIT, unit.code, label)


def find_unit(session: Session, plan: Plan, ref: str) -> Unit:
    units = session.exec(select(Unit).where(Unit.plan_id == plan.id, Unit.active)).all()
    for unit in units:
        if ref in (unit.code, unit.name, unit.full_name, *unit.aliases):
            return unit
    raise NotFound(f'no unit "{ref}" in plan {plan.code}')


def find_work(
    session: Session,
    plan_code: str,
    task_code: str,
    unit_ref: str | None,
    actor: Actor | None = None,
) -> Work:
    """The active assignment of a unit on a task; the acting unit's own when none is named."""
    plan = find_plan(session, plan_code)
    task = find_task(session, plan, task_code)
    rows = session.exec(
        select(Assignment, Unit)
        .join(Unit, col(Assignment.unit_id) == Unit.id)
        .where(Assignment.task_id == task.id, Assignment.active)
    ).all()
    if unit_ref is None and actor is not None and actor.kind == ActorKind.UNIT:
        unit_ref = actor.unit
    if unit_ref is None:
        if len(rows) == 1:
            return Work(plan, task, rows[0][1], rows[0][0])
        names = "、".join(u.name for _, u in rows) or "nobody"
        raise InvalidRequest(f"task {task_code} is assigned to {names}: name the unit")
    unit = find_unit(session, plan, unit_ref)
    for assignment, holder in rows:
        if holder.id == unit.id:
            return Work(plan, task, unit, assignment)
    raise NotFound(f"{unit.name} has no assignment on task {task_code} of plan {plan_code}")


def report_progress(
    session: Session,
    *,
    actor: Actor,
    plan: str,
    task: str,
    note: str,
    at: dt.datetime,
    unit: str | None = None,
    task_wide: bool = False,
    evidence: Sequence[Path] = (),
    evidence_dir: Path | None = None,
) -> ProgressReport:
    """进展反馈; the first report moves the assignment from not started to in progress."""
    work = find_work(session, plan, task, unit, actor)
    check_allowed(actor, Action.PROGRESS, unit=work.unit.code)
    if task_wide and work.assignment.role != Role.LEAD:
        raise Forbidden(f"only the lead unit may report on task {task} as a whole")
    with _changing(session, work, actor, Action.PROGRESS, at):
        _move(work.assignment, Action.PROGRESS, at)
        assert work.assignment.id is not None
        report = ProgressReport(
            assignment_id=work.assignment.id,
            task_wide=task_wide,
            note=_required(note, "note"),
            reported_by=str(actor),
            reported_at=at,
        )
        session.add(report)
        session.flush()
        _attach(session, evidence, evidence_dir, progress_id=report.id)
    return report


def submit(
    session: Session,
    *,
    actor: Actor,
    plan: str,
    task: str,
    note: str,
    at: dt.datetime,
    unit: str | None = None,
    occurrence: dt.date | None = None,
    evidence: Sequence[Path] = (),
    evidence_dir: Path | None = None,
    expected_version: int | None = None,
) -> Submission:
    """The unit says it is done: with the assignment, or with one dated occurrence of it."""
    work = find_work(session, plan, task, unit, actor)
    check_allowed(actor, Action.SUBMIT, unit=work.unit.code)
    _expect(work.assignment, expected_version)
    dated = _occurrence(session, work, occurrence, want=OCCURRENCE_WITH_UNIT)
    with _changing(session, work, actor, Action.SUBMIT, at, dated):
        if dated is not None:
            dated.state = next_state(
                dated.state, Action.SUBMIT, moves=OCCURRENCE_MOVES, what="report occurrence"
            )
            if work.assignment.state in (AssignmentState.NOT_STARTED, AssignmentState.RETURNED):
                _move(work.assignment, Action.PROGRESS, at)
        else:
            _move(work.assignment, Action.SUBMIT, at)
        assert work.assignment.id is not None
        submission = Submission(
            assignment_id=work.assignment.id,
            occurrence_id=dated.id if dated else None,
            note=_required(note, "note"),
            submitted_by=str(actor),
            submitted_at=at,
        )
        session.add(submission)
        session.flush()
        _attach(session, evidence, evidence_dir, submission_id=submission.id)
    return submission


def accept(
    session: Session,
    *,
    actor: Actor,
    plan: str,
    task: str,
    unit: str | None,
    at: dt.datetime,
    occurrence: dt.date | None = None,
    expected_version: int | None = None,
) -> Submission:
    """办结: the office accepts what was submitted."""
    return _decide(
        session, actor, plan, task, unit, at, occurrence, expected_version, Action.ACCEPT, None
    )


def return_submission(
    session: Session,
    *,
    actor: Actor,
    plan: str,
    task: str,
    unit: str | None,
    reason: str,
    at: dt.datetime,
    occurrence: dt.date | None = None,
    expected_version: int | None = None,
) -> Submission:
    """退回: the office sends a submission back with its reason; the unit works on."""
    return _decide(
        session,
        actor,
        plan,
        task,
        unit,
        at,
        occurrence,
        expected_version,
        Action.RETURN,
        _required(reason, "reason"),
    )


def request_extension(
    session: Session,
    *,
    actor: Actor,
    plan: str,
    task: str,
    new_due: dt.date,
    reason: str,
    at: dt.datetime,
    unit: str | None = None,
) -> ExtensionRequest:
    work = find_work(session, plan, task, unit, actor)
    check_allowed(actor, Action.REQUEST_EXTENSION, unit=work.unit.code)
    assignment = work.assignment
    if assignment.state not in OPEN:
        raise InvalidRequest(
            f"task {task} is {assignment.state} for {work.unit.name}: nothing to extend"
        )
    try:
        plan_calendar(work.plan).is_workday(new_due)
    except CalendarError as exc:
        raise InvalidRequest(str(exc)) from None
    if assignment.due is not None and new_due <= assignment.due:
        raise InvalidRequest(
            f"the new due date {new_due} must be later than the current {assignment.due}"
        )
    pending = session.exec(
        select(ExtensionRequest).where(
            ExtensionRequest.assignment_id == assignment.id,
            ExtensionRequest.state == ExtensionState.REQUESTED,
        )
    ).first()
    if pending is not None:
        raise InvalidRequest(f"extension request {pending.id} is still waiting for a decision")
    assert assignment.id is not None
    request = ExtensionRequest(
        assignment_id=assignment.id,
        current_due=assignment.due,
        requested_due=new_due,
        reason=_required(reason, "reason"),
        requested_by=str(actor),
        requested_at=at,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=str(actor),
        person=actor.person,
        channel=actor.channel,
        action=Action.REQUEST_EXTENSION,
        at=at,
        subject=work.subject("extension", request.id),
        before=None,
        after={"requested_due": new_due.isoformat(), "reason": reason},
    )
    return request


def decide_extension(
    session: Session,
    *,
    actor: Actor,
    plan: str,
    request_id: int,
    approve: bool,
    reason: str,
    at: dt.datetime,
) -> ExtensionRequest:
    """Approve (the due date moves; the original is kept) or deny (with a reason)."""
    request = session.get(ExtensionRequest, request_id)
    assignment = session.get(Assignment, request.assignment_id) if request else None
    work = _work_of(session, assignment) if assignment else None
    if request is None or assignment is None or work is None or work.plan.code != plan:
        raise NotFound(f"no extension request {request_id} in plan {plan}")
    check_allowed(actor, Action.DECIDE_EXTENSION, unit=work.unit.code)
    if request.state != ExtensionState.REQUESTED:
        raise InvalidRequest(f"extension request {request_id} was already {request.state}")
    if approve and work.assignment.state not in OPEN:
        raise InvalidRequest(
            f"task {work.task.code} is already {work.assignment.state} for "
            f"{work.unit.name}: deny the request instead"
        )
    if not approve:
        _required(reason, "reason")
    decided = Action.APPROVE_EXTENSION if approve else Action.DENY_EXTENSION
    with _changing(session, work, actor, decided, at):
        request.state = ExtensionState.APPROVED if approve else ExtensionState.DENIED
        request.decided_by, request.decided_at = str(actor), at
        request.decision_reason = reason or None
        if approve:
            assignment.due = request.requested_due
            assignment.updated_at = at
        session.add(request)
    record_followup(
        session,
        event=FollowUpEvent.EXTENSION_APPROVED if approve else FollowUpEvent.EXTENSION_DENIED,
        plan=plan,
        assignment_id=assignment.id,
        recipient=work.unit.code,
        actor=actor,
        at=at,
        reason=reason,
        due=request.requested_due,
    )
    return request


def close(
    session: Session,
    *,
    actor: Actor,
    plan: str,
    task: str,
    unit: str | None,
    how: str,
    reason: str,
    at: dt.datetime,
) -> list[Assignment]:
    """Waive or cancel one unit's assignment, or every open assignment of the task."""
    if how not in (Action.WAIVE, Action.CANCEL):
        raise InvalidRequest(f"close how: waive or cancel, not {how}")
    targets = (
        [find_work(session, plan, task, unit)]
        if unit is not None
        else _open_work(session, plan, task)
    )
    check_allowed(actor, how, unit=None)
    _required(reason, "reason")
    for work in targets:
        with _changing(session, work, actor, how, at):
            _move(work.assignment, how, at)
            work.assignment.closed_reason = reason
    return [w.assignment for w in targets]


def reassign(
    session: Session,
    *,
    actor: Actor,
    plan: str,
    task: str,
    from_unit: str,
    to_unit: str,
    reason: str,
    at: dt.datetime,
) -> Assignment:
    """Give a unit's assignment to another unit: the old one is cancelled, history kept."""
    check_allowed(actor, Action.REASSIGN, unit=None)
    work = find_work(session, plan, task, from_unit)
    receiver = find_unit(session, work.plan, to_unit)
    _required(reason, "reason")
    held = session.exec(
        select(Assignment).where(
            Assignment.task_id == work.task.id,
            Assignment.unit_id == receiver.id,
            Assignment.role == work.assignment.role,
        )
    ).first()
    if held is not None and held.active and held.state in OPEN:
        raise InvalidRequest(
            f"{receiver.name} already holds a {work.assignment.role} assignment on task {task}"
        )
    with _changing(session, work, actor, Action.CANCEL, at):
        _move(work.assignment, Action.CANCEL, at)
        work.assignment.closed_reason = f"re-assigned to {receiver.name}: {reason}"
    old = work.assignment
    assert receiver.id is not None
    new = held or Assignment(
        plan_id=old.plan_id, task_id=old.task_id, unit_id=receiver.id, role=old.role
    )
    new.state, new.active, new.closed_reason = (
        AssignmentState.NOT_STARTED,
        True,
        None,
    )  # handed back: reopened
    new.replaces_id = old.id  # so a re-import of the plan keeps the re-assignment
    new.original_due, new.due = old.original_due, old.due
    session.add(new)
    session.flush()
    assert new.id is not None
    have = set(session.exec(select(col(Occurrence.due)).where(Occurrence.assignment_id == new.id)))
    for dated in session.exec(
        select(Occurrence).where(Occurrence.assignment_id == old.id, Occurrence.active)
    ).all():
        if dated.due not in have:  # the receiver owes the same dated reports
            session.add(Occurrence(assignment_id=new.id, due=dated.due, state=dated.state))
    audit.record(
        session,
        actor=str(actor),
        person=actor.person,
        channel=actor.channel,
        action=Action.REASSIGN,
        at=at,
        subject=Work(work.plan, work.task, receiver, new).subject(),
        before={"unit": work.unit.code},
        after=_snapshot(new),
    )
    for event, held_by, recipient, other in (
        (FollowUpEvent.REASSIGNED_AWAY, old, work.unit, receiver),
        (FollowUpEvent.REASSIGNED_TO, new, receiver, work.unit),
    ):  # both units are told: the one that gave the work up and the one that has it now
        record_followup(
            session,
            event=event,
            plan=plan,
            assignment_id=held_by.id,
            recipient=recipient.code,
            other_unit=other.code,
            actor=actor,
            at=at,
            reason=reason,
        )
    return new


def _decide(
    session: Session,
    actor: Actor,
    plan: str,
    task: str,
    unit: str | None,
    at: dt.datetime,
    occurrence: dt.date | None,
    expected_version: int | None,
    move: str,
    reason: str | None,
) -> Submission:
    work = find_work(session, plan, task, unit)
    check_allowed(actor, move, unit=work.unit.code)
    _expect(work.assignment, expected_version)
    dated = _occurrence(session, work, occurrence, want=(OccurrenceState.SUBMITTED,))
    if dated is None:
        next_state(work.assignment.state, move)  # refuse a wrong move before anything else
    submission = session.exec(
        select(Submission)
        .where(
            Submission.assignment_id == work.assignment.id,
            Submission.occurrence_id == (dated.id if dated else None),
            col(Submission.decision).is_(None),
        )
        .order_by(col(Submission.id).desc())
    ).first()
    if submission is None:
        raise InvalidRequest(f"nothing submitted by {work.unit.name} on task {task}")
    with _changing(session, work, actor, move, at, dated):
        if dated is not None:
            dated.state = next_state(
                dated.state, move, moves=OCCURRENCE_MOVES, what="report occurrence"
            )
            _settle_recurring(session, work, at)
        else:
            _move(work.assignment, move, at)
        submission.decision = Decision.ACCEPTED if move == Action.ACCEPT else Decision.RETURNED
        submission.decision_reason, submission.decided_by = reason, str(actor)
        submission.decided_at = at
        session.add(submission)
    record_followup(
        session,
        event=FollowUpEvent.ACCEPTED if move == Action.ACCEPT else FollowUpEvent.RETURNED,
        plan=work.plan.code,
        assignment_id=work.assignment.id,
        occurrence_id=dated.id if dated else None,
        recipient=work.unit.code,
        actor=actor,
        at=at,
        reason=reason,
    )
    return submission


def _settle_recurring(session: Session, work: Work, at: dt.datetime) -> None:
    """A recurring assignment is accepted once every one of its dated reports is; ongoing
    items (no final due date) stay open until the office closes them."""
    if work.task.deadline_kind == "ongoing":
        return
    states = session.exec(
        select(Occurrence.state).where(
            Occurrence.assignment_id == work.assignment.id, Occurrence.active
        )
    ).all()
    if states and all(s == OccurrenceState.ACCEPTED for s in states):
        if work.assignment.state != AssignmentState.SUBMITTED:
            _move(work.assignment, Action.SUBMIT, at)
        _move(work.assignment, Action.ACCEPT, at)


def _occurrence(
    session: Session, work: Work, day: dt.date | None, want: Sequence[str]
) -> Occurrence | None:
    """The dated occurrence meant: the one given, or the earliest in a wanted state."""
    rows = session.exec(
        select(Occurrence)
        .where(Occurrence.assignment_id == work.assignment.id, Occurrence.active)
        .order_by(col(Occurrence.due))
    ).all()
    if not rows:
        if day is not None:
            raise InvalidRequest(f"task {work.task.code} has no dated occurrences")
        return None
    if day is not None:
        for row in rows:
            if row.due == day:
                return row
        dates = ", ".join(r.due.isoformat() for r in rows)
        raise NotFound(f"task {work.task.code} has no occurrence on {day}; it has {dates}")
    for row in rows:
        if row.state in want:
            return row
    raise InvalidRequest(
        f"no occurrence of task {work.task.code} for {work.unit.name} is {' or '.join(want)}"
    )


def _open_work(session: Session, plan: str, task: str) -> list[Work]:
    row = find_task(session, find_plan(session, plan), task)
    return [
        _work_of(session, a)
        for a in session.exec(
            select(Assignment).where(
                Assignment.task_id == row.id,
                Assignment.active,
                col(Assignment.state).in_(OPEN),
            )
        )
    ]


def _work_of(session: Session, assignment: Assignment) -> Work:
    task = session.get(Task, assignment.task_id)
    unit = session.get(Unit, assignment.unit_id)
    plan = session.get(Plan, assignment.plan_id)
    assert task is not None and unit is not None and plan is not None
    return Work(plan, task, unit, assignment)


def _move(assignment: Assignment, move: str, at: dt.datetime) -> None:
    assignment.state = next_state(assignment.state, move)
    assignment.updated_at = at


def _expect(assignment: Assignment, expected_version: int | None) -> None:
    if expected_version is not None and assignment.version != expected_version:
        raise ConflictError(
            f"the assignment changed since you read it (version "
            f"{expected_version}, now {assignment.version}): reload and retry"
        )


def _required(text: str | None, name: str) -> str:
    if not text or not text.strip():
        raise InvalidRequest(f"a {name} is required")
    return text.strip()


def _snapshot(assignment: Assignment, occurrence: Occurrence | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "state": assignment.state,
        "due": _iso(assignment.due),
        "original_due": _iso(assignment.original_due),
        "role": assignment.role,
    }
    if assignment.closed_reason:
        found["closed_reason"] = assignment.closed_reason
    if occurrence is not None:
        found["occurrence"] = {"due": occurrence.due.isoformat(), "state": occurrence.state}
    return found


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


@contextmanager
def _changing(
    session: Session,
    work: Work,
    actor: Actor,
    action: str,
    at: dt.datetime,
    occurrence: Occurrence | None = None,
) -> Iterator[None]:
    """Apply a change, write it, and record it; a concurrent writer's win becomes a conflict."""
    before = _snapshot(work.assignment, occurrence)
    what = f"task {work.task.code} of {work.unit.name}"  # read now: a failed flush expires rows
    try:
        yield
        session.add(work.assignment)
        if occurrence is not None:
            session.add(occurrence)
        session.flush()
    except StaleDataError:
        raise ConflictError(
            f"{what} was changed by someone else at the same time: reload and retry"
        ) from None
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        raise ConflictError(f"{what} is being changed by someone else: retry") from None
    audit.record(
        session,
        actor=str(actor),
        person=actor.person,
        channel=actor.channel,
        action=action,
        subject=work.subject(),
        at=at,
        before=before,
        after=_snapshot(work.assignment, occurrence),
    )


def _attach(
    session: Session, files: Sequence[Path], folder: Path | None, **owner: int | None
) -> None:
    """Copy evidence into the managed folder under its SHA-256; keep name, size and hash."""
    if files and folder is None:
        raise InvalidRequest("evidence needs an evidence folder (settings: home)")
    missing = [str(path) for path in files if not path.is_file()]
    if missing:  # checked before any file is copied, so a refusal leaves nothing behind
        raise InvalidRequest(f"evidence file(s) not found: {', '.join(missing)}")
    for path in files:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert folder is not None
        stored = folder / digest[:2] / digest
        if not stored.exists():
            stored.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, stored)
        session.add(Evidence(name=path.name, size=path.stat().st_size, sha256=digest, **owner))
