"""Overdue work across plans as of a day: every open item past its due date, how many working
days late it is on its plan's calendar, and the rung of the ladder it has reached.

The answer behind `duban overdue`. It must list 100k open assignments in a fraction of the time
Taskwarrior takes to count its own (bench/overdue.py), so it reads the way the sweep loads its
open work, only leaner: one query for the items with every filter in SQL, returning ids and
short words (the names of the tasks and units are read once each, by id), one for the plans'
rules (a few keys of each stored plan file, picked out in SQL), and for a plan whose 通报 comes
sooner on its critical path, the two that path needs. Core rows, no ORM object and no JSON
decoded per item; the calendar arithmetic and the ladder are worked out once per plan rules,
due date and role, not once per item; the order is made in Python, on one number per item.

Overdue means what `duban tasks` and the review mean: open work with the unit (not started,
in progress, returned) at least one working day past its due date; for a recurring report,
each dated submission owed. The rung is the sweep's (`tasks.sweep.escalation`): the highest
one the item has reached, counted for a co-responsible unit from its internal deadline, and for
a plan adopted under way, climbing from its `supervise_from` day; none before that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, String, cast, select, union_all

from calendars.workdays import WorkCalendar
from schemas import columns as c
from schemas.vocabulary import OCCURRENCE_WITH_UNIT, SEVERITY, WITH_UNIT, Level, Role
from tasks.plans.views import missing_plan, missing_unit, of_unit, stored_nodes
from tasks.plans.waits import critical_tasks
from tasks.sweep.escalation import Ladder, rung_reached
from tasks.work.status import stored_calendars

SINGLE_DATE = ("date", "window")  # deadline kinds with one due date (tasks.sweep.pipeline's)
OVERDUE_LEVELS = (Level.URGE, Level.SUPERVISE, Level.REPORT)  # the rungs past the due date


class Rules(NamedTuple):
    """A plan's ladder as its stored plan file gives it (a `Ladder`)."""

    remind_before: tuple[int, ...]
    remind_on_due: bool
    urge_after: int
    supervise_after: int
    report_after: int
    report_after_critical: int
    co_lead_time: int
    co_units: str


def ladder_of(stored: Mapping[str, Any] | None) -> Ladder:
    """The escalation policy of a stored plan file. It was validated whole when imported and
    stored with every default filled in, so it is read as it is; one that lacks a field
    (stored by an older duban) is validated again to get the plan-file model's defaults."""
    if stored is not None and all(key in stored for key in Rules._fields):
        return Rules(tuple(stored["remind_before"]), *(stored[k] for k in Rules._fields[1:]))
    from schemas.plan_file import EscalationPolicy

    return EscalationPolicy.model_validate(stored or {})


class OverdueItem(NamedTuple):
    plan: str
    task: str
    title: str
    unit: str  # the unit's code
    unit_name: str
    role: str
    state: str
    due: str  # YYYY-MM-DD
    overdue_workdays: int
    level: Level | None  # the rung reached: urge, supervise or report; None below the ladder
    rung: str | None  # the rung's name, as the sweep keys its notices: "5wd-overdue"

    def as_json(self) -> dict[str, Any]:
        return self._asdict()


class _Plan(NamedTuple):
    code: str
    ladder: Ladder
    calendar: WorkCalendar
    since: dt.date | None  # supervise_from: no rung before it

    def rules(self) -> tuple[object, ...]:
        """What the lateness and the rung of an item depend on besides its due date and role:
        plans that share it (the same calendar and ladder, say) share the arithmetic."""
        ladder = self.ladder if isinstance(self.ladder, Rules) else id(self.ladder)
        return (ladder, id(self.calendar), self.since)


Reached = tuple[Level, str] | tuple[None, None]  # a rung's level and name, or none
NO_RUNG: Reached = (None, None)
Answer = tuple[int, Reached, Reached]  # working days late; the rung off and on the path


