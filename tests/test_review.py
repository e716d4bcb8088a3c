"""The leadership review of the bundled Chongqing plan after its scripted story, pinned at
fixed days; lateness attribution; phase readiness; review and digest mails through the outbox.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlmodel import select

from duban.replay import replay_story
from schemas.db import create_schema, session_scope
from schemas.tables import OutboxMessage
from tasks.plans.importer import import_plan
from tasks.review.compute import review_plan
from tasks.sweep.delivery import EmlOutbox
from tasks.work import lifecycle
from tasks.work.actors import Actor

from .conftest import PLANS, ROOT

D = dt.date
PLAN = "cq-2019-pilot"
IMPORTED = dt.datetime(2019, 7, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def story_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Chongqing plan after its whole story, replayed once for every test here."""
    folder = tmp_path_factory.mktemp("story")
    url = f"sqlite:///{folder / 'duban.db'}"
    create_schema(url)
    with session_scope(url) as session:
        import_plan(session, PLANS / "chongqing-2019-pilot.yaml", at=IMPORTED)
    replay_story(url, PLANS / "stories" / "chongqing-2019-pilot.yaml", EmlOutbox(folder / "out"))
    return url


def review(url: str, day: dt.date, phase: str | None = None):  # type: ignore[no-untyped-def]
    with session_scope(url) as session:
        return review_plan(session, PLAN, day, phase=phase)


def test_at_the_end_of_the_plan_the_figures_are_these(story_url):
    found = review(story_url, D(2020, 9, 30))
    counts = found.counts
    assert (
        counts.tasks,
        counts.assignments,
        counts.accepted,
        counts.accepted_on_time,
        counts.submitted,
        counts.not_started,
        counts.overdue,
        counts.extended,
    ) == (18, 65, 45, 36, 16, 4, 3, 2)
    assert (counts.completion_pct, counts.on_time_pct) == (69.2, 80.0)
    red = {(i.task, i.unit) for i in found.items if i.light == "red"}
    assert red == {("t09", "wl"), ("t14", "cq-jdzfj"), ("final-summary", "wl")}


def test_the_ranking_counts_own_delays_and_states_its_rule(story_url):
    found = review(story_url, D(2020, 9, 30))
    names = [u.name for u in found.units]
    assert names[:2] == ["永川区", "沙坪坝区"]
    assert names[-2:] == ["武隆区", "市卫生计生监督执法局"]
    assert [u.rank for u in found.units] == list(range(1, len(names) + 1))
    wulong = next(u for u in found.units if u.name == "武隆区")
    assert (wulong.own_delays, wulong.overdue_now) == (5, 2)
    assert "上游" in found.ranking_rule


def test_a_past_day_is_reviewed_as_it_was_then(story_url):
    found = review(story_url, D(2019, 8, 9))
    t06 = {i.unit: i for i in found.items if i.task == "t06"}
    assert t06["na"].state == "submitted" and t06["na"].late_workdays == 7
    assert t06["zx"].state == "not_started" and t06["zx"].light == "red"
    assert t06["zx"].escalated  # reported to leadership two days earlier
    assert found.counts.accepted == 5


def test_an_extension_is_shown_beside_the_original_date(story_url):
    found = review(story_url, D(2020, 9, 30))
    yongchuan = next(i for i in found.items if (i.task, i.unit) == ("t08", "yc"))
    assert (yongchuan.original_due, yongchuan.approved_due, yongchuan.actual) == (
        D(2020, 6, 30),
        D(2020, 8, 31),
        D(2020, 8, 25),
    )
    assert yongchuan.cause == "extension" and yongchuan.light == "green"


def test_phase_readiness_says_what_is_missing(story_url):
    found = review(story_url, D(2020, 9, 30), phase="final_evaluation")
    (final,) = found.phases
    assert not final.ready
    assert "final-summary 武隆区：未启动，完成时限2020-09-15" in final.missing
    launch = review(story_url, D(2020, 9, 30), phase="launch").phases[0]
    assert launch.ready and launch.missing == ()


def test_the_review_serialises_to_json_with_percentages(story_url):
    data = review(story_url, D(2020, 9, 30)).as_json()
    assert data["counts"]["completion_pct"] == 69.2
    assert data["as_of"] == "2020-09-30"
    json.dumps(data, ensure_ascii=False)


def test_a_delay_caused_by_another_units_late_task_is_upstream(sqlite_url):
    create_schema(sqlite_url)
    with session_scope(sqlite_url) as session:
        import_plan(session, ROOT / "docs" / "example-plan.yaml", at=IMPORTED)
    with session_scope(sqlite_url) as session:
        found = review_plan(session, "example-2019", D(2020, 7, 10))
    # t1 (区卫生健康委, launch) was never done, so 南岸区's t3 in the next phase waited on it.
    t3 = next(i for i in found.items if i.task == "t3")
    assert t3.cause == "upstream" and ("t1", t3.upstream[0][1]) == t3.upstream[0]
    assert t3.forecast_due is not None and t3.forecast_due > t3.approved_due
    t1 = next(i for i in found.items if i.task == "t1")
    assert t1.cause == "own"
    ranks = {u.unit: u for u in found.units}
    assert ranks["na"].upstream_delays >= 1 and ranks["na"].rank < ranks["whc"].rank


def test_the_review_of_a_phase_is_mailed_once_and_the_digest_once_a_week(story_url, tmp_path):
    from render.mail import COMPOSER
    from schemas.db import sessions
    from tasks.sweep.digest import queue_office_digest, queue_phase_review
    from tasks.sweep.outbox import deliver_pending

    day, final = D(2020, 9, 30), "final_evaluation"
    with session_scope(story_url) as session:
        first = queue_phase_review(session, PLAN, day, composer=COMPOSER, phase=final)
        again = queue_phase_review(session, PLAN, day, composer=COMPOSER, phase=final)
        digest = queue_office_digest(session, PLAN, D(2020, 9, 28), composer=COMPOSER)
        same_week = queue_office_digest(session, PLAN, D(2020, 9, 30), composer=COMPOSER)
    assert first is not None and again is None
    assert digest is not None and same_week is None
    assert "红灯3项" in digest.subject
    with session_scope(story_url) as session:
        leadership = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "review")).one()
        assert leadership.to_addrs == ["ldxz@cq.example.org"]
        assert "<svg" in leadership.html and "完成" in leadership.text
    report = deliver_pending(
        sessions(story_url), EmlOutbox(tmp_path), now=dt.datetime(2020, 10, 1, tzinfo=dt.UTC)
    )
    assert len(report.delivered) == 2 and len(list(Path(tmp_path).glob("*.eml"))) == 2


def test_lifecycle_changes_after_the_review_day_do_not_leak_into_it(story_url):
    before = review(story_url, D(2020, 9, 29))
    with session_scope(story_url) as session:
        office = Actor("office", "cqwjw-zhjdc", "综合监督处")
        lifecycle.accept(
            session,
            actor=office,
            plan=PLAN,
            task="final-summary",
            unit="南岸区",
            at=dt.datetime(2020, 10, 9, 10, tzinfo=dt.UTC),
        )
    assert review(story_url, D(2020, 9, 29)).counts == before.counts
