"""Time for people and for the record: the office's zone, the day an instant falls on in a
plan's zone, the clock itself, and dates and times written the way people read them.

Why one module: a plan is run on its own office's clock (`Plan.timezone`, Asia/Shanghai unless
the plan says otherwise), while instants are stored as UTC (SQLite keeps datetimes without
their zone, so every stored instant is UTC, and a zoneless one read back means UTC). Which day
an instant belongs to, and what a person is shown, depends on that zone, so both are decided
here and nowhere else.

`now()` is the one place duban reads the clock. Only the shell calls it (the CLI in `duban/`,
the flows in `flows/`) and passes the instant, or the day it falls on, down to the domain:
nothing in `tasks/` or `render/` reads the clock (`tests/test_clock.py` checks it).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import pendulum

OFFICE_ZONE = "Asia/Shanghai"  # the office's zone, where no plan says otherwise
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class Zoned(Protocol):
    """Anything that says its zone: a stored plan, or the `plan:` block of a plan file."""

    @property
    def timezone(self) -> str: ...


Where = Zoned | str | None  # a plan, a zone name, or None for the office's zone


def zone_of(where: Where = None) -> pendulum.Timezone:
    """The zone of a plan, or the named zone, or the office's; ValueError for an unknown name."""
    name = OFFICE_ZONE if where is None else where if isinstance(where, str) else where.timezone
    try:
        return pendulum.timezone(name)
    except ValueError as exc:  # pendulum's InvalidTimezone is one
        raise ValueError(f'unknown time zone "{name}" (an IANA name, e.g. Asia/Shanghai)') from exc


def now() -> dt.datetime:
    """The current instant, in UTC: the one read of the clock, for the shell to pass down."""
    return dt.datetime.now(dt.UTC)


def today(where: Where = None) -> dt.date:
    """Today on the clock of a plan (or of the office), whatever the machine's zone."""
    return day_of(now(), where)


def utc(at: dt.datetime) -> dt.datetime:
    """The instant in UTC, as it is stored; a zoneless datetime is taken to be UTC already."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC)
    # a plain datetime, whatever came in: pendulum's lose their zone in arithmetic
    return dt.datetime(*at.timetuple()[:6], at.microsecond, tzinfo=dt.UTC)


def local(at: dt.datetime, where: Where = None) -> dt.datetime:
    """The instant on the wall clock of a plan (or of the office)."""
    return utc(at).astimezone(zone_of(where))


def day_of(at: dt.datetime, where: Where = None) -> dt.date:
    """The day an instant falls on in a plan's zone: 2019-12-31T16:30Z is 1 January in
    Shanghai. A date cannot be compared with a datetime, so instants become days here."""
    return local(at, where).date()


def start_of(day: dt.date, where: Where = None) -> dt.datetime:
    """The first instant of a day in a plan's zone (midnight there), in UTC."""
    zone = zone_of(where)
    return utc(dt.datetime.combine(day, dt.time(), zone))


def moment(text: str, where: Where = None) -> dt.datetime:
    """A time as a person types it, on the wall clock of a plan (or of the office), in UTC:
    YYYY-MM-DDTHH:MM, or a bare date, read as noon that day. ValueError if it is neither."""
    parsed = pendulum.parse(text, tz=zone_of(where), exact=True)
    if isinstance(parsed, dt.datetime):
        return utc(parsed)
    if isinstance(parsed, dt.date):
        return utc(dt.datetime.combine(parsed, dt.time(12), zone_of(where)))
    raise ValueError(f"{text!r} is not a date or a time")


def long_date(day: dt.date | None, language: str = "zh") -> str:
    """A day as letters and reports write it: 2020年9月30日, or 30 September 2020; "" for None."""
    if day is None:
        return ""
    if language == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def stamp(at: dt.datetime | None, where: Where = None) -> str:
    """An instant as the CLI shows it, on the plan's clock to the minute with its offset
    (2020-03-16T15:00+08:00), so a reader sees both the local time and which zone it is in."""
    return "" if at is None else local(at, where).isoformat(timespec="minutes")
