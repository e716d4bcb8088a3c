"""The mainland-China working calendar (calendars.workdays), read as a specification."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from calendars import workdays
from calendars.workdays import (
    DATA_DIR,
    CalendarError,
    DayInfo,
    MissingCalendarYear,
    UnknownRegion,
    WorkCalendar,
    load_calendar,
)

D = dt.date
CHUXIONG = "cn-yn-chuxiong"


@pytest.fixture(scope="module")
def cn() -> WorkCalendar:
    return load_calendar()


@pytest.fixture(scope="module")
def chuxiong() -> WorkCalendar:
    return load_calendar(overlays=[CHUXIONG])


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the packaged data, to add or break files in."""
    return Path(shutil.copytree(DATA_DIR, tmp_path / "data"))


# ---------------------------------------------------------------------- the data, day by day

# date, worked?, holiday name, make-up working day?
KNOWN_DAYS = [
    (D(2019, 3, 12), True, None, False),  # an ordinary Tuesday
    (D(2019, 3, 16), False, None, False),  # an ordinary Saturday
    *[(D(2019, 10, d), False, "国庆节", False) for d in range(1, 8)],
    (D(2019, 9, 29), True, None, True),  # Sunday worked for 国庆节
    (D(2019, 10, 12), True, None, True),  # Saturday worked for 国庆节
    (D(2018, 12, 30), False, "元旦", False),  # 2019's 元旦 starts in 2018 ...
    (D(2019, 1, 1), False, "元旦", False),
    (D(2019, 4, 5), False, "清明节", False),
    (D(2019, 4, 6), False, None, False),  # 与周末连休: an ordinary weekend day
    (D(2019, 5, 2), False, "劳动节", False),  # added by 国办发明电〔2019〕3号
    (D(2019, 4, 28), True, None, True),  # ... with this Sunday worked
    (D(2020, 1, 19), True, None, True),
    (D(2020, 1, 30), False, "春节", False),  # the original last day
    (D(2020, 1, 31), False, "春节", False),  # the COVID-19 extension ...
    (D(2020, 2, 1), False, "春节", False),  # ... cancelled this make-up Saturday
    (D(2020, 2, 2), False, "春节", False),
    (D(2020, 2, 3), True, None, False),  # back to work
    (D(2020, 10, 1), False, "国庆节、中秋节", False),
    (D(2023, 9, 29), False, "中秋节、国庆节", False),
    (D(2023, 10, 7), True, None, True),
    (D(2024, 2, 9), True, None, False),  # 除夕 2024: rest only "encouraged"
    (D(2025, 1, 28), False, "春节", False),  # 除夕 is a holiday from 2025
    (D(2025, 10, 6), False, "国庆节、中秋节", False),
    (D(2026, 2, 28), True, None, True),
]


@pytest.mark.parametrize(
    ("day", "worked", "holiday", "makeup"), KNOWN_DAYS, ids=[str(row[0]) for row in KNOWN_DAYS]
)
def test_known_days_are_classified_as_the_notices_say(
    day: dt.date, worked: bool, holiday: str | None, makeup: bool
) -> None:
    calendar = load_calendar(weekend_fallback=day.year == 2018)
    assert calendar.day_info(day) == DayInfo(day, worked, holiday, makeup)
    assert calendar.is_workday(day) is worked
    assert calendar.holiday_name(day) == holiday
    assert calendar.is_makeup_workday(day) is makeup


@pytest.mark.parametrize(("year", "workdays"), [(2019, 250), (2024, 251), (2025, 248)])
def test_a_whole_year_has_the_published_number_of_working_days(
    cn: WorkCalendar, year: int, workdays: int
) -> None:
    new_year = D(year, 1, 1)
    assert cn.workdays_between(new_year, D(year, 12, 31)) + cn.is_workday(new_year) == workdays


