"""Who answers for a late item: the unit itself, another unit upstream, or nobody in the ranking.

A delay is "upstream" only along the plan's own depends_on edges (or, when the plan's policy says
its phases wait on each other, `phase_order_upstream`, along the phase order too), and only when
a lead unit of a task it waits on, a unit other than this one, was itself late and finished
(or, still open, will at the earliest) after this item was due. An approved extension upstream
is nobody's lateness, so it excuses nothing. A co-responsible or participating unit's lateness
is not counted against it while the sweep does not chase it (`co_units: not_counted`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from calendars.workdays import WorkCalendar
from schemas.vocabulary import HANDED_IN, SET_ASIDE, WITH_UNIT, Cause, Role

SINGLE_DATE = ("date", "window")


class TaskFacts(NamedTuple):
    """What the review reads of a task: plain values from one Core query, not ORM objects
    (a plan has thousands of items, and per-row ORM loading was most of the review's time)."""

    code: str
    title: str
    kind: str
    phase_code: str | None
    deadline_kind: str | None
    start: dt.date | None
    due: dt.date | None
    position: int


@dataclass(slots=True)
class Item:
    """An item being reviewed, before it is frozen into an ItemReview."""

    task: TaskFacts
    unit: str
    unit_name: str
    role: str
    state: str
    original_due: dt.date | None
    approved_due: dt.date | None
    actual: dt.date | None
    occurrence: dt.date | None
    escalated: bool


def late_by(item: Item, as_of: dt.date, calendar: WorkCalendar) -> int:
    """Working days late: submitted after the approved date, or still open past it."""
    due = item.approved_due
    if due is None or item.state in SET_ASIDE:
        return 0
    if item.state in HANDED_IN:
        done = item.actual or as_of
        return calendar.workdays_between(due, done) if done > due else 0
    return calendar.workdays_between(due, as_of) if as_of > due else 0


class Finish(NamedTuple):
    """When one lead unit finished its part of a single-date task (or, open, at the earliest
    can), and how many working days late that is against its own approved date."""

    unit: str
    late: int
    finish: dt.date


def lead_finishes(
    items: Sequence[Item], as_of: dt.date, calendar: WorkCalendar
) -> dict[str, list[Finish]]:
    """For each single-date task: each lead unit's finish (every unit's, if it has no lead).

    Per unit, not per task: one lead's approved extension must not turn another lead's
    short delay into a long one. Recurring and ongoing tasks never finish as a whole, so they
    hold nothing up in this sense.
    """
    by_task: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        if (
            item.task.deadline_kind in SINGLE_DATE
            and item.approved_due is not None
            and item.state not in SET_ASIDE
        ):
            by_task[item.task.code].append(item)
    finishes = {}
    for code, found in by_task.items():
        leads = [i for i in found if i.role == Role.LEAD] or found
        finishes[code] = [
            Finish(
                unit=i.unit,
                late=late_by(i, as_of, calendar),
                finish=(i.actual or as_of)
                if i.state in HANDED_IN
                else max(i.approved_due or as_of, as_of),
            )
            for i in leads
        ]
    return finishes


class Verdict(NamedTuple):
    """Why an item stands where it does, what held it up, and when open work can finish."""

    cause: Cause
    upstream: tuple[tuple[str, int], ...]  # late tasks it waits on, by working days late
    forecast: dt.date | None


def judge(
    item: Item,
    late: int,
    as_of: dt.date,
    *,
    waits_on: Callable[[str], list[str]],
    finishes: dict[str, list[Finish]],
    calendar: WorkCalendar,
    counted: bool,
) -> Verdict:
    """The cause of an item's standing. `waits_on` gives the tasks it waits on (the named ones,
    or through the phases too); `counted` is False for a role whose lateness is not counted."""
    due = item.approved_due
    is_open = item.state in WITH_UNIT
    upstream: dict[str, int] = {}  # the late tasks holding it up, in the order it waits on them
    held = 0
    forecast = due if is_open else None
    if due is not None:
        for task in waits_on(item.task.code):
            for finish in finishes.get(task, ()):
                if finish.unit != item.unit and finish.late > 0 and finish.finish > due:
                    upstream[task] = max(upstream.get(task, 0), finish.late)
                    held = max(held, calendar.workdays_between(due, finish.finish))
                    if forecast is not None:
                        forecast = max(forecast, finish.finish)
    extended = item.approved_due != item.original_due
    cause: Cause
    if late > 0:
        cause = Cause.UPSTREAM if held >= late else Cause.OWN if counted else Cause.SUPPORTING
    elif extended and item.original_due is not None and (item.actual or as_of) > item.original_due:
        cause = Cause.EXTENSION
    else:
        cause = Cause.OPEN if is_open else Cause.ON_TIME
    return Verdict(cause, tuple(upstream.items()) if upstream else (), forecast)
