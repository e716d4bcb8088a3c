"""From a plan file to what it obliges: units, phases, dated tasks and per-unit assignments.

Resolution reads every deadline through the calendar and every clause through the
responsibility parser, and collects all problems (with their lines) before anything is written,
so a plan with five mistakes is fixed in one pass, not five.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from calendars.deadlines import Deadline, DeadlineConventions, DeadlineError, parse_deadline
from calendars.workdays import CalendarError, WorkCalendar
from schemas.plan_file import (
    ExplicitResponsibility,
    Liaison,
    OfficeSpec,
    Person,
    PlanFile,
    PostHolder,
    ReportSpec,
    TaskSpec,
)
from schemas.vocabulary import Role, SeatRole
from tasks.plans.graph import CycleError, PhaseNode, TaskNode, build_graph
from tasks.plans.reader import Locator, PlanInvalid, Problem
from tasks.plans.responsibility import (
    Responsibility,
    ResponsibilityError,
    UnitDirectory,
    UnknownUnitName,
    normalize_name,
    read_pilots,
    read_responsibility,
)
from tasks.work.status import calendar_of

EVERY = {"monthly": "每月", "quarterly": "每季度", "half-yearly": "每半年", "yearly": "每年"}


@dataclass(frozen=True)
class ResolvedPhase:
    code: str
    kind: str
    name: str
    window_text: str
    start: dt.date | None
    due: dt.date | None
    position: int


@dataclass(frozen=True)
class ResolvedAssignment:
    """One unit's share of a task, with the dates it is held to on the working calendar."""

    unit: str
    role: str
    due: dt.date | None
    occurrences: tuple[dt.date, ...] = ()


@dataclass(frozen=True)
class ResolvedTask:
    code: str
    title: str
    text: str | None
    kind: str
    phase: str | None
    responsibility_text: str | None
    deadline: Deadline | None
    remarks: str | None
    position: int
    depends_on: tuple[str, ...]
    assignments: tuple[ResolvedAssignment, ...]

    @property
    def due(self) -> dt.date | None:
        """The due date as the plan's words read, before any working-day adjustment."""
        return self.deadline.due if self.deadline else None


@dataclass(frozen=True)
class ResolvedSeat:
    unit: str
    role: str
    person_name: str | None = None
    person_title: str | None = None
    liaison_name: str | None = None
    liaison_title: str | None = None
    liaison_email: str | None = None
    liaison_phone: str | None = None


@dataclass
class ResolvedPlan:
    """Everything an import writes, already checked."""

    spec: PlanFile
    calendar: WorkCalendar
    span: tuple[dt.date, dt.date] | None
    directory: UnitDirectory
    groups: dict[str, tuple[str, ...]]
    seats: list[ResolvedSeat]
    phases: list[ResolvedPhase]
    tasks: list[ResolvedTask]
    problems: list[Problem] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.spec.plan.code


def resolve_plan(
    spec: PlanFile, locator: Locator, *, calendar_dir: Path | None = None
) -> ResolvedPlan:
    """Resolve a validated plan file; raise PlanInvalid listing every problem found.

    `calendar_dir` replaces the bundled calendar data (an office's own, newer files).
    """
    problems: list[Problem] = []
    calendar = _calendar_for(spec, locator, problems, calendar_dir)
    directory = _directory_for(spec, locator, problems)
    if directory is None or calendar is None:
        raise PlanInvalid(problems)
    conventions = DeadlineConventions(
        **spec.plan.deadline_reading.model_dump(exclude={"non_workday"})
    )
    year = spec.plan.issued.year if spec.plan.issued else None
    phases = _phases(spec, locator, problems, conventions, year)
    span = spec.plan.span or _extent(phases)
    plan = ResolvedPlan(
        spec=spec,
        calendar=calendar,
        span=span,
        directory=directory,
        groups={g.code: directory.resolve(g.code) for g in spec.groups},
        seats=_seats(spec, locator, directory, problems),
        phases=phases,
        tasks=[],
        problems=problems,
    )
    context = _TaskContext(plan, locator, conventions, year)
    plan.tasks = context.resolve_all()
    _check_graph(plan, locator, problems)
    if problems:
        raise PlanInvalid(problems)
    return plan


def effective_due(day: dt.date, calendar: WorkCalendar, rule: str) -> dt.date:
    """A due date on a rest day moves to the next working day (民法典 第二百零三条), unless the
    plan keeps dates as written."""
    if rule == "next_workday" and not calendar.is_workday(day):
        return calendar.next_workday(day)
    return day


def _calendar_for(
    spec: PlanFile, locator: Locator, problems: list[Problem], calendar_dir: Path | None
) -> WorkCalendar | None:
    choice = spec.plan.calendar
    try:
        return calendar_of(choice, calendar_dir)
    except CalendarError as exc:
        problems.append(locator.problem(("plan", "calendar"), str(exc)))
        return None


