"""The phase review and the office's figures, computed as of any day.

Everything here is derived from what is stored (assignments, occurrences, submissions,
extensions, escalations) and the plan's graph and calendar, with a handful of queries per
plan. Lateness is attributed fairly (tasks.review.blame) and units are ranked on what they
answer for (tasks.review.ranking).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from calendars.clock import day_of, start_of
from calendars.workdays import WorkCalendar
from duban.errors import NotFound
from schemas.plan_file import EscalationPolicy, PlanFile
from schemas.tables import (
    Assignment,
    AuditEvent,
    Escalation,
    JointMeetingSeat,
    Occurrence,
    Phase,
    Plan,
    Submission,
    Task,
    Unit,
)
from schemas.vocabulary import (
    CLOSED,
    HANDED_IN,
    LIGHT_SEVERITY,
    SET_ASIDE,
    WITH_UNIT,
    AssignmentState,
    Light,
    OccurrenceState,
    SeatRole,
)
from tasks.plans.graph import (
    critical_path,
    downstream_of,
    named_predecessors,
    task_predecessors,
)
from tasks.plans.plan_graph import plan_graph
from tasks.plans.queries import find_plan
from tasks.review.blame import Finish, Item, judge, late_by, lead_finishes
from tasks.review.model import (
    ItemReview,
    Review,
    TaskReview,
)
from tasks.review.phases import count, review_phase
from tasks.review.ranking import counts_against, rank_units, ranking_rule
from tasks.work.status import plan_calendar


def review_plan(
    session: Session,
    plan_code: str,
    as_of: dt.date,
    *,
    phase: str | None = None,
    calendar_dir: Path | None = None,
) -> Review:
    """The review of a plan (or of one phase, by kind or code) as of a day."""
    plan = find_plan(session, plan_code)
    spec = PlanFile.model_validate(plan.spec)
    policy = spec.escalation
    calendar = plan_calendar(plan, calendar_dir)
    graph, labels = plan_graph(session, plan.code)
    phases = session.exec(
        select(Phase).where(Phase.plan_id == plan.id).order_by(col(Phase.position))
    ).all()
    chosen = _chosen_phase(phases, phase)
    tasks = {
        t.code: t for t in session.exec(select(Task).where(Task.plan_id == plan.id, Task.active))
    }
    items = _items(session, plan.id, as_of, plan.timezone)
    finishes = lead_finishes(items, as_of, calendar)
    critical = tuple(critical_path(graph))

    def waits_on(task: str) -> list[str]:
        """What a late item may be excused by: the tasks it names, or the phases' too."""
        if policy.phase_order_upstream:
            return task_predecessors(graph, task)
        return named_predecessors(graph, task)

    reviewed = [
        _review_item(i, as_of, calendar, waits_on, finishes, critical, policy) for i in items
    ]
    by_task: dict[str, list[ItemReview]] = defaultdict(list)
    for review in reviewed:
        by_task[review.task].append(review)
    below = downstream_of(graph)
    task_reviews = [
        _review_task(t, by_task[t.code], below, labels, critical, as_of)
        for t in sorted(tasks.values(), key=lambda t: t.position)
    ]
    phase_reviews = tuple(
        review_phase(p, phases, task_reviews, reviewed, policy.language) for p in phases
    )
    in_scope = {t.code for t in tasks.values() if chosen is None or t.phase_code == chosen.code}
    scoped_items = [r for r in reviewed if r.task in in_scope]
    scoped_tasks = [t for t in task_reviews if t.code in in_scope]
    ranked, not_yet_due = rank_units(
        scoped_items,
        reports={t.code for t in tasks.values() if t.kind == "report"},
        overseers=_overseers(session, plan.id),
        as_of=as_of,
        policy=policy,
    )
    return Review(
        plan=plan.code,
        title=plan.title,
        document_number=plan.document_number,
        as_of=as_of,
        phase=chosen.code if chosen else None,
        counts=count(scoped_tasks, scoped_items),
        phases=tuple(p for p in phase_reviews if chosen is None or p.code == chosen.code),
        tasks=tuple(scoped_tasks),
        items=tuple(scoped_items),
        units=ranked,
        ranking_rule=ranking_rule(policy),
        critical_path=critical,
        at_risk=tuple(
            t.code
            for t in task_reviews
            if t.critical and t.light != Light.GREEN and t.code in in_scope
        ),
        span=(plan.span_start, plan.span_end),
        language=policy.language,
        not_yet_due=not_yet_due,
    )


