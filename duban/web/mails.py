"""Mail that follows the work: a return, an extension decision, a re-assignment and an
acceptance are mailed to the unit through the outbox, with the link to the page to act on; a
submission and an extension request made on the web are mailed to the office.

The message is queued in the same transaction as the change, so the change and its mail are
written together or not at all; delivery is the outbox's job, as for every notice.
"""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from duban.web.words import WORDS
from render.environment import render
from schemas.tables import OutboxMessage, Plan, Unit
from schemas.vocabulary import MessageKind
from tasks.sweep.digest import office_of
from tasks.sweep.notices import one_line
from tasks.work.desk import WorkRow

EVENTS = {
    "zh": {
        "return": "退回",
        "approve": "同意延期",
        "deny": "不同意延期",
        "reassign": "改派",
        "accept": "验收办结",
        "submit": "报送办结，待验收",
        "extension": "申请延期，待决定",
        "subject": "【督办】{title}：{task} {event}",
    },
    "en": {
        "return": "returned",
        "approve": "extension approved",
        "deny": "extension denied",
        "reassign": "reassigned",
        "accept": "accepted",
        "submit": "submitted, waiting for acceptance",
        "extension": "extension requested, waiting for a decision",
        "subject": "[duban] {title}: {task} {event}",
    },
}


def queue_followup(
    session: Session,
    row: WorkRow,
    event: str,
    *,
    detail: str,
    base_url: str,
    to_unit: str | None = None,
    to_office: bool = False,
) -> OutboxMessage | None:
    """Queue the mail to the unit (`to_unit`, else the assignment's own), or to the plan's
    office; None when there is no address (the page still shows it)."""
    plan = session.exec(select(Plan).where(Plan.code == row.plan)).one()
    language = "en" if (plan.spec.get("escalation") or {}).get("language") == "en" else "zh"
    office = office_of(session, row.plan)
    unit = (
        office
        if to_office
        else session.exec(
            select(Unit).where(Unit.plan_id == plan.id, Unit.code == (to_unit or row.unit))
        ).first()
    )
    if unit is None or not unit.emails:
        return None
    sender = office.emails[0] if office and office.emails else "duban@localhost"
    words = EVENTS[language]
    subject = one_line(
        words["subject"].format(
            title=plan.title, task=f"{row.task} {row.task_title}", event=words[event]
        )
    )
    sender_name = (office.full_name or office.name) if office else plan.title
    context = {
        "t": WORDS[language],
        "row": row,
        "unit": unit,
        "event": words[event],
        "detail": detail,
        "link": f"{base_url.rstrip('/')}/a/{row.id}",
        "sender": sender_name,
    }
    message = OutboxMessage(
        kind=MessageKind.FOLLOWUP,
        plan_code=row.plan,
        recipient_code=unit.code,
        sender=sender,
        sender_name=sender_name,
        to_addrs=list(unit.emails),
        cc_addrs=[],
        subject=subject,
        text=render("web/mail_followup.txt", subject=subject, **context),
        html=render("web/mail_followup.html", subject=subject, **context),
        message_id_header=f"<duban.followup.{uuid.uuid4().hex}@{sender.rsplit('@', 1)[-1]}>",
    )
    session.add(message)
    return message
