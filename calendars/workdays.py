"""The mainland-China working-day calendar: which days are worked, and counting in working days.

The calendar is data, not code: one TOML file per year under data/<region>/ copied from the
State Council General Office notice (国务院办公厅关于YYYY年部分节假日安排的通知), and regional
overlays under data/regions/ that add local holidays. A new year is a new data file; nothing here
changes. See docs/calendar.md for the file format and the counting conventions.

A year without data is an error (MissingCalendarYear) unless the caller explicitly asked for the
weekends-only fallback: a deadline silently computed on the wrong calendar is worse than none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from duban.errors import EnvironmentProblem

DATA_DIR = Path(__file__).resolve().parent / "data"
OVERLAY_DIR_NAME = "regions"
# Counts between two days kept per calendar: a review or a sweep asks the same few hundred
# (due date, today) pairs once per item, 100,000 times.
COUNTS_KEPT = 65_536
_REGION_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class CalendarError(EnvironmentProblem):
    """Anything wrong with calendar data or with a question the data cannot answer."""


class MissingCalendarYear(CalendarError):
    """A query touched a year for which some layer of the calendar has no data."""

    def __init__(self, year: int, fix: str) -> None:
        self.year = year
        super().__init__(
            f"no working-day calendar data for {year}: {fix} (once the State Council's notice "
            f"for {year} is out: `duban calendar add-notice NOTICE.txt`), or set "
            f"`weekend_fallback: true` under `plan.calendar` in the plan file to count {year} "
            "as Monday-to-Friday working days"
        )


class UnknownRegion(CalendarError):
    """No data directory (national) or overlay file (regional) has this name."""


@dataclass(frozen=True, slots=True)
class DayInfo:
    """One day as the `duban calendar` command shows it."""

    date: dt.date
    workday: bool
    holiday: str | None
    makeup: bool

    def as_json(self) -> dict[str, str | bool | None]:
        return {
            "date": self.date.isoformat(),
            "workday": self.workday,
            "holiday": self.holiday,
            "makeup": self.makeup,
        }


@dataclass(frozen=True, slots=True, eq=False)
class WorkCalendar:
    """A working calendar built from data files; immutable once loaded (use load_calendar).

    Arithmetic walks per-year sorted tuples of workday ordinals with bisect, so it costs
    O(log n) plus one step per calendar year crossed, not one step per day.
    """

    name: str
    regions: tuple[str, ...]
    years: tuple[int, ...]
    version: str
    weekend_fallback: bool
    _holidays: Mapping[dt.date, str] = field(repr=False)
    _makeups: frozenset[dt.date] = field(repr=False)
    _fixes: tuple[tuple[frozenset[int], str], ...] = field(repr=False)
    _workdays: dict[int, tuple[int, ...]] = field(default_factory=dict, repr=False)
    _counted: dict[tuple[dt.date, dt.date], int] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ single days

    def covers(self, day: dt.date) -> bool:
        """True when every layer has data for the day's year (the fallback does not count)."""
        return _checked(day).year in self.years

    def is_workday(self, day: dt.date) -> bool:
        day = self._answerable(day)
        return self._works_on(day)

    def holiday_name(self, day: dt.date) -> str | None:
        """The holiday as the notice names it; None for ordinary weekends and working days."""
        return self._holidays.get(self._answerable(day))

    def is_makeup_workday(self, day: dt.date) -> bool:
        """True for a Saturday or Sunday that is worked in exchange for a holiday (调休上班)."""
        return self._answerable(day) in self._makeups

    def day_info(self, day: dt.date) -> DayInfo:
        day = self._answerable(day)
        return DayInfo(day, self._works_on(day), self._holidays.get(day), day in self._makeups)

    # ------------------------------------------------------------------ arithmetic

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        return self.add_workdays(day, 1)

    def previous_workday(self, day: dt.date) -> dt.date:
        """The last working day strictly before `day`."""
        return self.add_workdays(day, -1)

    def add_workdays(self, day: dt.date, n: int) -> dt.date:
        """The nth working day after `day` (n > 0), the |n|th before it (n < 0), or `day`
        itself (n == 0, even when it is a rest day: "zero working days later" moves nothing)."""
        day = _checked(day)
        year = day.year
        workdays = self._workdays_in(year)
        if n == 0:
            return day
        if n > 0:
            index = bisect_right(workdays, day.toordinal()) + n - 1
            while index >= len(workdays):
                index -= len(workdays)
                year += 1
                workdays = self._workdays_in(year)
        else:
            index = bisect_left(workdays, day.toordinal()) + n
            while index < 0:
                year -= 1
                workdays = self._workdays_in(year)
                index += len(workdays)
        return dt.date.fromordinal(workdays[index])

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days passed going from `start` to `end`, counted in the direction of travel:
        forwards the days in (start, end], backwards minus the days in [end, start).

        That makes workdays_between(d, add_workdays(d, n)) == n for every d and n, rest days
        included; the price is that swapping two rest-day endpoints need not just flip the sign.
        """
        known = self._counted.get((start, end))
        if known is not None:
            return known
        start, end = _checked(start), _checked(end)
        if start <= end:
            count = self._count(start, end, bisect_right)
        else:
            count = -self._count(end, start, bisect_left)
        if len(self._counted) >= COUNTS_KEPT:
            self._counted.clear()
        self._counted[(start, end)] = count
        return count

    # ------------------------------------------------------------------ internals

    def _count(
        self, low: dt.date, high: dt.date, rank: Callable[[tuple[int, ...], int], int]
    ) -> int:
        """rank() counts a year's workdays before a day (bisect_left) or up to it (bisect_right);
        the difference of two ranks, plus the whole years between, is the count."""
        whole_years = sum(len(self._workdays_in(y)) for y in range(low.year, high.year))
        return (
            whole_years
            + rank(self._workdays_in(high.year), high.toordinal())
            - rank(self._workdays_in(low.year), low.toordinal())
        )

    def _works_on(self, day: dt.date) -> bool:
        if day in self._holidays:
            return False
        return day in self._makeups or day.weekday() < 5

    def _answerable(self, day: dt.date) -> dt.date:
        day = _checked(day)
        self._require(day.year)
        return day

    def _require(self, year: int) -> None:
        if year in self.years or self.weekend_fallback:
            return
        fix = next((hint for known, hint in self._fixes if year not in known), "add its data")
        raise MissingCalendarYear(year, fix.replace("{year}", str(year)))

    def _workdays_in(self, year: int) -> tuple[int, ...]:
        """The year's working days as sorted ordinals, computed once per year and kept."""
        known = self._workdays.get(year)
        if known is None:
            self._require(year)
            first, last = dt.date(year, 1, 1).toordinal(), dt.date(year, 12, 31).toordinal()
            known = tuple(
                o for o in range(first, last + 1) if self._works_on(dt.date.fromordinal(o))
            )
            self._workdays[year] = known
        return known


