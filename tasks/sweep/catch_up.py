"""Which days were swept, and the working days a sweep missed (an outage, a killed run).

The record is the sweep runs themselves: a run that wrote its outbox (`SweepRun`, committed
with the notices and messages, so a run killed before then leaves none) swept its day for its
plan, or for every plan when it names none. A plan's last swept day is the latest of those.
Its missed days before a day asked for are its working days after the last swept day and
before the day asked for, from its `supervise_from` day on; rest days on its own calendar are
never missed, and a plan never swept has missed nothing (its first sweep starts the record).

A sweep asked to catch up sweeps each plan's missed days in order before the day asked for,
unless there are more than `CATCH_UP_LIMIT` of them: a gap that long is not an outage but
sweeping stopped on purpose (a replay of past days, a database restored from an old backup),
and a month of letters sent in one morning would tell the units nothing; the sweep then says
so, sweeps the day asked for alone, and the operator sweeps by hand the days still wanted.

What a missed day sends is what was new that day (each rung of each item has one dedupe key)
and that no later day of the same run tells the same recipient about the same item again:
the 催办 of the day asked for supersedes the due-day notice of a missed day, so a unit is told
once about each item, at its current rung, not once per missed day. Missed days carry no
follow-ups and no office queue (the day asked for carries them), and close no escalation.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy
from sqlmodel import Session, col, func

from calendars.workdays import WorkCalendar
from duban.errors import NotFound
from schemas.plan_file import CalendarChoice
from schemas.tables import Plan, SweepRun
from tasks.work.status import calendar_of

if TYPE_CHECKING:
    from tasks.sweep.pipeline import PlannedNotice

CATCH_UP_LIMIT = 20  # missed working days a sweep catches up, per plan; more are left alone


@dataclass(frozen=True)
class PlanDays:
    """What deciding a plan's missed days needs: its calendar and its first supervised day."""

    calendar: WorkCalendar
    supervise_from: dt.date | None = None


@dataclass(frozen=True)
class SweptDays:
    """One plan's record up to a day: its last swept day and its working days since."""

    plan: str
    through: dt.date
    last_swept: dt.date | None
    unswept: tuple[dt.date, ...]  # its working days after last_swept, through `through`

    @property
    def missed(self) -> tuple[dt.date, ...]:
        """The working days before `through` that no sweep swept."""
        return tuple(d for d in self.unswept if d < self.through)

    def catches_up(self, limit: int = CATCH_UP_LIMIT) -> bool:
        return len(self.missed) <= limit

    def why_left(self, limit: int = CATCH_UP_LIMIT) -> str:
        """Why a sweep of `through` does not sweep this plan's missed days, and what to do."""
        missed = self.missed
        return (
            f"{self.plan}: {len(missed)} working days ({missed[0]} to {missed[-1]}) were never "
            f"swept since {self.last_swept}, more than the {limit} a sweep catches up: only "
            f"{self.through} is swept; sweep the days still wanted with "
            f"`duban sweep --as-of DAY --plan {self.plan}`"
        )

    def as_json(self, limit: int = CATCH_UP_LIMIT) -> dict[str, object]:
        return {
            "plan": self.plan,
            "last_swept": self.last_swept.isoformat() if self.last_swept else None,
            "not_swept": [d.isoformat() for d in self.unswept],
            "missed": len(self.missed),
            "catches_up": self.catches_up(limit),
        }


def last_swept(session: Session, plans: Iterable[str]) -> dict[str, dt.date | None]:
    """Each plan's last swept day (None: never swept), from the sweep runs that wrote their
    outbox: a plan's own runs and the runs of every plan."""
    query = (
        sqlalchemy.select(col(SweepRun.plan_code), func.max(SweepRun.as_of))
        .where(col(SweepRun.finished_at).is_not(None), col(SweepRun.dry_run).is_(False))
        .group_by(col(SweepRun.plan_code))
    )
    latest: dict[str | None, dt.date] = dict(session.connection().execute(query).all())
    every = latest.get(None)
    return {
        plan: max((d for d in (latest.get(plan), every) if d is not None), default=None)
        for plan in plans
    }


def swept_days(
    plans: Mapping[str, PlanDays], last: Mapping[str, dt.date | None], *, through: dt.date
) -> list[SweptDays]:
    """Each plan's record through a day, by plan code."""
    found = []
    for code in sorted(plans):
        facts, since = plans[code], last.get(code)
        unswept: list[dt.date] = []
        if since is None:  # never swept: the day asked for only
            if _supervised(facts, through) and facts.calendar.is_workday(through):
                unswept.append(through)
        elif since < through:
            day = facts.calendar.next_workday(since)
            while day <= through:
                if _supervised(facts, day):
                    unswept.append(day)
                day = facts.calendar.next_workday(day)
        found.append(SweptDays(code, through, since, tuple(unswept)))
    return found


def _supervised(facts: PlanDays, day: dt.date) -> bool:
    return facts.supervise_from is None or facts.supervise_from <= day


def days_to_catch_up(
    record: Sequence[SweptDays], *, limit: int = CATCH_UP_LIMIT
) -> tuple[list[tuple[dt.date, tuple[str, ...]]], list[SweptDays]]:
    """The missed days to sweep, in order, each with the plans that missed it; and the plans
    whose missed days are more than `limit`, left alone."""
    by_day: dict[dt.date, list[str]] = defaultdict(list)
    left = []
    for plan in record:
        if not plan.catches_up(limit):
            left.append(plan)
            continue
        for day in plan.missed:
            by_day[day].append(plan.plan)
    return [(day, tuple(sorted(by_day[day]))) for day in sorted(by_day)], left


def told_about(notice: PlannedNotice) -> tuple[int, int | None, str]:
    """What a notice tells whom: its item and its recipient (not its rung)."""
    return notice.item.assignment_id, notice.item.occurrence_id, notice.recipient_code


def not_told_later(
    days: Sequence[Sequence[PlannedNotice]], later: Sequence[PlannedNotice]
) -> list[list[PlannedNotice]]:
    """Each missed day's notices (days in order) less those a later day of the same run tells
    the same recipient about the same item (`later`: the notices of the day asked for)."""
    told = {told_about(n) for n in later}
    kept: list[list[PlannedNotice]] = []
    for planned in reversed(days):
        kept.append([n for n in planned if told_about(n) not in told])
        told |= {told_about(n) for n in planned}
    return kept[::-1]


def plan_days(
    session: Session, *, plan: str | None = None, calendar_dir: Path | None = None
) -> dict[str, PlanDays]:
    """Each plan's calendar and first supervised day, read without its tasks."""
    query = sqlalchemy.select(
        col(Plan.code), col(Plan.spec)["plan"]["calendar"], col(Plan.spec)["plan"]["supervise_from"]
    )
    if plan is not None:
        query = query.where(col(Plan.code) == plan)
    found = {
        code: PlanDays(
            calendar_of(CalendarChoice.model_validate(choice or {}), calendar_dir),
            dt.date.fromisoformat(since) if since else None,
        )
        for code, choice, since in session.connection().execute(query)
    }
    if plan is not None and plan not in found:
        raise NotFound(f'no plan "{plan}"')
    return found


def sweep_status(
    session: Session,
    *,
    through: dt.date,
    plan: str | None = None,
    calendar_dir: Path | None = None,
) -> list[SweptDays]:
    """Every plan's (or one plan's) last swept day and working days not swept through a day:
    what `duban sweep --status` shows."""
    plans = plan_days(session, plan=plan, calendar_dir=calendar_dir)
    return swept_days(plans, last_swept(session, plans), through=through)
