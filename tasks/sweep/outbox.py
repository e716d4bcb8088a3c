"""Delivering the outbox, safely with several workers; listing it; acknowledging receipts.

A worker claims a message (one UPDATE that only one claimant can win) and commits the claim
before sending, so two workers never send the same message. A claim that is never settled
(the worker died mid-send) lapses after a lease and the message is tried again; a failed send
is retried with growing pauses, and after the last try the message is marked failed, not lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy
from sqlalchemy import and_, bindparam, or_, update
from sqlmodel import Session, col, select

from calendars.clock import day_of, utc
from duban.errors import NotFound
from schemas.db import SessionFactory
from schemas.plan_file import EscalationPolicy
from schemas.tables import (
    JointMeetingSeat,
    MessageBody,
    Notice,
    OutboxMessage,
    Plan,
    SweepRun,
    Unit,
)
from schemas.vocabulary import (
    Action,
    ActorKind,
    Level,
    MessageKind,
    MessageStatus,
    Operation,
    SeatRole,
)
from tasks.sweep.delivery import DeliveryError, InvalidMail, OutgoingMail, Refused, Transport
from tasks.sweep.notices import MailComposer, Undelivered
from tasks.work import audit
from tasks.work.actors import Actor, Forbidden

if TYPE_CHECKING:
    from sqlalchemy import ScalarResult

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 8
BATCH = 500


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # failed this time (retried later or given up)
    given_up: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)  # some recipient refused for good

    def add(self, other: DeliveryReport) -> None:
        self.delivered += other.delivered
        self.failed += other.failed
        self.given_up += other.given_up
        self.refused += other.refused


def backoff(attempts: int) -> dt.timedelta:
    """2, 4, 8 … minutes, at most six hours: an SMTP outage is waited out, not hammered."""
    return min(dt.timedelta(minutes=2**attempts), dt.timedelta(hours=6))


def deliver_everything(
    sessions: SessionFactory,
    transport: Transport,
    *,
    now: dt.datetime,
    composer: MailComposer | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> DeliveryReport:
    """Send every due message, batch after batch, until the outbox has nothing due."""
    return deliver_in_batches(
        lambda limit: deliver_pending(
            sessions, transport, now=now, limit=limit, composer=composer, clock=clock
        )
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
    sessions: SessionFactory,
    transport: Transport,
    *,
    now: dt.datetime,
    limit: int = BATCH,
    composer: MailComposer | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> DeliveryReport:
    """Send up to `limit` due messages through `transport`.

    `now` is the batch's moment (a replay sets it). A live run also passes its `clock`: each
    message is then claimed at the moment it is taken, not the batch's start, so a batch that
    runs longer than the lease does not leave its last claims looking expired to other workers.

    With a `composer`, a message given up on, or refused for good by one of its recipients,
    is told to the plan's office in a letter of its own (通知未能送达), sent the same way.

    Takes a session factory, not a session: each claim is committed before its mail is sent
    (so no other worker sends it too) and each outcome after, one short transaction apiece; a
    transaction held open across a slow SMTP server would hold every claim in it.
    """
    report = DeliveryReport()
    now = utc(now)  # stored times are UTC: SQLite keeps no zone to convert
    for message_id in _due_messages(sessions, now, limit):
        claimed = _claim(sessions, message_id, utc(clock()) if clock else now)
        if claimed is None:
            continue  # another worker has it
        mail, refused_before = claimed
        try:
            refused = transport.send(mail) or {}
        except DeliveryError as exc:
            gave_up = _settle(
                sessions,
                message_id,
                now,
                error=str(exc),
                hopeless=isinstance(exc, InvalidMail),
                composer=composer,
            )
            report.failed.append(message_id)
            if gave_up:
                report.given_up.append(message_id)
        else:
            outcome = None
            if refused or refused_before:
                outcome = _settle_refusals(sessions, message_id, now, refused, composer)
            else:
                _settle_sent(sessions, message_id, now)
            if outcome is None:
                report.delivered.append(message_id)
            else:
                report.failed.append(message_id)
                if outcome.status == MessageStatus.FAILED:
                    report.given_up.append(message_id)
            if any(code >= 500 for code, _ in refused.values()):
                report.refused.append(message_id)
    return report


def _due_messages(sessions: SessionFactory, now: dt.datetime, limit: int) -> list[int]:
    with sessions() as session:
        ids = session.connection().execute(_DUE, {**_times(now), "limit": limit}).scalars()
        # The model's id is `int | None` (None before the insert); stored rows have one.
        return list(cast("ScalarResult[int]", ids))


def _claim(
    sessions: SessionFactory, message_id: int, now: dt.datetime
) -> tuple[OutgoingMail, bool] | None:
    """The message, claimed for this worker, and whether a server refused some recipient of
    it before; None when another worker has it. The claim (`UPDATE … RETURNING`) and the read
    of what to send are one transaction: they cannot drift apart."""
    with sessions() as session:
        connection = session.connection()
        won = connection.execute(_CLAIM, {**_times(now), "message": message_id})
        row = won.one_or_none()
        if row is None:
            return None
        *sent, refused_before = row
        fields = dict(zip(_SENT_COLUMNS, sent, strict=True))
        to, cc = tuple(fields.pop("to")), tuple(fields.pop("cc"))
        text, html = connection.execute(_BODY, {"message": message_id}).one()
        mail = OutgoingMail(**fields, to=to, cc=cc, text=text, html=html, date=now)
        return mail, bool(refused_before)


def _times(now: dt.datetime) -> dict[str, dt.datetime]:
    return {"now": now, "lapsed": now - LEASE}


_SENT_COLUMNS = {  # OutgoingMail's fields but the body, and the columns they are read from
    "sender": col(OutboxMessage.sender),
    "sender_name": col(OutboxMessage.sender_name),
    "to": col(OutboxMessage.to_addrs),
    "cc": col(OutboxMessage.cc_addrs),
    "subject": col(OutboxMessage.subject),
    "message_id": col(OutboxMessage.message_id_header),
}
# Built once (a replay delivers on hundreds of days in one process): a message is claimable
# when it is pending and its next attempt has come, or its claim has lapsed (`lapsed`: `now`
# less the lease).
_CLAIMABLE = or_(
    and_(
        col(OutboxMessage.status) == MessageStatus.PENDING,
        or_(
            col(OutboxMessage.next_attempt_at).is_(None),
            col(OutboxMessage.next_attempt_at) <= bindparam("now"),
        ),
    ),
    and_(
        col(OutboxMessage.status) == MessageStatus.SENDING,
        col(OutboxMessage.claimed_at) < bindparam("lapsed"),
    ),
)
_DUE = (
    select(col(OutboxMessage.id))
    .where(_CLAIMABLE)
    .order_by(col(OutboxMessage.id))
    .limit(bindparam("limit"))
)
_CLAIM = (
    update(OutboxMessage)
    .where(col(OutboxMessage.id) == bindparam("message"), _CLAIMABLE)
    .values(
        status=MessageStatus.SENDING,
        claimed_at=bindparam("now"),
        attempts=OutboxMessage.attempts + 1,
    )
    .returning(*_SENT_COLUMNS.values(), col(OutboxMessage.refused))
)
_SENT = (
    update(OutboxMessage)
    .where(col(OutboxMessage.id) == bindparam("message"))
    .values(status=MessageStatus.SENT, sent_at=bindparam("now"), last_error=None, refused={})
)
_BODY = select(col(MessageBody.text), col(MessageBody.html)).where(
    col(MessageBody.message_id) == bindparam("message")
)


def _settle(
    sessions: SessionFactory,
    message_id: int,
    now: dt.datetime,
    *,
    error: str,
    hopeless: bool = False,
    composer: MailComposer | None = None,
) -> bool:
    """Record a failed send; True when the message has been given up on.

    A mail that can never go (no address, a malformed one) is failed at once, not retried.
    """
    with sessions() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        _failed(message, now, error, hopeless=hopeless)
        session.add(message)
        if message.status != MessageStatus.FAILED:
            return False
        if composer is not None:
            every = (*message.to_addrs, *message.cc_addrs)
            report_undelivered(session, message, every, error, composer, now)
        return True


def _failed(message: OutboxMessage, now: dt.datetime, error: str, *, hopeless: bool) -> None:
    message.last_error = error[:2000]
    if hopeless or message.attempts >= MAX_ATTEMPTS:
        message.status = MessageStatus.FAILED
    else:
        message.status = MessageStatus.PENDING
        message.next_attempt_at = now + backoff(message.attempts)


def _settle_sent(sessions: SessionFactory, message_id: int, now: dt.datetime) -> None:
    """Record a send every recipient took, of a message nobody had refused: the common case,
    one UPDATE of the message's small row."""
    with sessions() as session:
        session.connection().execute(_SENT, {"message": message_id, "now": now})


