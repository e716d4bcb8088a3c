"""The deadline sweep: look at every open item as of a day, decide which rung of the ladder
each has reached, write one outbox message per recipient bundling what it must be told (its
notices, the decisions on its work since its last letter, and for the office what waits for
its decision: tasks.sweep.followups), and deliver the outbox.

`run_sweep` is the one sweep: it says in which order the steps run and when the day is
skipped. How each step runs is the caller's `SweepSteps`: `DirectSteps` runs them here, in
this process (the CLI, the replay, the tests); `flows.sweep` runs each as a Prefect task around
the same `DirectSteps` method. Only loading, writing and delivering touch the database;
evaluating and planning are pure.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, cast

import sqlalchemy
from sqlalchemy import ColumnExpressionArgument, Executable, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from calendars.workdays import WorkCalendar
from duban.errors import NotFound
from schemas.db import SessionFactory
from schemas.plan_file import CalendarChoice, EscalationPolicy
from schemas.tables import (
    Assignment,
    Dependency,
    Escalation,
    JointMeetingSeat,
    MessageBody,
    Notice,
    Occurrence,
    OutboxMessage,
    Phase,
    Plan,
    SweepRun,
    Task,
    Unit,
)
from schemas.vocabulary import (
    CLOSED,
    OCCURRENCE_WITH_UNIT,
    RECEIPTED,
    SET_ASIDE,
    SEVERITY,
    WITH_UNIT,
    AssignmentState,
    Level,
    MessageKind,
    RecipientRole,
    Role,
    SeatRole,
)
from tasks.bulk import collector_paused
from tasks.plans.graph import PhaseNode, TaskNode, build_graph, critical_path, downstream_of
from tasks.sweep.catch_up import (
    CATCH_UP_LIMIT,
    PlanDays,
    SweptDays,
    days_to_catch_up,
    last_swept,
    not_told_later,
    plan_days,
    swept_days,
)
from tasks.sweep.delivery import Transport
from tasks.sweep.escalation import Rung, rung_reached, why
from tasks.sweep.followups import (
    Pending,
    claim_followups,
    daily_header,
    mailed,
    mark_bundled,
    office_queue,
    pending_followups,
)
from tasks.sweep.notices import (
    WAITING_SHOWN,
    Letter,
    MailComposer,
    NoticeItem,
    RenderedMail,
    WaitingItem,
    moved_from,
)
from tasks.sweep.outbox import DeliveryReport, deliver_everything, new_message_id
from tasks.work import audit
from tasks.work.status import calendar_of

if TYPE_CHECKING:
    from sqlalchemy import Result

SINGLE_DATE = ("date", "window")
ONGOING = ("ongoing", "recurring")  # no final due date: each item is one report of many


class OpenItem(NamedTuple):
    """One open obligation with a date: an assignment, or one dated occurrence of it.

    A named tuple: a sweep makes one per open item (100k in the benchmark), and tuples are
    several times cheaper to build than frozen dataclasses.
    """

    assignment_id: int
    occurrence_id: int | None
    plan_code: str
    task_code: str
    unit_code: str
    role: str
    due: dt.date
    original_due: dt.date | None


@dataclass
class PlanContext:
    """What the sweep needs to know about one plan, read once per sweep."""

    plan: PlanFacts
    calendar: WorkCalendar
    policy: EscalationPolicy
    units: dict[str, Unit]
    tasks: dict[str, TaskFacts]
    office: Unit | None
    leadership: Unit | None
    critical: frozenset[str]
    contact: tuple[str | None, str | None] = (None, None)  # the office's liaison: name, phone
    graph: Any = None
    downstream: dict[str, tuple[str, ...]] = field(default_factory=dict)
    below: Callable[[str], list[str]] | None = None

    def blocks(self, task: str) -> tuple[str, ...]:
        """What a late task holds up downstream (computed only for items that need it)."""
        if task not in self.downstream:
            if self.below is None:
                self.below = downstream_of(self.graph)
            self.downstream[task] = tuple(
                self.tasks[n].title for n in self.below(task) if n in self.tasks
            )
        return self.downstream[task]


@dataclass(frozen=True)
class Finding:
    item: OpenItem
    rung: Rung
    critical: bool


class PlannedNotice(NamedTuple):
    """A notice a sweep means to write (a named tuple: one is made per notice, and again for
    each 督办单 and 通报 given its letter's receipt code)."""

    dedupe_key: str
    item: OpenItem
    recipient_code: str
    in_copy: bool
    level: Level
    rung: str
    due: dt.date
    overdue_workdays: int
    receipt_code: str | None
    content: NoticeItem

    def as_json(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient_code,
            "level": self.level,
            "plan": self.item.plan_code,
            "task": self.item.task_code,
            "unit": self.item.unit_code,
            "due": self.due.isoformat(),
        }


@dataclass
class SweepOutcome:
    as_of: dt.date
    planned: list[PlannedNotice]
    written: list[PlannedNotice] = field(default_factory=list)
    followups: list[Pending] = field(default_factory=list)  # decisions mailed (or to be, dry)
    messages: int = 0
    escalations_opened: int = 0
    escalations_closed: int = 0
    sweep_id: int | None = None
    skipped: str | None = None  # why nothing was swept (not a working day for any plan)
    delivery: DeliveryReport | None = None  # None: nothing was delivered (a dry run)
    caught_up: list[SweepOutcome] = field(default_factory=list)  # missed days swept first
    left_behind: list[SweptDays] = field(default_factory=list)  # plans missing too many days
    limit: int = CATCH_UP_LIMIT  # the most missed days of a plan caught up


class PlanFacts(NamedTuple):
    id: int
    code: str
    title: str
    document_number: str | None
    supervise_from: dt.date | None  # a plan adopted under way: supervised from this day


class TaskFacts(NamedTuple):
    """What a notice says about a task, read in one query for every plan swept."""

    code: str
    title: str
    phase: str | None
    due: dt.date | None
    deadline_text: str | None
    deadline_note: str | None
    text: str | None  # what the plan asks to be done, quoted in each letter's item
    ongoing: bool  # 持续开展 or a recurring report: its items have report days, not a deadline


def load_contexts(
    session: Session, *, plan: str | None = None, calendar_dir: Path | None = None
) -> dict[str, PlanContext]:
    """Each plan's calendar, policy, units, seats, tasks and graph, in a few bulk queries."""
    connection = session.connection()
    # Only the policy and the calendar choice of each stored plan file are needed here.
    # SQLAlchemy's own select: sqlmodel's is typed for at most four columns.
    query = sqlalchemy.select(
        col(Plan.id),
        col(Plan.code),
        col(Plan.title),
        col(Plan.document_number),
        col(Plan.spec)["escalation"],
        col(Plan.spec)["plan"]["calendar"],
        col(Plan.spec)["plan"]["supervise_from"],
    ).order_by(col(Plan.code))
    if plan is not None:
        query = query.where(col(Plan.code) == plan)
    plans: dict[int, tuple[PlanFacts, EscalationPolicy, CalendarChoice]] = {}
    for plan_id, code, title, number, policy, choice, since in connection.execute(query):
        plans[plan_id] = (
            PlanFacts(
                plan_id, code, title, number, dt.date.fromisoformat(since) if since else None
            ),
            EscalationPolicy.model_validate(policy or {}),
            CalendarChoice.model_validate(choice or {}),
        )
    wanted = list(plans)
    tasks: dict[int, dict[str, TaskFacts]] = defaultdict(dict)
    task_codes: dict[int | None, str] = {}
    for plan_id, task_id, code, title, phase, due, said, note, text, kind in connection.execute(
        sqlalchemy.select(
            col(Task.plan_id),
            col(Task.id),
            col(Task.code),
            col(Task.title),
            col(Task.phase_code),
            col(Task.due),
            col(Task.deadline_text),
            col(Task.deadline_note),
            col(Task.text),
            col(Task.deadline_kind),
        ).where(col(Task.plan_id).in_(wanted), col(Task.active))
    ):
        facts = TaskFacts(code, title, phase, due, said, note, text, kind in ONGOING)
        tasks[plan_id][code] = facts
        task_codes[task_id] = code
    needs: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for plan_id, task_id, before_id in connection.execute(
        select(Dependency.plan_id, Dependency.task_id, Dependency.depends_on_id).where(
            col(Dependency.plan_id).in_(wanted)
        )
    ):
        if task_id in task_codes and before_id in task_codes:
            needs[plan_id][task_codes[task_id]].append(task_codes[before_id])
    phases: dict[int, list[PhaseNode]] = defaultdict(list)
    for plan_id, code, kind in connection.execute(
        select(Phase.plan_id, Phase.code, Phase.kind).where(col(Phase.plan_id).in_(wanted))
    ):
        phases[plan_id].append(PhaseNode(code, kind))
    units: dict[int, dict[str, Unit]] = defaultdict(dict)
    by_id: dict[int | None, Unit] = {}
    for unit in session.exec(select(Unit).where(col(Unit.plan_id).in_(wanted))):
        units[unit.plan_id][unit.code] = unit
        by_id[unit.id] = unit
    seats: dict[int, dict[str, Unit]] = defaultdict(dict)
    liaisons: dict[tuple[int, str], tuple[str | None, str | None]] = {}
    for seat in session.exec(
        select(JointMeetingSeat).where(col(JointMeetingSeat.plan_id).in_(wanted))
    ):
        seats[seat.plan_id][seat.role] = by_id[seat.unit_id]
        if seat.liaison_name or seat.liaison_phone:  # the plan names a unit's 联络员
            liaisons[(seat.plan_id, by_id[seat.unit_id].code)] = (
                seat.liaison_name,
                seat.liaison_phone,
            )
    contexts = {}
    for plan_id, (row, policy, choice) in plans.items():
        calendar = calendar_of(choice, calendar_dir)
        graph = build_graph(
            [
                TaskNode(t.code, t.phase, t.due, tuple(needs[plan_id][t.code]))
                for t in tasks[plan_id].values()
            ],
            phases[plan_id],
            check_cycles=False,
        )
        chairs = seats[plan_id]
        office = chairs.get(SeatRole.OFFICE)
        contexts[row.code] = PlanContext(
            plan=row,
            calendar=calendar,
            policy=policy,
            units=units[plan_id],
            tasks=tasks[plan_id],
            office=office,
            contact=liaisons.get((plan_id, office.code), (None, None)) if office else (None, None),
            leadership=chairs.get(SeatRole.LEADERSHIP) or chairs.get(SeatRole.CONVENER),
            critical=frozenset(critical_path(graph)),
            graph=graph,
        )
    return contexts


def load_open_work(session: Session, *, plan: str | None = None) -> list[OpenItem]:
    """Every open dated item, in two queries: single-date assignments and dated occurrences."""
    single, dated = _open_work_queries(by_plan=plan is not None)
    connection = session.connection()  # Core rows: no ORM bookkeeping for 100k tuples
    asked = {"plan": plan}
    # The columns are typed from the models, where an id is None until inserted; rows read
    # back have their ids, and `single` has only rows with a due date.
    singles = cast(
        "Result[int, str, str, str, str, dt.date, dt.date | None]",
        connection.execute(single, asked),
    )
    items = [OpenItem(a, None, p, t, u, r, due, orig) for a, p, t, u, r, due, orig in singles]
    occurrences = cast(
        "Result[int, int, str, str, str, str, dt.date]", connection.execute(dated, asked)
    )
    items += [OpenItem(a, o, p, t, u, r, due, due) for a, o, p, t, u, r, due in occurrences]
    return items


@functools.cache
def _open_work_queries(*, by_plan: bool) -> tuple[Executable, Executable]:
    """The two queries of the open work, of every plan or of the plan bound as `plan`: built
    once a process (a replay loads the open work on hundreds of days)."""
    common: list[ColumnExpressionArgument[bool]] = [
        col(Assignment.active),
        col(Task.active),
        col(Assignment.state).in_(WITH_UNIT),
    ]
    if by_plan:
        common.append(col(Plan.code) == sqlalchemy.bindparam("plan"))
    # SQLAlchemy's own select: sqlmodel's is typed for at most four columns.
    single = (
        sqlalchemy.select(
            col(Assignment.id),
            col(Plan.code),
            col(Task.code),
            col(Unit.code),
            col(Assignment.role),
            col(Assignment.due),
            col(Assignment.original_due),
        )
        .join(Task, col(Assignment.task_id) == Task.id)
        .join(Unit, col(Assignment.unit_id) == Unit.id)
        .join(Plan, col(Assignment.plan_id) == Plan.id)
        .where(
            *common,
            col(Task.deadline_kind).in_(SINGLE_DATE),
            col(Assignment.due).is_not(None),
        )
    )
    dated = (
        sqlalchemy.select(
            col(Assignment.id),
            col(Occurrence.id),
            col(Plan.code),
            col(Task.code),
            col(Unit.code),
            col(Assignment.role),
            col(Occurrence.due),
        )
        .join(Assignment, col(Occurrence.assignment_id) == Assignment.id)
        .join(Task, col(Assignment.task_id) == Task.id)
        .join(Unit, col(Assignment.unit_id) == Unit.id)
        .join(Plan, col(Assignment.plan_id) == Plan.id)
        .where(*common, col(Occurrence.active), col(Occurrence.state).in_(OCCURRENCE_WITH_UNIT))
    )
    return single, dated


def evaluate(
    items: Iterable[OpenItem], contexts: dict[str, PlanContext], as_of: dt.date
) -> list[Finding]:
    """The rung each item has reached on `as_of` (items on no rung are left out).

    A plan is swept only on its own working days: cron cannot express the mainland calendar
    (a make-up Saturday is a working day, a Tuesday in the Spring Festival is not); and, for a
    plan adopted under way, only from its `supervise_from` day.
    """
    working = {
        code
        for code in working_plans(contexts, as_of)
        if (since := contexts[code].plan.supervise_from) is None or since <= as_of
    }
    # Items due further off than any reminder reaches are skipped before any arithmetic.
    horizon = {
        code: as_of
        + dt.timedelta(
            days=2 * (max(c.policy.remind_before, default=0) + c.policy.co_lead_time) + 14
        )
        for code, c in contexts.items()
    }
    found = []
    for item in items:
        if item.plan_code not in working or item.due > horizon[item.plan_code]:
            continue
        context = contexts[item.plan_code]
        critical = item.task_code in context.critical
        rung = rung_reached(
            due=item.due,
            as_of=as_of,
            role=item.role,
            critical=critical,
            policy=context.policy,
            calendar=context.calendar,
            since=context.plan.supervise_from,
        )
        if rung is not None:
            found.append(Finding(item, rung, critical))
    return found


def working_plans(contexts: dict[str, PlanContext], as_of: dt.date) -> set[str]:
    return {code for code, c in contexts.items() if c.calendar.is_workday(as_of)}


def plan_notices(
    findings: Sequence[Finding],
    contexts: dict[str, PlanContext],
    as_of: dt.date,
    unacknowledged: Sequence[Notice] = (),
) -> list[PlannedNotice]:
    """Who is told what: the unit, the office in copy, leadership for 通报.

    Each recipient's notices go into its own letter, copies too: the office reads one letter
    a day listing what it is copied on, not one copy of every unit's letter. A 通报 does not
    skip the ladder: the unit gets a copy of it, and the 督办单 it would have had on the way
    (once, by that rung's key) when no sweep issued one, as on the critical path, where 通报
    can come before 督办, or in a sweep that first sees an item already past both.

    The office does not press itself: when an item of its own is late, leadership gets the
    催办, the 督办单 and the 通报, and the office is not copied on them.
    """
    planned: list[PlannedNotice] = []
    for finding in findings:
        context = contexts[finding.item.plan_code]
        if finding.rung.level == Level.REPORT and not _office_own(context, finding):
            order = supervision_order(finding, context.policy)  # the office has the 通报's copy
            planned.append(_planned(context, order, finding.item.unit_code, False))
        planned += _told(context, finding)
    for notice in unacknowledged:
        context = contexts[notice.plan_code]
        if context.office is not None:
            planned.append(_unacknowledged(context, notice, as_of))
    return planned


PRESSED = (Level.URGE, Level.SUPERVISE, Level.REPORT)  # 催办, 督办, 通报: the office copied


def _office_own(context: PlanContext, finding: Finding) -> bool:
    """A late item the office itself is responsible for: it cannot press itself."""
    office = context.office.code if context.office else None
    return finding.rung.level in PRESSED and finding.item.unit_code == office


def _told(context: PlanContext, finding: Finding) -> list[PlannedNotice]:
    """The notices of one finding: to whom it goes, and who is copied."""
    item, level = finding.item, finding.rung.level
    office = context.office.code if context.office else None
    leadership = context.leadership.code if context.leadership else office
    if _office_own(context, finding):  # leadership presses the office, no one is copied
        return [_planned(context, finding, leadership or item.unit_code, False)]
    if level == Level.REPORT:  # 通报 goes to leadership, the unit in copy
        primary = leadership or item.unit_code
        copied = [office, item.unit_code]
    else:
        primary = item.unit_code
        copied = [office] if level in PRESSED else []
    recipients = [(primary, False)]
    for code in copied:
        if code is not None and all(code != r for r, _ in recipients):
            recipients.append((code, True))
    return [_planned(context, finding, code, in_copy) for code, in_copy in recipients]


def supervision_order(finding: Finding, policy: EscalationPolicy) -> Finding:
    """The 督办单 rung of an item at 通报: the rung the ladder passes before it."""
    rung = finding.rung
    order = Rung(
        Level.SUPERVISE,
        f"{policy.supervise_after}wd-overdue",
        rung.due,
        overdue_workdays=rung.overdue_workdays,
    )
    return Finding(finding.item, order, finding.critical)


def _planned(
    context: PlanContext, finding: Finding, recipient: str, in_copy: bool
) -> PlannedNotice:
    item, rung = finding.item, finding.rung
    key = f"{item.assignment_id}:{item.occurrence_id or '-'}:{rung.due}:{rung.name}:{recipient}"
    if rung.level == Level.REPORT and recipient == item.unit_code:
        # The unit's copy of a 通报 can share its rung's name with its 督办单 (both after 5
        # working days on the critical path); other keys stay as earlier sweeps wrote them.
        key += ":report"
    language = context.policy.language
    task = context.tasks[item.task_code]
    office = context.office.code if context.office else None
    role = (
        RecipientRole.OFFICE
        if recipient == office
        else RecipientRole.RESPONSIBLE  # its own item, or its copy of the 通报 on it
        if recipient == item.unit_code
        else RecipientRole.LEADERSHIP  # 通报, or told of the office's own item
    )
    content = NoticeItem(
        plan_code=item.plan_code,
        plan_title=context.plan.title,
        document_number=context.plan.document_number,
        task_code=task.code,
        task_title=task.title,
        unit_name=context.units[item.unit_code].name,
        role=item.role,
        level=rung.level,
        rung=rung.name,
        why=why(
            rung,
            item.role,
            context.policy,
            critical=finding.critical,
            language=language,
            office_own=_office_own(context, finding),
            ongoing=task.ongoing,
        ),
        due=item.due,
        original_due=item.original_due if item.original_due != item.due else None,
        deadline_text=task.deadline_text,
        deadline_reading=task.deadline_note,
        task_text=task.text or task.title,
        ongoing=task.ongoing,
        moved_from=moved_from(task.due, item.original_due),
        workdays_left=rung.workdays_left,
        overdue_workdays=rung.overdue_workdays,
        in_copy=in_copy,
        recipient_role=role,
        receipt_code=None,  # the letter's, given when it is written (one per letter)
        blocks=context.blocks(task.code) if rung.level in RECEIPTED else (),
        occurrence=item.due if item.occurrence_id else None,
        assignment_id=item.assignment_id,
        recipient_code=recipient,
    )
    return PlannedNotice(
        key,
        item,
        recipient,
        in_copy,
        rung.level,
        rung.name,
        item.due,
        rung.overdue_workdays,
        None,
        content,
    )


def _unacknowledged(context: PlanContext, notice: Notice, as_of: dt.date) -> PlannedNotice:
    assert context.office is not None and notice.receipt_code is not None
    zh = context.policy.language == "zh"
    waited = context.calendar.workdays_between(notice.due, as_of)
    item = OpenItem(
        notice.assignment_id,
        notice.occurrence_id,
        notice.plan_code,
        notice.task_code,
        notice.unit_code,
        Role.LEAD,
        notice.due,
        notice.due,
    )
    task = context.tasks[notice.task_code]
    label = "督办单" if notice.level == Level.SUPERVISE else "通报"
    reason = (
        f"{label}（签收编码 {notice.receipt_code}）发出后{context.policy.acknowledge_within}"
        f"个工作日内未签收"
        if zh
        else f"{label} (receipt {notice.receipt_code}) not acknowledged within "
        f"{context.policy.acknowledge_within} working days"
    )
    content = NoticeItem(
        plan_code=notice.plan_code,
        plan_title=context.plan.title,
        document_number=context.plan.document_number,
        task_code=task.code,
        task_title=task.title,
        unit_name=context.units[notice.unit_code].name,
        role=Role.LEAD,
        level=Level.UNACKNOWLEDGED,
        rung=f"ack-{context.policy.acknowledge_within}wd",
        why=reason,
        due=notice.due,
        original_due=None,
        deadline_text=task.deadline_text,
        deadline_reading=task.deadline_note,
        task_text=task.text or task.title,
        ongoing=task.ongoing,
        workdays_left=0,
        overdue_workdays=waited,
        in_copy=False,
        recipient_role=RecipientRole.OFFICE,
        receipt_code=notice.receipt_code,
        assignment_id=notice.assignment_id,
        recipient_code=context.office.code,
    )
    office = context.office.code
    return PlannedNotice(
        f"ack:{notice.id}:{office}",
        item,
        office,
        False,
        Level.UNACKNOWLEDGED,
        content.rung,
        notice.due,
        waited,
        None,
        content,
    )


def _receipt() -> str:
    """A receipt code (签收编码): random, so no one can work one out from what a plan
    publishes (its items, due dates and units) and acknowledge a 督办单 they never saw."""
    return "DB" + secrets.token_hex(5).upper()


def with_receipt(notices: Sequence[PlannedNotice]) -> list[PlannedNotice]:
    """One letter's notices, its 督办单 and 通报 sharing one receipt code: the recipient
    acknowledges the letter once, not each item (leadership had 24 codes in one 通报)."""
    code = _receipt()
    return [
        n._replace(receipt_code=code, content=n.content._replace(receipt_code=code))
        if n.level in RECEIPTED and not n.in_copy
        else n
        for n in notices
    ]


def waiting_for_receipt(
    session: Session, contexts: dict[str, PlanContext], as_of: dt.date
) -> list[Notice]:
    """督办单 and 通报 sent but not acknowledged within the policy's working days."""
    rows = session.exec(
        select(Notice, col(SweepRun.as_of))
        .join(SweepRun)
        .where(
            col(Notice.receipt_code).is_not(None),
            col(Notice.acknowledged_at).is_(None),
            col(Notice.plan_code).in_(list(contexts)),
        )
    ).all()
    late = []
    working = working_plans(contexts, as_of)
    for notice, sent_on in rows:
        if notice.plan_code not in working:
            continue
        context = contexts[notice.plan_code]
        if context.calendar.workdays_between(sent_on, as_of) >= context.policy.acknowledge_within:
            late.append(notice)
    return late


@dataclass
class Bundle:
    """What one recipient's letter from this sweep carries."""

    notices: list[PlannedNotice] = field(default_factory=list)
    followups: list[Pending] = field(default_factory=list)
    waiting: list[WaitingItem] = field(default_factory=list)
    header: str | None = None  # the Message-ID of the letter of the day with the office's queue


LETTERS_AT_ONCE = 50  # letters rendered and written before they are let go (up to 400 KB each)


def write_outbox(
    session: Session,
    planned: Sequence[PlannedNotice],
    contexts: dict[str, PlanContext],
    sweep: SweepRun,
    composer: MailComposer,
    *,
    catching_up: bool = False,
) -> SweepOutcome:
    """Write each new notice once and one message per recipient bundling them with the
    follow-ups no sweep has taken and, once a day, the office's queue.

    A missed day swept late (`catching_up`) carries its notices only: the follow-ups and the
    office's queue go with the day asked for, in its letters. Notices written by an earlier
    sweep are left out. If a concurrent sweep writes the same
    notice (or the office's letter of the day) first, the unique key makes this insert fail
    and record_sweep retries.
    """
    outcome = SweepOutcome(as_of=sweep.as_of, planned=list(planned), sweep_id=sweep.id)
    existing = _existing_keys(session, [p.dedupe_key for p in planned])
    letters: dict[tuple[str, str], Bundle] = defaultdict(Bundle)
    for notice in planned:
        if notice.dedupe_key not in existing:
            letters[(notice.item.plan_code, notice.recipient_code)].notices.append(notice)
    for bundle in letters.values():
        bundle.notices = with_receipt(bundle.notices)
    assert sweep.id is not None
    if not catching_up:
        working = working_plans(contexts, sweep.as_of)
        for followup in claim_followups(session, sweep_id=sweep.id, plans=working):
            letters[(followup.plan_code, followup.recipient_code)].followups.append(followup)
        _add_office_queues(session, letters, contexts, working, sweep.as_of)
    ids: dict[tuple[str, str], int] = {}
    ordered = sorted(letters.items())
    connection = session.connection()
    for start in range(0, len(ordered), LETTERS_AT_ONCE):
        batch = ordered[start : start + LETTERS_AT_ONCE]
        made = [
            _message(contexts[key[0]], key[1], bundle, sweep, composer) for key, bundle in batch
        ]
        # Core inserts, the new ids returned in the rows' order: an ORM message took 170 µs
        # to build (pydantic inspects its default factories) before its flush
        inserted = connection.execute(
            insert(OutboxMessage).returning(col(OutboxMessage.id), sort_by_parameter_order=True),
            [row for row, _ in made],
        )
        new_ids = cast("list[int]", inserted.scalars().all())  # stored rows have their id
        bodies = []
        for (key, _), message_id, (_, mail) in zip(batch, new_ids, made, strict=True):
            ids[key] = message_id
            bodies.append({"message_id": message_id, "text": mail.text, "html": mail.html})
        connection.execute(insert(MessageBody), bodies)
    rows = [
        _notice_row(n, sweep, ids[key]) for key, bundle in letters.items() for n in bundle.notices
    ]
    if rows:
        # one Core executemany: no INSERT per notice, and none of the ORM's per-row bookkeeping
        session.connection().execute(insert(Notice), rows)
    mark_bundled(session, [(ids[key], bundle.followups) for key, bundle in letters.items()])
    for bundle in letters.values():
        outcome.written.extend(bundle.notices)
        outcome.followups.extend(bundle.followups)
    outcome.messages = len(ids)
    return outcome


def _add_office_queues(
    session: Session,
    letters: dict[tuple[str, str], Bundle],
    contexts: dict[str, PlanContext],
    working: set[str],
    as_of: dt.date,
) -> None:
    """Put each working plan's office queue into the office's letter, unless one carried it
    today already."""
    offices = {
        code: c.calendar for code, c in contexts.items() if c.office is not None and code in working
    }
    for code, waiting in office_queue(session, calendars=offices, as_of=as_of).items():
        office = contexts[code].office
        assert office is not None
        header = daily_header(code, office.code, as_of, _sender(contexts[code]))
        if not mailed(session, header):
            bundle = letters[(code, office.code)]
            bundle.waiting, bundle.header = waiting, header


def _existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            session.exec(select(Notice.dedupe_key).where(col(Notice.dedupe_key).in_(chunk)))
        )
    return found


