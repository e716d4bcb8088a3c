"""Missed days: which working days each plan's sweeps left unswept, and the next sweep that
sweeps them first, in order, each sending only what no later day of the run tells again, so
that an outage ends in one letter per unit and item, not a burst, and nothing twice."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlmodel import col, select

from calendars.workdays import load_calendar
from render.mail import COMPOSER
from schemas.db import create_schema, session_scope, sessions
from schemas.tables import Escalation, Notice, OutboxMessage, SweepRun
from tasks.plans.importer import import_plan
from tasks.sweep.catch_up import (
    CATCH_UP_LIMIT,
    PlanDays,
    SweptDays,
    days_to_catch_up,
    sweep_status,
    swept_days,
)
from tasks.sweep.pipeline import DirectSteps, SweepOutcome, run_sweep, sweep_summary

from .conftest import PLANS, sweep_once, with_the_pilot

D = dt.date
PLAN = "cq-2019-pilot"
IMPORTED = dt.datetime(2019, 7, 1, tzinfo=dt.UTC)
CN = PlanDays(load_calendar())
CHUXIONG = PlanDays(load_calendar(overlays=["cn-yn-chuxiong"]))  # 火把节 2019-07-25..29


# ------------------------------------------------------------------ which days were missed


def test_missed_days_are_a_plans_own_working_days_since_its_last_sweep():
    """Around National Day 2019: the make-up Sunday is missed, the holiday week is not."""
    [plan] = swept_days({PLAN: CN}, {PLAN: D(2019, 9, 26)}, through=D(2019, 10, 9))
    assert plan.unswept == (
        D(2019, 9, 27),
        D(2019, 9, 29),
        D(2019, 9, 30),
        D(2019, 10, 8),
        D(2019, 10, 9),
    )
    assert plan.missed == plan.unswept[:-1]  # the day asked for is not "missed"

    # the same days, two calendars: the Torch Festival is Chuxiong's rest, not Chongqing's
    record = swept_days(
        {"cq": CN, "cx": CHUXIONG},
        {"cq": D(2019, 7, 24), "cx": D(2019, 7, 24)},
        through=D(2019, 7, 31),
    )
    assert [p.missed for p in record] == [
        (D(2019, 7, 25), D(2019, 7, 26), D(2019, 7, 29), D(2019, 7, 30)),
        (D(2019, 7, 30),),
    ]


def test_a_plan_never_swept_or_swept_since_or_not_yet_supervised_has_missed_nothing():
    record = swept_days(
        {
            "never": CN,
            "ahead": CN,
            "adopted": PlanDays(load_calendar(), supervise_from=D(2019, 8, 6)),
        },
        {"never": None, "ahead": D(2019, 8, 9), "adopted": D(2019, 8, 1)},
        through=D(2019, 8, 7),
    )
    assert {p.plan: (p.unswept, p.missed) for p in record} == {
        "adopted": ((D(2019, 8, 6), D(2019, 8, 7)), (D(2019, 8, 6),)),
        "ahead": ((), ()),
        "never": ((D(2019, 8, 7),), ()),  # its first sweep starts the record
    }
    [weekend] = swept_days({"never": CN}, {}, through=D(2019, 8, 3))
    assert weekend.unswept == ()


def test_days_are_caught_up_in_order_with_the_plans_that_missed_them_up_to_the_limit():
    cq = SweptDays(
        "cq", D(2019, 7, 31), D(2019, 7, 24), (D(2019, 7, 25), D(2019, 7, 30), D(2019, 7, 31))
    )
    cx = SweptDays("cx", D(2019, 7, 31), D(2019, 7, 24), (D(2019, 7, 30), D(2019, 7, 31)))
    days, left = days_to_catch_up([cq, cx])
    assert days == [(D(2019, 7, 25), ("cq",)), (D(2019, 7, 30), ("cq", "cx"))] and left == []

    days, left = days_to_catch_up([cq, cx], limit=1)
    assert days == [(D(2019, 7, 30), ("cx",))] and left == [cq]
    assert cq.why_left(1) == (
        "cq: 2 working days (2019-07-25 to 2019-07-30) were never swept since 2019-07-24, "
        "more than the 1 a sweep catches up: only 2019-07-31 is swept; sweep the days still "
        "wanted with `duban sweep --as-of DAY --plan cq`"
    )


# ------------------------------------------------------------------ the sweep that catches up


@pytest.fixture
def url(database_url: str) -> str:
    return with_the_pilot(database_url, at=IMPORTED)


def catching_up(url: str, day: dt.date, **options: object) -> SweepOutcome:
    """The sweep of `day` as the scheduler runs it: missed days first."""
    steps = DirectSteps(sessions(url), COMPOSER, at=dt.datetime(2019, 8, 20, tzinfo=dt.UTC))
    return run_sweep(steps, as_of=day, catch_up=True, **options)  # type: ignore[arg-type]


def told(outcome: SweepOutcome) -> Counter[tuple[str, str, str]]:
    return Counter((n.recipient_code, n.level, n.item.task_code) for n in outcome.written)


def sweeps(url: str) -> list[tuple[dt.date, str | None]]:
    with session_scope(url) as session:
        runs = session.exec(select(SweepRun).order_by(col(SweepRun.id)))
        return [(run.as_of, run.plan_code) for run in runs]


def test_after_an_outage_one_letter_per_unit_at_the_current_rung_and_the_days_recorded(url):
    """Swept Tuesday 6 August, then nothing until Friday 9th: Wednesday (t02's 督办, the
    critical path's 通报) and Thursday are swept first. Their notices are the ones Friday
    tells again, so they go once, in Friday's letters: one letter per recipient, as a sweep of
    Friday alone would send; the escalations say they opened on Wednesday."""
    sweep_once(url, as_of=D(2019, 8, 6))
    with session_scope(url) as session:
        before = len(session.exec(select(OutboxMessage)).all())

    outcome = catching_up(url, D(2019, 8, 9))
    assert [(o.as_of, len(o.written), o.messages) for o in outcome.caught_up] == [
        (D(2019, 8, 7), 0, 0),
        (D(2019, 8, 8), 0, 0),
    ]
    assert outcome.caught_up[0].escalations_opened == 7
    assert Counter(n.level for n in outcome.written) == {"supervise": 8, "report": 18}
    assert sweeps(url)[1:] == [(D(2019, 8, 7), None), (D(2019, 8, 8), None), (D(2019, 8, 9), None)]
    with session_scope(url) as session:
        letters = session.exec(select(OutboxMessage)).all()[before:]
        assert len({m.recipient_code for m in letters}) == len(letters) == outcome.messages == 8
        assert {e.opened_on for e in session.exec(select(Escalation))} == {D(2019, 8, 7)}
        # the 督办单 went out on Friday: nobody is told on Friday it was not acknowledged
        assert not session.exec(select(Notice).where(Notice.level == "unacknowledged")).all()

    again = catching_up(url, D(2019, 8, 9))  # run twice: nothing missed, nothing new
    assert (again.caught_up, again.written, again.messages) == ([], [], 0)


def test_a_missed_day_sends_what_no_later_day_of_the_run_tells(database_url, tmp_path):
    """With 催办 only 3 working days late, the due-day notice of Wednesday 31 July is the last
    word on its items on Thursday 1 August: it is sent, dated Wednesday. Tuesday's reminders
    (one working day before) are not: Wednesday's notice tells the same units of the same
    items."""
    lenient = tmp_path / "lenient.yaml"
    text = (PLANS / "chongqing-2019-pilot.yaml").read_text(encoding="utf-8")
    lenient.write_text(text + "\nescalation:\n  urge_after: 3\n", encoding="utf-8")
    create_schema(database_url)
    with session_scope(database_url) as session:
        import_plan(session, lenient, at=IMPORTED)
    sweep_once(database_url, as_of=D(2019, 7, 29))

    outcome = catching_up(database_url, D(2019, 8, 1))
    tuesday, wednesday = outcome.caught_up
    assert (tuesday.as_of, tuesday.written) == (D(2019, 7, 30), [])
    assert wednesday.as_of == D(2019, 7, 31)
    assert Counter(n.level for n in wednesday.written) == {"due": 7}
    assert outcome.written == []  # Thursday: one working day late, not yet urged
    with session_scope(database_url) as session:
        told = Counter(
            (n.assignment_id, n.occurrence_id, n.recipient_code)
            for n in session.exec(select(Notice).where(col(Notice.sweep_id) > 1))
        )
    assert set(told.values()) == {1}


def test_more_missed_days_than_the_limit_are_left_and_the_sweep_says_so(url):
    sweep_once(url, as_of=D(2019, 7, 1))
    outcome = catching_up(url, D(2019, 8, 7))
    assert outcome.caught_up == [] and sweeps(url) == [(D(2019, 7, 1), None), (D(2019, 8, 7), None)]
    summary = sweep_summary(outcome)
    assert summary["not_caught_up"] == [
        {
            "plan": PLAN,
            "last_swept": "2019-07-01",
            "missed": 26,
            "first": "2019-07-02",
            "last": "2019-08-06",
            "why": f"{PLAN}: 26 working days (2019-07-02 to 2019-08-06) were never swept since "
            f"2019-07-01, more than the {CATCH_UP_LIMIT} a sweep catches up: only 2019-08-07 "
            f"is swept; sweep the days still wanted with `duban sweep --as-of DAY --plan {PLAN}`",
        }
    ]
    assert summary["notices"]  # the day asked for was swept


def test_a_rest_day_run_still_sweeps_the_working_day_missed_before_it(url, tmp_path):
    """Swept Thursday 19 September; Friday's run lost (9月20日, a report day); Saturday's run
    sweeps Friday with the notices Friday's own sweep would have written."""
    sweep_once(url, as_of=D(2019, 9, 19))
    outcome = catching_up(url, D(2019, 9, 21))
    assert outcome.skipped == f"2019-09-21 is not a working day for {PLAN}"
    assert [o.as_of for o in outcome.caught_up] == [D(2019, 9, 20)]
    twin = f"sqlite:///{tmp_path / 'twin.db'}"
    with_the_pilot(twin, at=IMPORTED)
    sweep_once(twin, as_of=D(2019, 9, 19))
    friday = sweep_once(twin, as_of=D(2019, 9, 20))
    assert friday.written and told(outcome.caught_up[0]) == told(friday)
    assert sweeps(url) == [(D(2019, 9, 19), None), (D(2019, 9, 20), None)]
    assert "caught_up" in sweep_summary(outcome)


def test_a_plan_swept_on_its_own_is_caught_up_on_its_own(url, tmp_path):
    """Two plans: the twin swept on Tuesday by a run of its own, the pilot not. Wednesday's
    sweep of every plan catches up Tuesday for the pilot only, recorded as the pilot's."""
    twin = tmp_path / "twin.yaml"
    twin.write_text(
        (PLANS / "chongqing-2019-pilot.yaml").read_text(encoding="utf-8").replace(PLAN, "cq-twin"),
        encoding="utf-8",
    )
    with session_scope(url) as session:
        import_plan(session, twin, at=IMPORTED)
    sweep_once(url, as_of=D(2019, 8, 5))
    sweep_once(url, as_of=D(2019, 8, 6), plan="cq-twin")
    with session_scope(url) as session:
        status = sweep_status(session, through=D(2019, 8, 7))
    assert [(p.plan, p.last_swept, p.unswept) for p in status] == [
        (PLAN, D(2019, 8, 5), (D(2019, 8, 6), D(2019, 8, 7))),
        ("cq-twin", D(2019, 8, 6), (D(2019, 8, 7),)),
    ]
    catching_up(url, D(2019, 8, 7))
    assert sweeps(url)[2:] == [(D(2019, 8, 6), PLAN), (D(2019, 8, 7), None)]
    with session_scope(url) as session:
        assert all(not p.unswept for p in sweep_status(session, through=D(2019, 8, 7)))


def test_a_dry_run_catching_up_writes_nothing(url):
    sweep_once(url, as_of=D(2019, 8, 6))
    outcome = catching_up(url, D(2019, 8, 9), dry_run=True)
    assert [o.as_of for o in outcome.caught_up] == [D(2019, 8, 7), D(2019, 8, 8)]
    assert outcome.written and sweeps(url) == [(D(2019, 8, 6), None)]