NOTICES = {
    2019: "国办发明电〔2018〕15号",
    2020: "国办发明电〔2019〕16号",
    2021: "国办发明电〔2020〕27号",
    2022: "国办发明电〔2021〕11号",
    2023: "国办发明电〔2022〕16号",
    2024: "国办发明电〔2023〕7号",
    2025: "国办发明电〔2024〕12号",
    2026: "国办发明电〔2025〕7号",
}


@pytest.mark.parametrize(("year", "number"), NOTICES.items())
def test_each_year_file_cites_its_state_council_notice(year: int, number: str) -> None:
    data = tomllib.loads((DATA_DIR / "cn" / f"{year}.toml").read_text("utf-8"))
    assert number in data["notice"]
    assert f"关于{year}年部分节假日安排的通知" in data["notice"]


def test_day_info_serialises_for_the_calendar_command(cn: WorkCalendar) -> None:
    assert cn.day_info(D(2019, 10, 1)).as_json() == {
        "date": "2019-10-01",
        "workday": False,
        "holiday": "国庆节",
        "makeup": False,
    }


# ---------------------------------------------------------------------- arithmetic

ARITHMETIC = [
    # start, n, the nth working day after (n > 0) or before (n < 0)
    (D(2019, 9, 30), 1, D(2019, 10, 8)),
    (D(2019, 9, 27), 1, D(2019, 9, 29)),  # onto a make-up Sunday
    (D(2019, 9, 20), 10, D(2019, 10, 10)),
    (D(2019, 10, 8), -1, D(2019, 9, 30)),
    (D(2019, 10, 3), -1, D(2019, 9, 30)),  # from inside a holiday
    (D(2019, 12, 31), 1, D(2020, 1, 2)),  # across a year end
    (D(2020, 1, 2), -1, D(2019, 12, 31)),
    (D(2019, 10, 1), 0, D(2019, 10, 1)),  # n == 0 is the day itself, even a holiday
    (D(2019, 3, 12), 0, D(2019, 3, 12)),
]


@pytest.mark.parametrize(("start", "n", "result"), ARITHMETIC)
def test_add_workdays_counts_only_working_days(
    cn: WorkCalendar, start: dt.date, n: int, result: dt.date
) -> None:
    assert cn.add_workdays(start, n) == result


@pytest.mark.parametrize(
    ("day", "after", "before"),
    [
        (D(2019, 2, 1), D(2019, 2, 2), D(2019, 1, 31)),  # Friday before 春节 2019
        (D(2019, 2, 3), D(2019, 2, 11), D(2019, 2, 2)),  # make-up Sunday, then seven days off
        (D(2019, 2, 11), D(2019, 2, 12), D(2019, 2, 3)),
        (D(2020, 1, 23), D(2020, 2, 3), D(2020, 1, 22)),  # the extended 2020 春节
        (D(2020, 2, 3), D(2020, 2, 4), D(2020, 1, 23)),
        (D(2026, 2, 14), D(2026, 2, 24), D(2026, 2, 13)),  # 2026: nine days from 腊月二十八
    ],
)
def test_next_and_previous_workday_jump_over_the_spring_festival(
    cn: WorkCalendar, day: dt.date, after: dt.date, before: dt.date
) -> None:
    assert cn.next_workday(day) == after
    assert cn.previous_workday(day) == before


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (D(2019, 9, 30), D(2019, 10, 8), 1),  # (start, end]: only 10月8日
        (D(2019, 10, 8), D(2019, 9, 30), -1),  # backwards [end, start): only 9月30日
        (D(2019, 10, 1), D(2019, 10, 7), 0),
        (D(2019, 3, 12), D(2019, 3, 12), 0),
        (D(2019, 12, 31), D(2020, 1, 2), 1),
    ],
)
def test_workdays_between_counts_in_the_direction_of_travel(
    cn: WorkCalendar, start: dt.date, end: dt.date, count: int
) -> None:
    assert cn.workdays_between(start, end) == count