def _overseers(session: Session, plan_id: int | None) -> frozenset[str]:
    """The units in the office's or leadership's seat: they run the ladder, so they are not
    ranked on it."""
    return frozenset(
        session.exec(
            select(Unit.code)
            .join(JointMeetingSeat, col(JointMeetingSeat.unit_id) == Unit.id)
            .where(
                JointMeetingSeat.plan_id == plan_id,
                col(JointMeetingSeat.role).in_((SeatRole.OFFICE, SeatRole.LEADERSHIP)),
            )
        )
    )


def _chosen_phase(phases: Sequence[Phase], wanted: str | None) -> Phase | None:
    if wanted is None:
        return None
    for phase in phases:
        if wanted in (phase.code, phase.kind):
            return phase
    names = ", ".join(f"{p.code} ({p.kind})" for p in phases) or "none"
    raise NotFound(f'no phase "{wanted}"; phases: {names}')


def _items(session: Session, plan_id: int | None, as_of: dt.date, zone: str) -> list[Item]:
    """Every assignment, or each dated occurrence of it, with its latest submission date (the
    day it was submitted on in the plan's zone)."""
    rows = session.exec(
        select(Assignment, Task, Unit)
        .join(Task, col(Assignment.task_id) == Task.id)
        .join(Unit, col(Assignment.unit_id) == Unit.id)
        .where(Assignment.plan_id == plan_id, Assignment.active, Task.active)
        .order_by(col(Task.position), col(Assignment.id))
    ).all()
    ids = [a.id for a, _, _ in rows]
    occurrences: dict[int | None, list[Occurrence]] = defaultdict(list)
    submitted: dict[tuple[int, int | None], dt.date] = {}
    escalated: set[tuple[int, int | None]] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for row in session.exec(
            select(Occurrence)
            .where(col(Occurrence.assignment_id).in_(chunk), Occurrence.active)
            .order_by(col(Occurrence.due))
        ):
            occurrences[row.assignment_id].append(row)
        for sub in session.exec(
            select(Submission)
            .where(col(Submission.assignment_id).in_(chunk))
            .order_by(col(Submission.id))
        ):
            if day_of(sub.submitted_at, zone) <= as_of:
                submitted[(sub.assignment_id, sub.occurrence_id)] = day_of(sub.submitted_at, zone)
        for esc in session.exec(
            select(Escalation).where(
                col(Escalation.assignment_id).in_(chunk),
                Escalation.opened_on <= as_of,
            )
        ):
            if esc.closed_on is None or esc.closed_on > as_of:
                escalated.add((esc.assignment_id, esc.occurrence_id))
    history = _history_until(session, plan_id, as_of, zone)
    items = []
    for assignment, task, unit in rows:
        assert assignment.id is not None
        then = _Then(history[assignment.id]) if assignment.id in history else None
        state = then.state() if then else assignment.state
        dated = occurrences.get(assignment.id, [])
        if not dated:
            due = then.due(assignment.original_due) if then else assignment.due
            items.append(
                Item(
                    task,
                    unit,
                    assignment,
                    state,
                    assignment.original_due,
                    due,
                    submitted.get((assignment.id, None)),
                    None,
                    (assignment.id, None) in escalated,
                )
            )
        for occurrence in dated:
            key = (assignment.id, occurrence.id)
            if state in SET_ASIDE:
                done = state
            else:
                done = then.occurrence_state(occurrence.due) if then else occurrence.state
            items.append(
                Item(
                    task,
                    unit,
                    assignment,
                    done,
                    occurrence.due,
                    occurrence.due,
                    submitted.get(key),
                    occurrence.due,
                    key in escalated,
                )
            )
    return items


def _history_until(
    session: Session, plan_id: int | None, as_of: dt.date, zone: str
) -> dict[int, list[AuditEvent]]:
    """For assignments changed after `as_of`: their events up to the end of that day in the
    plan's zone.

    A review of a past day must not see what happened later; the audit trail says what each
    assignment looked like then. Assignments untouched since are read as they are.
    """
    cutoff_text = start_of(as_of + dt.timedelta(days=1), zone).isoformat()
    code = session.exec(select(Plan.code).where(Plan.id == plan_id)).one()
    changed = set(
        session.exec(
            select(AuditEvent.entity_id).where(
                AuditEvent.plan_code == code,
                AuditEvent.entity == "assignment",
                AuditEvent.at >= cutoff_text,
            )
        )
    )
    history: dict[int, list[AuditEvent]] = {i: [] for i in changed if i is not None}
    if not history:
        return history
    for event in session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.plan_code == code,
            AuditEvent.entity == "assignment",
            AuditEvent.at < cutoff_text,
        )
        .order_by(col(AuditEvent.id))
    ):
        if event.entity_id in history:
            history[event.entity_id].append(event)
    return history


