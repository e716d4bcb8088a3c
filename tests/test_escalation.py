"""The escalation ladder on the real mainland calendar around National Day 2019.

Due 2019-09-30 (a Monday). 2019-09-29 (Sunday) and 2019-10-12 (Saturday) were make-up working
days; 2019-10-01..07 were holidays.
"""

from __future__ import annotations

import datetime as dt

import pytest

from calendars.workdays import load_calendar
from schemas.plan_file import EscalationPolicy
from tasks.sweep.escalation import Rung, rung_reached, why

D = dt.date
DUE = D(2019, 9, 30)
CAL = load_calendar()
POLICY = EscalationPolicy()

LADDER = [
    # as_of,           role,   critical, level,       rung,            left, late
    (D(2019, 9, 20), "lead", False, None, None, 0, 0),
    (D(2019, 9, 23), "lead", False, None, None, 0, 0),
    (D(2019, 9, 24), "lead", False, "reminder", "5wd-before", 5, 0),
    (D(2019, 9, 27), "lead", False, "reminder", "5wd-before", 2, 0),
    (D(2019, 9, 29), "lead", False, "reminder", "1wd-before", 1, 0),
    (D(2019, 9, 30), "lead", False, "due", "due-day", 0, 0),
    (D(2019, 10, 8), "lead", False, "urge", "1wd-overdue", 0, 1),
    (D(2019, 10, 11), "lead", False, "urge", "1wd-overdue", 0, 4),
    (D(2019, 10, 12), "lead", False, "supervise", "5wd-overdue", 0, 5),
    (D(2019, 10, 12), "lead", True, "report", "5wd-overdue", 0, 5),
    (D(2019, 10, 21), "lead", False, "supervise", "5wd-overdue", 0, 11),
    (D(2019, 10, 25), "lead", False, "report", "15wd-overdue", 0, 15),
    (D(2019, 9, 24), "co", False, "reminder", "5wd-before", 5, 0),
    (D(2019, 9, 30), "co", False, "due", "due-day", 0, 0),
    (D(2019, 10, 8), "co", False, None, None, 0, 0),
    (D(2019, 10, 25), "participant", False, None, None, 0, 0),
]


@pytest.mark.parametrize(
    ("as_of", "role", "critical", "level", "rung", "left", "late"),
    LADDER,
    ids=[f"{a}-{r}{'-critical' if c else ''}" for a, r, c, *_ in LADDER],
)
def test_the_highest_rung_reached_on_each_day(as_of, role, critical, level, rung, left, late):
    reached = rung_reached(
        due=DUE, as_of=as_of, role=role, critical=critical, policy=POLICY, calendar=CAL
    )
    if level is None:
        assert reached is None
    else:
        assert reached is not None
        assert (reached.level, reached.name, reached.workdays_left, reached.overdue_workdays) == (
            level,
            rung,
            left,
            late,
        )


def test_co_responsible_units_are_held_to_an_earlier_internal_deadline():
    policy = EscalationPolicy(co_lead_time=5)
    reached = rung_reached(
        due=DUE, as_of=D(2019, 9, 24), role="co", critical=False, policy=policy, calendar=CAL
    )
    assert reached is not None and (reached.level, reached.due) == ("due", D(2019, 9, 24))
    lead = rung_reached(
        due=DUE, as_of=D(2019, 9, 24), role="lead", critical=False, policy=policy, calendar=CAL
    )
    assert lead is not None and lead.level == "reminder"
    early = rung_reached(
        due=DUE, as_of=D(2019, 9, 17), role="co", critical=False, policy=policy, calendar=CAL
    )
    assert early is not None and early.level == "reminder"
    assert "内部时限" in why(early, "co", policy, critical=False)


def test_a_plan_can_change_the_ladder():
    policy = EscalationPolicy(
        remind_before=[3], remind_on_due=False, urge_after=2, supervise_after=3, report_after=4
    )

    def level(day: dt.date) -> str | None:
        reached = rung_reached(
            due=DUE, as_of=day, role="lead", critical=False, policy=policy, calendar=CAL
        )
        return reached.level if reached else None

    assert [level(D(2019, 9, d)) for d in (24, 26, 30)] == [None, "reminder", None]
    assert [level(D(2019, 10, d)) for d in (8, 9, 10, 11)] == [None, "urge", "supervise", "report"]


