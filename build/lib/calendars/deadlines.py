"""Read the 完成时限 (deadline) cell of a Chinese work plan into a normalised deadline.

The cell is free text typed by a drafting office and often extracted from a PDF, so the
same date arrives as "2019年9月", "２０１９年９月", "二〇一九年九月" or "2019年 9月".
The text is normalised first (full-width to ASCII, Chinese numerals to digits, spaces and
trailing punctuation dropped, every dash spelled "~"), then read with a few small grammar
pieces. Every normalised character remembers where it came from, so an error quotes the
plan's own words. Nothing is guessed silently: unreadable text raises DeadlineError and
every genuinely ambiguous reading is stated in Deadline.note. See docs/deadlines.md.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from calendars.numerals import NUMERAL_RUN, numeral_digits
from duban.errors import BadInput

Kind = Literal["date", "window", "dates", "recurring", "ongoing"]
Reading = Literal["by", "before"]

__all__ = ["Deadline", "DeadlineConventions", "DeadlineError", "parse_deadline"]


@dataclass(frozen=True)
class Deadline:
    """A deadline as the engine schedules it, still carrying the words it was read from."""

    text: str
    kind: Kind
    start: date | None = None
    due: date | None = None
    dates: tuple[date, ...] = ()
    rule: str | None = None
    note: str | None = None

    def as_json(self) -> dict[str, object]:
        """Plain JSON types, so the result can be stored and compared without this module."""
        return {
            "text": self.text,
            "kind": self.kind,
            "start": self.start.isoformat() if self.start else None,
            "due": self.due.isoformat() if self.due else None,
            "dates": [d.isoformat() for d in self.dates],
            "rule": self.rule,
            "note": self.note,
        }


@dataclass(frozen=True)
class DeadlineConventions:
    """How one plan means its genuinely ambiguous forms; the defaults fit the seed plans.

    "by" reads "X前" as by the end of X (inclusive); "before" reads it as before X starts,
    i.e. the day before X's first day. month_before also governs quarters and half-years.
    approximate="reject" makes "左右" (about) an error instead of a note.
    """

    day_before: Reading = "by"
    month_before: Reading = "by"
    year_before: Reading = "by"
    approximate: Literal["accept", "reject"] = "accept"

    def __post_init__(self) -> None:
        for name in ("day_before", "month_before", "year_before"):
            if getattr(self, name) not in ("by", "before"):
                raise ValueError(f'{name} must be "by" or "before", not {getattr(self, name)!r}')
        if self.approximate not in ("accept", "reject"):
            raise ValueError(f'approximate must be "accept" or "reject", not {self.approximate!r}')


class DeadlineError(BadInput):
    """Text that is not a deadline, or not one this reader can be sure of."""

    def __init__(self, text: str, fragment: str, reason: str | None = None) -> None:
        self.text = text
        self.fragment = fragment
        self.reason = reason
        message = f'cannot read "{fragment}" in "{text}"'
        super().__init__(f"{message}: {reason}" if reason else message)


# ---------------------------------------------------------------- normalisation

_DASHES = frozenset("~-—–‒―‐‑−〜﹣")  # full-width ～ and － are folded to ASCII first
_INVISIBLE = frozenset("\u200b\u200c\u200d\ufeff")
_EDGE_PUNCTUATION = "。.,;:、"


class _Text:
    """The normalised text, with the span of the original each character came from."""

    def __init__(self, original: str) -> None:
        chars: list[str] = []
        spans: list[tuple[int, int]] = []
        for i, ch in enumerate(original):
            if ch.isspace() or ch in _INVISIBLE:
                continue
            if 0xFF01 <= ord(ch) <= 0xFF5E:
                ch = chr(ord(ch) - 0xFEE0)
            chars.append("~" if ch in _DASHES else ch)
            spans.append((i, i + 1))
        digits, spans = self._digits("".join(chars), spans)
        self.chars = digits.strip(_EDGE_PUNCTUATION)
        begin = len(digits) - len(digits.lstrip(_EDGE_PUNCTUATION))
        self.spans = spans[begin : begin + len(self.chars)]
        self.original = original

    @staticmethod
    def _digits(s: str, spans: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
        out, out_spans, last = [], [], 0
        for m in NUMERAL_RUN.finditer(s):
            digits = numeral_digits(m.group())
            if digits is None:
                continue
            out.append(s[last : m.start()])
            out_spans += spans[last : m.start()]
            out.append(digits)
            out_spans += [(spans[m.start()][0], spans[m.end() - 1][1])] * len(digits)
            last = m.end()
        out.append(s[last:])
        out_spans += spans[last:]
        return "".join(out), out_spans

    def source(self, i: int, j: int) -> str:
        """The original words behind normalised characters i..j."""
        if i >= j:
            return ""
        return self.original[self.spans[i][0] : self.spans[j - 1][1]]


# ---------------------------------------------------------------- grammar pieces

_ONGOING = re.compile(r"(?:长期|持续|常态化)(?:开展|推进|坚持|实施)?")
_RECURRING = re.compile(
    r"每(?P<n>\d+)?(?P<unit>个月|月|季度|季|半年|年度|年)"
    r"(?:[年季月]?[底末](?:前)?)?"  # 每年年底前, 每季度末: the period's end anyway
    r"(?:1次)?"
    r"(?P<approx>左右)?"
)
_PREFIX = re.compile(r"截至|截止到|截止|到|至")
_RANGE = re.compile(r"~+|至|到")
_LIST = re.compile(r"[、,;]")
_YEAR = re.compile(r"(\d{4})年度?")
_THIS_YEAR = re.compile(r"(?:今|本|当)?年(?=[底末内])")  # "年底前": the context year
_QUARTER = re.compile(r"第?(\d)季度?")
_HALF = re.compile(r"([上下])半年")
_MONTH = re.compile(r"(\d{1,2})月份?")
_DAY = re.compile(r"(\d{1,2})[日号]")
_BARE = re.compile(r"(\d{1,4})(?=~|至|到)")  # "2020年7—12月": the unit comes after the dash
_CLOSING = re.compile(r"[底末内]")
_BEFORE = re.compile(r"(?:以|之)?前(?!后)")

_MONTHS_PER_UNIT = {"月": 1, "个月": 1, "季": 3, "季度": 3, "半年": 6, "年": 12, "年度": 12}


@dataclass
class _Point:
    """One calendar point as written, before a year or month is carried into it."""

    begin: int
    end: int = 0
    year: int | None = None
    month: int | None = None
    day: int | None = None
    quarter: int | None = None
    half: int | None = None
    bare: int | None = None
    closing: bool = False
    before: bool = False
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def unit(self) -> str:
        found = next((u for u in ("day", "month", "quarter", "half") if getattr(self, u)), "year")
        return "half-year" if found == "half" else found


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


class _Parser:
    """A cursor over one normalised cell; one per call, so notes never leak between cells."""

    def __init__(
        self, text: str, year: int | None, span: tuple[date, date] | None,
        conventions: DeadlineConventions,
    ) -> None:  # fmt: skip
        self.text = _Text(text)
        self.s = self.text.chars
        self.i = 0
        self.year = year
        self.span = span
        self.conventions = conventions
        self.notes: list[str] = []

    # -- cursor

    def _take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        m = pattern.match(self.s, self.i)
        if m:
            self.i = m.end()
        return m

    def _error(self, i: int, j: int | None = None, reason: str | None = None) -> DeadlineError:
        fragment = self.text.source(i, len(self.s) if j is None else j)
        return DeadlineError(self.text.original, fragment, reason)

    def _expect_end(self) -> None:
        if self.i < len(self.s):
            raise self._error(self.i)

    def _deadline(self, kind: Kind, **fields: object) -> Deadline:
        note = "; ".join(dict.fromkeys(self.notes)) or None
        return Deadline(self.text.original, kind, note=note, **fields)  # type: ignore[arg-type]

    # -- top level

    def parse(self) -> Deadline:
        if not self.s:
            raise DeadlineError(self.text.original, "", "the text is empty")
        if _ONGOING.fullmatch(self.s):
            return self._deadline("ongoing", rule="ongoing")
        if self.s.startswith("每"):
            return self._recurring()
        self._take(_PREFIX)
        first = self._point()
        if self._take(_RANGE):
            return self._window(first)
        if _LIST.match(self.s, self.i):
            return self._dates(first)
        self._expect_end()
        if first.bare is not None:
            raise self._error(*first.spans["bare"])
        due = self._due(first, self._period(first, self.year, None, (first.begin, first.end)))
        if first.unit == "year" and not first.closing and not first.before:
            self.notes.append("a year alone read as its last day")
        return self._deadline("date", due=due)

    def _point(self) -> _Point:
        p = _Point(begin=self.i)
        if m := self._take(_YEAR):
            p.year, p.spans["year"] = int(m[1]), m.span()
        self._take(_THIS_YEAR)
        if m := self._take(_QUARTER):
            p.quarter, p.spans["quarter"] = int(m[1]), m.span()
        elif m := self._take(_HALF):
            p.half = 1 if m[1] == "上" else 2
        elif m := self._take(_MONTH):
            p.month, p.spans["month"] = int(m[1]), m.span()
            if m := self._take(_DAY):
                p.day, p.spans["day"] = int(m[1]), m.span()
        elif m := self._take(_DAY):
            p.day, p.spans["day"] = int(m[1]), m.span()
        elif m := self._take(_BARE):
            p.bare, p.spans["bare"] = int(m[1]), m.span()
        if self.i == p.begin:
            raise self._error(self.i)
        if m := self._take(_CLOSING):
            p.closing, p.spans["closing"] = True, m.span()
        if m := self._take(_BEFORE):
            p.before, p.spans["before"] = True, m.span()
        p.end = self.i
        return p

    # -- shapes

    def _window(self, first: _Point) -> Deadline:
        last = self._point()
        self._expect_end()
        whole = (first.begin, last.end)
        if first.before:
            raise self._error(*first.spans["before"], reason="a window cannot start with 前")
        if first.bare is not None:  # the unit written once after the dash serves both ends
            lead = next((u for u in ("year", "month", "day") if getattr(last, u) is not None), "")
            if not lead or getattr(first, lead) is not None:
                raise self._error(*first.spans["bare"])
            setattr(first, lead, first.bare)
            first.spans[lead] = first.spans["bare"]
        start_first, start_last = self._period(first, self.year, None, whole)
        start = start_last if first.closing else start_first
        month = start.month if first.month is not None else None
        due = self._due(last, self._period(last, start.year, month, whole))
        if due < start:
            raise self._error(*whole, reason="the window ends before it starts")
        return self._deadline("window", start=start, due=due)

    def _dates(self, first: _Point) -> Deadline:
        points = [first]
        while self._take(_LIST):
            points.append(self._point())
        self._expect_end()
        year, month, found = self.year, None, set()
        for p in points:
            if p.bare is not None:
                raise self._error(*p.spans["bare"])
            period = self._period(p, year, month, (p.begin, p.end))
            year = period[0].year  # a year written once carries to the items after it
            month = period[0].month if p.month is not None or p.day is not None else None
            found.add(self._due(p, period))
        dates = tuple(sorted(found))
        return self._deadline("dates", due=dates[-1], dates=dates)

    def _recurring(self) -> Deadline:
        m = self._take(_RECURRING)
        if not m:
            raise self._error(0)
        self._expect_end()
        unit, n = m["unit"], int(m["n"] or 1)
        if m["n"] and unit not in ("个月", "月", "年"):
            raise self._error(*m.span("n"), reason="only months and years take a count")
        months = _MONTHS_PER_UNIT[unit] * n
        rule = {1: "monthly", 3: "quarterly", 6: "half-yearly", 12: "yearly"}.get(months)
        if n > 1:
            rule = f"every-{n}-{'years' if unit == '年' else 'months'}"
        if m["approx"]:
            if self.conventions.approximate == "reject":
                raise self._error(*m.span("approx"), reason="the plan's conventions reject 左右")
            self.notes.append(f"'左右' (about) dropped: read as {rule}")
        dates: tuple[date, ...] = ()
        if self.span is not None:
            dates = _occurrences(months, n > 1 and unit != "年", self.span)
        return self._deadline("recurring", dates=dates, rule=rule)

    # -- meaning

    def _period(
        self, p: _Point, year: int | None, month: int | None, where: tuple[int, int]
    ) -> tuple[date, date]:
        """First and last day of the period a point names, carrying year and month in."""
        y = p.year if p.year is not None else year
        if y is None:
            raise self._error(*where, reason="a year is needed: none in the text, no year= given")
        if not 1000 <= y <= 9999:
            raise self._error(*p.spans.get("year", where), reason=f"no year {y}")
        if p.quarter is not None:
            if not 1 <= p.quarter <= 4:
                raise self._error(*p.spans["quarter"], reason=f"no quarter {p.quarter}")
            return date(y, 3 * p.quarter - 2, 1), _month_end(y, 3 * p.quarter)
        if p.half is not None:
            return date(y, 6 * p.half - 5, 1), _month_end(y, 6 * p.half)
        m = p.month if p.month is not None else month if p.day is not None else None
        if m is not None and not 1 <= m <= 12:
            raise self._error(*p.spans["month"], reason=f"no month {m}")
        if p.day is not None:
            if p.closing:
                raise self._error(*p.spans["closing"])
            if m is None:
                raise self._error(*p.spans["day"], reason="a month is needed")
            try:
                day = date(y, m, p.day)
            except ValueError:
                raise self._error(
                    *p.spans["day"], reason=f"{y}-{m:02d} has no day {p.day}"
                ) from None
            return day, day
        if m is not None:
            return date(y, m, 1), _month_end(y, m)
        return date(y, 1, 1), date(y, 12, 31)

    def _due(self, p: _Point, period: tuple[date, date]) -> date:
        """Where 前 after a period points; 底前/末前 always mean the period's last day."""
        if not p.before or p.closing:
            return period[1]
        c = self.conventions
        reading = {"day": c.day_before, "year": c.year_before}.get(p.unit, c.month_before)
        if reading == "by":
            if p.unit != "day":
                self.notes.append(f"'前' read as by the end of the {p.unit}")
            return period[1]
        self.notes.append(f"'前' read as before the {p.unit} starts")
        return period[0] - timedelta(days=1)


def _occurrences(months: int, from_span_start: bool, span: tuple[date, date]) -> tuple[date, ...]:
    """Ends of the recurring periods that fall within the plan's span.

    Monthly to yearly periods follow the calendar. Longer or odd ones ("每两年", "每2个月")
    have no calendar anchor, so they are counted from the span's first year or month.
    """
    lo, hi = span
    if hi < lo:
        raise ValueError(f"span ends before it starts: {lo} to {hi}")
    index = lo.year * 12 + (lo.month - 1 if from_span_start else 0) + months - 1
    found = []
    while (end := _month_end(index // 12, index % 12 + 1)) <= hi:
        if end >= lo:
            found.append(end)
        index += months
    return tuple(found)


def parse_deadline(
    text: str,
    *,
    year: int | None = None,
    span: tuple[date, date] | None = None,
    conventions: DeadlineConventions | None = None,
) -> Deadline:
    """Read a deadline cell; year and span come from the plan, never from today's date."""
    return _Parser(text, year, span, conventions or DeadlineConventions()).parse()
