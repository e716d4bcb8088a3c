"""Follow-ups (办理情况): the decisions on a unit's work that the unit is told of by mail.

A return, an acceptance, an extension decision and a re-assignment are each recorded here by
the lifecycle, in the decision's own transaction, so a decision and its follow-up are written
together or not at all, whether it was made on the web, through a link or at the command line.
Nothing is mailed here: the sweep puts each unit's follow-ups into its next letter
(tasks.sweep.followups), so a unit gets one letter a day, not one per decision.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from calendars.clock import utc
from schemas.tables import FollowUp
from schemas.vocabulary import FollowUpEvent
from tasks.work.actors import Actor


def record_followup(
    session: Session,
    *,
    event: FollowUpEvent,
    plan: str,
    assignment_id: int | None,
    recipient: str,
    actor: Actor,
    at: dt.datetime,
    reason: str | None = None,
    occurrence_id: int | None = None,
    due: dt.date | None = None,
    other_unit: str | None = None,
) -> FollowUp:
    """Note a decision for `recipient` (a unit's code) to be told of in its next letter."""
    assert assignment_id is not None  # the assignment decided on is stored, so it has an id
    followup = FollowUp(
        plan_code=plan,
        assignment_id=assignment_id,
        occurrence_id=occurrence_id,
        recipient_code=recipient,
        event=event,
        reason=(reason or "").strip() or None,
        due=due,
        other_unit_code=other_unit,
        actor=str(actor),
        person=actor.person,
        channel=actor.channel,
        at=utc(at),
    )
    session.add(followup)
    return followup
