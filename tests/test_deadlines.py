"""Specification of the 完成时限 reader: each row is a cell as plans write it and what it means."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest

from calendars.deadlines import Deadline, DeadlineConventions, DeadlineError, parse_deadline
from duban.errors import BadInput

BY_MONTH_END = "'前' read as by the end of the month"
YEAR_ALONE = "a year alone read as its last day"


def expected(
    text: str,
    kind: str,
    *,
    start: str | None = None,
    due: str | None = None,
    dates: tuple[str, ...] = (),
    rule: str | None = None,
    note: str | None = None,
) -> dict[str, object]:
    return {
        "text": text, "kind": kind, "start": start, "due": due,
        "dates": list(dates), "rule": rule, "note": note,
    }  # fmt: skip


def date_(text: str, due: str, note: str | None = None) -> tuple[str, dict[str, object]]:
    return text, expected(text, "date", due=due, note=note)


def window(text: str, start: str, due: str) -> tuple[str, dict[str, object]]:
    return text, expected(text, "window", start=start, due=due)


def dates_(text: str, *dates: str) -> tuple[str, dict[str, object]]:
    return text, expected(text, "dates", due=dates[-1], dates=dates)


# Cells that carry their own year: the context year must not matter.
WITH_YEAR = [
    date_("2019年7月", "2019-07-31"),
    date_("2019年7月11日", "2019-07-11"),
    date_("2019年7月底", "2019-07-31"),
    date_("2019年7月底前", "2019-07-31"),
    date_("2019年9月底", "2019-09-30"),
    date_("2019年9月末", "2019-09-30"),
    date_("2019年9月前", "2019-09-30", BY_MONTH_END),
    date_("2019年 9月前", "2019-09-30", BY_MONTH_END),
    date_("2019年9月前。", "2019-09-30", BY_MONTH_END),
    date_("2019年9月前；", "2019-09-30", BY_MONTH_END),
    date_("2019年9月20日", "2019-09-20"),
    date_("2020年9月15日前", "2020-09-15"),
    date_("2019年底", "2019-12-31"),
    date_("2019年底前", "2019-12-31"),
    date_("2019年年底前", "2019-12-31"),
    date_("2020年上半年", "2020-06-30"),
    date_("2020年下半年", "2020-12-31"),
    date_("2020年第三季度", "2020-09-30"),
    date_("2020年四季度末", "2020-12-31"),
    date_("2022年前", "2022-12-31", "'前' read as by the end of the year"),
    date_("2020年", "2020-12-31", YEAR_ALONE),
    date_("到2020年", "2020-12-31", YEAR_ALONE),
    date_("2019年度", "2019-12-31", YEAR_ALONE),
    date_("截至2020年6月", "2020-06-30"),
    date_("２０１９年７月", "2019-07-31"),
    date_("二〇一九年七月", "2019-07-31"),
    date_("二○一九年七月", "2019-07-31"),
    date_("二〇二〇年九月十五日前", "2020-09-15"),
    date_("二〇二〇年十二月三十一日", "2020-12-31"),
    window("2019年9月至2020年6月", "2019-09-01", "2020-06-30"),
    window("2019年9月—2020年6月", "2019-09-01", "2020-06-30"),
    window("2019年9月至2020 年 6 月", "2019-09-01", "2020-06-30"),
    window("2019年8月至2020年8月", "2019-08-01", "2020-08-31"),
    window("2019年7月—2020年8月", "2019-07-01", "2020-08-31"),
    window("2019年7月——2020年8月", "2019-07-01", "2020-08-31"),
    window("2019年7月–2020年8月", "2019-07-01", "2020-08-31"),
    window("2019年7月-2020年8月", "2019-07-01", "2020-08-31"),
    window("2019年7月－2020年8月", "2019-07-01", "2020-08-31"),
    window("2019年7月～2020年8月", "2019-07-01", "2020-08-31"),
    window("2019年7月~2020年8月", "2019-07-01", "2020-08-31"),
    window("2019年7月到2020年8月", "2019-07-01", "2020-08-31"),
    window("2020年7—12月", "2020-07-01", "2020-12-31"),
    window("2020 年 7—12 月", "2020-07-01", "2020-12-31"),
    window("2019年9月至12月", "2019-09-01", "2019-12-31"),
    window("2019年9月1日—30日", "2019-09-01", "2019-09-30"),
    window("2019—2020年", "2019-01-01", "2020-12-31"),
    window("2019年9月至2020年6月底", "2019-09-01", "2020-06-30"),
    dates_(
        "2019年9月20日、12月20日，2020年3月20日、6月20日",
        *("2019-09-20", "2019-12-20", "2020-03-20", "2020-06-20"),
    ),
    dates_("2020年6月20日、2019年12月20日、2019年12月20日", "2019-12-20", "2020-06-20"),
    dates_("2019年9月1日、15日", "2019-09-01", "2019-09-15"),
]


@pytest.mark.parametrize(("text", "result"), WITH_YEAR, ids=[t for t, _ in WITH_YEAR])
@pytest.mark.parametrize("year", [None, 2030])
def test_cells_with_their_own_year(text: str, result: dict[str, object], year: int | None):
    assert parse_deadline(text, year=year).as_json() == result


# Cells without a year take the plan's year, here 2020.
WITHOUT_YEAR = [
    date_("年底前", "2020-12-31"),
    date_("年底", "2020-12-31"),
    date_("今年底", "2020-12-31"),
    date_("年内", "2020-12-31", "'年内' read as by the end of the plan's year"),
    date_("上半年", "2020-06-30"),
    date_("下半年", "2020-12-31"),
    date_("第三季度", "2020-09-30"),
    date_("三季度", "2020-09-30"),
    date_("一季度", "2020-03-31"),
    date_("十二月", "2020-12-31"),
    date_("9月20日", "2020-09-20"),
    date_("9月前", "2020-09-30", BY_MONTH_END),
    window("7—12月", "2020-07-01", "2020-12-31"),
    dates_("6月20日、12月20日", "2020-06-20", "2020-12-20"),
]


@pytest.mark.parametrize(("text", "result"), WITHOUT_YEAR, ids=[t for t, _ in WITHOUT_YEAR])
def test_cells_without_a_year_take_the_context_year(text: str, result: dict[str, object]):
    assert parse_deadline(text, year=2020).as_json() == result


SPAN = (date(2019, 9, 5), date(2020, 12, 31))  # a plan issued on 2019-09-05, ending with 2020
RECURRING = [
    ("每月", "monthly", None,
     ("2019-09-30", "2019-10-31", "2019-11-30", "2019-12-31", "2020-01-31", "2020-02-29",
      "2020-03-31", "2020-04-30", "2020-05-31", "2020-06-30", "2020-07-31", "2020-08-31",
      "2020-09-30", "2020-10-31", "2020-11-30", "2020-12-31")),
    ("每季度", "quarterly", None,
     ("2019-09-30", "2019-12-31", "2020-03-31", "2020-06-30", "2020-09-30", "2020-12-31")),
    ("每半年", "half-yearly", None, ("2019-12-31", "2020-06-30", "2020-12-31")),
    ("每年", "yearly", None, ("2019-12-31", "2020-12-31")),
    ("每年年底前", "yearly", None, ("2019-12-31", "2020-12-31")),
    ("每两年", "every-2-years", None, ("2020-12-31",)),
    ("每两年左右", "every-2-years", "'左右' (about) dropped: read as every-2-years",
     ("2020-12-31",)),
    ("每3个月", "every-3-months", None,
     ("2019-11-30", "2020-02-29", "2020-05-31", "2020-08-31", "2020-11-30")),
]  # fmt: skip
RECURRING_IDS = [r[0] for r in RECURRING]


@pytest.mark.parametrize(("text", "rule", "note", "dates"), RECURRING, ids=RECURRING_IDS)
def test_recurrences_fall_on_period_ends_within_the_plan_span(
    text: str, rule: str, note: str | None, dates: tuple[str, ...]
):
    result = parse_deadline(text, span=SPAN).as_json()
    assert result == expected(text, "recurring", dates=dates, rule=rule, note=note)


@pytest.mark.parametrize(("text", "rule", "note", "dates"), RECURRING, ids=RECURRING_IDS)
def test_recurrences_without_a_span_have_a_rule_and_no_dates(
    text: str, rule: str, note: str | None, dates: tuple[str, ...]
):
    assert parse_deadline(text).as_json() == expected(text, "recurring", rule=rule, note=note)


def test_multi_year_recurrences_count_from_the_first_year_of_the_span():
    result = parse_deadline("每两年", span=(date(2019, 9, 5), date(2025, 12, 31)))
    assert result.dates == (date(2020, 12, 31), date(2022, 12, 31), date(2024, 12, 31))


# Forms seen in the wild (#12 §2). The plan was issued on 2019-09-05 (the anchor "即日起" and
# "N个工作日内" count from) and runs to 2020-06-30.
ISSUED = date(2019, 9, 5)
IN_THE_WILD = [
    date_("2019年9月上旬", "2019-09-10", "'上旬' read as by the 10th"),
    date_("二〇一九年九月中旬", "2019-09-20", "'中旬' read as by the 20th"),
    date_("2020年2月下旬", "2020-02-29", "'下旬' read as by the month's last day"),
    ("即日起至2019年12月底", expected(
        "即日起至2019年12月底", "window", start="2019-09-05", due="2019-12-31",
        note="'即日起' read as from the plan's first day, 2019-09-05")),
    ("10个工作日内", expected("10个工作日内", "date", start="2019-09-05", due="2019-09-20",
                              note="10 working days counted from 2019-09-05")),
    # 2019-09-13 (中秋节) is not a working day: the eighth is 2019-09-18, not 09-17
    ("印发后8个工作日内", expected(
        "印发后8个工作日内", "date", start="2019-09-05", due="2019-09-18",
        note="8 working days counted from 2019-09-05")),
    date_("立行立改", "2019-09-05", "'立行立改' (at once) read as due on the plan's first day"),
    date_("到2027年", "2027-12-31", YEAR_ALONE),
    date_("2027年前", "2027-12-31", "'前' read as by the end of the year"),
    date_("年内", "2019-12-31", "'年内' read as by the end of the plan's year"),
    ("长期坚持", expected("长期坚持", "ongoing", rule="ongoing")),
    ("每月10日前", expected("每月10日前", "recurring", rule="monthly-day-10", dates=(
        "2019-09-10", "2019-10-10", "2019-11-10", "2019-12-10", "2020-01-10", "2020-02-10",
        "2020-03-10", "2020-04-10", "2020-05-10", "2020-06-10"))),
    ("每季度首月10日前", expected("每季度首月10日前", "recurring",
                                  rule="quarterly-first-month-day-10",
                                  dates=("2019-10-10", "2020-01-10", "2020-04-10"))),
    ("每季度末", expected("每季度末", "recurring", rule="quarterly",
                          dates=("2019-09-30", "2019-12-31", "2020-03-31", "2020-06-30"))),
    ("每半年", expected("每半年", "recurring", rule="half-yearly",
                        dates=("2019-12-31", "2020-06-30"))),
    ("每月31日前", expected("每月31日前", "recurring", rule="monthly-day-31",
                            note="day 31 read as the month's last day where it has none",
                            dates=("2019-09-30", "2019-10-31", "2019-11-30", "2019-12-31",
                                   "2020-01-31", "2020-02-29", "2020-03-31", "2020-04-30",
                                   "2020-05-31", "2020-06-30"))),
]  # fmt: skip


@pytest.mark.parametrize(("text", "result"), IN_THE_WILD, ids=[t for t, _ in IN_THE_WILD])
def test_forms_seen_in_the_wild(text: str, result: dict[str, object]):
    span = (ISSUED, date(2020, 6, 30))
    assert parse_deadline(text, year=2019, span=span, anchor=ISSUED).as_json() == result


@pytest.mark.parametrize("text", ["到2027年", "2027年前", "2027年"])
def test_a_year_alone_carries_a_warning_for_lint(text: str):
    assert parse_deadline(text).warning == (
        f"'{text}' names a year only: read as due 2027-12-31; "
        "say the month if the plan means another day"
    )
    assert parse_deadline("2027年3月底前").warning is None


def test_the_anchor_defaults_to_the_span_start():
    span = (date(2019, 9, 5), date(2020, 6, 30))
    assert parse_deadline("立行立改", span=span).due == date(2019, 9, 5)


ONGOING = ["持续开展", "长期坚持", "长期", "常态化", "持续推进", "常态化开展"]


@pytest.mark.parametrize("text", ONGOING)
def test_ongoing_work_has_no_due_date(text: str):
    assert parse_deadline(text, year=2020).as_json() == expected(text, "ongoing", rule="ongoing")


ERRORS = [
    ("尽快", {}, "尽快", 'cannot read "尽快" in "尽快"'),
    ("视情况", {}, "视情况", 'cannot read "视情况" in "视情况"'),
    ("2019年9月下旬左右", {}, "左右", 'cannot read "左右" in "2019年9月下旬左右"'),
    ("即日起至2019年12月底", {}, "即日起至2019年12月底",
     'cannot read "即日起至2019年12月底" in "即日起至2019年12月底": '
     "counted from the plan's issue date: give plan.issued"),
    ("10个工作日内", {}, "10个工作日内",
     'cannot read "10个工作日内" in "10个工作日内": '
     "counted from the plan's issue date: give plan.issued"),
    ("每月32日前", {}, "32", 'cannot read "32" in "每月32日前": no day 32'),
    ("2019年9月左右", {}, "左右", 'cannot read "左右" in "2019年9月左右"'),
    ("2019年9月前后", {}, "前后", 'cannot read "前后" in "2019年9月前后"'),
    ("2019年9月前，长期坚持", {}, "长期坚持", 'cannot read "长期坚持" in "2019年9月前，长期坚持"'),
    ("", {}, "", 'cannot read "" in "": the text is empty'),
    (" 。", {}, "", 'cannot read "" in " 。": the text is empty'),
    ("年底前", {}, "年底前",
     'cannot read "年底前" in "年底前": a year is needed: none in the text, no year= given'),
    ("上半年", {}, "上半年",
     'cannot read "上半年" in "上半年": a year is needed: none in the text, no year= given'),
    ("7—12月", {}, "7—12月",
     'cannot read "7—12月" in "7—12月": a year is needed: none in the text, no year= given'),
    ("2019年13月", {}, "13月", 'cannot read "13月" in "2019年13月": no month 13'),
    ("二〇一九年十三月", {}, "十三月", 'cannot read "十三月" in "二〇一九年十三月": no month 13'),
    ("2019年2月30日", {}, "30日", 'cannot read "30日" in "2019年2月30日": 2019-02 has no day 30'),
    ("2020年第5季度", {}, "第5季度", 'cannot read "第5季度" in "2020年第5季度": no quarter 5'),
    ("2019年9月20日底", {}, "底", 'cannot read "底" in "2019年9月20日底"'),
    ("2020年6月至3月", {}, "2020年6月至3月",
     'cannot read "2020年6月至3月" in "2020年6月至3月": the window ends before it starts'),
    ("2019年9月前至2020年6月", {}, "前",
     'cannot read "前" in "2019年9月前至2020年6月": a window cannot start with 前'),
    ("2019年9月至2020年6月、12月", {}, "、12月",
     'cannot read "、12月" in "2019年9月至2020年6月、12月"'),
    ("2020年7", {}, "7", 'cannot read "7" in "2020年7"'),
    ("每天", {}, "每天", 'cannot read "每天" in "每天"'),
    ("每2季度", {}, "2", 'cannot read "2" in "每2季度": only months and years take a count'),
    ("每两年左右", {"conventions": DeadlineConventions(approximate="reject")}, "左右",
     'cannot read "左右" in "每两年左右": the plan\'s conventions reject 左右'),
]  # fmt: skip


@pytest.mark.parametrize(("text", "kwargs", "fragment", "message"), ERRORS,
                         ids=[e[0] or "empty" for e in ERRORS])  # fmt: skip
def test_what_cannot_be_read_is_named(text: str, kwargs: dict, fragment: str, message: str):
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(text, **kwargs)
    assert (caught.value.text, caught.value.fragment, str(caught.value)) == (
        text, fragment, message,
    )  # fmt: skip
    assert isinstance(caught.value, BadInput)


CONVENTIONS = [
    ("2019年9月前", DeadlineConventions(month_before="before"),
     "2019-08-31", "'前' read as before the month starts"),
    ("2020年1月前", DeadlineConventions(month_before="before"),
     "2019-12-31", "'前' read as before the month starts"),
    ("2020年三季度前", DeadlineConventions(month_before="before"),
     "2020-06-30", "'前' read as before the quarter starts"),
    ("2020年下半年前", DeadlineConventions(month_before="before"),
     "2020-06-30", "'前' read as before the half-year starts"),
    ("2022年前", DeadlineConventions(year_before="before"),
     "2021-12-31", "'前' read as before the year starts"),
    ("2020年9月15日前", DeadlineConventions(day_before="before"),
     "2020-09-14", "'前' read as before the day starts"),
    ("2019年9月底前", DeadlineConventions(month_before="before"), "2019-09-30", None),
    ("2019年9月前", DeadlineConventions(year_before="before"), "2019-09-30", BY_MONTH_END),
]  # fmt: skip


@pytest.mark.parametrize(("text", "conventions", "due", "note"), CONVENTIONS,
                         ids=[f"{c[0]}-{c[2]}" for c in CONVENTIONS])  # fmt: skip
def test_a_plan_can_say_how_it_means_qian(
    text: str, conventions: DeadlineConventions, due: str, note: str | None
):
    result = parse_deadline(text, conventions=conventions).as_json()
    assert result == expected(text, "date", due=due, note=note)


def test_window_end_with_qian_follows_the_conventions():
    result = parse_deadline("2019年9月至2020年6月前",
                            conventions=DeadlineConventions(month_before="before"))  # fmt: skip
    assert (result.start, result.due) == (date(2019, 9, 1), date(2020, 5, 31))
    assert result.note == "'前' read as before the month starts"


@pytest.mark.parametrize(
    "kwargs", [{"month_before": "after"}, {"year_before": "end"}, {"approximate": "maybe"}]
)
def test_conventions_accept_only_known_readings(kwargs: dict):
    with pytest.raises(ValueError):
        DeadlineConventions(**kwargs)


def test_a_span_must_not_end_before_it_starts():
    with pytest.raises(ValueError, match="span ends before it starts"):
        parse_deadline("每月", span=(date(2020, 1, 1), date(2019, 1, 1)))


def test_as_json_is_plain_json_with_a_fixed_shape():
    result = parse_deadline("2019年9月20日、12月20日")
    data = result.as_json()
    assert list(data) == ["text", "kind", "start", "due", "dates", "rule", "note"]
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["dates"] == ["2019-09-20", "2019-12-20"]


def test_the_result_keeps_the_original_text_and_is_immutable():
    text = " ２０１９年 ９月前。"
    result = parse_deadline(text)
    assert result == Deadline(text, "date", due=date(2019, 9, 30), note=BY_MONTH_END)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.due = date(2020, 1, 1)  # type: ignore[misc]


def test_a_date_has_no_dates_list_and_a_list_is_due_on_its_last_date():
    single = parse_deadline("2019年9月20日")
    several = parse_deadline("2019年12月20日、9月20日")
    assert (single.start, single.dates) == (None, ())
    assert (several.start, several.due) == (None, date(2019, 12, 20))
    assert several.dates == (date(2019, 9, 20), date(2019, 12, 20))