def _notice_row(notice: PlannedNotice, sweep: SweepRun, message_id: int | None) -> dict[str, Any]:
    return {
        "dedupe_key": notice.dedupe_key,
        "sweep_id": sweep.id,
        "message_id": message_id,
        "plan_code": notice.item.plan_code,
        "task_code": notice.item.task_code,
        "assignment_id": notice.item.assignment_id,
        "occurrence_id": notice.item.occurrence_id,
        "unit_code": notice.item.unit_code,
        "recipient_code": notice.recipient_code,
        "in_copy": notice.in_copy,
        "level": notice.level,
        "rung": notice.rung,
        "due": notice.due,
        "overdue_workdays": notice.overdue_workdays,
        "receipt_code": notice.receipt_code,
    }


def _message(
    context: PlanContext,
    recipient: str,
    bundle: Bundle,
    sweep: SweepRun,
    composer: MailComposer,
) -> tuple[dict[str, Any], RenderedMail]:
    """The outbox row of one recipient's letter, written at the sweep's instant, and the
    letter rendered."""
    unit = context.units[recipient]
    items = sorted(  # by level, then the recipient's own before its copies, by unit
        bundle.notices,
        key=lambda n: (-SEVERITY[n.level], n.in_copy, n.item.unit_code, n.item.task_code, n.due),
    )
    office = context.office
    sender_name = office.full_name or office.name if office else context.plan.title
    letter = Letter(
        recipient_name=unit.name,
        to=tuple(unit.emails),
        sender_name=sender_name,
        as_of=sweep.as_of,
        items=tuple(n.content for n in items),
        language=context.policy.language,
        followups=tuple(p.item for p in bundle.followups),
        waiting=tuple(bundle.waiting[:WAITING_SHOWN]),
        waiting_more=max(0, len(bundle.waiting) - WAITING_SHOWN),
        contact_name=context.contact[0],
        contact_phone=context.contact[1],
    )
    mail = composer.letter(letter)
    sender = _sender(context)
    row: dict[str, Any] = {
        "sweep_id": sweep.id,
        "kind": MessageKind.NOTICE if bundle.notices else MessageKind.FOLLOWUP,
        "plan_code": context.plan.code,
        "recipient_code": recipient,
        "sender": sender,
        "sender_name": sender_name,
        "to_addrs": list(letter.to),
        "cc_addrs": [],
        "refused": {},
        "subject": mail.subject,
        "message_id_header": bundle.header or new_message_id(sweep.id, sender),
        "created_at": sweep.started_at,
    }
    return row, mail


