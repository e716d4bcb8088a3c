"""The leadership review of the bundled Chongqing plan after its scripted story, pinned at
fixed days; fair blame and the ranking on the made-up county plan (tests/county.py); a plan
without phases; phase readiness; review and digest mails through the outbox.
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
from tasks.review.model import ItemReview, TaskReview
from tasks.sweep.delivery import EmlOutbox
from tasks.work import lifecycle
from tasks.work.actors import Actor

from .conftest import DATA, PLANS, ROOT
from .county import COUNTIES, NEVER, build_county
from .county import PLAN as COUNTY
from .county import PLAN_FILE as COUNTY_FILE

D = dt.date
PLAN = "cq-2019-pilot"
IMPORTED = dt.datetime(2019, 7, 1, tzinfo=dt.UTC)
GOALS_FILE = DATA / "plans" / "goals-2020.yaml"


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


def test_the_ranking_is_by_on_time_rate_with_ties_and_states_its_rule(story_url):
    found = review(story_url, D(2020, 9, 30))
    ranks = {u.name: (u.rank, u.on_time, u.due) for u in found.units}
    # Five units delivered every due item on time: they share the first place.
    firsts = {name for name, (rank, *_) in ranks.items() if rank == 1}
    assert firsts == {"永川区", "沙坪坝区", "市卫生健康委", "市医师协会", "市输血协会"}
    assert (ranks["南岸区"], ranks["委属医疗机构"], ranks["忠县"]) == (
        (6, 6, 7),
        (7, 5, 6),
        (8, 6, 8),
    )
    # Both under an open 督办, both 3 of 8: tied, last.
    assert ranks["武隆区"] == ranks["市卫生计生监督执法局"] == (9, 3, 8)
    wulong = next(u for u in found.units if u.name == "武隆区")
    assert (wulong.own_delays, wulong.overdue_now, wulong.open_escalations) == (5, 2, 2)
    assert found.not_yet_due == ()
    assert "上游" in found.ranking_rule and "按时完成率" in found.ranking_rule


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
    assert (data["units"][-1]["name"], data["units"][-1]["rate"]) == ("武隆区", 37.5)
    assert data["not_yet_due"] == []
    # every item and task an object with its fields named, in their order
    assert {tuple(i) for i in data["items"]} == {ItemReview._fields}
    assert {tuple(t) for t in data["tasks"]} == {TaskReview._fields}
    json.dumps(data, ensure_ascii=False)


def example(url: str, policy: str = ""):  # type: ignore[no-untyped-def]
    """The example plan (docs/example-plan.yaml), with more policy lines, as of 2020-07-10:
    t1 (区卫生健康委, launch) was never done; 南岸区's t3 is in the next phase and names no
    prerequisite; t2 names t1 (depends_on)."""
    path = Path(url.removeprefix("sqlite:///")).with_name("example.yaml")
    path.write_text((ROOT / "docs" / "example-plan.yaml").read_text() + policy, encoding="utf-8")
    create_schema(url)
    with session_scope(url) as session:
        import_plan(session, path, at=IMPORTED)
    with session_scope(url) as session:
        return review_plan(session, "example-2019", D(2020, 7, 10))


def test_the_phase_order_alone_excuses_no_delay(sqlite_url):
    found = example(sqlite_url)
    t3 = next(i for i in found.items if i.task == "t3")
    assert (t3.cause, t3.upstream, t3.forecast_due) == ("own", (), t3.approved_due)
    t2 = {i.unit: i for i in found.items if i.task == "t2"}
    assert t2["fin"].cause == "upstream" and t2["fin"].upstream[0][0] == "t1"  # named in t2
    assert next(i for i in found.items if i.task == "t1").cause == "own"


def test_a_plan_that_says_its_phases_wait_on_each_other_excuses_along_them_and_says_so(
    sqlite_url,
):
    found = example(sqlite_url, "escalation:\n  phase_order_upstream: true\n")
    t3 = next(i for i in found.items if i.task == "t3")
    assert t3.cause == "upstream" and t3.upstream[0][0] == "t1"
    assert t3.forecast_due is not None and t3.forecast_due > t3.approved_due
    assert "前一阶段" in found.ranking_rule
    assert "前一阶段" not in example(sqlite_url.replace("duban.db", "plain.db")).ranking_rule


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
        assert "<svg" in leadership.body.html and "完成" in leadership.body.text
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


# Fair blame and the ranking, on the county plan (tests/county.py) ------------------------------


@pytest.fixture(scope="module")
def county_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The county plan after its whole story, played once for every test here."""
    url = f"sqlite:///{tmp_path_factory.mktemp('county') / 'duban.db'}"
    build_county(url)
    return url


