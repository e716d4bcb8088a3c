"""Read the State Council General Office's holiday notice (国务院办公厅关于YYYY年部分节假日安排的
通知) as published into a year's calendar data file, the same format as the bundled ones.

The notice for next year appears in November or December; until its dates are in the calendar
data, no deadline in that year can be counted. Reading the notice's own text, rather than typing
the dates by hand, keeps the file true to it, and the notice states enough to check itself: the
weekday of each date it names, the number of days of each holiday (共N天), make-up working days
that fall on a weekend. A notice that does not say what this reader expects is an error naming
the line, never a guess. See docs/calendar.md ("Next year's calendar").
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from calendars.workdays import CalendarError, WorkCalendar, load_calendar

__all__ = ["Holiday", "MakeupDay", "NoticeError", "YearNotice", "install", "preview", "read_notice"]


class NoticeError(CalendarError):
    """The notice's text is not one this reader can be sure of, or contradicts itself."""


@dataclass(frozen=True)
class Holiday:
    """One holiday block as the notice lists it; `said` quotes a one-day form's own words."""

    name: str
    start: dt.date
    end: dt.date
    said: str | None = None


@dataclass(frozen=True)
class MakeupDay:
    """A Saturday or Sunday worked in exchange for a holiday (调休上班)."""

    date: dt.date
    holiday: str


@dataclass(frozen=True)
class YearNotice:
    """What one notice announces for its year."""

    year: int
    title: str
    number: str | None  # 文号, e.g. 国办发明电〔2025〕7号, when the text carries it
    published: dt.date | None
    holidays: tuple[Holiday, ...]
    makeups: tuple[MakeupDay, ...]

    @property
    def notice(self) -> str:
        """The data file's `notice` field: the title, with the number when known."""
        return f"{self.title}（{self.number}）" if self.number else self.title

    def toml(self) -> str:
        """The year's data file, laid out as the bundled ones are."""
        source = ", ".join(x for x in (self.number, self.published and str(self.published)) if x)
        lines = [
            f"# Mainland-China working calendar for {self.year}.",
            f"# Source: {self.title}（{source})." if source else f"# Source: {self.title}.",
            "# Read from the notice's text by `duban calendar add-notice`.",
            "",
            f"year = {self.year}",
            'region = "cn"',
            f'notice = "{self.notice}"',
        ]
        for h in self.holidays:
            said = f"  # {h.said}" if h.said else ""
            lines += ["", "[[holidays]]", f'name = "{h.name}"{said}']
            lines += [f"start = {h.start}", f"end = {h.end}"]
        for m in self.makeups:
            lines += ["", "[[makeup_workdays]]", f"date = {m.date}  # {m.date:%A}"]
            lines += [f'for = "{m.holiday}"']
        return "\n".join(lines) + "\n"


_TITLE = re.compile(r"国务院办公厅关于(\d{4})年部分节假日安排的通知")
_NUMBER = re.compile(r"国办发明电〔\d{4}〕\d+号")
_ITEM = re.compile(r"^[一二三四五六七八九十]+、(?P<name>[^:]+):(?P<body>.+)$")
_SIGNED = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_DATE = re.compile(
    r"(?:(?P<y>\d{4})年)?(?:(?P<m>\d{1,2})月)?(?P<d>\d{1,2})日(?:\((?P<aside>[^)]*)\))?"
)
_WEEKDAY = re.compile(r"(?:星期|周)([一二三四五六日天])")
_DAYS = re.compile(r"(?:共|放假)(\d+)天")
_WEEKDAYS = "一二三四五六日"


def read_notice(text: str) -> YearNotice:
    """The notice's holidays and make-up days, checked against what the notice itself says."""
    lines = [unicodedata.normalize("NFKC", line).strip() for line in text.splitlines()]
    titled = next((m for line in lines if (m := _TITLE.search(line))), None)
    if titled is None:
        raise NoticeError("no title 国务院办公厅关于YYYY年部分节假日安排的通知 in the text")
    year = int(titled[1])
    number = next((m[0] for line in lines if (m := _NUMBER.search(line))), None)
    signed = [dt.date(*map(int, m.groups())) for line in lines if (m := _SIGNED.match(line))]
    holidays: list[Holiday] = []
    makeups: list[MakeupDay] = []
    for i, line in enumerate(lines, start=1):
        if item := _ITEM.match(line):
            _Item(year, i, item["name"].strip(), item["body"]).read(holidays, makeups)
    if not holidays:
        raise NoticeError(
            "no holidays found: expected lines like 一、元旦：1月1日至3日放假调休，共3天。"
        )
    _check_apart(holidays, makeups)
    return YearNotice(
        year, titled[0], number, signed[-1] if signed else None, tuple(holidays),
        tuple(sorted(makeups, key=lambda m: m.date)),
    )  # fmt: skip