def _sender(context: PlanContext) -> str:
    """The address a plan's letters come from: its office's."""
    office = context.office
    return office.emails[0] if office and office.emails else "duban@localhost"


def close_resolved_escalations(
    session: Session, contexts: dict[str, PlanContext], as_of: dt.date
) -> int:
    """Close open escalations whose item was accepted, waived, cancelled or extended.

    Reads plain rows (an escalation joined to its assignment and occurrence) and closes with
    one executemany: a sweep of 100k items may hold thousands of open escalations."""
    query = (
        sqlalchemy.select(  # type: ignore[var-annotated]  # labelled columns type as Never
            col(Escalation.id),
            col(Escalation.due),
            col(Assignment.state),
            col(Assignment.closed_reason),
            col(Assignment.due).label("assignment_due"),
            col(Assignment.active),
            col(Occurrence.id).label("occurrence"),
            col(Occurrence.state).label("occurrence_state"),
            col(Occurrence.active).label("occurrence_active"),
        )
        .join(Assignment, col(Escalation.assignment_id) == Assignment.id)
        .outerjoin(Occurrence, col(Escalation.occurrence_id) == Occurrence.id)
        .where(
            col(Escalation.closed_on).is_(None),
            col(Escalation.plan_code).in_(list(contexts)),
        )
    )
    closing = [
        {"id": row.id, "closed_on": as_of, "resolution": resolution}
        for row in session.execute(query)
        if (resolution := _resolution(row)) is not None
    ]
    if closing:
        session.execute(update(Escalation), closing)
    return len(closing)


