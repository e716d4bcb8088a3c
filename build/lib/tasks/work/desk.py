"""What the web pages read: a unit's work, the office's queues, one assignment in full.

Plain functions over a Session, read-only; the pages and the CLI could both use them. Work is
grouped the way a liaison reads it (overdue, due this week, later, done) as of a given day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, or_
from sqlmodel import Session, col, select

from duban.errors import NotFound
from schemas.tables import (
    Assignment,
    AuditEvent,
    Escalation,
    Evidence,
    ExtensionRequest,
    ImportRecord,
    Notice,
    Plan,
    ProgressReport,
    Submission,
    SweepRun,
    Task,
    Unit,
)
from schemas.vocabulary import CLOSED, AssignmentState, ExtensionState

GROUPS = ("overdue", "week", "later", "done")


@dataclass(frozen=True)
class WorkRow:
    """One assignment as a list shows it."""

    id: int
    plan: str
    plan_title: str
    task: str
    task_title: str
    unit: str
    unit_name: str
    role: str
    state: str
    original_due: dt.date | None
    due: dt.date | None
    version: int

    def group(self, as_of: dt.date) -> str:
        if self.state in CLOSED:
            return "done"
        if self.due is not None and self.due < as_of and self.state != AssignmentState.SUBMITTED:
            return "overdue"
        if self.due is not None and self.due <= as_of + dt.timedelta(days=7):
            return "week"
        return "later"  # and ongoing work, which has no due date


def _active(query: Any) -> Any:
    """The query over active assignments of active tasks, joined to their task, unit, plan."""
    return (
        query.join(Task, col(Assignment.task_id) == col(Task.id))
        .join(Unit, col(Assignment.unit_id) == col(Unit.id))
        .join(Plan, col(Assignment.plan_id) == col(Plan.id))
        .where(Assignment.active, Task.active)
    )


def _rows_query() -> Any:
    return _active(
        select(  # type: ignore[call-overload]  # sqlmodel types select() for up to four columns
            col(Assignment.id),
            col(Plan.code),
            col(Plan.title),
            col(Task.code),
            col(Task.title),
            col(Unit.code),
            col(Unit.name),
            col(Assignment.role),
            col(Assignment.state),
            col(Assignment.original_due),
            col(Assignment.due),
            col(Assignment.version),
        )
    )


def unit_work(
    session: Session, unit_code: str, as_of: dt.date, *, plan: str | None = None
) -> dict[str, list[WorkRow]]:
    """A unit's assignments in every plan (or one), grouped as of a day, soonest first."""
    query = _rows_query().where(Unit.code == unit_code)
    if plan is not None:
        query = query.where(Plan.code == plan)
    grouped: dict[str, list[WorkRow]] = {g: [] for g in GROUPS}
    for row in session.connection().execute(query.order_by(Assignment.due, Task.code)):
        work = WorkRow(*row)
        grouped[work.group(as_of)].append(work)
    return grouped


def work_rows(
    session: Session,
    *,
    plan: str | None = None,
    unit: str | None = None,
    phase: str | None = None,
    state: str | None = None,
    ids: list[int] | None = None,
    limit: int | None = None,
) -> list[WorkRow]:
    """Assignments filtered as the office filters them (every filter optional), the first
    `limit` of them if given."""
    query = _filtered(_rows_query(), plan, unit, phase, state, ids)
    return [
        WorkRow(*row)
        for row in session.connection().execute(
            query.order_by(Plan.code, Task.position).limit(limit)
        )
    ]


def count_rows(
    session: Session,
    *,
    plan: str | None = None,
    unit: str | None = None,
    phase: str | None = None,
    state: str | None = None,
) -> int:
    """How many assignments `work_rows` would list: a page shows some and counts them all."""
    query = _active(select(func.count()).select_from(Assignment))
    return int(session.exec(_filtered(query, plan, unit, phase, state, None)).one())


def _filtered(
    query: Any,
    plan: str | None,
    unit: str | None,
    phase: str | None,
    state: str | None,
    ids: list[int] | None,
) -> Any:
    if plan:
        query = query.where(Plan.code == plan)
    if unit:
        query = query.where(Unit.code == unit)
    if phase:
        query = query.where(Task.phase_code == phase)
    if state:
        query = query.where(Assignment.state == state)
    if ids is not None:
        query = query.where(col(Assignment.id).in_(ids))
    return query