def _checked(day: dt.date) -> dt.date:
    """Refuse datetimes: which calendar day an instant falls on depends on its time zone, and
    a datetime never equals a date, so holiday look-ups would silently miss."""
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(
            f"expected a datetime.date, got {type(day).__name__} {day!r}; "
            "convert instants to a day with calendars.clock.day_of first"
        )
    return day


# ---------------------------------------------------------------------- loading


def load_calendar(
    region: str = "cn",
    *,
    overlays: Sequence[str] = (),
    weekend_fallback: bool = False,
    data_dir: Path | None = None,
) -> WorkCalendar:
    """The national calendar of `region` with the regional `overlays` laid over it, in order.

    Loads from the package data are cached, so calling this per request is cheap; a `data_dir`
    (tests, trial data) is read afresh every time so edits to it are seen.
    """
    wanted = (overlays,) if isinstance(overlays, str) else tuple(overlays)
    if data_dir is None:
        return _load_packaged(region, wanted, weekend_fallback)
    data_dir = Path(data_dir)
    national = _national_layers(region, data_dir)
    return _build(region, national, wanted, weekend_fallback, data_dir)


@cache
def _load_packaged(region: str, overlays: tuple[str, ...], weekend_fallback: bool) -> WorkCalendar:
    return _build(region, _packaged_layers(region), overlays, weekend_fallback, DATA_DIR)


@cache
def _packaged_layers(region: str) -> tuple[_Layer, ...]:
    """The national data files, read once a process however many calendars are built on
    them (a plan with a regional overlay and one without: two calendars, one reading)."""
    return _national_layers(region, DATA_DIR)


@dataclass(frozen=True, slots=True)
class _Layer:
    """One checked data file: what it declares, and the bytes the version hash is taken over."""

    path: Path
    years: frozenset[int]
    holidays: dict[dt.date, str]
    makeups: dict[dt.date, str]
    raw: bytes