def _resolution(row: sqlalchemy.Row[Any]) -> str | None:
    state = row.state
    if row.occurrence is not None and state not in SET_ASIDE:
        state = row.occurrence_state
    if state in CLOSED:
        return f"{state}: {row.closed_reason}" if row.closed_reason else state
    if state == AssignmentState.SUBMITTED:
        return None
    if row.occurrence is None and row.assignment_due != row.due:
        return f"extended to {row.assignment_due}"
    if not row.active or (row.occurrence is not None and not row.occurrence_active):
        return "removed from the plan"
    return None


def open_escalations(
    session: Session, findings: Sequence[Finding], contexts: dict[str, PlanContext], as_of: dt.date
) -> int:
    """Open a 督办 escalation for each lead item at supervise or report, once per due date;
    bring the open ones' working days late (and whether reported) up to date. Plain rows in,
    two executemanys out: no ORM object per escalation."""
    wanted = [f for f in findings if f.rung.level in RECEIPTED]
    if not wanted:
        return 0
    ids = sorted({f.item.assignment_id for f in wanted})
    have: dict[tuple[int, int | None, dt.date], tuple[int, bool]] = {}
    for start in range(0, len(ids), 500):
        for row in session.execute(
            sqlalchemy.select(
                col(Escalation.id),
                col(Escalation.assignment_id),
                col(Escalation.occurrence_id),
                col(Escalation.due),
                col(Escalation.reported),
            ).where(
                col(Escalation.closed_on).is_(None),
                col(Escalation.assignment_id).in_(ids[start : start + 500]),
            )
        ):
            have[(row.assignment_id, row.occurrence_id, row.due)] = (row.id, row.reported)
    opening: dict[tuple[int, int | None, dt.date], dict[str, Any]] = {}
    updating: list[dict[str, Any]] = []
    for finding in wanted:
        item, rung = finding.item, finding.rung
        key = (item.assignment_id, item.occurrence_id, item.due)
        reported = rung.level == Level.REPORT
        if key in have:
            escalation_id, was_reported = have[key]
            updating.append(
                {
                    "id": escalation_id,
                    "overdue_workdays": rung.overdue_workdays,
                    "reported": was_reported or reported,
                }
            )
        elif key in opening:  # the same item found twice: keep the latest word on it
            opening[key]["overdue_workdays"] = rung.overdue_workdays
            opening[key]["reported"] = opening[key]["reported"] or reported
        else:
            opening[key] = {
                "plan_code": item.plan_code,
                "task_code": item.task_code,
                "unit_code": item.unit_code,
                "assignment_id": item.assignment_id,
                "occurrence_id": item.occurrence_id,
                "due": item.due,
                "original_due": item.original_due,
                "opened_on": as_of,
                "overdue_workdays": rung.overdue_workdays,
                "blocks": list(contexts[item.plan_code].blocks(item.task_code)),
                "reported": reported,
            }
    if opening:
        session.connection().execute(insert(Escalation), list(opening.values()))
    if updating:
        session.execute(update(Escalation), updating)
    return len(opening)


