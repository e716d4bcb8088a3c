"""Mail that follows the work: what the sweep adds to each recipient's letter of the day besides
its notices. A unit hears of the decisions on its work since its last letter (the follow-ups
tasks.work.followups records in each decision's transaction); the joint meeting office hears
what waits for its decision, submissions to accept and extension requests, oldest first.

Each follow-up is mailed once: the sweep claims the follow-ups no sweep has taken (one UPDATE,
which a concurrent sweep cannot win too: it waits for the first to commit and then finds them
taken) in the same transaction that writes the letters, and names the letter each went into.
The office's queue is mailed once a day: the letter carrying it has a Message-ID made of the
plan, the office and the day, unique in the outbox, so a second sweep that day finds it and a
concurrent one fails on it and retries (tasks.sweep.pipeline.record_sweep).

Follow-ups wait for a sweep of a working day of their plan: one made after the morning's sweep,
or on a rest day, goes out with the next working morning's letter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy
from sqlalchemy import ColumnElement, Select, update
from sqlalchemy.orm import Mapped, aliased
from sqlmodel import Session, col, select

from calendars.clock import day_of
from calendars.workdays import WorkCalendar
from schemas.tables import (
    Assignment,
    ExtensionRequest,
    FollowUp,
    Occurrence,
    OutboxMessage,
    Plan,
    Submission,
    Task,
    Unit,
)
from schemas.vocabulary import ExtensionState, FollowUpEvent, Waiting
from tasks.sweep.notices import FollowUpItem, WaitingItem

NOTE_SHOWN = 200  # characters of a unit's note quoted in the office's queue
Followups = Select[*tuple[Any, ...]]  # a query of follow-ups and what their letters say


@dataclass(frozen=True)
class Pending:
    """A follow-up on its way: the row, the letter it goes into, what that letter says of it."""

    id: int
    plan_code: str
    recipient_code: str
    item: FollowUpItem

    def as_json(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient_code,
            "event": self.item.event,
            "plan": self.plan_code,
            "task": self.item.task_code,
        }


def claim_followups(session: Session, *, sweep_id: int, plans: Collection[str]) -> list[Pending]:
    """Take every follow-up of `plans` that no sweep has taken, for the sweep `sweep_id`."""
    session.connection().execute(_CLAIM, {"sweep": sweep_id, "plans": list(plans)})
    return _read(session, _CLAIMED, sweep=sweep_id)


def pending_followups(session: Session, *, plans: Collection[str]) -> list[Pending]:
    """What a sweep of `plans` would take now (a dry run takes nothing)."""
    return _read(session, _UNCLAIMED, plans=list(plans))


def mark_bundled(session: Session, letters: Iterable[tuple[int, Sequence[Pending]]]) -> None:
    """Name the letter (a written outbox message, by id) each follow-up went into."""
    for message_id, followups in letters:
        if followups:
            session.exec(
                update(FollowUp)
                .where(col(FollowUp.id).in_([p.id for p in followups]))
                .values(message_id=message_id)
            )


def _followups(which: ColumnElement[bool]) -> Followups:
    """The follow-ups `which` picks, with what their letters say of them."""
    other = aliased(Unit)
    return (
        sqlalchemy.select(
            FollowUp,
            col(Plan.title),
            col(Plan.document_number),
            col(Plan.timezone),
            col(Task.code),
            col(Task.title),
            col(Unit.name),
            col(Assignment.role),
            col(Occurrence.due),
            col(other.name),
        )
        .join(Assignment, col(FollowUp.assignment_id) == Assignment.id)
        .join(Task, col(Assignment.task_id) == Task.id)
        .join(Unit, col(Assignment.unit_id) == Unit.id)
        .join(Plan, col(Assignment.plan_id) == Plan.id)
        .outerjoin(Occurrence, col(FollowUp.occurrence_id) == Occurrence.id)
        .outerjoin(
            other,
            (col(other.plan_id) == Plan.id) & (col(other.code) == col(FollowUp.other_unit_code)),
        )
        .where(which)
        .order_by(col(FollowUp.id))
    )


# Built once: a replay sweeps hundreds of days in one process, and building these costs more
# than running them.
_NOT_TAKEN = col(FollowUp.sweep_id).is_(None) & col(FollowUp.plan_code).in_(
    sqlalchemy.bindparam("plans", expanding=True)
)
_CLAIM = update(FollowUp).where(_NOT_TAKEN).values(sweep_id=sqlalchemy.bindparam("sweep"))
_CLAIMED = _followups(col(FollowUp.sweep_id) == sqlalchemy.bindparam("sweep"))
_UNCLAIMED = _followups(_NOT_TAKEN)


def _read(session: Session, query: Followups, **parameters: object) -> list[Pending]:
    found = []
    for row in session.execute(query, parameters):
        (followup, title, number, zone, task, task_title, unit, role, dated, other_name) = row
        assert followup.id is not None
        item = FollowUpItem(
            plan_code=followup.plan_code,
            plan_title=title,
            document_number=number,
            task_code=task,
            task_title=task_title,
            unit_name=unit,
            role=role,
            event=FollowUpEvent(followup.event),
            decided_on=day_of(followup.at, zone),
            reason=followup.reason,
            due=followup.due,
            other_unit=other_name or followup.other_unit_code,
            occurrence=dated,
            assignment_id=followup.assignment_id,
        )
        found.append(Pending(followup.id, followup.plan_code, followup.recipient_code, item))
    return found


def office_queue(
    session: Session, *, calendars: Mapping[str, WorkCalendar], as_of: dt.date
) -> dict[str, list[WaitingItem]]:
    """What waits for each plan's office (the plans of `calendars`), oldest first: submissions
    not yet accepted or returned, and extension requests not yet decided."""
    plans = {"plans": list(calendars)}
    waiting: dict[str, list[tuple[dt.datetime, WaitingItem]]] = defaultdict(list)
    for at, note, dated, *facts in session.execute(_SUBMISSIONS, plans):
        item = _waiting(Waiting.SUBMISSION, at, note, facts, calendars, as_of, occurrence=dated)
        waiting[item.plan_code].append((at, item))
    for at, reason, asked, *facts in session.execute(_REQUESTS, plans):
        item = _waiting(Waiting.EXTENSION, at, reason, facts, calendars, as_of, requested=asked)
        waiting[item.plan_code].append((at, item))
    return {
        plan: [item for _, item in sorted(found, key=lambda pair: pair[0])]
        for plan, found in waiting.items()
    }


# What the office's queue says of the assignment a submission or a request is about.
_FACTS = (
    col(Plan.code),
    col(Plan.title),
    col(Plan.document_number),
    col(Plan.timezone),
    col(Task.code),
    col(Task.title),
    col(Unit.name),
    col(Assignment.role),
    col(Assignment.due),
    col(Assignment.id),
)


def _around(query: Any, assignment_id: Mapped[int]) -> Any:
    """`query` joined to the active assignment it is about, in one of the plans asked for."""
    return (
        query.join(Assignment, assignment_id == col(Assignment.id))
        .join(Task, col(Assignment.task_id) == Task.id)
        .join(Unit, col(Assignment.unit_id) == Unit.id)
        .join(Plan, col(Assignment.plan_id) == Plan.id)
        .where(
            col(Assignment.active),
            col(Plan.code).in_(sqlalchemy.bindparam("plans", expanding=True)),
        )
    )


_SUBMISSIONS = _around(
    sqlalchemy.select(
        col(Submission.submitted_at), col(Submission.note), col(Occurrence.due), *_FACTS
    )
    .select_from(Submission)
    .outerjoin(Occurrence, col(Submission.occurrence_id) == Occurrence.id),
    col(Submission.assignment_id),
).where(col(Submission.decision).is_(None))
_REQUESTS = _around(
    sqlalchemy.select(
        col(ExtensionRequest.requested_at),
        col(ExtensionRequest.reason),
        col(ExtensionRequest.requested_due),
        *_FACTS,
    ).select_from(ExtensionRequest),
    col(ExtensionRequest.assignment_id),
).where(col(ExtensionRequest.state) == ExtensionState.REQUESTED)


def _waiting(
    kind: Waiting,
    at: dt.datetime,
    note: str,
    facts: list[Any],
    calendars: Mapping[str, WorkCalendar],
    as_of: dt.date,
    *,
    occurrence: dt.date | None = None,
    requested: dt.date | None = None,
) -> WaitingItem:
    plan, title, number, zone, task, task_title, unit, role, due, assignment_id = facts
    since = day_of(at, zone)
    waited = calendars[plan].workdays_between(since, as_of) if since < as_of else 0
    return WaitingItem(
        plan_code=plan,
        plan_title=title,
        document_number=number,
        task_code=task,
        task_title=task_title,
        unit_name=unit,
        role=role,
        kind=kind,
        since=since,
        waited_workdays=waited,
        note=note if len(note) <= NOTE_SHOWN else note[: NOTE_SHOWN - 1].rstrip() + "…",
        due=due,
        requested_due=requested,
        occurrence=occurrence,
        assignment_id=assignment_id,
    )


def daily_header(plan: str, recipient: str, as_of: dt.date, sender: str) -> str:
    """The Message-ID of the letter that carries a recipient's queue of `as_of`: made of what it
    is, so it is unique in the outbox and the queue is mailed once that day."""
    digest = hashlib.sha256(f"{plan}:{recipient}".encode()).hexdigest()[:16]
    return f"<duban.{as_of:%Y%m%d}.{digest}@{sender.rsplit('@', 1)[-1]}>"


def mailed(session: Session, header: str) -> bool:
    """Whether a letter with this Message-ID is in the outbox already."""
    found = session.exec(select(OutboxMessage.id).where(OutboxMessage.message_id_header == header))
    return found.first() is not None
