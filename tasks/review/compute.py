"""The phase review and the office's figures, computed as of any day.

Everything here is derived from what is stored (assignments, occurrences, submissions,
extensions, escalations) and the plan's graph and calendar, with a handful of queries per
plan. Lateness is attributed fairly (tasks.review.blame) and units are ranked on what they
answer for (tasks.review.ranking).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import select as select_core
from sqlmodel import Session, SQLModel, col, select

from calendars.clock import day_of, start_of
from calendars.workdays import WorkCalendar
from duban.errors import NotFound
from schemas.plan_file import EscalationPolicy
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
    Role,
    SeatRole,
)
from tasks.bulk import collector_paused
from tasks.plans.graph import (
    critical_path,
    downstream_of,
    named_predecessors,
    task_predecessors,
)
from tasks.plans.plan_graph import graph_of_plan
from tasks.plans.queries import no_plan
from tasks.review.blame import Finish, Item, TaskFacts, judge, late_by, lead_finishes
from tasks.review.model import (
    ItemReview,
    Review,
    TaskReview,
)
from tasks.review.phases import count, review_phases
from tasks.review.ranking import counted_roles, rank_units, ranking_rule
from tasks.work.status import stored_calendar


class _PlanFacts(NamedTuple):
    """What the review reads of a plan: a few columns, and of its stored plan file (100 KB of
    JSON for 2,500 assignments) the escalation policy and the calendar choice alone."""

    id: int
    code: str
    title: str
    document_number: str | None
    timezone: str
    span_start: dt.date | None
    span_end: dt.date | None
    escalation: dict[str, Any] | None
    calendar: dict[str, Any] | None


def _plan(session: Session, code: str) -> _PlanFacts:
    plan = _columns(Plan)
    columns = (plan[name] for name in _PlanFacts._fields[:-2])  # the two parts come from spec
    row = (
        session.connection()
        .execute(
            select_core(*columns, plan.spec["escalation"], plan.spec["plan"]["calendar"]).where(
                plan.code == code
            )
        )
        .first()
    )
    if row is None:
        raise no_plan(session, code)
    return _PlanFacts._make(row)


@collector_paused()
def review_plan(
    session: Session,
    plan_code: str,
    as_of: dt.date,
    *,
    phase: str | None = None,
    calendar_dir: Path | None = None,
) -> Review:
    """The review of a plan (or of one phase, by kind or code) as of a day."""
    plan = _plan(session, plan_code)
    # The stored spec was validated whole when loaded: only the policy is read again.
    policy = EscalationPolicy.model_validate(plan.escalation or {})
    calendar = stored_calendar(plan.calendar, calendar_dir)
    graph, labels = graph_of_plan(session, plan.id)
    phases = session.exec(
        select(Phase).where(Phase.plan_id == plan.id).order_by(col(Phase.position))
    ).all()
    chosen = _chosen_phase(phases, phase)
    facts = _tasks(session, plan.id)
    tasks = {t.code: t for t in facts.values()}
    items = _items(session, plan, as_of, facts)
    finishes = lead_finishes(items, as_of, calendar)
    critical = tuple(critical_path(graph))
    on_path = frozenset(critical)  # asked of every item
    counted = counted_roles(policy)

    @functools.cache  # asked once for each unit of a task: ten times for the same answer
    def waits_on(task: str) -> list[str]:
        """What a late item may be excused by: the tasks it names, or the phases' too."""
        if policy.phase_order_upstream:
            return task_predecessors(graph, task)
        return named_predecessors(graph, task)

    reviewed = [
        _review_item(i, as_of, calendar, waits_on, finishes, on_path, counted, policy)
        for i in items
    ]
    by_task: dict[str, list[ItemReview]] = defaultdict(list)
    for review in reviewed:
        by_task[review.task].append(review)
    below = downstream_of(graph)
    task_reviews = [
        _review_task(t, by_task[t.code], below, labels, on_path, as_of)
        for t in sorted(tasks.values(), key=lambda t: t.position)
    ]
    phase_reviews = review_phases(phases, task_reviews, reviewed, policy.language)
    in_scope = {t.code for t in tasks.values() if chosen is None or t.phase_code == chosen.code}
    scoped_items = reviewed if chosen is None else [r for r in reviewed if r.task in in_scope]
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
            if t.critical and t.light in (Light.YELLOW, Light.RED) and t.code in in_scope
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