def assignment_ids(session: Session, plan: str) -> dict[tuple[str, str], int]:
    """(task code, unit code) → assignment id, to link a review's items to their pages."""
    query = (
        select(Task.code, Unit.code, Assignment.id)
        .join(Task, col(Assignment.task_id) == col(Task.id))
        .join(Unit, col(Assignment.unit_id) == col(Unit.id))
        .join(Plan, col(Assignment.plan_id) == col(Plan.id))
        .where(Plan.code == plan, Assignment.active)
    )
    return {(task, unit): ident for task, unit, ident in session.connection().execute(query)}


@dataclass
class Queues:
    """What waits for the office, oldest first."""

    submissions: list[tuple[WorkRow, Submission]] = field(default_factory=list)
    extensions: list[tuple[WorkRow, ExtensionRequest]] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    unacknowledged: list[tuple[Notice, dt.date]] = field(default_factory=list)


def waiting_work(session: Session, *, plan: str | None = None, limit: int = 200) -> Queues:
    """The queues but the unacknowledged notices: submissions waiting for a decision,
    extension requests and open escalations, which only the lifecycle (and so its audit
    trail) and the sweep change."""
    waiting = (
        select(Submission)
        .join(Assignment, col(Submission.assignment_id) == col(Assignment.id))
        .where(col(Submission.decision).is_(None), Assignment.active)
        .order_by(col(Submission.submitted_at))
        .limit(limit)
    )
    requested = (
        select(ExtensionRequest)
        .where(ExtensionRequest.state == ExtensionState.REQUESTED)
        .order_by(col(ExtensionRequest.requested_at))
        .limit(limit)
    )
    submissions = list(session.exec(waiting))
    requests = list(session.exec(requested))
    ids = [s.assignment_id for s in submissions] + [r.assignment_id for r in requests]
    rows = {r.id: r for r in work_rows(session, plan=plan, ids=ids)} if ids else {}
    escalations = select(Escalation).where(col(Escalation.closed_on).is_(None))
    if plan:
        escalations = escalations.where(Escalation.plan_code == plan)
    return Queues(
        submissions=[(rows[s.assignment_id], s) for s in submissions if s.assignment_id in rows],
        extensions=[(rows[r.assignment_id], r) for r in requests if r.assignment_id in rows],
        escalations=list(
            session.exec(escalations.order_by(col(Escalation.opened_on)).limit(limit))
        ),
    )


def unacknowledged_notices(
    session: Session, *, plan: str | None = None, limit: int = 200
) -> list[tuple[Notice, dt.date]]:
    """督办单 and 通报 not yet acknowledged (签收), with the day each was sent."""
    notices = (
        select(Notice, col(SweepRun.as_of))
        .join(SweepRun)
        .where(col(Notice.receipt_code).is_not(None), col(Notice.acknowledged_at).is_(None))
    )
    if plan:
        notices = notices.where(Notice.plan_code == plan)
    return [(n, day) for n, day in session.exec(notices.order_by(col(Notice.id)).limit(limit))]


@dataclass
class Detail:
    """One assignment in full: the task's words, every report, submission, decision, file,
    extension request and audit event, and the 督办单/通报 sent about it."""

    row: WorkRow
    task: Task
    progress: list[tuple[ProgressReport, list[Evidence]]]
    submissions: list[tuple[Submission, list[Evidence]]]
    extensions: list[ExtensionRequest]
    notices: list[Notice]
    history: list[AuditEvent]
    units: list[Unit]  # the plan's units, for re-assignment