class _Item:
    """One numbered line: "二、春节：1月24日至30日放假调休，共7天。1月19日（星期日）上班。" """

    def __init__(self, year: int, line: int, name: str, body: str) -> None:
        self.year, self.month = year, 0
        self.line, self.name, self.body = line, name, body

    def fail(self, problem: str) -> NoticeError:
        return NoticeError(f"line {self.line} ({self.name}): {problem}")

    def read(self, holidays: list[Holiday], makeups: list[MakeupDay]) -> None:
        for sentence in filter(None, (s.strip() for s in self.body.split("。"))):
            if "放假" in sentence:
                holidays.append(self.holiday(sentence))
            elif sentence.endswith("上班"):
                for day in self.dates(sentence):
                    if day.weekday() < 5:
                        raise self.fail(f"make-up working day {day} is a {day:%A}, not a weekend")
                    makeups.append(MakeupDay(day, self.name))

    def holiday(self, sentence: str) -> Holiday:
        before, _, after = sentence.partition("放假")
        days = self.dates(before)
        if not 1 <= len(days) <= 2 or (len(days) == 2 and "至" not in before):
            raise self.fail(f"cannot read the holiday's dates in “{sentence}”")
        start, end = days[0], days[-1]
        if end < start:
            raise self.fail(f"the holiday ends ({end}) before it starts ({start})")
        length = (end - start).days + 1
        if (count := _DAYS.search(sentence)) and int(count[1]) != length:
            raise self.fail(f"says {count[1]} days, but {start} to {end} is {length}")
        said = sentence if start == end and not count else None
        return Holiday(self.name, start, end, said and said.replace(",", "，"))

    def dates(self, text: str) -> list[dt.date]:
        """The dates in a phrase, the year and month carried from the one before; a weekday
        in the brackets after a date must be that date's."""
        found = []
        for m in _DATE.finditer(text):
            self.year = int(m["y"]) if m["y"] else self.year
            self.month = int(m["m"]) if m["m"] else self.month
            try:
                day = dt.date(self.year, self.month, int(m["d"]))
            except ValueError:
                raise self.fail(f"no such date: {m[0]}") from None
            stated = _WEEKDAY.search(m["aside"] or "")
            if stated and _WEEKDAYS.index(stated[1].replace("天", "日")) != day.weekday():
                raise self.fail(f"{m[0]}: {day} is a {day:%A}, not 周{stated[1]}")
            found.append(day)
        return found


def _check_apart(holidays: list[Holiday], makeups: list[MakeupDay]) -> None:
    """No day is two things: holidays do not overlap, and no make-up day is a holiday."""
    taken: dict[dt.date, str] = {}
    for h in holidays:
        for n in range((h.end - h.start).days + 1):
            day = h.start + dt.timedelta(days=n)
            if day in taken:
                raise NoticeError(f"{day} is in both {taken[day]} and {h.name}")
            taken[day] = h.name
    for m in makeups:
        if m.date in taken:
            raise NoticeError(f"make-up working day {m.date} ({m.holiday}) is a holiday")


def preview(notice: YearNotice) -> WorkCalendar:
    """The year alone as a calendar, loaded through the same checks as the bundled files, so
    the grid shown for confirmation is what the engine will count on."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cn" / f"{notice.year}.toml"
        path.parent.mkdir()
        path.write_text(notice.toml(), encoding="utf-8")
        return load_calendar("cn", data_dir=Path(folder))


def install(notice: YearNotice, folder: Path) -> Path:
    """Write the year's data file into `folder` (a region's folder, e.g. data/cn); an existing
    file is never overwritten: a year's dates change only by an amending notice, by hand."""
    path = folder / f"{notice.year}.toml"
    if path.exists():
        raise NoticeError(f"{path} exists already; edit it by hand for an amending notice")
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(notice.toml(), encoding="utf-8")
    return path