def _settle_refusals(
    sessions: SessionFactory,
    message_id: int,
    now: dt.datetime,
    refused: Refused,
    composer: MailComposer | None,
) -> OutboxMessage | None:
    """Record a send the server took, perhaps not for every recipient; the message when some
    recipient is to be tried again (None when it is done).

    A permanent refusal (5xx) is kept on the message, which counts as sent to the others; a
    temporary one (4xx) leaves the message pending for those recipients only (the others have
    it: sending it to them again would be a duplicate), retried with the same backoff.
    """
    with sessions() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        later = [a for a, (code, _) in refused.items() if code < 500]
        results = {a: r for a, r in (message.refused or {}).items() if a not in _sent_to(message)}
        results.update({a: f"{code} {text}" for a, (code, text) in refused.items()})
        message.refused = results
        permanent = {a: f"{code} {text}" for a, (code, text) in refused.items() if code >= 500}
        if permanent and composer is not None:
            why = "; ".join(f"{a}: {reply}" for a, reply in sorted(permanent.items()))
            report_undelivered(session, message, tuple(sorted(permanent)), why, composer, now)
        if not later:
            message.status, message.sent_at = MessageStatus.SENT, now
            gone = sorted(a for a, reply in results.items() if reply.startswith("5"))
            message.last_error = f"refused for good: {', '.join(gone)}" if gone else None
            session.add(message)
            return None
        # the retry goes to the recipients refused for now, and only to them
        every = [*message.to_addrs, *message.cc_addrs]
        message.to_addrs, message.cc_addrs = [a for a in every if a in later], []
        refusals = "; ".join(f"{a}: {results[a]}" for a in sorted(later))
        _failed(message, now, f"refused for now: {refusals}", hopeless=False)
        session.add(message)
        session.flush()
        session.expunge(message)
        return message


