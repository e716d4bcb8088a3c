"""Review mails through the same outbox as the notices: the phase review to leadership when a
phase ends (or on demand), and the office's weekly digest of everything red and yellow.

Each mail has a Message-ID made from what it is (plan, kind, phase or week), which is unique
in the outbox: asking twice, or from two workers at once, queues it once.

`queue_reviews` is the one place that decides which mails are due; `duban digest` and the
`phase_review` and `office_digest` flows call it, then deliver the outbox. The markup comes
from the caller's `MailComposer`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from calendars.clock import long_date
from schemas.tables import JointMeetingSeat, MessageBody, OutboxMessage, Phase, Plan, Unit
from schemas.vocabulary import Light, MessageKind, SeatRole
from tasks.plans.queries import find_plan
from tasks.review.compute import review_plan
from tasks.review.model import Review
from tasks.sweep.notices import MailComposer

SUBJECTS = {
    MessageKind.REVIEW: {
        "zh": "【阶段评估】{title}：{scope}完成{pct}%（截至{day}）",
        "en": "[Phase review] {title}: {scope}{pct}% complete (as of {day})",
    },
    MessageKind.DIGEST: {
        "zh": "【督办周报】{title}：红灯{red}项、黄灯{yellow}项（截至{day}）",
        "en": "[Weekly digest] {title}: {red} red, {yellow} yellow (as of {day})",
    },
}


def phases_ended(session: Session, plan_code: str, as_of: dt.date) -> list[Phase]:
    """Phases whose end date has come: each is reviewed once, on its end date or after."""
    plan = find_plan(session, plan_code)
    return list(
        session.exec(
            select(Phase)
            .where(Phase.plan_id == plan.id, col(Phase.due) <= as_of)
            .order_by(col(Phase.position))
        )
    )


def queue_reviews(
    session: Session,
    *,
    as_of: dt.date,
    composer: MailComposer,
    plan: str | None = None,
    phase: str | None = None,
    on_demand: bool = False,
    digest: bool = False,
) -> list[OutboxMessage]:
    """The review mails due for one plan (or every plan): the office's digest, a review asked
    for now (of `phase`, or of the whole plan), or else the review of each phase that has
    ended. Returns the mails queued now (none when all were queued before)."""
    codes = [plan] if plan else list(session.exec(select(Plan.code)))
    queued: list[OutboxMessage | None] = []
    for code in codes:
        if digest:
            queued.append(queue_office_digest(session, code, as_of, composer=composer))
        elif on_demand:
            queued.append(
                queue_phase_review(
                    session, code, as_of, composer=composer, phase=phase, on_demand=True
                )
            )
        else:
            queued += [
                queue_phase_review(session, code, as_of, composer=composer, phase=p.code)
                for p in phases_ended(session, code, as_of)
            ]
    return [m for m in queued if m is not None]


def queue_phase_review(
    session: Session,
    plan_code: str,
    as_of: dt.date,
    *,
    composer: MailComposer,
    phase: str | None = None,
    on_demand: bool = False,
) -> OutboxMessage | None:
    """The review (of a phase, or of the whole plan) mailed to leadership, office in copy.

    At a phase's end it is sent once per phase; on demand, once per day asked.
    """
    review = review_plan(session, plan_code, as_of, phase=phase)
    occasion = f"{review.phase or 'plan'}.{as_of.isoformat() if on_demand else 'end'}"
    leadership = _seat(session, plan_code, (SeatRole.LEADERSHIP, SeatRole.CONVENER))
    office = _seat(session, plan_code, (SeatRole.OFFICE,))
    if leadership is None:
        return None
    scope = ""
    if review.phase:
        scope = next(p.name for p in review.phases if p.code == review.phase)
    subject = SUBJECTS[MessageKind.REVIEW][review.language].format(
        title=review.title, scope=scope, pct=review.counts.completion_pct, day=long_date(as_of)
    )
    return _queue(
        session, composer, review, MessageKind.REVIEW, occasion, subject, leadership, office
    )


def queue_office_digest(
    session: Session, plan_code: str, as_of: dt.date, *, composer: MailComposer
) -> OutboxMessage | None:
    """Everything red and yellow, to the joint meeting office, once per ISO week."""
    review = review_plan(session, plan_code, as_of)
    flagged = tuple(i for i in review.items if i.light != Light.GREEN)
    digest = dataclasses.replace(
        review, items=flagged, tasks=tuple(t for t in review.tasks if t.light != Light.GREEN)
    )
    office = _seat(session, plan_code, (SeatRole.OFFICE,))
    if office is None:
        return None
    year, week, _ = as_of.isocalendar()
    subject = SUBJECTS[MessageKind.DIGEST][review.language].format(
        title=review.title,
        red=sum(i.light == Light.RED for i in flagged),
        yellow=sum(i.light == Light.YELLOW for i in flagged),
        day=long_date(as_of),
    )
    return _queue(
        session, composer, digest, MessageKind.DIGEST, f"{year}-W{week:02d}", subject, office, None
    )


def _queue(
    session: Session,
    composer: MailComposer,
    review: Review,
    kind: MessageKind,
    occasion: str,
    subject: str,
    to: Unit,
    cc: Unit | None,
) -> OutboxMessage | None:
    sender = cc or to
    domain = (sender.emails[0] if sender.emails else "duban@localhost").rsplit("@", 1)[-1]
    header = f"<duban.{kind}.{review.plan}.{occasion}@{domain}>"
    if (
        session.exec(
            select(OutboxMessage.id).where(OutboxMessage.message_id_header == header)
        ).first()
        is not None
    ):
        return None
    body = composer.review(review)
    message = OutboxMessage(
        kind=kind,
        plan_code=review.plan,
        recipient_code=to.code,
        sender=sender.emails[0] if sender.emails else "duban@localhost",
        sender_name=sender.full_name or sender.name,
        to_addrs=list(to.emails),
        cc_addrs=list(cc.emails) if cc and cc is not to else [],
        subject=subject,
        body=MessageBody(text=body.text, html=body.html),
        message_id_header=header,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # queued a moment ago by a concurrent worker
        return None
    return message


def office_of(session: Session, plan_code: str) -> Unit | None:
    return _seat(session, plan_code, (SeatRole.OFFICE,))


def _seat(session: Session, plan_code: str, roles: Sequence[str]) -> Unit | None:
    plan = find_plan(session, plan_code)
    for role in roles:
        unit = session.exec(
            select(Unit)
            .join(JointMeetingSeat, col(JointMeetingSeat.unit_id) == Unit.id)
            .where(JointMeetingSeat.plan_id == plan.id, JointMeetingSeat.role == role)
        ).first()
        if unit is not None:
            return unit
    return None
