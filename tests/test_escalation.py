"""The escalation ladder on the real mainland calendar around National Day 2019, and who is
told when the office's own item is late.

Due 2019-09-30 (a Monday). 2019-09-29 (Sunday) and 2019-10-12 (Saturday) were make-up working
days; 2019-10-01..07 were holidays.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from calendars.workdays import load_calendar
from schemas.db import session_scope
from schemas.plan_file import EscalationPolicy
from schemas.tables import Notice, SweepRun
from tasks.sweep.escalation import Rung, rung_reached, why

from .county import build_county

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


CHASED = EscalationPolicy(co_units="chased", co_lead_time=3)


@pytest.mark.parametrize(
    ("as_of", "level", "late"),
    [
        (D(2019, 9, 26), "due", 0),  # the internal deadline, three working days early
        (D(2019, 9, 27), "urge", 1),
        (D(2019, 10, 12), "urge", 8),  # urged, never supervised or reported: the lead answers
        (D(2019, 10, 25), "urge", 18),
    ],
)
def test_co_responsible_units_are_urged_on_their_internal_deadline_when_chased(as_of, level, late):
    for role in ("co", "participant"):
        reached = rung_reached(
            due=DUE, as_of=as_of, role=role, critical=True, policy=CHASED, calendar=CAL
        )
        assert reached is not None
        assert (reached.level, reached.due, reached.overdue_workdays) == (
            level,
            D(2019, 9, 26),
            late,
        )
    assert why(
        Rung("urge", "1wd-overdue", DUE, overdue_workdays=1), "co", CHASED, critical=False
    ) == (
        "逾期1个工作日（配合单位内部时限：牵头单位时限前3个工作日），予以催办，抄送联席会议办公室"
    )


def test_by_default_co_responsible_units_are_not_urged():
    assert EscalationPolicy().co_units == "not_counted"
    late = rung_reached(
        due=DUE, as_of=D(2019, 10, 25), role="co", critical=False, policy=POLICY, calendar=CAL
    )
    assert late is None


def test_the_rule_says_when_leadership_is_told_of_the_offices_own_item():
    urge = Rung("urge", "1wd-overdue", DUE, overdue_workdays=2)
    assert why(urge, "lead", POLICY, critical=False, office_own=True) == (
        "逾期2个工作日，予以催办；该事项由联席会议办公室承办，报领导"
    )
    assert why(urge, "lead", POLICY, critical=False, office_own=True, language="en") == (
        "2 working day(s) overdue: urged; the office's own item: leadership is told"
    )


# The office's own lateness, through real sweeps of the county plan (tests/county.py) ----------


def test_the_office_is_not_urged_or_supervised_about_its_own_item_leadership_is(sqlite_url):
    build_county(sqlite_url, until=D(2021, 6, 8))
    with session_scope(sqlite_url) as session:
        sent = [
            (day, n.task_code, n.level, n.recipient_code, n.in_copy, n.receipt_code is not None)
            for n, day in session.exec(select(Notice, SweepRun.as_of).join(SweepRun))
            if n.level in ("urge", "supervise", "report")
        ]
    # The office's `audit` (due 2021-05-31): the 催办 and the 督办单 go to leadership, and the
    # office is not copied on them; leadership signs for the 督办单.
    assert [s for s in sent if s[1] == "audit"] == [
        (D(2021, 6, 1), "audit", "urge", "leaders", False, False),
        (D(2021, 6, 8), "audit", "supervise", "leaders", False, True),
    ]
    # Anyone else's lateness still goes to the unit, the office in copy.
    assert (D(2021, 4, 12), "inspect", "supervise", "hospitals", False, True) in sent
    assert (D(2021, 4, 12), "inspect", "supervise", "office", True, False) in sent