OpenWork = tuple[dict[str, PlanContext], list[OpenItem], list[Notice]]


def read_open_work(
    session: Session,
    *,
    as_of: dt.date,
    plan: str | None = None,
    calendar_dir: Path | None = None,
    contexts: dict[str, PlanContext] | None = None,
) -> OpenWork:
    """Step 1: the plans' contexts (read, unless given), every open dated item, and the 督办单
    and 通报 still awaiting their receipt on `as_of`."""
    if contexts is None:
        contexts = load_contexts(session, plan=plan, calendar_dir=calendar_dir)
    if plan is not None and plan not in contexts:
        raise NotFound(f'no plan "{plan}"')
    items = load_open_work(session, plan=plan)
    return contexts, items, waiting_for_receipt(session, contexts, as_of)


def skip_reason(days: dict[str, PlanDays], as_of: dt.date) -> str | None:
    """Why nothing is swept on `as_of`: no plan imported, or a rest day for every plan."""
    if not days:
        return "no plan has been imported"
    if any(plan.calendar.is_workday(as_of) for plan in days.values()):
        return None
    plans = ", ".join(sorted(days)) if len(days) <= 5 else f"any of the {len(days)} plans"
    return f"{as_of} is not a working day for {plans}"


def record_sweep(
    sessions: SessionFactory,
    *,
    as_of: dt.date,
    at: dt.datetime,
    plan: str | None,
    findings: Sequence[Finding],
    planned: Sequence[PlannedNotice],
    contexts: dict[str, PlanContext],
    composer: MailComposer,
    dry_run: bool = False,
    catching_up: bool = False,
) -> SweepOutcome:
    """Step 4: write the outbox and the escalations in one transaction, or say what would be
    written; the sweep run is stamped `at`. A concurrent sweep that wrote first makes this one
    retry and skip its notices. A missed day swept late (`catching_up`) opens the escalations
    its items reached that day but closes none and carries no follow-ups: the day asked for,
    swept next, does both.

    Takes a session factory, not a session: each attempt needs a transaction of its own (the
    one a concurrent sweep's unique key broke is rolled back whole and begun again).
    """
    for attempt in range(3):
        try:
            with sessions() as session:
                if dry_run:
                    existing = _existing_keys(session, [p.dedupe_key for p in planned])
                    fresh = [p for p in planned if p.dedupe_key not in existing]
                    working = set() if catching_up else working_plans(contexts, as_of)
                    pending = pending_followups(session, plans=working)
                    return SweepOutcome(as_of, list(planned), written=fresh, followups=pending)
                sweep = SweepRun(as_of=as_of, plan_code=plan, started_at=at)
                session.add(sweep)
                session.flush()
                outcome = write_outbox(
                    session, planned, contexts, sweep, composer, catching_up=catching_up
                )
                outcome.escalations_opened = open_escalations(session, findings, contexts, as_of)
                if not catching_up:
                    outcome.escalations_closed = close_resolved_escalations(
                        session, contexts, as_of
                    )
                sweep.notices, sweep.messages = len(outcome.written), outcome.messages
                sweep.escalations_opened = outcome.escalations_opened
                sweep.escalations_closed = outcome.escalations_closed
                sweep.finished_at = at
                audit.record_sweep(session, sweep)
                return outcome
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class SweepSteps(Protocol):
    """How each step of `run_sweep` runs: here (`DirectSteps`) or as a Prefect task."""

    def days(self, plan: str | None) -> dict[str, PlanDays]: ...

    def load(self, as_of: dt.date, plan: str | None) -> OpenWork: ...

    def swept(self, plans: list[str]) -> dict[str, dt.date | None]: ...

    def evaluate(
        self, items: list[OpenItem], contexts: dict[str, PlanContext], as_of: dt.date
    ) -> list[Finding]: ...

    def plan(
        self,
        findings: list[Finding],
        contexts: dict[str, PlanContext],
        as_of: dt.date,
        waiting: list[Notice],
    ) -> list[PlannedNotice]: ...

    def write(
        self,
        as_of: dt.date,
        plan: str | None,
        findings: list[Finding],
        planned: list[PlannedNotice],
        contexts: dict[str, PlanContext],
        dry_run: bool,
        catching_up: bool = False,
    ) -> SweepOutcome: ...

    def deliver(self) -> DeliveryReport | None: ...