# Hypothesis: dates well inside the data (2019-2026) and |n| small enough to stay inside it.
inside = st.dates(D(2019, 3, 1), D(2026, 10, 31))
steps = st.integers(-40, 40)


def naive_count(calendar: WorkCalendar, start: dt.date, end: dt.date) -> int:
    step = 1 if start <= end else -1
    days = [start + dt.timedelta(days=i) for i in range(0, (end - start).days + step, step)]
    worked = sum(calendar.is_workday(day) for day in days)
    if step == 1:
        return worked - calendar.is_workday(start)  # (start, end]
    return -(worked - calendar.is_workday(start))  # [end, start)


@given(day=inside, n=steps)
def test_adding_then_subtracting_n_workdays_returns_to_a_workday(
    cn: WorkCalendar, day: dt.date, n: int
) -> None:
    assume(cn.is_workday(day))
    assert cn.add_workdays(cn.add_workdays(day, n), -n) == day


@given(day=inside, n=steps)
def test_workdays_between_a_day_and_n_workdays_later_is_n(
    cn: WorkCalendar, day: dt.date, n: int
) -> None:
    assert cn.workdays_between(day, cn.add_workdays(day, n)) == n


@given(day=inside, n=steps.filter(bool))
def test_a_nonzero_step_lands_on_a_workday_on_the_right_side(
    cn: WorkCalendar, day: dt.date, n: int
) -> None:
    result = cn.add_workdays(day, n)
    assert cn.is_workday(result)
    assert (result > day) if n > 0 else (result < day)


@given(start=inside, span=st.integers(-400, 400))
def test_workdays_between_matches_a_day_by_day_count(
    cn: WorkCalendar, start: dt.date, span: int
) -> None:
    end = start + dt.timedelta(days=span)
    assume(D(2019, 1, 1) <= end <= D(2026, 12, 31))
    assert cn.workdays_between(start, end) == naive_count(cn, start, end)


@given(day=st.dates(D(2025, 6, 1), D(2029, 6, 30)), n=st.integers(-300, 300))
def test_arithmetic_holds_across_fallback_years_too(day: dt.date, n: int) -> None:
    calendar = load_calendar(weekend_fallback=True)
    assert calendar.workdays_between(day, calendar.add_workdays(day, n)) == n


def test_datetimes_are_refused_because_their_calendar_day_depends_on_the_time_zone(
    cn: WorkCalendar,
) -> None:
    with pytest.raises(TypeError, match="calendars.clock.day_of"):
        cn.is_workday(dt.datetime(2019, 10, 1, 23, 0))  # type: ignore[arg-type]


def test_a_count_already_asked_for_does_not_let_a_datetime_through(cn: WorkCalendar) -> None:
    assert cn.workdays_between(D(2019, 9, 30), D(2019, 10, 8)) == 1
    with pytest.raises(TypeError, match="calendars.clock.day_of"):
        cn.workdays_between(dt.datetime(2019, 9, 30, 23, 0), D(2019, 10, 8))  # type: ignore[arg-type]