def county(url: str, day: dt.date):  # type: ignore[no-untyped-def]
    with session_scope(url) as session:
        return review_plan(session, COUNTY, day)


def county_with(tmp_path: Path, policy: str, day: dt.date):  # type: ignore[no-untyped-def]
    """The county plan with more policy lines, its story played up to `day`."""
    plan_file = tmp_path / "county.yaml"
    plan_file.write_text(COUNTY_FILE.read_text(encoding="utf-8") + policy, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'policy.db'}"
    build_county(url, until=day, plan_file=plan_file)
    return county(url, day)


def item_of(found, task: str, unit: str):  # type: ignore[no-untyped-def]
    (item,) = [i for i in found.items if (i.task, i.unit_name) == (task, unit)]
    return item


def score_of(found, unit: str):  # type: ignore[no-untyped-def]
    (score,) = [u for u in (*found.units, *found.not_yet_due) if u.name == unit]
    return score


def test_a_late_summary_is_not_excused_by_a_late_task_of_an_earlier_phase(county_url):
    found = county(county_url, D(2021, 7, 30))
    # The hospitals' inspection (implementation phase) is open and late; the summaries are
    # in the final phase but name no prerequisite: their lateness is the counties' own.
    assert item_of(found, "inspect", "市属医院").overdue_workdays > 0
    for unit in ("金沙县", "柳河县"):
        late = item_of(found, "summary", unit)
        assert (late.cause, late.upstream) == ("own", ())


def test_a_named_prerequisite_late_by_another_unit_excuses_the_delay_it_caused(county_url):
    found = county(county_url, D(2021, 7, 30))
    # 石门县 delivered `check` the day the hospitals' late part of `plan` came.
    shimen = item_of(found, "check", "石门县")
    assert (shimen.cause, shimen.upstream, shimen.late_workdays) == ("upstream", (("plan", 26),), 3)
    assert score_of(found, "石门县").upstream_delays == 1


def test_another_units_approved_extension_excuses_nobody(county_url):
    found = county(county_url, D(2021, 7, 30))
    # 白水县 delivered `check` on 04-28, as the commission did `plan` within its extension;
    # the hospitals' late part came on 04-06, too early to excuse 20 working days.
    baishui = item_of(found, "check", "白水县")
    assert item_of(found, "plan", "市卫生健康委").cause == "extension"
    assert (baishui.cause, baishui.late_workdays, baishui.escalated) == ("own", 20, True)


def test_a_co_responsible_units_lateness_is_not_counted_by_default(county_url):
    found = county(county_url, D(2021, 7, 30))
    joint = item_of(found, "joint", "青山县")
    assert (joint.role, joint.cause, joint.late_workdays) == ("co", "supporting", 14)
    qingshan = score_of(found, "青山县")
    assert (qingshan.due, qingshan.on_time, qingshan.own_delays, qingshan.rank) == (1, 1, 0, 1)
    assert qingshan.supporting_delays == 1
    assert "配合单位、参与单位只接收提醒、不予催办，其逾期不计入排名" in found.ranking_rule