def _items(
    session: Session, plan: _PlanFacts, as_of: dt.date, tasks: dict[int, TaskFacts]
) -> list[Item]:
    """Every assignment, or each dated occurrence of it, with its latest submission date (the
    day it was submitted on in the plan's zone).

    Read as Core rows of the few columns used: ORM objects (and the units' JSON columns
    decoded on every row) cost far more than the review itself. A row names its task and unit
    by id; the plan's `tasks`, and its units, read once, say the rest (ten units' rows carried
    the same task's eight columns ten times, and each unit's name came once per row).
    """
    conn = session.connection()
    assignment, task, unit = (_columns(t) for t in (Assignment, Task, Unit))
    plan_id, zone = plan.id, plan.timezone
    of_the_plan = assignment.plan_id == plan_id  # joined, not IN (every id): one query apiece
    rows = conn.execute(
        select_core(
            assignment.id,
            assignment.role,
            assignment.state,
            assignment.original_due,
            assignment.due,
            assignment.unit_id,
            assignment.task_id,
        )
        .select_from(assignment.id.table)
        .join(task.id.table, assignment.task_id == task.id)
        .where(of_the_plan, assignment.active, task.active)
        .order_by(task.position, assignment.id)
    ).all()
    units = {
        unit_id: (code, name)
        for unit_id, code, name in conn.execute(
            select_core(unit.id, unit.code, unit.name).where(unit.plan_id == plan_id)
        )
    }
    occurrence, submission, escalation = (_columns(t) for t in (Occurrence, Submission, Escalation))
    occurrences: dict[int, list[tuple[int, dt.date, str]]] = defaultdict(list)
    for a_id, o_id, o_due, o_state in conn.execute(
        select_core(occurrence.assignment_id, occurrence.id, occurrence.due, occurrence.state)
        .join(assignment.id.table, occurrence.assignment_id == assignment.id)
        .where(of_the_plan, occurrence.active)
        .order_by(occurrence.due)
    ):
        occurrences[a_id].append((o_id, o_due, o_state))
    submitted: dict[tuple[int, int | None], dt.date] = {}
    for a_id, o_id, at in conn.execute(
        select_core(submission.assignment_id, submission.occurrence_id, submission.submitted_at)
        .join(assignment.id.table, submission.assignment_id == assignment.id)
        .where(of_the_plan)
        .order_by(submission.id)
    ):
        day = day_of(at, zone)
        if day <= as_of:
            submitted[(a_id, o_id)] = day
    escalated: set[tuple[int, int | None]] = set()
    for a_id, o_id, closed_on in conn.execute(
        select_core(escalation.assignment_id, escalation.occurrence_id, escalation.closed_on)
        .join(assignment.id.table, escalation.assignment_id == assignment.id)
        .where(of_the_plan, escalation.opened_on <= as_of)
    ):
        if closed_on is None or closed_on > as_of:
            escalated.add((a_id, o_id))
    history = _history_until(session, plan.code, as_of, zone)
    items = []
    for a_id, role, a_state, original_due, a_due, unit_id, task_id in rows:
        facts_of = tasks[task_id]
        unit_code, unit_name = units[unit_id]
        then = _Then(history[a_id]) if a_id in history else None
        state = then.state() if then else a_state
        dated = occurrences.get(a_id, [])
        if not dated:
            due = then.due(original_due) if then else a_due
            items.append(
                Item(
                    facts_of,
                    unit_code,
                    unit_name,
                    role,
                    state,
                    original_due,
                    due,
                    submitted.get((a_id, None)),
                    None,
                    (a_id, None) in escalated,
                )
            )
        for o_id, o_due, o_state in dated:
            key = (a_id, o_id)
            if state in SET_ASIDE:
                done = state
            else:
                done = then.occurrence_state(o_due) if then else o_state
            items.append(
                Item(
                    facts_of,
                    unit_code,
                    unit_name,
                    role,
                    done,
                    o_due,
                    o_due,
                    submitted.get(key),
                    o_due,
                    key in escalated,
                )
            )
    return items


def _columns(model: type[SQLModel]) -> Any:
    """A table's columns, for Core queries."""
    return model.__table__.c  # type: ignore[attr-defined]


def _tasks(session: Session, plan_id: int | None) -> dict[int, TaskFacts]:
    """The plan's active tasks in their order, by id."""
    task = _columns(Task)
    rows = session.connection().execute(
        select_core(task.id, *(task[name] for name in TaskFacts._fields))
        .where(task.plan_id == plan_id, task.active)
        .order_by(task.position, task.id)
    )
    return {task_id: TaskFacts(*facts) for task_id, *facts in rows}


def _history_until(
    session: Session, code: str, as_of: dt.date, zone: str
) -> dict[int, list[AuditEvent]]:
    """For assignments changed after `as_of`: their events up to the end of that day in the
    plan's zone.

    A review of a past day must not see what happened later; the audit trail says what each
    assignment looked like then. Assignments untouched since are read as they are.
    """
    cutoff_text = start_of(as_of + dt.timedelta(days=1), zone).isoformat()
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
    on_path: frozenset[str],
    counted: frozenset[str],
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
        counted=item.role in counted,
    )
    is_open = item.state in WITH_UNIT
    return ItemReview(
        task=item.task.code,
        task_title=item.task.title,
        phase=item.task.phase_code,
        unit=item.unit,
        unit_name=item.unit_name,
        role=item.role,
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
        critical=item.task.code in on_path,
        escalated=item.escalated,
    )


def _light(
    item: Item, late: int, as_of: dt.date, calendar: WorkCalendar, yellow_within: int
) -> Light:
    """Red: overdue or escalated. Yellow: due soon with nothing submitted, or past half its
    window without having started. Green: done, submitted, or on track."""
    if item.state not in WITH_UNIT:  # done or submitted: green, whatever the dates
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
    task: TaskFacts,
    items: list[ItemReview],
    below: Callable[[str], list[str]],
    labels: dict[str, str],
    on_path: frozenset[str],
    as_of: dt.date,
) -> TaskReview:
    """A task's light is the worst of its items'; a measure the plan gives no unit is red once
    past its own due date, as nobody has done it. A goal no unit holds (到2022年，…) has no
    light: it is a target the plan is judged against, not work anybody can be green on."""
    unheld = Light.RED if not items and task.due and task.due < as_of else Light.GREEN
    light: Light | None = max(
        (i.light for i in items), key=LIGHT_SEVERITY.__getitem__, default=unheld
    )
    if task.kind == "goal" and not items:
        light = None
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
        critical=task.code in on_path,
        blocks=tuple(labels.get(n, n) for n in below(task.code)),
        units=tuple(dict.fromkeys(i.unit_name for i in items)),
        no_lead=bool(items) and all(i.role != Role.LEAD for i in items),
    )
