"""Delivering the outbox, safely with several workers; listing it; acknowledging receipts.

A worker claims a message (one UPDATE that only one claimant can win) and commits the claim
before sending, so two workers never send the same message. A claim that is never settled
(the worker died mid-send) lapses after a lease and the message is tried again; a failed send
is retried with growing pauses, and after the last try the message is marked failed, not lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Session, col, select

from calendars.clock import utc
from duban.errors import NotFound
from schemas.db import SessionFactory
from schemas.tables import Notice, OutboxMessage, SweepRun
from schemas.vocabulary import Action, ActorKind, Level, MessageStatus, Operation
from tasks.sweep.delivery import DeliveryError, InvalidMail, OutgoingMail, Transport
from tasks.work import audit
from tasks.work.actors import Actor, Forbidden

if TYPE_CHECKING:
    from sqlalchemy import ScalarResult

LEASE = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 8
BATCH = 500


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # failed this time (retried later or given up)
    given_up: list[int] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        self.delivered += other.delivered
        self.failed += other.failed
        self.given_up += other.given_up


def backoff(attempts: int) -> dt.timedelta:
    """2, 4, 8 … minutes, at most six hours: an SMTP outage is waited out, not hammered."""
    return min(dt.timedelta(minutes=2**attempts), dt.timedelta(hours=6))


def deliver_everything(
    sessions: SessionFactory, transport: Transport, *, now: dt.datetime
) -> DeliveryReport:
    """Send every due message, batch after batch, until the outbox has nothing due."""
    return deliver_in_batches(
        lambda limit: deliver_pending(sessions, transport, now=now, limit=limit)
    )


def deliver_in_batches(
    send_batch: Callable[[int], DeliveryReport],
    *,
    batch: int = BATCH,
    max_batches: int | None = None,
) -> DeliveryReport:
    """Call `send_batch(batch)` until a batch comes back short (nothing more is due, or other
    workers hold the rest), or `max_batches` have run. A batch is the unit of retry and of
    memory; the outbox may hold many more messages than one batch (a 300k sweep writes 1,200)."""
    total = DeliveryReport()
    done = 0
    while max_batches is None or done < max_batches:
        report = send_batch(batch)
        total.add(report)
        done += 1
        if len(report.delivered) + len(report.failed) < batch:
            break
    return total


def deliver_pending(
    sessions: SessionFactory, transport: Transport, *, now: dt.datetime, limit: int = BATCH
) -> DeliveryReport:
    """Send up to `limit` due messages through `transport`.

    Takes a session factory, not a session: each claim is committed before its mail is sent
    (so no other worker sends it too) and each outcome after, one short transaction apiece; a
    transaction held open across a slow SMTP server would hold every claim in it.
    """
    report = DeliveryReport()
    now = utc(now)  # stored times are UTC: SQLite keeps no zone to convert
    for message_id in _due_messages(sessions, now, limit):
        mail = _claim(sessions, message_id, now)
        if mail is None:
            continue  # another worker has it
        try:
            transport.send(mail)
        except DeliveryError as exc:
            gave_up = _settle(
                sessions, message_id, now, error=str(exc), hopeless=isinstance(exc, InvalidMail)
            )
            report.failed.append(message_id)
            if gave_up:
                report.given_up.append(message_id)
        else:
            _settle(sessions, message_id, now, error=None)
            report.delivered.append(message_id)
    return report


def _due_messages(sessions: SessionFactory, now: dt.datetime, limit: int) -> list[int]:
    with sessions() as session:
        ids = session.exec(
            select(col(OutboxMessage.id))
            .where(_claimable(now))
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        )
        # The model's id is `int | None` (None before the insert); stored rows have one.
        return list(cast("ScalarResult[int]", ids))


def _claimable(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            col(OutboxMessage.status) == MessageStatus.PENDING,
            or_(
                col(OutboxMessage.next_attempt_at).is_(None),
                col(OutboxMessage.next_attempt_at) <= now,
            ),
        ),
        and_(
            col(OutboxMessage.status) == MessageStatus.SENDING,
            col(OutboxMessage.claimed_at) < now - LEASE,
        ),
    )


def _claim(sessions: SessionFactory, message_id: int, now: dt.datetime) -> OutgoingMail | None:
    with sessions() as session:
        won = session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id, _claimable(now))
            .values(
                status=MessageStatus.SENDING, claimed_at=now, attempts=OutboxMessage.attempts + 1
            )
        ).rowcount
        if won != 1:
            return None
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        return OutgoingMail(
            sender=message.sender,
            sender_name=message.sender_name,
            to=tuple(message.to_addrs),
            cc=tuple(message.cc_addrs),
            subject=message.subject,
            text=message.text,
            html=message.html,
            message_id=message.message_id_header,
            date=now,
        )


def _settle(
    sessions: SessionFactory,
    message_id: int,
    now: dt.datetime,
    *,
    error: str | None,
    hopeless: bool = False,
) -> bool:
    """Record the outcome of a send; True when the message has been given up on.

    A mail that can never go (no address, a malformed one) is failed at once, not retried.
    """
    with sessions() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        if error is None:
            message.status, message.sent_at, message.last_error = MessageStatus.SENT, now, None
            session.add(message)
            return False
        message.last_error = error[:2000]
        if hopeless or message.attempts >= MAX_ATTEMPTS:
            message.status = MessageStatus.FAILED
        else:
            message.status = MessageStatus.PENDING
            message.next_attempt_at = now + backoff(message.attempts)
        session.add(message)
        return message.status == MessageStatus.FAILED


def retry_failed(session: Session, *, now: dt.datetime, by: Actor) -> list[int]:
    """Put the messages given up on back in the queue (after the cause was fixed), as `by`,
    in the audit trail; their ids."""
    failed = session.exec(
        select(col(OutboxMessage.id))
        .where(col(OutboxMessage.status) == MessageStatus.FAILED)
        .order_by(col(OutboxMessage.id))
    )
    ids = list(cast("ScalarResult[int]", failed))  # stored rows have an id
    if not ids:
        return []
    session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        .values(status=MessageStatus.PENDING, attempts=0, next_attempt_at=utc(now))
    )
    audit.record(
        session,
        actor=str(by),
        person=by.person,
        channel=by.channel,
        action=Operation.RETRY_MAIL,
        subject=audit.Subject("outbox", None),
        at=now,
        after={"messages": ids},
    )
    return ids


def list_outbox(session: Session, *, status: str | None = None) -> list[dict[str, Any]]:
    query = select(OutboxMessage).order_by(col(OutboxMessage.id))
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return [
        {
            "id": m.id,
            "plan": m.plan_code,
            "recipient": m.recipient_code,
            "to": m.to_addrs,
            "cc": m.cc_addrs,
            "subject": m.subject,
            "status": m.status,
            "attempts": m.attempts,
            "last_error": m.last_error,
            "sent_at": m.sent_at.isoformat() if m.sent_at else None,
        }
        for m in session.exec(query)
    ]


class UnknownReceipt(NotFound):
    """No notice carries that receipt code."""


def find_receipt(session: Session, code: str) -> Notice:
    notice = session.exec(select(Notice).where(Notice.receipt_code == code.strip().upper())).first()
    if notice is None:
        raise UnknownReceipt(f'no notice has the receipt code "{code}"')
    return notice


def acknowledge(
    session: Session, *, code: str, actor: Actor, at: dt.datetime
) -> tuple[Notice, bool]:
    """签收: record who acknowledged a letter's 督办单 and 通报 (they share its receipt code),
    and when; True if this was the first.

    Only the notice's recipient (or the office, on its behalf) may acknowledge it.
    """
    notice = find_receipt(session, code)
    if (
        actor.kind != ActorKind.OFFICE
        and actor.unit != notice.recipient_code
        and not (
            actor.kind == ActorKind.LEADERSHIP
            and actor.unit is None
            and notice.level == Level.REPORT
        )
    ):
        raise Forbidden(
            f"{actor} may not acknowledge {notice.receipt_code}: only its recipient "
            "or the joint meeting office may"
        )
    if notice.acknowledged_at is not None:
        return notice, False
    # the code is the letter's: every 督办单 and 通报 in it is acknowledged at once
    for item in session.exec(select(Notice).where(Notice.receipt_code == notice.receipt_code)):
        item.acknowledged_by, item.acknowledged_at = str(actor), utc(at)
        session.add(item)
    return notice, True


def record_acknowledgement(session: Session, notice: Notice, actor: Actor, at: dt.datetime) -> None:
    """签收 goes into the audit trail with the person and the door they came through."""
    audit.record(
        session,
        actor=str(actor),
        action=Action.ACKNOWLEDGE,
        subject=audit.Subject(
            "notice", notice.id, notice.plan_code, notice.task_code, notice.unit_code
        ),
        at=at,
        after={"receipt": notice.receipt_code, "recipient": notice.recipient_code},
        person=actor.person,
        channel=actor.channel,
    )


def unacknowledged(session: Session) -> list[dict[str, Any]]:
    """What the office is still waiting to have acknowledged."""
    query = (
        select(Notice, col(SweepRun.as_of))
        .join(SweepRun)
        .where(
            col(Notice.receipt_code).is_not(None),
            col(Notice.acknowledged_at).is_(None),
        )
        .order_by(col(Notice.id))
    )
    return [
        {
            "receipt": n.receipt_code,
            "plan": n.plan_code,
            "task": n.task_code,
            "unit": n.unit_code,
            "recipient": n.recipient_code,
            "level": n.level,
            "sent_on": sent.isoformat(),
        }
        for n, sent in session.exec(query)
    ]