def report_undelivered(
    session: Session,
    message: OutboxMessage,
    addresses: Sequence[str],
    why: str,
    composer: MailComposer,
    now: dt.datetime,
) -> OutboxMessage | None:
    """通知未能送达: put a letter to the plan's office in the outbox saying which letter did
    not reach which addresses, and why; the letter (None when there is nobody to tell).

    A letter of this kind that itself does not arrive is not reported again: the office's own
    address is what failed, and telling it would only go round in circles (the log and
    `duban outbox --failed` show it).
    """
    if message.kind == MessageKind.UNDELIVERED or message.plan_code is None:
        log.error("undelivered and not reported: outbox message %s: %s", message.id, why)
        return None
    found = session.exec(
        select(Plan, Unit)
        .join(JointMeetingSeat, col(JointMeetingSeat.plan_id) == col(Plan.id))
        .join(Unit, col(Unit.id) == col(JointMeetingSeat.unit_id))
        .where(Plan.code == message.plan_code, JointMeetingSeat.role == SeatRole.OFFICE)
    ).first()
    if found is None or not found[1].emails:
        log.error("no office to tell: outbox message %s undelivered: %s", message.id, why)
        return None
    plan, office = found
    recipient = session.exec(
        select(Unit.name).where(Unit.plan_id == plan.id, Unit.code == message.recipient_code)
    ).first()
    policy = EscalationPolicy.model_validate((plan.spec or {}).get("escalation") or {})
    office_name = office.full_name or office.name
    mail = composer.undelivered(
        Undelivered(
            office_name=office_name,
            recipient_name=recipient or message.recipient_code,
            subject=message.subject,
            addresses=tuple(addresses),
            why=why,
            sent_on=day_of(message.created_at, plan),
            language=policy.language,
        )
    )
    notice = OutboxMessage(
        kind=MessageKind.UNDELIVERED,
        plan_code=plan.code,
        recipient_code=office.code,
        sender=office.emails[0],
        sender_name=office_name,
        to_addrs=list(office.emails),
        subject=mail.subject,
        body=MessageBody(text=mail.text, html=mail.html),
        message_id_header=new_message_id("undelivered", office.emails[0]),
        next_attempt_at=utc(now),
    )
    session.add(notice)
    return notice


