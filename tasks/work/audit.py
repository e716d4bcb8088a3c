"""The audit trail: every change appended as an event, each event chained to the one before.

Each event stores the SHA-256 of its own content and of the previous event, so editing or
deleting any row breaks a link that `verify_chain` finds. Appends lock the one-row chain head,
so two writers at once still make one straight chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from calendars.clock import utc
from schemas.tables import AuditEvent, AuditHead

GENESIS = "0" * 64


@dataclass(frozen=True)
class Subject:
    """What an event is about, for finding it again: which plan, task and unit."""

    entity: str
    entity_id: int | None
    plan: str | None = None
    task: str | None = None
    unit: str | None = None


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: Subject,
    at: dt.datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    person: str | None = None,
    channel: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    `person` and `channel` say who, by name, acted through which door (web, link, cli).
    """
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
    event = AuditEvent(
        at=utc(at).isoformat(),
        actor=actor,
        action=action,
        entity=subject.entity,
        entity_id=subject.entity_id,
        plan_code=subject.plan,
        task_code=subject.task,
        unit_code=subject.unit,
        before=before,
        after=after,
        prev_hash=head.last_hash,
        hash="",
        person=person,
        channel=channel,
    )
    session.add(event)
    session.flush()
    event.hash = event_hash(event)
    head.last_id, head.last_hash = event.id or 0, event.hash
    session.add(head)
    session.flush()
    return event


def event_hash(event: AuditEvent) -> str:
    content = [
        event.id,
        event.at,
        event.actor,
        event.action,
        event.entity,
        event.entity_id,
        event.plan_code,
        event.task_code,
        event.unit_code,
        event.before,
        event.after,
        event.prev_hash,
    ]
    if event.person is not None or event.channel is not None:  # events before 0002 keep theirs
        content += [event.person, event.channel]
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    event_id: int
    reason: str

    def __str__(self) -> str:
        return f"audit event {self.event_id}: {self.reason}"


def verify_chain(session: Session) -> tuple[int, BrokenLink | None]:
    """(events checked, the first broken link or None)."""
    previous_hash, previous_id, checked = GENESIS, 0, 0
    for event in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))):
        assert event.id is not None
        if event.prev_hash != previous_hash:
            missing = event.id != previous_id + 1
            why = (
                f"events {previous_id + 1}..{event.id - 1} are missing"
                if missing
                else f"does not follow event {previous_id} (that event was changed)"
            )
            return checked, BrokenLink(event.id, why)
        if event_hash(event) != event.hash:
            return checked, BrokenLink(event.id, "its content was changed after it was written")
        previous_hash, previous_id, checked = event.hash, event.id, checked + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_id, head.last_hash) != (previous_id, previous_hash):
        return checked, BrokenLink(head.last_id, "the newest events were removed")
    return checked, None


def history(session: Session, plan: str, task: str, unit: str | None = None) -> list[AuditEvent]:
    """The story of a task (or of one unit's part in it), oldest first."""
    query = select(AuditEvent).where(AuditEvent.plan_code == plan, AuditEvent.task_code == task)
    if unit is not None:
        query = query.where(AuditEvent.unit_code == unit)
    return list(session.exec(query.order_by(col(AuditEvent.id))))
