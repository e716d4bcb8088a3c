"""Replaying a plan's timeline: a daily sweep each working morning, the story's events in the
afternoon. The main job uses it to show a whole plan run end to end in a few seconds.

Rest days are not swept at all (the sweep would only load the open work to find it has nothing
to do on them: about a third of a plan's days)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from calendars.clock import utc, zone_of
from render.mail import COMPOSER
from schemas.db import session_scope, sessions
from schemas.tables import ExtensionRequest, Notice
from schemas.vocabulary import ExtensionState
from tasks.plans.queries import find_plan
from tasks.plans.reader import read_yaml
from tasks.sweep.delivery import Transport
from tasks.sweep.notices import MailComposer
from tasks.sweep.outbox import acknowledge, record_acknowledgement
from tasks.sweep.pipeline import DirectSteps, SweepOutcome, load_contexts, run_sweep
from tasks.work import lifecycle

OFFICE = zone_of()  # the story's mornings and afternoons are on the office's clock


@dataclass
class Replay:
    """What happened over the replayed days."""

    plan: str
    last_day: dt.date
    days: int = 0
    notices: dict[str, int] = field(default_factory=dict)
    escalations_opened: int = 0
    escalations_closed: int = 0
    delivered: int = 0
    failed: int = 0
    events: int = 0


def replay_story(
    url: str,
    story_path: Path,
    transport: Transport,
    composer: MailComposer = COMPOSER,
) -> Replay:
    _, story = read_yaml(story_path)
    plan = story["plan"]
    events: dict[dt.date, list[dict[str, Any]]] = {}
    for event in story["events"]:
        events.setdefault(event["day"], []).append(event)
    result = Replay(plan=plan, last_day=story["end"])
    with session_scope(url) as session:  # read once: the story changes the work, not the plan
        find_plan(session, plan)  # NotFound naming the plans there are
        contexts = load_contexts(session, plan=plan)
    calendar = contexts[plan].calendar
    day: dt.date = story["start"]
    while day <= story["end"]:
        if calendar.is_workday(day):
            morning = utc(dt.datetime.combine(day, dt.time(8, 30), OFFICE))
            steps = DirectSteps(
                sessions(url), composer, at=morning, transport=transport, contexts=contexts
            )
            _count(result, run_sweep(steps, as_of=day, plan=plan))
        if day in events:
            afternoon = utc(dt.datetime.combine(day, dt.time(15, 0), OFFICE))
            with session_scope(url) as session:
                for event in events[day]:
                    perform(session, plan, event, afternoon)
                    result.events += 1
        result.days += 1
        day += dt.timedelta(days=1)
    return result


def _count(result: Replay, outcome: SweepOutcome) -> None:
    for notice in outcome.written:
        result.notices[notice.level] = result.notices.get(notice.level, 0) + 1
    result.escalations_opened += outcome.escalations_opened
    result.escalations_closed += outcome.escalations_closed
    if outcome.delivery is not None:
        result.delivered += len(outcome.delivery.delivered)
        result.failed += len(outcome.delivery.failed)


def perform(session: Session, plan: str, event: dict[str, Any], at: dt.datetime) -> None:
    """Carry out one story event through the same service layer the CLI uses."""
    actor = lifecycle.resolve_actor(session, plan, event["as"])
    task, unit, action = event["task"], event.get("unit"), event["do"]
    common = {"actor": actor, "plan": plan, "task": task, "at": at}
    if action == "progress":
        lifecycle.report_progress(session, note=event["note"], unit=unit, **common)
    elif action == "submit":
        lifecycle.submit(session, note=event["note"], unit=unit, **common)
    elif action == "accept":
        lifecycle.accept(session, unit=unit, occurrence=event.get("occurrence"), **common)
    elif action == "return":
        lifecycle.return_submission(session, unit=unit, reason=event["reason"], **common)
    elif action == "extend":
        lifecycle.request_extension(
            session, new_due=event["to"], reason=event["reason"], unit=unit, **common
        )
    elif action == "decide":
        work = lifecycle.find_work(session, plan, task, unit)
        request = session.exec(
            select(ExtensionRequest).where(
                ExtensionRequest.assignment_id == work.assignment.id,
                ExtensionRequest.state == ExtensionState.REQUESTED,
            )
        ).one()
        lifecycle.decide_extension(
            session,
            actor=actor,
            plan=plan,
            request_id=request.id or 0,
            approve=event["approve"],
            reason=event["reason"],
            at=at,
        )
    elif action == "ack":
        work = lifecycle.find_work(session, plan, task, unit)
        notice = session.exec(
            select(Notice).where(
                Notice.assignment_id == work.assignment.id,
                Notice.level == event["level"],
                col(Notice.receipt_code).is_not(None),
            )
        ).first()
        if notice is None:
            raise ValueError(f"story: no {event['level']} notice on {task} for {unit} yet")
        notice, first = acknowledge(session, code=notice.receipt_code or "", actor=actor, at=at)
        if first:
            record_acknowledgement(session, notice, actor, at)
    else:
        raise ValueError(f"story: unknown action {action!r}")