@dataclass(frozen=True)
class DirectSteps:
    """The steps run in this process, on the caller's database, markup and transport.

    `at` is the instant the sweep runs at, which the caller reads off its clock: the sweep run
    is stamped with it and delivery is timed by it. Without a transport nothing is delivered
    (the outbox keeps the mail for a later delivery).
    """

    sessions: SessionFactory
    composer: MailComposer
    at: dt.datetime
    calendar_dir: Path | None = None
    transport: Transport | None = None
    contexts: dict[str, PlanContext] | None = None  # read once for many days (a replay)

    def days(self, plan: str | None) -> dict[str, PlanDays]:
        if self.contexts is None:
            with self.sessions() as session:
                return plan_days(session, plan=plan, calendar_dir=self.calendar_dir)
        if plan is not None and plan not in self.contexts:
            raise NotFound(f'no plan "{plan}"')
        return {
            code: PlanDays(c.calendar, c.plan.supervise_from)
            for code, c in self.contexts.items()
            if plan in (None, code)
        }

    def load(self, as_of: dt.date, plan: str | None) -> OpenWork:
        with self.sessions() as session:
            return read_open_work(
                session,
                as_of=as_of,
                plan=plan,
                calendar_dir=self.calendar_dir,
                contexts=self.contexts,
            )

    def swept(self, plans: list[str]) -> dict[str, dt.date | None]:
        with self.sessions() as session:
            return last_swept(session, plans)

    def evaluate(
        self, items: list[OpenItem], contexts: dict[str, PlanContext], as_of: dt.date
    ) -> list[Finding]:
        return evaluate(items, contexts, as_of)

    def plan(
        self,
        findings: list[Finding],
        contexts: dict[str, PlanContext],
        as_of: dt.date,
        waiting: list[Notice],
    ) -> list[PlannedNotice]:
        return plan_notices(findings, contexts, as_of, waiting)

    def write(
        self,
        as_of: dt.date,
        plan: str | None,
        findings: list[Finding],
        planned: list[PlannedNotice],
        contexts: dict[str, PlanContext],
        dry_run: bool,
        catching_up: bool = False,
    ) -> SweepOutcome:
        return record_sweep(
            self.sessions,
            as_of=as_of,
            at=self.at,
            plan=plan,
            findings=findings,
            planned=planned,
            contexts=contexts,
            composer=self.composer,
            dry_run=dry_run,
            catching_up=catching_up,
        )

    def deliver(self) -> DeliveryReport | None:
        if self.transport is None:
            return None
        return deliver_everything(
            self.sessions, self.transport, now=self.at, composer=self.composer
        )