def _directory_for(
    spec: PlanFile, locator: Locator, problems: list[Problem]
) -> UnitDirectory | None:
    try:
        return UnitDirectory.build(
            ((u.code, u.name, u.aliases) for u in spec.units),
            ((g.code, g.name, g.aliases, g.members) for g in spec.groups),
        )
    except ResponsibilityError as exc:
        problems.append(locator.problem(_directory_error_path(spec, exc), str(exc)))
        return None


def _directory_error_path(spec: PlanFile, exc: ResponsibilityError) -> tuple[str | int, ...]:
    """Point at the group member that is unknown, or at the second holder of a repeated name."""
    if isinstance(exc, UnknownUnitName):
        for i, group in enumerate(spec.groups):
            for j, member in enumerate(group.members):
                if normalize_name(member) == exc.name:
                    return ("groups", i, "members", j)
    seen: set[str] = set()
    holders = [("units", i, u.code, u.name, u.aliases) for i, u in enumerate(spec.units)]
    holders += [("groups", i, g.code, g.name, g.aliases) for i, g in enumerate(spec.groups)]
    for section, index, *names, aliases in holders:
        for name in (*names, *aliases):
            if normalize_name(name) in seen:
                return (section, index)
            seen.add(normalize_name(name))
    return ("units",)


def _phases(
    spec: PlanFile,
    locator: Locator,
    problems: list[Problem],
    conventions: DeadlineConventions,
    year: int | None,
) -> list[ResolvedPhase]:
    phases = []
    for index, phase in enumerate(spec.phases):
        try:
            window = parse_deadline(phase.window, year=year, conventions=conventions)
        except DeadlineError as exc:
            problems.append(locator.problem(("phases", index, "window"), str(exc)))
            continue
        due = phase.due or window.due or (window.dates[-1] if window.dates else None)
        start = phase.start or window.start or (due.replace(day=1) if due else None)
        phases.append(
            ResolvedPhase(phase.code, phase.kind, phase.name, phase.window, start, due, index)
        )
    return phases


def _extent(phases: Sequence[ResolvedPhase]) -> tuple[dt.date, dt.date] | None:
    starts = [p.start for p in phases if p.start]
    dues = [p.due for p in phases if p.due]
    return (min(starts), max(dues)) if starts and dues else None


def _seats(
    spec: PlanFile, locator: Locator, directory: UnitDirectory, problems: list[Problem]
) -> list[ResolvedSeat]:
    """The seats of the joint meeting and the office. A plan without a joint meeting names its
    office (and leadership) in an `office` block; a plan with both names one office in both."""
    meeting, office = spec.joint_meeting, spec.office
    wanted: list[tuple[tuple[str | int, ...], str, str, dict[str, str | None]]] = []
    contact = _liaison(office.contact) if office is not None and office.contact else {}
    if meeting is not None:
        where = ("joint_meeting",)
        if meeting.convener:
            at = _where_unit((*where, "convener"), meeting.convener)
            wanted.append(
                (at, _unit_of(meeting.convener), SeatRole.CONVENER, _holder(meeting.convener))
            )
        for i, ref in enumerate(meeting.vice_conveners):
            at = _where_unit((*where, "vice_conveners", i), ref)
            wanted.append((at, _unit_of(ref), SeatRole.VICE_CONVENER, _holder(ref)))
        for i, member in enumerate(meeting.members):
            people = _liaison(member) | {
                "person_name": member.member.name if member.member else None,
                "person_title": member.member.title if member.member else None,
            }
            wanted.append(((*where, "members", i, "unit"), member.unit, SeatRole.MEMBER, people))
        wanted.append(((*where, "office"), meeting.office, SeatRole.OFFICE, contact))
        leadership = meeting.leadership or (
            _unit_of(meeting.convener) if meeting.convener else None
        )
        if leadership:
            wanted.append(((*where, "leadership"), leadership, SeatRole.LEADERSHIP, {}))
    elif office is not None:
        wanted.append((("office", "unit"), office.unit, SeatRole.OFFICE, contact))
        if office.leadership:
            wanted.append((("office", "leadership"), office.leadership, SeatRole.LEADERSHIP, {}))
    seats: list[ResolvedSeat] = []
    for path, ref, role, liaison in wanted:
        try:
            units = directory.resolve(ref)
        except ResponsibilityError as exc:
            problems.append(locator.problem(path, str(exc)))
            continue
        seats.extend(ResolvedSeat(unit, role, **liaison) for unit in units)
    if meeting is not None and office is not None:
        _check_one_office(meeting.office, office, locator, directory, problems)
    return seats