def _build(
    region: str,
    national: Sequence[_Layer],
    overlays: tuple[str, ...],
    weekend_fallback: bool,
    data_dir: Path,
) -> WorkCalendar:
    regional = [_overlay_layer(name, region, data_dir) for name in overlays]
    holidays, makeups = _merged(national, regional)

    years = frozenset().union(*(layer.years for layer in national))
    fixes = [(years, f"add {_shown(data_dir / region)}/{{year}}.toml")]
    for layer in regional:
        years &= layer.years
        fixes.append((layer.years, f"add {{year}} and its dates to {_shown(layer.path)}"))

    digest = hashlib.sha256()
    for layer in (*national, *regional):
        digest.update(layer.path.name.encode() + b"\0" + layer.raw)
    name = "+".join((region, *overlays))
    fallback = "+weekend-fallback" if weekend_fallback else ""
    calendar = WorkCalendar(
        name=name,
        regions=(region, *overlays),
        years=tuple(sorted(years)),
        version=f"{name}:{_year_ranges(sorted(years))}{fallback}@{digest.hexdigest()[:12]}",
        weekend_fallback=weekend_fallback,
        _holidays=MappingProxyType(holidays),
        _makeups=makeups,
        _fixes=tuple(fixes),
    )
    for year in calendar.years:
        calendar._workdays_in(year)
    return calendar


def _national_layers(region: str, data_dir: Path) -> tuple[_Layer, ...]:
    folder = data_dir / region
    if region == OVERLAY_DIR_NAME or not _REGION_ID.fullmatch(region) or not folder.is_dir():
        raise UnknownRegion(
            f"unknown calendar region {region!r}; national regions in "
            f"{_shown(data_dir)}: {', '.join(_national_regions(data_dir)) or '-'}"
        )
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise CalendarError(f"{_shown(folder)}: no YYYY.toml data files")
    return tuple(_DataFile(path).national_layer(region) for path in files)


def _overlay_layer(name: str, region: str, data_dir: Path) -> _Layer:
    path = data_dir / OVERLAY_DIR_NAME / f"{name}.toml"
    if not _REGION_ID.fullmatch(name) or not path.is_file():
        known = sorted(p.stem for p in (data_dir / OVERLAY_DIR_NAME).glob("*.toml"))
        raise UnknownRegion(
            f"unknown regional overlay {name!r}; overlays in "
            f"{_shown(data_dir / OVERLAY_DIR_NAME)}: {', '.join(known) or '-'}"
        )
    return _DataFile(path).overlay_layer(region)


def _national_regions(data_dir: Path) -> list[str]:
    if not data_dir.is_dir():
        return []
    return sorted(p.name for p in data_dir.iterdir() if p.is_dir() and p.name != OVERLAY_DIR_NAME)


def _merged(
    national: Sequence[_Layer], regional: Sequence[_Layer]
) -> tuple[dict[dt.date, str], frozenset[dt.date]]:
    """Lay the files over each other. National files must not contradict one another; an
    overlay may add holidays (one on a national make-up day wins: the region rests) and
    make-up days, but can never turn a national holiday into a working day."""
    holidays: dict[dt.date, str] = {}
    makeups: dict[dt.date, str] = {}
    for layer in national:
        for day, name in layer.holidays.items():
            if day in holidays or day in makeups:
                _clash(layer, day, holidays, makeups)
            holidays[day] = name
        for day, name in layer.makeups.items():
            if day in holidays or day in makeups:
                _clash(layer, day, holidays, makeups)
            makeups[day] = name
    for layer in regional:
        for day, name in layer.holidays.items():
            holidays.setdefault(day, name)
            makeups.pop(day, None)
        for day in layer.makeups:
            if day in holidays:
                raise CalendarError(
                    f"{_shown(layer.path)}: [[makeup_workdays]] {day}: is the "
                    f"holiday {holidays[day]}; an overlay cannot remove holidays"
                )
            makeups[day] = layer.makeups[day]
    return holidays, frozenset(makeups)


def _clash(
    layer: _Layer, day: dt.date, holidays: Mapping[dt.date, str], makeups: Mapping[dt.date, str]
) -> NoReturn:
    was = f"holiday {holidays[day]}" if day in holidays else f"make-up day for {makeups[day]}"
    raise CalendarError(f"{_shown(layer.path)}: {day} is already the {was} in another file")


def _year_ranges(years: Sequence[int]) -> str:
    """2019-2026, or 2019-2020,2022 when there are gaps; "none" for an empty calendar."""
    runs: list[list[int]] = []
    for year in years:
        if runs and runs[-1][1] == year - 1:
            runs[-1][1] = year
        else:
            runs.append([year, year])
    return ",".join(f"{a}-{b}" if a != b else f"{a}" for a, b in runs) or "none"


def _shown(path: Path) -> str:
    """Paths in messages as a maintainer finds them in the repository when they can be."""
    try:
        return path.relative_to(DATA_DIR.parent.parent).as_posix()
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------- one data file


