"""duban's calendar data against the independent PyPI package `chinesecalendar`.

Both are transcriptions of the same State Council notices, so a difference is either a typo on
one side or a different reading of a notice. Every known difference is listed below with the
notice text that decides it; any other difference fails the test.
"""

from __future__ import annotations

import datetime as dt
import tomllib

import chinese_calendar
import pytest

from calendars.workdays import DATA_DIR, WorkCalendar, load_calendar

FIRST = dt.date(2019, 1, 1)
# Compare as far as both sides have data (chinesecalendar 1.11.0 has 2026).
LAST = min(dt.date(2026, 12, 31), dt.date(max(chinese_calendar.holidays).year, 12, 31))

# chinesecalendar's holiday names, and the name each notice uses. A notice may name a combined
# holiday ("中秋节、国庆节") where chinesecalendar labels each day with one of the two.
NOTICE_NAME = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
}

# Where a notice says "X日放假，与周末连休" the holiday is day X and the weekend next to it stays an
# ordinary weekend, so duban names no holiday on it. chinesecalendar names the holiday on those
# weekend days in 2019 and for 2024's 元旦 (but not for 2024's 端午节, same wording). Both agree
# the days are rest days; only the label differs.
_NEXT_TO_QINGMING = "国办发明电〔2018〕15号: 清明节 4月5日放假，与周末连休 (weekend after it)"
_NEXT_TO_DUANWU = "国办发明电〔2018〕15号: 端午节 6月7日放假，与周末连休 (weekend after it)"
_NEXT_TO_ZHONGQIU = "国办发明电〔2018〕15号: 中秋节 9月13日放假，与周末连休 (weekend after it)"
_BEFORE_YUANDAN = "国办发明电〔2023〕7号: 元旦 1月1日放假，与周末连休 (weekend before it)"

KNOWN_HOLIDAY_DIFFERENCES: dict[dt.date, tuple[str | None, str | None, str]] = {
    # date: (duban's holiday name, chinesecalendar's, why)
    dt.date(2019, 4, 6): (None, "Tomb-sweeping Day", _NEXT_TO_QINGMING),
    dt.date(2019, 4, 7): (None, "Tomb-sweeping Day", _NEXT_TO_QINGMING),
    dt.date(2019, 6, 8): (None, "Dragon Boat Festival", _NEXT_TO_DUANWU),
    dt.date(2019, 6, 9): (None, "Dragon Boat Festival", _NEXT_TO_DUANWU),
    dt.date(2019, 9, 14): (None, "Mid-autumn Festival", _NEXT_TO_ZHONGQIU),
    dt.date(2019, 9, 15): (None, "Mid-autumn Festival", _NEXT_TO_ZHONGQIU),
    dt.date(2023, 12, 30): (None, "New Year's Day", _BEFORE_YUANDAN),
    dt.date(2023, 12, 31): (None, "New Year's Day", _BEFORE_YUANDAN),
}

# Working or not, the two agree on every day; a difference would be listed here with its reason.
KNOWN_WORKDAY_DIFFERENCES: dict[dt.date, tuple[bool, bool, str]] = {}


@pytest.fixture(scope="module")
def national() -> WorkCalendar:
    return load_calendar("cn")


def every_day() -> list[dt.date]:
    return [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


def same_holiday(ours: str | None, theirs: str | None) -> bool:
    if ours is None or theirs is None:
        return ours is theirs
    return NOTICE_NAME[theirs] in ours.split("、")


def test_comparison_spans_at_least_2019_to_2025() -> None:
    assert LAST >= dt.date(2025, 12, 31)


def test_both_agree_whether_each_day_is_worked_2019_to_2026(national: WorkCalendar) -> None:
    differences = {
        day: (national.is_workday(day), chinese_calendar.is_workday(day))
        for day in every_day()
        if national.is_workday(day) != chinese_calendar.is_workday(day)
    }
    assert differences == {d: v[:2] for d, v in KNOWN_WORKDAY_DIFFERENCES.items()}


def test_both_agree_which_days_are_holidays_except_the_listed_weekends(
    national: WorkCalendar,
) -> None:
    differences = {}
    for day in every_day():
        ours, theirs = national.holiday_name(day), chinese_calendar.holidays.get(day)
        if not same_holiday(ours, theirs):
            differences[day] = (ours, theirs)
    assert differences == {d: v[:2] for d, v in KNOWN_HOLIDAY_DIFFERENCES.items()}


@pytest.mark.parametrize("day", sorted(KNOWN_HOLIDAY_DIFFERENCES))
def test_each_holiday_label_difference_is_a_weekend_both_sides_rest_on(
    national: WorkCalendar, day: dt.date
) -> None:
    assert day.weekday() >= 5
    assert not national.is_workday(day)
    assert not chinese_calendar.is_workday(day)


def test_both_agree_on_the_makeup_working_days(national: WorkCalendar) -> None:
    ours = {day for day in every_day() if national.is_makeup_workday(day)}
    theirs = {day for day in chinese_calendar.workdays if FIRST <= day <= LAST}
    assert ours == theirs


def test_both_agree_which_holiday_each_makeup_day_is_worked_for() -> None:
    """Read from the data files, so the make-up day 2018-12-29 in 2019.toml is checked too."""
    ours: dict[dt.date, str] = {}
    for path in sorted((DATA_DIR / "cn").glob("*.toml")):
        for entry in tomllib.loads(path.read_text("utf-8")).get("makeup_workdays", []):
            ours[entry["date"]] = entry["for"]
    earliest = min(ours)
    theirs = {
        day: name for day, name in chinese_calendar.workdays.items() if earliest <= day <= LAST
    }
    assert set(ours) == set(theirs)
    assert {day: name for day, name in ours.items() if not same_holiday(name, theirs[day])} == {}