@dataclass(frozen=True)
class _Then:
    """An assignment as its audit events up to a day describe it."""

    events: list[AuditEvent]

    def state(self) -> str:
        return (
            str(self.events[-1].after["state"])
            if self.events and self.events[-1].after
            else AssignmentState.NOT_STARTED
        )

    def due(self, original: dt.date | None) -> dt.date | None:
        last = self.events[-1].after if self.events else None
        return dt.date.fromisoformat(last["due"]) if last and last.get("due") else original

    def occurrence_state(self, due: dt.date) -> str:
        for event in reversed(self.events):
            occurrence = (event.after or {}).get("occurrence") or {}
            if occurrence.get("due") == due.isoformat():
                return str(occurrence["state"])
        return OccurrenceState.NOT_STARTED


def _review_item(
    item: Item,
    as_of: dt.date,
    calendar: WorkCalendar,
    waits_on: Callable[[str], list[str]],
    finishes: dict[str, list[Finish]],
    critical: tuple[str, ...],
    policy: EscalationPolicy,
) -> ItemReview:
    late = late_by(item, as_of, calendar)
    verdict = judge(
        item,
        late,
        as_of,
        waits_on=waits_on,
        finishes=finishes,
        calendar=calendar,
        counted=counts_against(item.assignment.role, policy),
    )
    is_open = item.state in WITH_UNIT
    return ItemReview(
        task=item.task.code,
        task_title=item.task.title,
        phase=item.task.phase_code,
        unit=item.unit.code,
        unit_name=item.unit.name,
        role=item.assignment.role,
        state=item.state,
        light=_light(item, late, as_of, calendar, policy.yellow_within),
        original_due=item.original_due,
        approved_due=item.approved_due,
        forecast_due=verdict.forecast,
        actual=item.actual if item.state in HANDED_IN else None,
        overdue_workdays=late if is_open else 0,
        late_workdays=late if item.state in HANDED_IN else 0,
        cause=verdict.cause,
        upstream=verdict.upstream,
        occurrence=item.occurrence,
        critical=item.task.code in critical,
        escalated=item.escalated,
    )


def _light(
    item: Item, late: int, as_of: dt.date, calendar: WorkCalendar, yellow_within: int
) -> Light:
    """Red: overdue or escalated. Yellow: due soon with nothing submitted, or past half its
    window without having started. Green: done, submitted, or on track."""
    if item.state in (*CLOSED, AssignmentState.SUBMITTED):
        return Light.GREEN
    if late > 0 or item.escalated:
        return Light.RED
    due = item.approved_due
    if due is None:
        return Light.GREEN
    if (
        calendar.covers(as_of)
        and calendar.covers(due)
        and calendar.workdays_between(as_of, due) <= yellow_within
    ):
        return Light.YELLOW
    start = item.task.start
    if (
        item.state == AssignmentState.NOT_STARTED
        and start is not None
        and start < due
        and (as_of - start) * 2 >= (due - start)
    ):
        return Light.YELLOW
    return Light.GREEN


def _review_task(
    task: Task,
    items: list[ItemReview],
    below: Callable[[str], list[str]],
    labels: dict[str, str],
    critical: tuple[str, ...],
    as_of: dt.date,
) -> TaskReview:
    """A task's light is the worst of its items'; a task nobody holds (a goal, a measure the
    plan gives no unit) is red once past its own due date, as nobody has done it."""
    unheld = Light.RED if not items and task.due and task.due < as_of else Light.GREEN
    light: Light = max((i.light for i in items), key=LIGHT_SEVERITY.__getitem__, default=unheld)
    dues = [i.approved_due for i in items if i.approved_due]
    forecasts = [i.forecast_due for i in items if i.forecast_due]
    return TaskReview(
        code=task.code,
        title=task.title,
        kind=task.kind,
        phase=task.phase_code,
        light=light,
        start=task.start,
        due=max(dues, default=task.due),
        forecast_due=max(forecasts, default=None),
        done=bool(items) and all(i.state in CLOSED for i in items),
        critical=task.code in critical,
        blocks=tuple(labels.get(n, n) for n in below(task.code)),
        units=tuple(dict.fromkeys(i.unit_name for i in items)),
    )