class _DataFile:
    """Reads one data file; every complaint names the file and the field."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw = path.read_bytes()
        try:
            self.doc: dict[str, Any] = tomllib.loads(self.raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            self.fail("file", f"not valid TOML: {exc}")

    def fail(self, where: str, problem: str) -> NoReturn:
        raise CalendarError(f"{_shown(self.path)}: {where.strip()}: {problem}")

    def national_layer(self, region: str) -> _Layer:
        """A YYYY.toml may also list the end of December of YYYY-1: a notice's 元旦 can start
        there (2019's begins 2018-12-30), and the dates belong to the notice announcing them."""
        self.only(
            self.doc, "", "year", "region", "notice", "amendments", "holidays", "makeup_workdays"
        )
        year = self.doc.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or f"{year}.toml" != self.path.name:
            self.fail(
                "year",
                f"is {year!r}, but a data file holds the year it is named after ({self.path.name})",
            )
        self.text(self.doc, "region", "", equal_to=region)
        self.text(self.doc, "notice", "")
        amendments = self.doc.get("amendments", [])
        if not isinstance(amendments, list) or not all(isinstance(a, str) for a in amendments):
            self.fail("amendments", "must be a list of notice titles")
        first, last = dt.date(year - 1, 12, 1), dt.date(year, 12, 31)
        return self.layer(
            frozenset({year}),
            lambda d: first <= d <= last,
            f"outside {first}..{last} (this file's year and the December before)",
        )

    def overlay_layer(self, region: str) -> _Layer:
        self.only(self.doc, "", "region", "base", "name", "years", "holidays", "makeup_workdays")
        self.text(self.doc, "region", "", equal_to=self.path.stem)
        self.text(self.doc, "name", "")
        base = self.text(self.doc, "base", "")
        if base != region:
            self.fail("base", f"this overlay is laid over {base!r}, not over {region!r}")
        years = self.doc.get("years")
        if (
            not isinstance(years, list)
            or not years
            or not all(isinstance(y, int) and not isinstance(y, bool) for y in years)
        ):
            self.fail("years", "must be a non-empty list of the years this overlay has data for")
        covered = frozenset(years)
        return self.layer(covered, lambda d: d.year in covered, "in a year not listed in `years`")

    def layer(
        self, years: frozenset[int], allowed: Callable[[dt.date], bool], not_allowed: str
    ) -> _Layer:
        holidays: dict[dt.date, str] = {}
        for i, entry in enumerate(self.tables("holidays"), start=1):
            where = f"[[holidays]] #{i}"
            self.only(entry, where, "name", "start", "end", "note")
            name = self.text(entry, "name", where)
            start, end = self.day(entry, "start", where), self.day(entry, "end", where)
            if end < start:
                self.fail(f"{where} ({name}) end", f"{end} is before start {start}")
            for key, day in (("start", start), ("end", end)):
                if not allowed(day):
                    self.fail(f"{where} ({name}) {key}", f"{day} is {not_allowed}")
            for offset in range((end - start).days + 1):
                day = start + dt.timedelta(days=offset)
                if day in holidays:
                    self.fail(f"{where} ({name})", f"{day} is already listed for {holidays[day]}")
                holidays[day] = name
        makeups: dict[dt.date, str] = {}
        for i, entry in enumerate(self.tables("makeup_workdays"), start=1):
            where = f"[[makeup_workdays]] #{i}"
            self.only(entry, where, "date", "for", "note")
            day = self.day(entry, "date", where)
            reason = self.text(entry, "for", where)
            if day.weekday() < 5:
                self.fail(
                    f"{where} date",
                    f"{day} is a {day:%A}; make-up working days are Saturdays or Sundays",
                )
            if not allowed(day):
                self.fail(f"{where} date", f"{day} is {not_allowed}")
            if day in holidays or day in makeups:
                self.fail(f"{where} date", f"{day} is listed twice")
            if reason not in holidays.values():
                self.fail(f"{where} for", f"{reason!r} is not a holiday named in this file")
            makeups[day] = reason
        return _Layer(self.path, years, holidays, makeups, self.raw)

    def tables(self, key: str) -> list[dict[str, Any]]:
        entries = self.doc.get(key, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.fail(key, f"must be an array of tables, written [[{key}]]")
        return entries

    def only(self, table: Mapping[str, Any], where: str, *allowed: str) -> None:
        for key in table:
            if key not in allowed:
                self.fail(f"{where} {key}", f"unknown field (expected {', '.join(allowed)})")

    def text(
        self, table: Mapping[str, Any], key: str, where: str, equal_to: str | None = None
    ) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where} {key}", "must be a non-empty string")
        if equal_to is not None and value != equal_to:
            self.fail(f"{where} {key}", f"is {value!r}, expected {equal_to!r}")
        return value

    def day(self, table: Mapping[str, Any], key: str, where: str) -> dt.date:
        value = table.get(key)
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            self.fail(f"{where} {key}", f"must be a bare TOML date like 2019-10-01, not {value!r}")
        return value