@pytest.mark.parametrize(
    ("level", "language", "words"),
    [
        ("reminder", "zh", "距完成时限还有5个工作日"),
        ("supervise", "zh", "列入督办"),
        ("report", "en", "reported to leadership"),
    ],
)
def test_the_rule_that_fired_is_stated_for_the_recipient(level, language, words):
    as_of = {"reminder": D(2019, 9, 24), "supervise": D(2019, 10, 12), "report": D(2019, 10, 25)}[
        level
    ]
    reached = rung_reached(
        due=DUE, as_of=as_of, role="lead", critical=False, policy=POLICY, calendar=CAL
    )
    assert reached is not None and words in why(
        reached, "lead", POLICY, critical=False, language=language
    )


CO_POLICY = EscalationPolicy(co_lead_time=3)
# What each rung says, word for word, for the recipient (docs/notices.md, docs/sweep.md): the
# numbers are the rung's own (days left, days late) and the policy's thresholds.
WHY = [
    # rung,                                           role,   policy,     critical, zh, en
    (
        Rung("reminder", "5wd-before", DUE, workdays_left=5),
        "lead",
        POLICY,
        False,
        "距完成时限还有5个工作日",
        "5 working day(s) before the due date",
    ),
    (
        Rung("reminder", "5wd-before", DUE, workdays_left=2),
        "co",
        CO_POLICY,
        False,
        "距完成时限还有2个工作日（配合单位内部时限：牵头单位时限前3个工作日）",
        "2 working day(s) before the due date (internal deadline for co-responsible units: 3"
        " working days before the lead's)",
    ),
    (
        Rung("reminder", "5wd-before", DUE, workdays_left=2),
        "lead",
        CO_POLICY,
        False,
        "距完成时限还有2个工作日",
        "2 working day(s) before the due date",
    ),
    (Rung("due", "due-day", DUE), "lead", POLICY, False, "今日为完成时限", "due today"),
    (
        Rung("urge", "1wd-overdue", DUE, overdue_workdays=2),
        "lead",
        POLICY,
        False,
        "逾期2个工作日，予以催办，抄送联席会议办公室",
        "2 working day(s) overdue: urged, office in copy",
    ),
    (
        Rung("supervise", "5wd-overdue", DUE, overdue_workdays=7),
        "lead",
        POLICY,
        False,
        "逾期7个工作日（满5个工作日），列入督办",
        "7 working days overdue (at least 5): formal supervision opened",
    ),
    (
        Rung("report", "15wd-overdue", DUE, overdue_workdays=16),
        "lead",
        POLICY,
        False,
        "逾期16个工作日（满15个工作日），报领导通报",
        "16 working days overdue (at least 15): reported to leadership",
    ),
    (
        Rung("report", "5wd-overdue", DUE, overdue_workdays=6),
        "lead",
        POLICY,
        True,
        "逾期6个工作日（满5个工作日，且影响后续任务进度），报领导通报",
        "6 working days overdue (at least 5, holding up later tasks): reported to leadership",
    ),
]


@pytest.mark.parametrize(
    ("rung", "role", "policy", "critical", "zh", "en"),
    WHY,
    ids=[f"{r.level}-{role}{'-critical' if c else ''}" for r, role, _, c, *_ in WHY],
)
def test_why_states_the_rule_word_for_word(rung, role, policy, critical, zh, en):
    assert why(rung, role, policy, critical=critical) == zh
    assert why(rung, role, policy, critical=critical, language="zh") == zh
    assert why(rung, role, policy, critical=critical, language="en") == en


def test_a_due_date_that_has_reached_no_rung_yet_is_none_and_far_off_ones_too():
    def reached(day: dt.date, policy: EscalationPolicy = POLICY) -> Rung | None:
        return rung_reached(
            due=DUE, as_of=day, role="lead", critical=False, policy=policy, calendar=CAL
        )

    assert reached(D(2019, 9, 23)) is None  # 6 working days before
    assert reached(D(2019, 1, 2)) is None  # far off: the shortcut
    no_reminders = EscalationPolicy(remind_before=[], remind_on_due=False)
    assert [reached(D(2019, 9, d), no_reminders) for d in (27, 29, 30)] == [None, None, None]
    assert reached(D(2019, 10, 8), no_reminders) == Rung(
        "urge", "1wd-overdue", DUE, overdue_workdays=1
    )


def test_a_rung_for_a_co_responsible_unit_is_dated_by_its_internal_deadline():
    reached = rung_reached(
        due=DUE, as_of=D(2019, 9, 25), role="co", critical=False, policy=CO_POLICY, calendar=CAL
    )
    # three working days before Monday 30 September: Sunday 29 (a make-up day), 27, 26
    assert reached == Rung("reminder", "1wd-before", D(2019, 9, 26), workdays_left=1)