def test_counts_stay_right_when_the_kept_ones_are_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The counts a calendar keeps are bounded: past the bound they are forgotten, not wrong."""
    monkeypatch.setattr(workdays, "COUNTS_KEPT", 3)
    calendar = load_calendar(weekend_fallback=True)
    start = D(2019, 9, 30)
    for span in [*range(10), *range(10)]:
        end = start + dt.timedelta(days=span)
        assert calendar.workdays_between(start, end) == naive_count(calendar, start, end)
        assert len(calendar._counted) <= 3


# ---------------------------------------------------------------------- missing years


@pytest.mark.parametrize(
    "query",
    [
        lambda c: c.is_workday(D(2027, 1, 4)),
        lambda c: c.day_info(D(2027, 1, 4)),
        lambda c: c.add_workdays(D(2026, 12, 31), 1),  # arithmetic walking into 2027
        lambda c: c.workdays_between(D(2026, 12, 1), D(2027, 1, 10)),
        lambda c: c.next_workday(D(2027, 1, 1)),
    ],
)
def test_a_query_touching_a_year_without_data_raises_naming_year_and_fix(
    cn: WorkCalendar, query: Callable[[WorkCalendar], object]
) -> None:
    with pytest.raises(MissingCalendarYear) as raised:
        query(cn)
    assert raised.value.year == 2027
    message = str(raised.value)
    assert "2027" in message
    assert "calendars/data/cn/2027.toml" in message
    assert "duban calendar add-notice" in message
    assert "`weekend_fallback: true` under `plan.calendar`" in message  # the YAML key, not Python
    assert isinstance(raised.value, CalendarError)


def test_the_year_before_the_data_is_missing_too_even_where_2019_toml_spills_into_it(
    cn: WorkCalendar,
) -> None:
    with pytest.raises(MissingCalendarYear, match="2018"):
        cn.is_workday(D(2018, 12, 29))
    with pytest.raises(MissingCalendarYear, match="2018"):
        cn.add_workdays(D(2019, 1, 2), -1)


def test_weekends_only_fallback_answers_for_years_without_data_when_asked(cn: WorkCalendar) -> None:
    fallback = load_calendar(weekend_fallback=True)
    assert fallback.is_workday(D(2027, 1, 1))  # a Friday: no 元旦 without data
    assert not fallback.is_workday(D(2027, 1, 2))
    assert fallback.holiday_name(D(2027, 1, 1)) is None
    assert fallback.add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 1)
    assert fallback.is_workday(D(2018, 12, 29))  # known from 2019.toml: a make-up day
    assert not fallback.covers(D(2027, 1, 1))
    assert fallback.covers(D(2026, 1, 1))
    assert fallback.years == cn.years
    assert "weekend-fallback" in fallback.version
    assert fallback.version != cn.version


def test_covers_tells_whether_a_day_can_be_answered_from_data(cn: WorkCalendar) -> None:
    assert cn.covers(D(2019, 1, 1))
    assert cn.covers(D(2026, 12, 31))
    assert not cn.covers(D(2027, 1, 1))
    assert not cn.covers(D(2018, 12, 31))


# ---------------------------------------------------------------------- identity and loading


def test_the_packaged_calendar_describes_itself(cn: WorkCalendar) -> None:
    assert cn.years == tuple(range(2019, 2027))
    assert cn.regions == ("cn",)
    assert cn.name == "cn"
    assert re.fullmatch(r"cn:2019-2026@[0-9a-f]{12}", cn.version)


def test_loading_the_packaged_calendar_again_is_served_from_the_cache() -> None:
    assert load_calendar() is load_calendar("cn")
    assert load_calendar(overlays=[CHUXIONG]) is load_calendar(overlays=(CHUXIONG,))


def test_the_version_changes_when_the_data_files_change(cn: WorkCalendar, data_copy: Path) -> None:
    assert load_calendar(data_dir=data_copy).version == cn.version
    path = data_copy / "cn" / "2024.toml"
    path.write_text(path.read_text("utf-8") + "\n# a comment\n", "utf-8")
    changed = load_calendar(data_dir=data_copy).version
    assert changed != cn.version
    assert changed.startswith("cn:2019-2026@")


@pytest.mark.parametrize(
    ("region", "overlays"),
    [
        ("hk", ()),
        ("regions", ()),
        ("../cn", ()),
        ("cn", ("cn-xx-nowhere",)),
        ("cn", ("../cn",)),
    ],
)
def test_unknown_regions_and_overlays_are_refused(region: str, overlays: tuple[str, ...]) -> None:
    with pytest.raises(UnknownRegion):
        load_calendar(region, overlays=overlays)


def test_importing_the_calendar_does_not_load_prefect_or_the_database() -> None:
    probe = (
        "import sys, calendars.workdays; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'prefect', 'sqlmodel', 'sqlalchemy', 'psycopg'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------- a new year is data

YEAR_2027 = """\
# Test data only: shaped like a notice, not the real 2027 arrangement.
year = 2027
region = "cn"
notice = "国务院办公厅关于2027年部分节假日安排的通知（test）"