def overdue_items(
    connection: Connection,
    as_of: dt.date,
    *,
    plan: str | None = None,
    unit: str | None = None,
    level: Level | None = None,
    calendar_dir: Path | None = None,
) -> list[OverdueItem]:
    """Every overdue open item as of `as_of`, the most overdue first (by due date, then plan,
    task and unit). `plan`: only this plan; `unit`: only units called this (code, name, full
    name or alias); `level`: only items that have reached this rung or a higher one.

    NotFound for a plan that is not imported, and for a unit no plan (or not `plan`) has."""
    if level is not None and level not in OVERDUE_LEVELS:
        raise ValueError(f"{level} is not a rung past the due date")
    plans = _plans(connection, plan, calendar_dir)
    query = _query(connection, plans, as_of, only=plan is not None, unit=unit, level=level)
    rows = connection.execute(query).all()
    if not rows:
        if unit is not None and (missing := missing_unit(connection, unit, plan)):
            raise missing
        return []
    named = {row[0] for row in rows}
    tasks, units = _names(connection, named)
    # the critical path of each plan whose 通报 comes sooner on it
    on_path = _critical_paths(connection, {i for i in named if _path_matters(plans[i])}, tasks)
    # plans with the same rules (calendar, ladder, supervise_from) share their arithmetic
    groups: dict[tuple[object, ...], int] = {}
    group = {ident: groups.setdefault(found.rules(), len(groups)) for ident, found in plans.items()}
    answers: dict[tuple[int, str, bool], Answer] = {}
    # the order, as one number per item: due date, plan code, task position, unit code
    days = {due: n for n, due in enumerate(sorted({row[5] for row in rows}))}
    plan_rank = {ident: n for n, ident in enumerate(sorted(plans, key=lambda i: plans[i].code))}
    unit_rank = {ident: n for n, ident in enumerate(sorted(units, key=lambda i: units[i][0]))}
    width_p, width_t = len(plan_rank), 1 + max(task[6] for task in tasks.values())
    width_u = len(unit_rank)
    wanted = SEVERITY[level] if level is not None else None
    items = []
    for ident, task, unit_id, role, state, due in rows:
        lead = role == Role.LEAD
        answer = answers.get((group[ident], due, lead))
        if answer is None:
            answer = answers[group[ident], due, lead] = _answer(plans[ident], due, lead, as_of)
        days_late, plain, critical = answer
        if days_late <= 0:  # past due on the calendar is not late until a working day has passed
            continue
        _, _, code, _, _, title, position = tasks[task]
        rung = critical if plain is not critical and code in on_path[ident] else plain
        if wanted is not None and (rung[0] is None or SEVERITY[rung[0]] < wanted):
            continue
        unit_code, unit_name = units[unit_id]
        order = ((days[due] * width_p + plan_rank[ident]) * width_t + position) * width_u
        items.append(
            (
                order + unit_rank[unit_id],
                OverdueItem(
                    plans[ident].code,
                    code,
                    title,
                    unit_code,
                    unit_name,
                    role,
                    state,
                    due,
                    days_late,
                    *rung,
                ),
            )
        )
    items.sort(key=itemgetter(0))
    if not items and unit is not None and (missing := missing_unit(connection, unit, plan)):
        raise missing
    return [item for _, item in items]


def _path_matters(plan: _Plan) -> bool:
    """Whether an item's rung can depend on its task being on the critical path."""
    return plan.ladder.report_after != plan.ladder.report_after_critical


def _plans(connection: Connection, plan: str | None, calendar_dir: Path | None) -> dict[int, _Plan]:
    """Each plan's ladder, calendar and supervise_from, from its stored plan file's keys."""
    p = c.plan.c
    query = select(
        p.id,
        p.code,
        p.spec["escalation"],
        p.spec["plan"]["calendar"],
        p.spec["plan"]["supervise_from"],
    )
    if plan is not None:
        query = query.where(p.code == plan)
    calendar_of_plan = stored_calendars(calendar_dir)
    found = {
        ident: _Plan(
            code,
            ladder_of(policy),
            calendar_of_plan(choice),
            dt.date.fromisoformat(since) if since else None,
        )
        for ident, code, policy, choice, since in connection.execute(query)
    }
    if plan is not None and not found:
        raise missing_plan(connection, plan)
    return found