@collector_paused()
def run_sweep(
    steps: SweepSteps,
    *,
    as_of: dt.date,
    plan: str | None = None,
    dry_run: bool = False,
    catch_up: bool = False,
    limit: int = CATCH_UP_LIMIT,
) -> SweepOutcome:
    """The sweep as of a day: load, evaluate, plan, write, deliver.

    A day that is not a working day for any plan (a weekend, a statutory holiday; make-up
    Saturdays are working days) is skipped once the plans' calendars are read: no work is read,
    nothing is evaluated, written or sent, and the outcome says why. A dry run says what would
    be written and delivers nothing.

    With `catch_up`, each plan's working days missed since its last sweep
    (tasks.sweep.catch_up) are swept first, in order, each as its own sweep run, when they
    are at most `limit`; a missed day sends only what no later day of this run tells the same
    recipient about the same item. They are swept even when `as_of` is a rest day (the
    Saturday run after a Friday lost). Everything written is delivered once, at the end.
    """
    days = steps.days(plan)  # a rest day everywhere, with nothing to catch up, reads no work
    missed: list[tuple[dt.date, tuple[str, ...]]] = []
    left: list[SweptDays] = []
    if catch_up and days:
        record = swept_days(days, steps.swept(sorted(days)), through=as_of)
        missed, left = days_to_catch_up(record, limit=limit)
    reason = skip_reason(days, as_of)
    if reason is not None and not missed:
        return SweepOutcome(as_of, [], skipped=reason, left_behind=left, limit=limit)
    contexts, items, waiting = steps.load(as_of, plan)
    earlier = []
    for day, plans in missed:
        those = {code: contexts[code] for code in plans}
        found = steps.evaluate(items, those, day)
        earlier.append((day, those, found, steps.plan(found, those, day, [])))
    findings: list[Finding] = []
    planned: list[PlannedNotice] = []
    if reason is None:
        findings = steps.evaluate(items, contexts, as_of)
        planned = steps.plan(findings, contexts, as_of, waiting)
    kept = not_told_later([notices for *_, notices in earlier], planned)
    caught_up = [
        _sweep_missed_day(steps, day, plan, contexts, those, found, notices, dry_run)
        for (day, those, found, _), notices in zip(earlier, kept, strict=True)
    ]
    if reason is None:
        outcome = steps.write(as_of, plan, findings, planned, contexts, dry_run)
    else:
        outcome = SweepOutcome(as_of, [], skipped=reason)
    outcome.caught_up, outcome.left_behind, outcome.limit = caught_up, left, limit
    if not dry_run:
        outcome.delivery = steps.deliver()
    return outcome