def _liaison(person: Person | Liaison) -> dict[str, str | None]:
    return {
        "liaison_name": person.name,
        "liaison_title": person.title,
        "liaison_email": person.email,
        "liaison_phone": person.phone,
    }


def _holder(seat: str | PostHolder) -> dict[str, str | None]:
    """The person holding a convener's seat, when the plan names one."""
    if isinstance(seat, str):
        return {}
    return {"person_name": seat.name, "person_title": seat.post}


def _unit_of(seat: str | PostHolder) -> str:
    return seat if isinstance(seat, str) else seat.unit


def _where_unit(path: tuple[str | int, ...], seat: str | PostHolder) -> tuple[str | int, ...]:
    """Where a seat's unit is written: the seat itself, or its `unit` key for a person."""
    return path if isinstance(seat, str) else (*path, "unit")


def _check_one_office(
    named: str,
    office: OfficeSpec,
    locator: Locator,
    directory: UnitDirectory,
    problems: list[Problem],
) -> None:
    """The `office` block beside a joint meeting names its contact; it cannot name another
    office, nor another leadership than the meeting's."""
    try:
        same = directory.resolve(named) == directory.resolve(office.unit)
    except ResponsibilityError:
        return  # reported with the seat
    if not same:
        problems.append(
            locator.problem(
                ("office", "unit"),
                f'"{office.unit}" is not the office of the joint meeting ("{named}"): a plan '
                "has one office; name the same unit in both, or drop one",
            )
        )
    if office.leadership is not None:
        problems.append(
            locator.problem(
                ("office", "leadership"),
                "with a joint meeting, leadership is set as joint_meeting.leadership",
            )
        )


