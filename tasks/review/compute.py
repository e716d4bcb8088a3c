"""The phase review and the office's figures, computed as of any day.

Everything here is derived from what is stored (assignments, occurrences, submissions,
extensions, escalations) and the plan's graph and calendar, with a handful of queries per
plan. Lateness is attributed fairly: an item late because a task it waits on was late is
"upstream", not the unit's own delay, and the ranking counts only a unit's own delays.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import TypedDict

import networkx as nx
from sqlmodel import Session, col, select

from calendars.clock import day_of, start_of
from calendars.workdays import WorkCalendar
from duban.errors import NotFound
from schemas.plan_file import PlanFile
from schemas.tables import (
    Assignment,
    AuditEvent,
    Escalation,
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
    Cause,
    Light,
    OccurrenceState,
    Role,
)
from tasks.plans.graph import PHASE_RANK, critical_path, downstream_of, task_predecessors
from tasks.plans.plan_graph import plan_graph
from tasks.plans.queries import find_plan
from tasks.review.model import (
    Counts,
    ItemReview,
    PhaseReview,
    Review,
    TaskReview,
    UnitScore,
)
from tasks.work.status import plan_calendar

RULE = {
    "zh": "排名规则：按本单位自身原因造成的延误项数（含当前逾期）从少到多排列；项数相同的，"
    "按平均逾期工作日从少到多；再按按时办结项数从多到少。因上游任务延误导致的逾期、"
    "经批准延期的事项不计入本单位延误。",
    "en": "Ranking rule: fewest own delays first (including items overdue now), then fewest "
    "average working days late, then most items accepted on time. Delays caused by late "
    "upstream tasks and approved extensions do not count against a unit.",
}


class _Words(TypedDict):
    item: str
    due: str
    phase: str
    states: dict[str, str]


MISSING: dict[str, _Words] = {
    "zh": {
        "item": "{task} {unit}：{state}",
        "due": "，完成时限{due}",
        "phase": "{name}尚有{count}项未办结",
        "states": {
            "not_started": "未启动",
            "in_progress": "推进中",
            "returned": "已退回",
            "submitted": "已报送待审核",
        },
    },
    "en": {
        "item": "{task} {unit}: {state}",
        "due": ", due {due}",
        "phase": "{name} has {count} item(s) not finished",
        "states": {
            "not_started": "not started",
            "in_progress": "in progress",
            "returned": "returned",
            "submitted": "awaiting acceptance",
        },
    },
}


@dataclass
class _Item:
    """An item being reviewed, before it is frozen into an ItemReview."""

    task: Task
    unit: Unit
    assignment: Assignment
    state: str
    original_due: dt.date | None
    approved_due: dt.date | None
    actual: dt.date | None
    occurrence: dt.date | None
    escalated: bool


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
    finishes = _task_finishes(items, as_of, calendar)
    critical = tuple(critical_path(graph))
    reviewed = [
        _review_item(i, as_of, calendar, graph, finishes, critical, spec.escalation.yellow_within)
        for i in items
    ]
    by_task: dict[str, list[ItemReview]] = defaultdict(list)
    for review in reviewed:
        by_task[review.task].append(review)
    below = downstream_of(graph)
    task_reviews = [
        _review_task(t, by_task[t.code], below, labels, critical)
        for t in sorted(tasks.values(), key=lambda t: t.position)
    ]
    phase_reviews = tuple(
        _review_phase(p, phases, task_reviews, reviewed, spec.escalation.language) for p in phases
    )
    in_scope = {t.code for t in tasks.values() if chosen is None or t.phase_code == chosen.code}
    scoped_items = [r for r in reviewed if r.task in in_scope]
    scoped_tasks = [t for t in task_reviews if t.code in in_scope]
    kinds = {t.code: t.kind for t in tasks.values()}
    escalations = _open_escalations(session, plan.code)
    return Review(
        plan=plan.code,
        title=plan.title,
        document_number=plan.document_number,
        as_of=as_of,
        phase=chosen.code if chosen else None,
        counts=_counts(scoped_tasks, scoped_items),
        phases=tuple(p for p in phase_reviews if chosen is None or p.code == chosen.code),
        tasks=tuple(scoped_tasks),
        items=tuple(scoped_items),
        units=_rank(scoped_items, kinds, escalations, as_of),
        ranking_rule=RULE[spec.escalation.language],
        critical_path=critical,
        at_risk=tuple(
            t.code
            for t in task_reviews
            if t.critical and t.light != Light.GREEN and t.code in in_scope
        ),
        span=(plan.span_start, plan.span_end),
        language=spec.escalation.language,
    )


def _chosen_phase(phases: Sequence[Phase], wanted: str | None) -> Phase | None:
    if wanted is None:
        return None
    for phase in phases:
        if wanted in (phase.code, phase.kind):
            return phase
    names = ", ".join(f"{p.code} ({p.kind})" for p in phases) or "none"
    raise NotFound(f'no phase "{wanted}"; phases: {names}')


def _items(session: Session, plan_id: int | None, as_of: dt.date, zone: str) -> list[_Item]:
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
                _Item(
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
                _Item(
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


def _late_by(item: _Item, as_of: dt.date, calendar: WorkCalendar) -> int:
    """Working days late: submitted after the approved date, or still open past it."""
    due = item.approved_due
    if due is None or item.state in SET_ASIDE:
        return 0
    if item.state in HANDED_IN:
        done = item.actual or as_of
        return calendar.workdays_between(due, done) if done > due else 0
    return calendar.workdays_between(due, as_of) if as_of > due else 0


@dataclass(frozen=True)
class _Finish:
    """When a single-date task finished (or, open, at the earliest can), and who leads it."""

    late: int
    finish: dt.date
    leads: frozenset[str]


def _task_finishes(
    items: list[_Item], as_of: dt.date, calendar: WorkCalendar
) -> dict[str, _Finish]:
    """For each single-date task: its lateness and finish, from its lead items.

    Recurring and ongoing tasks are left out: they never finish as a whole, so they hold
    nothing up downstream in the sense of this attribution.
    """
    by_task: dict[str, list[_Item]] = defaultdict(list)
    for item in items:
        if item.task.deadline_kind in ("date", "window") and item.approved_due is not None:
            by_task[item.task.code].append(item)
    finishes = {}
    for code, found in by_task.items():
        leads = [i for i in found if i.assignment.role == Role.LEAD] or found
        ends = [
            (i.actual or as_of) if i.state in HANDED_IN else max(i.approved_due or as_of, as_of)
            for i in leads
            if i.state not in SET_ASIDE
        ]
        finishes[code] = _Finish(
            late=max((_late_by(i, as_of, calendar) for i in leads), default=0),
            finish=max(ends, default=as_of),
            leads=frozenset(i.unit.code for i in leads),
        )
    return finishes


def _review_item(
    item: _Item,
    as_of: dt.date,
    calendar: WorkCalendar,
    graph: nx.DiGraph,
    finishes: dict[str, _Finish],
    critical: tuple[str, ...],
    yellow_within: int,
) -> ItemReview:
    late = _late_by(item, as_of, calendar)
    due = item.approved_due
    # Another unit's late task that finished (or will) after this item was due held it up.
    holding = [
        (p, finishes[p])
        for p in task_predecessors(graph, item.task.code)
        if p in finishes
        and finishes[p].late > 0
        and item.unit.code not in finishes[p].leads
        and due is not None
        and finishes[p].finish > due
    ]
    upstream = tuple((p, f.late) for p, f in holding)
    held = max((calendar.workdays_between(due, f.finish) for _, f in holding if due), default=0)
    extended = item.approved_due != item.original_due
    is_open = item.state in WITH_UNIT
    forecast = None
    if is_open and due is not None:
        forecast = max([due, *(f.finish for _, f in holding)])
    cause: Cause
    if late > 0:
        cause = Cause.UPSTREAM if held >= late else Cause.OWN
    elif extended and item.original_due is not None and (item.actual or as_of) > item.original_due:
        cause = Cause.EXTENSION
    else:
        cause = Cause.OPEN if is_open else Cause.ON_TIME
    return ItemReview(
        task=item.task.code,
        task_title=item.task.title,
        phase=item.task.phase_code,
        unit=item.unit.code,
        unit_name=item.unit.name,
        role=item.assignment.role,
        state=item.state,
        light=_light(item, late, as_of, calendar, yellow_within),
        original_due=item.original_due,
        approved_due=item.approved_due,
        forecast_due=forecast,
        actual=item.actual if item.state in HANDED_IN else None,
        overdue_workdays=late if is_open else 0,
        late_workdays=late if item.state in HANDED_IN else 0,
        cause=cause,
        upstream=upstream,
        occurrence=item.occurrence,
        critical=item.task.code in critical,
        escalated=item.escalated,
    )


def _light(
    item: _Item, late: int, as_of: dt.date, calendar: WorkCalendar, yellow_within: int
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
) -> TaskReview:
    light: Light = max(
        (i.light for i in items), key=LIGHT_SEVERITY.__getitem__, default=Light.GREEN
    )
    dues = [i.approved_due for i in items if i.approved_due]
    forecasts = [i.forecast_due for i in items if i.forecast_due]
    return TaskReview(
        code=task.code,
        title=task.title,
        kind=task.kind,
        phase=task.phase_code,
        light=light,
        start=task.start,
        due=max(dues, default=None),
        forecast_due=max(forecasts, default=None),
        done=bool(items) and all(i.state in CLOSED for i in items),
        critical=task.code in critical,
        blocks=tuple(labels.get(n, n) for n in below(task.code)),
        units=tuple(dict.fromkeys(i.unit_name for i in items)),
    )


def _counts(tasks: list[TaskReview], items: list[ItemReview]) -> Counts:
    return Counts(
        tasks=len(tasks),
        assignments=len(items),
        accepted=sum(i.state == AssignmentState.ACCEPTED for i in items),
        accepted_on_time=sum(
            i.state == AssignmentState.ACCEPTED and i.late_workdays == 0 for i in items
        ),
        submitted=sum(i.state == AssignmentState.SUBMITTED for i in items),
        in_progress=sum(
            i.state in (AssignmentState.IN_PROGRESS, AssignmentState.RETURNED) for i in items
        ),
        not_started=sum(i.state == AssignmentState.NOT_STARTED for i in items),
        overdue=sum(i.overdue_workdays > 0 for i in items),
        extended=sum(i.approved_due != i.original_due for i in items),
        waived=sum(i.state in SET_ASIDE for i in items),
    )


def _review_phase(
    phase: Phase,
    phases: Sequence[Phase],
    tasks: list[TaskReview],
    items: list[ItemReview],
    language: str,
) -> PhaseReview:
    mine = [t for t in tasks if t.phase == phase.code]
    my_items = [i for i in items if i.phase == phase.code]
    words = MISSING[language]
    missing = [
        words["item"].format(
            task=i.task, unit=i.unit_name, state=words["states"].get(i.state, i.state)
        )
        + (words["due"].format(due=i.approved_due) if i.approved_due else "")
        for i in my_items
        if i.state not in CLOSED
    ]
    for earlier in phases:
        if PHASE_RANK[earlier.kind] < PHASE_RANK[phase.kind]:
            open_items = [i for i in items if i.phase == earlier.code and i.state not in CLOSED]
            if open_items:
                missing.append(words["phase"].format(name=earlier.name, count=len(open_items)))
    return PhaseReview(
        code=phase.code,
        kind=phase.kind,
        name=phase.name,
        start=phase.start,
        due=phase.due,
        counts=_counts(mine, my_items),
        ready=not missing,
        missing=tuple(missing),
    )


def _open_escalations(session: Session, plan_code: str) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for esc in session.exec(
        select(Escalation).where(
            Escalation.plan_code == plan_code, col(Escalation.closed_on).is_(None)
        )
    ):
        counts[esc.unit_code] += 1
    return counts


def _rank(
    items: list[ItemReview], kinds: dict[str, str], escalations: dict[str, int], as_of: dt.date
) -> tuple[UnitScore, ...]:
    by_unit: dict[str, list[ItemReview]] = defaultdict(list)
    for item in items:
        by_unit[item.unit].append(item)
    scores = []
    for unit, mine in by_unit.items():
        own = [i for i in mine if i.cause == Cause.OWN]
        reports = [
            i
            for i in mine
            if kinds.get(i.task) == "report" and i.approved_due and i.approved_due <= as_of
        ]
        scores.append(
            UnitScore(
                unit=unit,
                name=mine[0].unit_name,
                assigned=len(mine),
                accepted_on_time=sum(
                    i.state == AssignmentState.ACCEPTED and i.late_workdays == 0 for i in mine
                ),
                accepted_late=sum(
                    i.state == AssignmentState.ACCEPTED and i.late_workdays > 0 for i in mine
                ),
                overdue_now=sum(i.overdue_workdays > 0 for i in mine),
                own_delays=len(own),
                upstream_delays=sum(i.cause == Cause.UPSTREAM for i in mine),
                avg_workdays_late=round(mean(i.late_workdays or i.overdue_workdays for i in own), 1)
                if own
                else 0.0,
                summaries_on_time=sum(
                    i.actual is not None and i.late_workdays == 0 for i in reports
                ),
                summaries_due=len(reports),
                open_escalations=escalations.get(unit, 0),
            )
        )
    scores.sort(
        key=lambda s: (
            s.own_delays,
            s.avg_workdays_late,
            -s.accepted_on_time,
            -s.summaries_on_time,
            s.name,
        )
    )
    return tuple(UnitScore(**{**s.__dict__, "rank": n}) for n, s in enumerate(scores, 1))