def assignment_detail(session: Session, assignment_id: int) -> Detail:
    rows = work_rows(session, ids=[assignment_id])
    if not rows:
        raise NotFound(f"no assignment {assignment_id}")
    row = rows[0]
    assignment = session.get(Assignment, assignment_id)
    assert assignment is not None
    task = session.get(Task, assignment.task_id)
    assert task is not None
    progress = list(
        session.exec(
            select(ProgressReport)
            .where(ProgressReport.assignment_id == assignment_id)
            .order_by(col(ProgressReport.reported_at))
        )
    )
    submissions = list(
        session.exec(
            select(Submission)
            .where(Submission.assignment_id == assignment_id)
            .order_by(col(Submission.submitted_at))
        )
    )
    files: dict[tuple[str, int], list[Evidence]] = {}
    report_ids = [p.id for p in progress]
    submission_ids = [s.id for s in submissions]
    for evidence in session.exec(
        select(Evidence).where(
            Evidence.progress_id.in_(report_ids)  # type: ignore[union-attr]
            | Evidence.submission_id.in_(submission_ids)  # type: ignore[union-attr]
        )
    ):
        key = (
            ("progress", evidence.progress_id or 0)
            if evidence.progress_id
            else ("submission", evidence.submission_id or 0)
        )
        files.setdefault(key, []).append(evidence)
    history = list(
        session.exec(
            select(AuditEvent)
            .where(
                AuditEvent.plan_code == row.plan,
                AuditEvent.task_code == row.task,
                AuditEvent.unit_code == row.unit,
            )
            .order_by(col(AuditEvent.id))
        )
    )
    return Detail(
        row=row,
        task=task,
        progress=[(p, files.get(("progress", p.id or 0), [])) for p in progress],
        submissions=[(s, files.get(("submission", s.id or 0), [])) for s in submissions],
        extensions=list(
            session.exec(
                select(ExtensionRequest)
                .where(ExtensionRequest.assignment_id == assignment_id)
                .order_by(col(ExtensionRequest.requested_at))
            )
        ),
        notices=list(
            session.exec(
                select(Notice)
                .where(Notice.assignment_id == assignment_id, Notice.receipt_code.is_not(None))  # type: ignore[union-attr]
                .order_by(col(Notice.id))
            )
        ),
        history=history,
        units=list(
            session.exec(
                select(Unit)
                .join(Plan, col(Unit.plan_id) == col(Plan.id))
                .where(Plan.code == row.plan, Unit.active)
                .order_by(col(Unit.code))
            )
        ),
    )


def evidence_owner(session: Session, evidence_id: int) -> tuple[Evidence, int]:
    """A stored file and the assignment it belongs to (for who may download it)."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFound(f"no evidence file {evidence_id}")
    if evidence.progress_id is not None:
        owner: Any = session.get(ProgressReport, evidence.progress_id)
    else:
        owner = session.get(Submission, evidence.submission_id)
    assert owner is not None
    return evidence, owner.assignment_id


def plans(session: Session) -> list[tuple[str, str]]:
    """Code and title only: a plan's stored spec is large, and pages only name the plan."""
    return [(c, t) for c, t in session.exec(select(Plan.code, Plan.title).order_by(col(Plan.code)))]


DataVersion = tuple[int, int, int]


def _versions(plan: Any) -> Any:
    """The query of `data_version`: of every plan, or of the plan bound to `plan`."""
    audit = select(func.max(AuditEvent.id))
    sweep = select(func.max(SweepRun.id))
    imported = select(func.max(ImportRecord.id))
    if plan is not None:
        audit = audit.where(AuditEvent.plan_code == plan)
        sweep = sweep.where(or_(col(SweepRun.plan_code) == plan, col(SweepRun.plan_code).is_(None)))
        imported = imported.join(Plan, col(ImportRecord.plan_id) == col(Plan.id)).where(
            Plan.code == plan
        )
    return select(audit.scalar_subquery(), sweep.scalar_subquery(), imported.scalar_subquery())


# Built once: asked on every page, a query built anew would be compiled (looked up) anew.
EVERY_PLAN, ONE_PLAN = _versions(None), _versions(bindparam("plan"))


def data_version(session: Session, plan: str | None = None) -> DataVersion:
    """Changes since, to one plan's data (or to any plan's): the newest audit event, sweep and
    import of the plan, in one query.

    Every change a page shows comes through one of them: the work's changes through the
    lifecycle, which records each in the audit trail under the plan's code; notices and
    escalations with a sweep (of the plan, or of every plan); plans, tasks and due dates with
    an import. A result computed from the data is good while these three are the same. Each
    only grows, and audit events are numbered under the audit head's lock, so in commit
    order: a version read before the data it labels is never newer than that data."""
    query, bound = (EVERY_PLAN, {}) if plan is None else (ONE_PLAN, {"plan": plan})
    newest = session.connection().execute(query, bound).one()
    return int(newest[0] or 0), int(newest[1] or 0), int(newest[2] or 0)