def _sweep_missed_day(
    steps: SweepSteps,
    day: dt.date,
    plan: str | None,
    contexts: dict[str, PlanContext],
    those: dict[str, PlanContext],
    findings: list[Finding],
    planned: list[PlannedNotice],
    dry_run: bool,
) -> SweepOutcome:
    """Write a missed day for the plans that missed it: one sweep run when every plan working
    that day did (recorded as the run's own scope), else one per plan (recorded as that plan's)."""
    if set(those) == working_plans(contexts, day):
        return steps.write(day, plan, findings, planned, those, dry_run, catching_up=True)
    outcomes = [
        steps.write(
            day,
            code,
            [f for f in findings if f.item.plan_code == code],
            [n for n in planned if n.item.plan_code == code],
            {code: those[code]},
            dry_run,
            catching_up=True,
        )
        for code in sorted(those)
    ]
    merged = SweepOutcome(day, [n for o in outcomes for n in o.planned])
    for one in outcomes:
        merged.written += one.written
        merged.messages += one.messages
        merged.escalations_opened += one.escalations_opened
    return merged


def sweep_summary(outcome: SweepOutcome) -> dict[str, Any]:
    """The result every sweep reports: `duban sweep --json` and the flow return this."""
    report = outcome.delivery
    summary: dict[str, Any] = {
        "as_of": outcome.as_of.isoformat(),
        "notices": [n.as_json() for n in outcome.written],
        "followups": [f.as_json() for f in outcome.followups],
        "escalations_opened": outcome.escalations_opened,
        "escalations_closed": outcome.escalations_closed,
        "delivered": len(report.delivered) if report else 0,
        "failed": len(report.failed) if report else 0,
    }
    if outcome.skipped is not None:
        summary["skipped"] = outcome.skipped
    if outcome.caught_up:
        summary["caught_up"] = [_day_summary(day) for day in outcome.caught_up]
    if outcome.left_behind:
        summary["not_caught_up"] = [
            {
                "plan": plan.plan,
                "last_swept": str(plan.last_swept),
                "missed": len(plan.missed),
                "first": plan.missed[0].isoformat(),
                "last": plan.missed[-1].isoformat(),
                "why": plan.why_left(outcome.limit),
            }
            for plan in outcome.left_behind
        ]
    return summary


def _day_summary(outcome: SweepOutcome) -> dict[str, Any]:
    """What a missed day swept late wrote (its letters are delivered with the day asked for)."""
    return {
        "as_of": outcome.as_of.isoformat(),
        "notices": [n.as_json() for n in outcome.written],
        "messages": outcome.messages,
        "escalations_opened": outcome.escalations_opened,
    }