[[holidays]]
name = "元旦"
start = 2027-01-01
end = 2027-01-03

[[holidays]]
name = "春节"
start = 2027-02-05
end = 2027-02-13

[[makeup_workdays]]
date = 2027-02-20
for = "春节"
"""


def test_adding_a_year_is_dropping_in_its_data_file(data_copy: Path) -> None:
    with pytest.raises(MissingCalendarYear):
        load_calendar(data_dir=data_copy).is_workday(D(2027, 1, 1))
    (data_copy / "cn" / "2027.toml").write_text(YEAR_2027, "utf-8")
    calendar = load_calendar(data_dir=data_copy)
    assert calendar.years[-1] == 2027
    assert calendar.version.startswith("cn:2019-2027@")
    assert calendar.holiday_name(D(2027, 1, 1)) == "元旦"
    assert calendar.add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 4)
    assert calendar.is_makeup_workday(D(2027, 2, 20))


def test_an_overlay_without_the_new_year_makes_that_year_missing_for_its_calendar(
    data_copy: Path,
) -> None:
    (data_copy / "cn" / "2027.toml").write_text(YEAR_2027, "utf-8")
    assert load_calendar(data_dir=data_copy).is_workday(D(2027, 8, 2))
    layered = load_calendar(overlays=[CHUXIONG], data_dir=data_copy)
    with pytest.raises(MissingCalendarYear, match="regions/cn-yn-chuxiong.toml"):
        layered.is_workday(D(2027, 8, 2))


# ---------------------------------------------------------------------- broken data files

BROKEN_2027 = [
    # what is wrong, replacement in YEAR_2027's text (old, new), "field:" the message names
    ("not TOML", ("end = 2027-01-03", "end = "), "file: not valid TOML"),
    ("end before start", ("end = 2027-01-03", "end = 2026-12-31"), "#1 (元旦) end:"),
    (
        "make-up day on a weekday",
        ("date = 2027-02-20", "date = 2027-02-22"),
        "[[makeup_workdays]] #1 date:",
    ),
    ("date outside the year", ("end = 2027-02-13", "end = 2028-02-13"), "#2 (春节) end:"),
    ("date in a string", ("start = 2027-02-05", 'start = "2027-02-05"'), "#2 start:"),
    ("wrong year", ("year = 2027", "year = 2026"), "year:"),
    ("wrong region", ('region = "cn"', 'region = "hk"'), "region:"),
    ("unknown field", ("start = 2027-02-05", "strat = 2027-02-05"), "#2 strat:"),
    ("make-up for no holiday", ('for = "春节"', 'for = "春季"'), "#1 for:"),
    ("overlapping holidays", ("start = 2027-02-05", "start = 2027-01-03"), "#2 (春节):"),
    ("no notice", ("notice = ", "# notice = "), "notice:"),
]


@pytest.mark.parametrize(
    ("replace", "field"), [row[1:] for row in BROKEN_2027], ids=[row[0] for row in BROKEN_2027]
)
def test_a_broken_data_file_is_refused_naming_the_file_and_field(
    data_copy: Path, replace: tuple[str, str], field: str
) -> None:
    old, new = replace
    assert old in YEAR_2027
    (data_copy / "cn" / "2027.toml").write_text(YEAR_2027.replace(old, new, 1), "utf-8")
    with pytest.raises(CalendarError) as raised:
        load_calendar(data_dir=data_copy)
    assert "2027.toml" in str(raised.value)
    assert field in str(raised.value)


# ---------------------------------------------------------------------- the Chuxiong overlay


def test_the_torch_festival_is_a_holiday_in_chuxiong_only(
    cn: WorkCalendar, chuxiong: WorkCalendar
) -> None:
    day = D(2024, 7, 30)  # a Tuesday of 火把节 2024
    assert cn.is_workday(day)
    assert not chuxiong.is_workday(day)
    assert chuxiong.holiday_name(day) == "彝族火把节"
    assert chuxiong.workdays_between(D(2024, 7, 26), D(2024, 8, 2)) == 2
    assert cn.workdays_between(D(2024, 7, 26), D(2024, 8, 2)) == 5


@pytest.mark.parametrize("year", range(2019, 2027))
def test_chuxiong_has_a_torch_festival_every_year(chuxiong: WorkCalendar, year: int) -> None:
    days = [D(year, 7, 1) + dt.timedelta(days=i) for i in range(62)]
    assert any(chuxiong.holiday_name(day) == "彝族火把节" for day in days)


def test_the_overlay_keeps_every_national_holiday_and_only_adds(
    cn: WorkCalendar, chuxiong: WorkCalendar
) -> None:
    first, last = D(2019, 1, 1), D(2026, 12, 31)
    for day in (first + dt.timedelta(days=i) for i in range((last - first).days + 1)):
        if cn.holiday_name(day):
            assert chuxiong.holiday_name(day) == cn.holiday_name(day)
        if not cn.is_workday(day):
            assert not chuxiong.is_workday(day)


def test_the_layered_calendar_describes_itself(chuxiong: WorkCalendar, cn: WorkCalendar) -> None:
    assert chuxiong.regions == ("cn", CHUXIONG)
    assert chuxiong.name == "cn+cn-yn-chuxiong"
    assert chuxiong.years == cn.years
    assert re.fullmatch(r"cn\+cn-yn-chuxiong:2019-2026@[0-9a-f]{12}", chuxiong.version)


OVERLAY = """\
region = "cn-test"
base = "cn"
name = "test prefecture"
years = [2024]