def new_message_id(prefix: object, sender: str) -> str:
    """A Message-ID no other mail has, from this database or any other: a random part, not one
    made of row numbers (two installations number their rows alike). It is stored with the
    message, so every retry of the message carries the same one."""
    return f"<duban.{prefix}.{secrets.token_hex(12)}@{sender.rsplit('@', 1)[-1]}>"


def _sent_to(message: OutboxMessage) -> set[str]:
    """The addresses this send went to (a refusal of theirs from an earlier try is stale)."""
    return {*message.to_addrs, *message.cc_addrs}


def retry_failed(
    session: Session, *, now: dt.datetime, by: Actor, ids: Sequence[int] | None = None
) -> list[int]:
    """Put the messages given up on (all of them, or those of `ids`) back in the queue, after
    the cause was fixed, as `by`, in the audit trail; their ids. `duban outbox retry` and
    `duban deliver --retry-failed` both come here.

    An id that is not a message given up on is refused (NotFound), and nothing is re-queued.
    """
    query = select(col(OutboxMessage.id)).where(col(OutboxMessage.status) == MessageStatus.FAILED)
    if ids is not None:
        query = query.where(col(OutboxMessage.id).in_(list(ids)))
    found = list(cast("ScalarResult[int]", session.exec(query.order_by(col(OutboxMessage.id)))))
    if ids is not None and (missing := sorted(set(ids) - set(found))):
        raise NotFound(
            f"outbox message {', '.join(map(str, missing))} is not one given up on "
            "(see `duban outbox --failed`)"
        )
    if not found:
        return []
    session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(found))
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
        after={"messages": found},
    )
    return found


_LISTED = {  # what `duban outbox` shows of a message, and the columns it is read from
    "id": col(OutboxMessage.id),
    "plan": col(OutboxMessage.plan_code),
    "recipient": col(OutboxMessage.recipient_code),
    "to": col(OutboxMessage.to_addrs),
    "cc": col(OutboxMessage.cc_addrs),
    "subject": col(OutboxMessage.subject),
    "status": col(OutboxMessage.status),
    "attempts": col(OutboxMessage.attempts),
    "last_error": col(OutboxMessage.last_error),
    "refused": col(OutboxMessage.refused),
    "sent_at": col(OutboxMessage.sent_at),
}


def list_outbox(session: Session, *, status: str | None = None) -> list[dict[str, Any]]:
    """The outbox's messages, oldest first, without their bodies (hundreds of KB a letter)."""
    labelled = [c.label(name) for name, c in _LISTED.items()]  # type: ignore[var-annotated]
    query: sqlalchemy.Select[Any] = sqlalchemy.select(*labelled).order_by(col(OutboxMessage.id))
    if status is not None:
        query = query.where(col(OutboxMessage.status) == status)
    return [
        {
            **row,
            "refused": row["refused"] or {},
            "sent_at": row["sent_at"].isoformat() if row["sent_at"] else None,
        }
        for row in session.connection().execute(query).mappings()
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
