"""Plans under way that run past the last year of calendar data, seen before the day comes.

The calendar data ends with the last year whose State Council notice has appeared; next year's
appears in November or December. An open plan whose span or due dates reach past the data
cannot be counted once the sweep gets there, so the sweep, `serve` and `doctor` say so from
30 working days before the data ends, with what to do (`duban calendar add-notice`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, func, select

from schemas.tables import Assignment, Plan
from schemas.vocabulary import CLOSED
from tasks.work.status import plan_calendar

WARN_WORKDAYS = 30  # how far ahead of the data's last day the warning starts


@dataclass(frozen=True)
class PastTheCalendar:
    """One open plan that reaches past the calendar data."""

    plan: str
    source: str | None
    reaches: dt.date
    last_day: dt.date

    def __str__(self) -> str:
        year = self.last_day.year + 1
        where = f" ({self.source})" if self.source else ""
        return (
            f"plan {self.plan}{where} runs to {self.reaches}, past the working-day calendar data "
            f"(ends {self.last_day}): when the State Council's notice for {year} appears, run "
            f"`duban calendar add-notice NOTICE.txt`"
        )


def plans_past_the_calendar(
    session: Session, as_of: dt.date, *, data_dir: Path | None = None
) -> list[PastTheCalendar]:
    """Open plans reaching past their calendar's data, once `as_of` is within WARN_WORKDAYS
    working days of the data's last day (or past it)."""
    found = []
    for plan in session.exec(select(Plan).order_by(col(Plan.code))):
        calendar = plan_calendar(plan, data_dir)
        if not calendar.years:
            continue
        last_day = dt.date(calendar.years[-1], 12, 31)
        if as_of < calendar.add_workdays(last_day, -WARN_WORKDAYS):
            continue  # most of the year: the plan's open work need not be read
        open_count, last_due = session.exec(
            select(func.count(), func.max(Assignment.due)).where(
                Assignment.plan_id == plan.id,
                col(Assignment.active),
                col(Assignment.state).not_in(CLOSED),
            )
        ).one()
        if not open_count:
            continue
        reaches = max((d for d in (last_due, plan.span_end) if d is not None), default=None)
        if reaches is not None and reaches > last_day:
            found.append(PastTheCalendar(plan.code, plan.source_path, reaches, last_day))
    return found