[[holidays]]
name = "local day"
start = 2024-07-30
end = 2024-07-30
"""


def test_an_overlay_cannot_turn_a_national_holiday_into_a_working_day(data_copy: Path) -> None:
    path = data_copy / "regions" / "cn-test.toml"
    path.write_text(
        OVERLAY + '\n[[makeup_workdays]]\ndate = 2024-10-05\nfor = "local day"\n', "utf-8"
    )
    with pytest.raises(CalendarError, match=r"cn-test\.toml: \[\[makeup_workdays\]\] 2024-10-05"):
        load_calendar(overlays=["cn-test"], data_dir=data_copy)


def test_an_overlay_for_another_base_is_refused(data_copy: Path) -> None:
    path = data_copy / "regions" / "cn-test.toml"
    path.write_text(OVERLAY.replace('base = "cn"', 'base = "hk"'), "utf-8")
    with pytest.raises(CalendarError, match=r"cn-test\.toml: base"):
        load_calendar(overlays=["cn-test"], data_dir=data_copy)


def test_an_overlay_date_outside_its_listed_years_is_refused(data_copy: Path) -> None:
    path = data_copy / "regions" / "cn-test.toml"
    path.write_text(OVERLAY.replace("years = [2024]", "years = [2025]"), "utf-8")
    where = r"cn-test\.toml: \[\[holidays\]\] #1 \(local day\) start"
    with pytest.raises(CalendarError, match=where):
        load_calendar(overlays=["cn-test"], data_dir=data_copy)


def test_an_overlay_holiday_on_a_national_makeup_day_gives_the_region_the_day_off(
    data_copy: Path,
) -> None:
    path = data_copy / "regions" / "cn-test.toml"
    path.write_text(OVERLAY.replace("2024-07-30", "2024-09-29"), "utf-8")  # a make-up Sunday
    local = load_calendar(overlays=["cn-test"], data_dir=data_copy)
    assert local.day_info(D(2024, 9, 29)) == DayInfo(D(2024, 9, 29), False, "local day", False)
    assert load_calendar(data_dir=data_copy).is_makeup_workday(D(2024, 9, 29))