def _query(
    connection: Connection,
    plans: dict[int, _Plan],
    as_of: dt.date,
    *,
    only: bool,
    unit: str | None,
    level: Level | None,
) -> Any:
    """The one query for the items: single-date assignments and dated occurrences past due,
    every filter in SQL. Ids and short words only (plan, task, unit, role, state, due as
    text): the names are looked up once per task and unit, not carried on each of 40,000
    rows, and the order is made in Python, which only moves the rows it has. `only`: the
    plans are the one asked for (else all of them: no plan filter, a plain scan)."""
    t, u, a, o = c.task.c, c.unit.c, c.assignment.c, c.occurrence.c
    common: list[ColumnElement[bool]] = [a.active, t.active, a.state.in_(WITH_UNIT)]
    if only:
        common.append(a.plan_id.in_(list(plans)))
    if unit is not None:
        common.append(of_unit(connection, unit))
    latest = as_of - dt.timedelta(days=1)
    if level is not None and level != Level.URGE and plans:
        # Only lead units are supervised or reported, and only once late by the fewest
        # working days any plan's ladder asks for that rung: at least as many calendar days.
        common.append(a.role == Role.LEAD)
        fewest = min(_threshold(r.ladder, level) for r in plans.values())
        latest = as_of - dt.timedelta(days=fewest)

    def items(source: Any, due: Any) -> Any:
        return (
            select(a.plan_id, a.task_id, a.unit_id, a.role, a.state, cast(due, String))
            .select_from(source)
            .join(c.task, t.id == a.task_id)
            .join(c.unit, u.id == a.unit_id)
            .where(*common, due <= latest)
        )

    single = items(c.assignment, a.due).where(t.deadline_kind.in_(SINGLE_DATE))
    dated = items(c.occurrence.join(c.assignment, a.id == o.assignment_id), o.due).where(
        o.active, o.state.in_(OCCURRENCE_WITH_UNIT)
    )
    return union_all(single, dated)


def _threshold(ladder: Ladder, level: Level) -> int:
    """The fewest working days late at which a lead item can stand at `level` or higher."""
    report = min(ladder.report_after, ladder.report_after_critical)
    return report if level == Level.REPORT else min(ladder.supervise_after, report)


def _answer(plan: _Plan, due_text: str, lead: bool, as_of: dt.date) -> Answer:
    """Working days late, and the rung reached off the critical path and on it: the same
    tuple twice unless the path makes a difference."""
    due = dt.date.fromisoformat(due_text)
    late = plan.calendar.workdays_between(due, as_of)
    if late <= 0 or plan.since is not None and plan.since > as_of:
        return late, NO_RUNG, NO_RUNG
    ladder = plan.ladder

    def reached(critical: bool) -> Reached:
        rung = rung_reached(
            due=due,
            as_of=as_of,
            role=Role.LEAD if lead else Role.CO,
            critical=critical,
            policy=ladder,
            calendar=plan.calendar,
            since=plan.since,
        )
        return NO_RUNG if rung is None else (rung.level, rung.name)

    plain = reached(False)
    if not lead or ladder.report_after == ladder.report_after_critical:
        return late, plain, plain
    critical = reached(True)
    return late, plain, plain if critical == plain else critical


Task = tuple[int, int, str, str | None, dt.date | None, str, int]  # plan, id, code, phase, …


def _names(
    connection: Connection, plans: set[int]
) -> tuple[dict[int, Task], dict[int, tuple[str, str]]]:
    """The tasks (plan, id, code, phase, due, title, position) and units (code, name) of the
    plans with overdue items, by id: a query each, however many items."""
    t, u = c.task.c, c.unit.c
    tasks = connection.execute(
        select(t.plan_id, t.id, t.code, t.phase_code, t.due, t.title, t.position).where(
            t.plan_id.in_(plans), t.active
        )
    ).all()
    units = connection.execute(select(u.id, u.code, u.name).where(u.plan_id.in_(plans))).all()
    by_id: dict[int, Task] = {row[1]: tuple(row) for row in tasks}
    return by_id, {ident: (code, name) for ident, code, name in units}


def _critical_paths(
    connection: Connection, plans: set[int], tasks: dict[int, Task]
) -> dict[int, set[str]]:
    """The tasks on each plan's critical path, for the plans where it can decide a rung."""
    if not plans:
        return {}
    rows = [task[:5] for task in tasks.values() if task[0] in plans]
    return {
        plan: set(critical_tasks(nodes, phases))
        for plan, (nodes, phases) in stored_nodes(connection, plans, rows).items()
    }