def test_co_responsible_units_the_sweep_chases_answer_for_their_lateness(tmp_path):
    found = county_with(tmp_path, "escalation:\n  co_units: chased\n", D(2021, 7, 30))
    assert item_of(found, "joint", "青山县").cause == "own"
    qingshan = score_of(found, "青山县")
    assert (qingshan.due, qingshan.on_time, qingshan.own_delays) == (2, 1, 1)
    assert "逾期后同样予以催办，其逾期计入本单位" in found.ranking_rule


def test_units_are_ranked_by_their_on_time_rate_and_ties_share_a_rank(county_url):
    found = county(county_url, D(2021, 7, 30))
    first = [u for u in found.units if u.rank == 1]
    assert len(first) == 17 and {u.rate for u in first} == {100.0}
    assert {"青山县", "石门县", "市卫生健康委"} <= {u.name for u in first}
    # The next rank counts the units placed before it: 18, shared by seven at 0 of 1.
    eighteenth = sorted(u.name for u in found.units if u.rank == 18)
    assert eighteenth == sorted(["柳河县", *NEVER])
    assert [u.rank for u in found.units] == sorted(u.rank for u in found.units)


def test_a_unit_under_an_open_escalation_never_ranks_above_one_without(county_url):
    found = county(county_url, D(2021, 7, 30))
    under = [u for u in found.units if u.open_escalations]
    assert {u.name for u in under} == {"白水县", "市属医院"}
    assert min(u.rank for u in under) > max(u.rank for u in found.units if not u.open_escalations)
    # 白水县 has the better rate (1 of 2) than the unescalated 柳河县 (0 of 1), and ranks below.
    assert score_of(found, "白水县").rate == 50.0 > score_of(found, "柳河县").rate


def test_units_with_nothing_due_yet_are_listed_apart_not_first(county_url):
    found = county(county_url, D(2021, 3, 15))
    assert [(u.name, u.rank, u.due) for u in found.units] == [("市属医院", 1, 1)]
    apart = {u.name for u in found.not_yet_due}
    assert set(COUNTIES) | {"市卫生健康委"} == apart
    assert all(u.rank == 0 for u in found.not_yet_due)


def test_the_office_and_leadership_are_not_ranked(county_url):
    found = county(county_url, D(2021, 7, 30))
    assert item_of(found, "audit", "联席会议办公室").cause == "own"  # its lateness is shown
    listed = {u.unit for u in (*found.units, *found.not_yet_due)}
    assert not listed & {"office", "leaders"}
    assert "联席会议办公室和领导不参与排名" in found.ranking_rule


def test_what_a_phase_lacks_is_summarised_one_line_per_task(county_url):
    (final,) = county(county_url, D(2021, 7, 30)).phases[1:]
    assert final.missing_summary == (
        "summary 报送年度工作总结：24个单位未办结（已报送待审核18、未启动6），完成时限2021-07-15",
        "实施阶段尚有4项未办结",
    )
    assert (
        len(final.missing) == 25 and "summary 金沙县：未启动，完成时限2021-07-15" in final.missing
    )


# A plan without phases -------------------------------------------------------------------------


def test_a_goal_nobody_holds_is_a_goal_not_green_or_red_work(sqlite_url):
    """到2021年/到2030年 targets: no light before or after their year, not counted as tasks,
    never done; the measures beside them keep theirs."""
    create_schema(sqlite_url)
    with session_scope(sqlite_url) as session:
        import_plan(session, GOALS_FILE, at=IMPORTED)
    with session_scope(sqlite_url) as session:
        found = review_plan(session, "goals-2020", D(2022, 3, 1))
    goals = {t.code: t for t in found.tasks if t.kind == "goal"}
    assert {code: (g.light, g.due, g.units, g.done) for code, g in goals.items()} == {
        "g2021": (None, D(2021, 12, 31), (), False),
        "g2030": (None, D(2030, 12, 31), (), False),
    }
    assert all(t.light is not None for t in found.tasks if t.kind == "measure")
    assert found.counts.tasks == 3  # the three measures; the goals are not work
    assert found.phases == ()