@dataclass
class _TaskContext:
    """Threads what carries from one task to the next (the "下同" rule) through resolution."""

    plan: ResolvedPlan
    locator: Locator
    conventions: DeadlineConventions
    year: int | None
    first_listed_leads: bool = False

    @property
    def problems(self) -> list[Problem]:
        return self.plan.problems

    def resolve_all(self) -> list[ResolvedTask]:
        spec = self.plan.spec
        seen: dict[str, tuple[str | int, ...]] = {}
        phase_codes = {p.code for p in spec.phases}
        items: list[tuple[str, int, TaskSpec | ReportSpec]] = [
            ("tasks", i, t) for i, t in enumerate(spec.tasks)
        ]
        items += [("reports", i, r) for i, r in enumerate(spec.reports)]
        resolved = []
        for position, (section, index, item) in enumerate(items):
            path: tuple[str | int, ...] = (section, index)
            if item.id in seen:
                self.problems.append(
                    self.locator.problem(
                        (*path, "id"),
                        f'duplicate id "{item.id}" (first used at '
                        f"{self.locator.label(seen[item.id])})",
                    )
                )
                continue
            seen[item.id] = path
            if item.phase is not None and item.phase not in phase_codes:
                self.problems.append(
                    self.locator.problem(
                        (*path, "phase"),
                        f'unknown phase "{item.phase}"; phases are: '
                        + ", ".join(sorted(phase_codes)),
                    )
                )
            resolved.append(self._resolve(section, index, position, item))
        known = set(seen)
        for task in resolved:
            for before in task.depends_on:
                if before not in known:
                    path = seen[task.code]
                    self.problems.append(
                        self.locator.problem(
                            (*path, "depends_on"), f'unknown task "{before}" in depends_on'
                        )
                    )
        return resolved

    def _resolve(self, section: str, index: int, position: int, item) -> ResolvedTask:  # type: ignore[no-untyped-def]
        path = (section, index)
        deadline = self._deadline(item.deadline, (*path, "deadline"))
        if section == "reports":
            who = Responsibility(
                lead=tuple(item.submitters),
                co=(),
                participants=(),
                pilots=(),
                first_listed_leads=self.first_listed_leads,
                note=None,
            )
            responsibility_text: str | None = "、".join(item.submitters)
        else:
            who = self._responsibility(item, path)
            responsibility_text = (
                item.responsibility if isinstance(item.responsibility, str) else None
            )
        units = self._assign(who, item, path)
        assignments = tuple(
            ResolvedAssignment(unit, role, *self._dates(deadline)) for unit, role in units
        )
        return ResolvedTask(
            code=item.id,
            title=item.title,
            text=item.text,
            kind="report" if section == "reports" else item.kind,
            phase=item.phase,
            responsibility_text=responsibility_text,
            deadline=deadline,
            remarks=item.remarks,
            position=position,
            depends_on=tuple(item.depends_on),
            assignments=assignments,
        )

    def _deadline(self, text: str | None, path: tuple[str | int, ...]) -> Deadline | None:
        if text is None:
            return None
        try:
            return parse_deadline(
                text,
                year=self.year,
                span=self.plan.span,
                conventions=self.conventions,
                anchor=self.plan.spec.plan.issued,
                calendar=self.plan.calendar,
            )
        except DeadlineError as exc:
            self.problems.append(self.locator.problem(path, str(exc)))
            return None

    def _responsibility(self, item, path: tuple[str | int, ...]) -> Responsibility:  # type: ignore[no-untyped-def]
        given = item.responsibility
        if isinstance(given, ExplicitResponsibility):
            return Responsibility(
                lead=tuple(given.lead),
                co=tuple(given.co),
                participants=tuple(given.participants),
                pilots=(),
                first_listed_leads=self.first_listed_leads,
                note=None,
            )
        if not given:
            return Responsibility((), (), (), (), self.first_listed_leads, None)
        try:
            who = read_responsibility(given, first_listed_leads=self.first_listed_leads)
        except ResponsibilityError as exc:
            self.problems.append(self.locator.problem((*path, "responsibility"), str(exc)))
            return Responsibility((), (), (), (), self.first_listed_leads, None)
        self.first_listed_leads = who.first_listed_leads
        return who

    def _assign(self, who: Responsibility, item, path) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
        """Unit codes with their strongest role, narrowed to the task's pilots if it names any."""
        directory = self.plan.directory
        given = getattr(item, "responsibility", None)
        clause = given if isinstance(given, str) else None
        roles: dict[str, str] = {}
        for role, names in zip(Role, (who.lead, who.co, who.participants), strict=True):
            for name in names:
                try:
                    codes = directory.resolve(name, clause=clause)
                except ResponsibilityError as exc:
                    field_name = "submitters" if hasattr(item, "submitters") else "responsibility"
                    self.problems.append(self.locator.problem((*path, field_name), str(exc)))
                    continue
                for code in codes:
                    roles.setdefault(code, role)
        pilot_names = getattr(item, "pilots", None)
        if pilot_names is None and getattr(item, "text", None):
            pilot_names = list(read_pilots(item.text)) or None
        if pilot_names is None:
            return list(roles.items())
        kept: list[tuple[str, str]] = []
        for name in pilot_names:
            try:
                codes = directory.resolve(name, clause=clause)
            except ResponsibilityError as exc:
                self.problems.append(self.locator.problem((*path, "pilots"), str(exc)))
                continue
            for code in codes:
                if code not in roles:
                    self.problems.append(
                        self.locator.problem(
                            (*path, "pilots"),
                            f'pilot "{name}" is not among the units responsible for the task',
                        )
                    )
                elif (code, roles[code]) not in kept:
                    kept.append((code, roles[code]))
        return kept

    def _dates(self, deadline: Deadline | None) -> tuple[dt.date | None, tuple[dt.date, ...]]:
        """(due, occurrences) on the working calendar for one assignment of this deadline."""
        if deadline is None:
            return None, ()
        rule = self.plan.spec.plan.deadline_reading.non_workday
        calendar = self.plan.calendar

        def on_calendar(day: dt.date) -> dt.date:
            return effective_due(day, calendar, rule)

        try:
            if deadline.kind in ("date", "window"):
                return on_calendar(deadline.due), ()  # type: ignore[arg-type]
            if deadline.kind == "ongoing":
                every = EVERY[self.plan.spec.plan.ongoing_report_every]
                dates = parse_deadline(every, span=self.plan.span).dates if self.plan.span else ()
            else:
                dates = deadline.dates
            occurrences = tuple(sorted({on_calendar(d) for d in dates}))
        except CalendarError as exc:
            self.problems.append(Problem(self.locator.file, None, "deadline", str(exc)))
            return None, ()
        if deadline.kind == "ongoing":
            return None, occurrences
        return (occurrences[-1] if occurrences else None), occurrences


def _check_graph(plan: ResolvedPlan, locator: Locator, problems: list[Problem]) -> None:
    """Look for cycles once every task, phase and dependency is known to exist."""
    if problems:
        return
    try:
        build_graph(task_nodes(plan.tasks), phase_nodes(plan.phases))
    except CycleError as exc:
        sections = {t.id: ("tasks", i) for i, t in enumerate(plan.spec.tasks)}
        sections.update({r.id: ("reports", i) for i, r in enumerate(plan.spec.reports)})
        first = next(node for node in exc.cycle if node in sections)
        problems.append(locator.problem((*sections[first], "depends_on"), str(exc)))


def task_nodes(tasks: Sequence[ResolvedTask]) -> list[TaskNode]:
    return [TaskNode(t.code, t.phase, t.due, t.depends_on) for t in tasks]


def phase_nodes(phases: Sequence[ResolvedPhase]) -> list[PhaseNode]:
    return [PhaseNode(p.code, p.kind) for p in phases]
