"""What the pages keep in memory (duban.web.memo) never outlives a change: one server, several
people; a page read, the data changed through every door (the web, the sweep's 签收 from the
command line, a sweep, a re-import), the page read again. And what is kept is never someone's own:
each person sees their name and their CSRF token on a page served from memory. And a list
longer than a page is read as far as the page shows it, and counted."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from duban.web.app import create_app
from duban.web.memo import Memo
from render.mail import composer_for
from schemas.db import session_scope, sessions
from schemas.tables import Assignment, Escalation, Notice, Task, Unit
from tasks.plans.importer import import_plan
from tasks.sweep.outbox import acknowledge
from tasks.sweep.pipeline import DirectSteps, run_sweep
from tasks.work.accounts import add_account
from tasks.work.desk import work_rows
from tasks.work.lifecycle import resolve_actor

from .conftest import PLANS
from .webworld import DAY, MORNING, PASSWORD, PLAN, World, build_world, copy_world, csrf_of


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("world"))


@pytest.fixture
def fresh(world: World, tmp_path: Path) -> World:
    return copy_world(world, tmp_path)


def people(world: World, *usernames: str) -> list[TestClient]:
    """A browser for each person, all served by one app (one memory), as in production."""
    app = create_app(world.settings, fixed_day=DAY)
    browsers = []
    for username in usernames:
        browser = TestClient(app, follow_redirects=False)
        token = csrf_of(browser.get("/login").text)
        answer = browser.post(
            "/login", data={"csrf": token, "username": username, "password": PASSWORD}
        )
        assert answer.status_code == 303, answer.text
        browsers.append(browser)
    return browsers


def assignment_of(world: World, task: str, unit: str) -> int:
    with session_scope(world.url) as session:
        found = session.exec(
            select(Assignment.id)
            .join(Task, Assignment.task_id == Task.id)
            .join(Unit, Assignment.unit_id == Unit.id)
            .where(Task.code == task, Unit.code == unit)
        ).one()
        return int(found)


def token(html: str) -> str:
    found = re.search(r'<meta name="csrf" content="([^"]+)"', html)
    assert found
    return found.group(1)


def group_of(page: str, assignment: int) -> str:
    """The group of /my (overdue, week, later, done) that lists the assignment."""
    heading = ""
    for line in page.splitlines():
        if found := re.search(r'<h2 id="group-(\w+)"', line):
            heading = found.group(1)
        if f'data-assignment="{assignment}"' in line:
            return heading
    raise AssertionError(f"assignment {assignment} is not on the page")


def red_count(review: str) -> int:
    found = re.search(r"<summary>红灯 (\d+)</summary>", review)
    return int(found.group(1)) if found else 0


def test_a_submission_and_its_acceptance_show_at_once_on_every_page(fresh: World):
    wjw, office, leader = people(fresh, "wjw", "office", "leader")
    own = assignment_of(fresh, "t02", "cqwjw")
    before = {
        "my": wjw.get("/my").text,
        "desk": office.get("/office").text,
        "review": leader.get(f"/review/{PLAN}").text,
    }
    assert "例会制度已印发" not in before["desk"]
    assert group_of(before["my"], own) != "done"
    sent = wjw.post(
        f"/a/{own}/submit", data={"csrf": token(before["my"]), "note": "例会制度已印发"}
    )
    assert sent.status_code == 303
    assert "例会制度已印发" in office.get("/office").text  # the desk's queue, kept, is renewed
    accepted = office.post(f"/a/{own}/accept", data={"csrf": token(before["desk"])})
    assert accepted.status_code == 303
    assert group_of(wjw.get("/my").text, own) == "done"
    assert "例会制度已印发" not in office.get("/office").text
    assert red_count(leader.get(f"/review/{PLAN}").text) < red_count(before["review"])


def test_an_acknowledgement_from_the_command_line_leaves_the_desk_at_once(fresh: World):
    (office,) = people(fresh, "office")
    with session_scope(fresh.url) as session:
        notice = session.exec(
            select(Notice).where(Notice.task_code == "t02", Notice.recipient_code == "cqwjw")
        ).one()
    receipt = notice.receipt_code or ""
    assert receipt in office.get("/office").text
    with session_scope(fresh.url) as session:  # as `duban ack` does: no audit event
        actor = resolve_actor(session, PLAN, "cqwjw")
        acknowledge(session, code=receipt, actor=actor, at=MORNING + dt.timedelta(hours=2))
    assert receipt not in office.get("/office").text


def test_a_sweep_of_every_plan_shows_its_escalations_at_once(fresh: World):
    (office,) = people(fresh, "office")
    office.get("/office")
    later = DAY + dt.timedelta(days=60)
    steps = DirectSteps(sessions(fresh.url), composer_for(fresh.settings), at=MORNING)
    run_sweep(steps, as_of=later, plan=None)  # a sweep of every plan: its plan_code is None
    with session_scope(fresh.url) as session:
        open_now = session.exec(select(Escalation).where(col(Escalation.closed_on).is_(None)))
        expected = {(e.task_code, e.unit_code, e.opened_on) for e in open_now}
    assert any(opened == later for _, _, opened in expected)
    desk = office.get("/office").text
    for task, unit, opened in expected:
        assert f"<td>{opened}</td><td>{task}</td><td>{unit}</td>" in desk


def test_a_re_import_shows_the_plans_new_words_at_once(fresh: World, tmp_path: Path):
    (wjw,) = people(fresh, "wjw")
    assert "理顺内部监管职责" in wjw.get("/my").text
    changed = tmp_path / "plan.yaml"
    text = (PLANS / "chongqing-2019-pilot.yaml").read_text(encoding="utf-8")
    changed.write_text(text.replace("理顺内部监管职责", "理顺内部监管和监督职责"), "utf-8")
    with session_scope(fresh.url) as session:
        import_plan(session, changed, at=MORNING + dt.timedelta(days=1))
    page = wjw.get("/my").text
    assert "理顺内部监管和监督职责" in page and "理顺内部监管职责" not in page


def test_pages_served_from_memory_carry_each_persons_own_name_and_token(fresh: World):
    with session_scope(fresh.url) as session:
        add_account(
            session,
            username="office2",
            name="第二位 姓名",
            role="office",
            password=PASSWORD,
            at=MORNING,
        )
    first, second = people(fresh, "office", "office2")
    for path in ("/office", f"/review/{PLAN}"):
        mine, theirs = first.get(path).text, second.get(path).text
        assert "office 姓名" in mine and "第二位 姓名" not in mine
        assert "第二位 姓名" in theirs and "office 姓名" not in theirs
        assert csrf_of(mine) != csrf_of(theirs)
        assert csrf_of(mine) == token(first.get("/office").text)  # the session's own token


def test_english_readers_get_the_list_in_english_from_the_same_memory(world: World):
    zh, en = people(world, "wjw", "wjw")
    en.cookies.set("lang", "en")
    assert "已逾期" in zh.get("/my").text
    english = en.get("/my").text
    assert "Overdue" in english and "已逾期" not in english


def test_the_filtered_list_reads_the_rows_it_shows_and_counts_the_rest(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("duban.web.office.SHOWN", 3)
    (office,) = people(world, "office")
    with session_scope(world.url) as session:
        total = len(work_rows(session, plan=PLAN, state="not_started"))
    assert total > 3
    page = office.get(f"/office?plan={PLAN}&state=not_started").text
    listed = page.split('id="filtered"', 1)[1].split("</table>", 1)[0]
    assert listed.count("<tr>") == 3
    assert f"+{total - 3} — " in page


def test_ten_requests_at_once_compute_once_and_wait_for_it():
    memo: Memo = Memo(size=4)
    computed = []

    def slow() -> str:
        computed.append(1)
        time.sleep(0.2)
        return "review"

    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(memo.get("plan", (1, 0, 0), slow)))
        for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["review"] * 10 and len(computed) == 1


def test_a_result_from_older_data_never_replaces_a_newer_one():
    memo: Memo = Memo(size=4)
    assert memo.get("plan", (5, 0, 0), lambda: "new") == "new"
    assert memo.get("plan", (4, 0, 0), lambda: "old") == "old"  # a request that began earlier
    assert memo.get("plan", (5, 0, 0), lambda: "again") == "new"
    assert memo.get("plan", (5, 1, 0), lambda: "after a sweep") == "after a sweep"


def test_the_memory_holds_at_most_its_size_forgetting_the_oldest():
    memo: Memo = Memo(size=2)
    for key in ("a", "b", "c"):
        memo.get(key, (1, 0, 0), lambda key=key: key)  # type: ignore[misc]
    assert memo.get("b", (1, 0, 0), lambda: "again") == "b"
    assert memo.get("a", (1, 0, 0), lambda: "again") == "again"
