"""Mail that follows the work: a decision on a unit's work, made on the web or at the command
line, reaches the unit in its next letter with the reason and the link to the page; a unit with
no letter that day gets one mail with all its decisions; the office's letter of the day lists
what waits for it; a second sweep, or two at once, mails nothing twice; a rest day holds them.

The mails are real: yagmail hands them to an aiosmtpd server, and the tests read what arrived.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from calendars.clock import utc, zone_of
from render.mail import composer_for
from schemas.db import session_scope, sessions
from schemas.tables import ExtensionRequest, FollowUp, OutboxMessage
from tasks.sweep.delivery import EmlOutbox, Transport
from tasks.sweep.outbox import deliver_pending
from tasks.sweep.pipeline import DirectSteps, SweepOutcome, run_sweep
from tasks.work import lifecycle
from tasks.work.actors import Actor
from tasks.work.states import TransitionError

from .conftest import sweep_once
from .test_delivery import Inbox, relay, smtp_server
from .test_web import HOSTILE, assignment_of
from .webworld import MORNING, PLAN, World, build_world, copy_world, logged_in, token_of

D = dt.date
TITLE = "重庆市医疗卫生行业多元化综合监管试点工作方案"
OFFICE = Actor("office", label="office", person="王科长", channel="cli")
WJW, NANAN, ZHJDC = "wjw@cq.example.org", "wjw@na.cq.example.org", "zhjdc@cq.example.org"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The Chongqing plan with its 2019-08-12 sweep done and an account for each role."""
    return build_world(tmp_path_factory.mktemp("world"))


@pytest.fixture
def fresh(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """A copy of the world whose 2019-08-12 letters went out that day (into .eml files)."""
    monkeypatch.chdir(tmp_path)  # no duban.toml of the checkout's for the command line
    copy = copy_world(world, tmp_path)
    deliver_pending(sessions(copy.url), EmlOutbox(tmp_path / "sent"), now=MORNING)
    return copy


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, Transport]]:
    """A real SMTP server and the transport that reaches it."""
    received = Inbox()
    with smtp_server(received) as server:
        yield received, relay(server)


def sweep(world: World, day: dt.date, transport: Transport | None = None) -> SweepOutcome:
    """The morning sweep as `duban serve` runs it: links in every letter, delivered at once."""
    at = utc(dt.datetime.combine(day, dt.time(8, 30), zone_of()))
    steps = DirectSteps(sessions(world.url), composer_for(world.settings), at, transport=transport)
    return run_sweep(steps, as_of=day, plan=PLAN)


def duban(world: World, *args: str) -> None:
    """A command, as the office would type it, on the world's database."""
    from duban.cli import app

    env = {"DUBAN_DATABASE_URL": world.url, "DUBAN_HOME": str(world.settings.home)}
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def mails_to(inbox: Inbox, address: str) -> list[EmailMessage]:
    return [m for m in inbox.messages() if address in str(m["To"])]


def parts(mail: EmailMessage) -> tuple[str, str]:
    """The plain text and the HTML a mail client shows."""
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_a_return_on_the_web_and_an_acceptance_at_the_command_line_reach_the_units_next_letter(
    fresh: World, inbox: tuple[Inbox, Transport]
):
    received, transport = inbox
    t06 = assignment_of(fresh, "t06", "na")
    eve = D(2019, 9, 11)
    nanan, office = logged_in(fresh, "nanan", eve), logged_in(fresh, "office", eve)
    token = token_of(nanan, f"/a/{t06}")
    nanan.post(f"/a/{t06}/submit", data={"csrf": token, "note": "已建立区联席会议制度"})
    office.post(
        f"/a/{t06}/return",
        data={"csrf": token_of(office, f"/a/{t06}"), "reason": "缺少区联席会议成员名单"},
    )
    nanan.post(f"/a/{t06}/submit", data={"csrf": token, "note": "已补充成员名单"})
    duban(fresh, "accept", PLAN, "t06", "--unit", "na", "--as", "office", "--as-of", f"{eve}T16:00")

    outcome = sweep(fresh, D(2019, 9, 12), transport)  # 南岸区 is reminded of its stage summary

    [mail] = mails_to(received, NANAN)
    assert (
        mail["Subject"]
        == f"【工作提醒】{TITLE}：1项即将到期、1项退回、1项验收办结（2019年9月12日）"
    )
    text, html = parts(mail)
    decisions = text[text.index("二、办理情况（2项）") :]
    for line in (
        "（一）辖区试点方案与推进",
        "办理结果：退回",
        "理由：缺少区联席会议成员名单",
        "办理结果：验收通过，予以办结",
        "办理时间：2019年9月11日",
        f"在线办理：查看并办理 http://duban.test/a/{t06}",
    ):
        assert line in decisions, line
    assert decisions.index("退回") < decisions.index("验收通过")  # in the order they were made
    assert html.count(f'<a href="http://duban.test/a/{t06}" data-action="open">') == 2
    assert "退回的事项，请按意见修改完善后重新报送。" in text
    with session_scope(fresh.url) as session:
        recorded = session.exec(select(FollowUp).order_by(FollowUp.id)).all()
    assert [(f.event, f.channel) for f in recorded] == [("returned", "web"), ("accepted", "cli")]
    assert {f.sweep_id for f in recorded} == {outcome.sweep_id} and recorded[0].message_id


def test_a_unit_with_no_letter_that_day_gets_one_mail_with_all_its_decisions_once(
    fresh: World, inbox: tuple[Inbox, Transport]
):
    received, transport = inbox
    t02, t03 = assignment_of(fresh, "t02", "cqwjw"), assignment_of(fresh, "t03", "cqwjw")
    wjw, office = logged_in(fresh, "wjw"), logged_in(fresh, "office")
    token = token_of(wjw, f"/a/{t02}")
    wjw.post(f"/a/{t02}/submit", data={"csrf": token, "note": "例会制度已印发"})
    office.post(f"/a/{t02}/return", data={"csrf": token_of(office, "/office"), "reason": HOSTILE})
    wjw.post(
        f"/a/{t03}/extension",
        data={"csrf": token, "new_due": "2019-12-31", "reason": "等待市政府审定"},
    )
    with session_scope(fresh.url) as session:
        request = session.exec(select(ExtensionRequest.id)).one()
    duban(fresh, "decide", PLAN, str(request), "--approve", "--reason", "同意", "--as", "office")

    sweep(fresh, D(2019, 8, 13), transport)  # no notice for anyone that day

    assert len(received.envelopes) == 1
    [mail] = mails_to(received, WJW)
    assert mail["Subject"] == f"【办理情况】{TITLE}：1项退回、1项同意延期（2019年8月13日）"
    text, html = parts(mail)
    assert f"理由：{HOSTILE}" in text  # the plain part says it as typed
    assert "现完成时限：2019年12月31日（经批准延期）" in text
    assert "<script>window.pwned" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;&lt;img src=x" in html
    for page in (t02, t03):
        assert f'href="http://duban.test/a/{page}"' in html

    again = sweep(fresh, D(2019, 8, 13), transport)
    assert again.followups == [] and len(received.envelopes) == 1
    sweep(fresh, D(2019, 8, 14), transport)
    assert len(mails_to(received, WJW)) == 1  # told once, not every morning


def test_the_offices_letter_of_the_day_lists_what_waits_for_its_decision(
    fresh: World, inbox: tuple[Inbox, Transport]
):
    received, transport = inbox
    t06, t02 = assignment_of(fresh, "t06", "na"), assignment_of(fresh, "t02", "cqwjw")
    nanan, wjw = logged_in(fresh, "nanan"), logged_in(fresh, "wjw")
    nanan.post(
        f"/a/{t06}/extension",
        data={"csrf": token_of(nanan), "new_due": "2019-09-30", "reason": "区里机构改革"},
    )
    wjw.post(f"/a/{t02}/submit", data={"csrf": token_of(wjw), "note": "例会制度已印发"})

    sweep(fresh, D(2019, 8, 13), transport)
    [mail] = mails_to(received, ZHJDC)
    assert mail["Subject"] == f"【待审核事项】{TITLE}：2项待审核（2019年8月13日）"
    text, html = parts(mail)
    asked, handed_in = text.index("申请延期，待审批"), text.index("报送办结，待验收")
    assert asked < handed_in  # oldest first
    for line in (
        "责任单位：南岸区（牵头单位）",
        "申请延期至：2019年9月30日",
        "申请理由：区里机构改革",
        "报送说明：例会制度已印发",
        "提交时间：2019年8月12日（已等待1个工作日）",
        "请及时审核上述事项，作出验收或延期决定。",
    ):
        assert line in text, line
    for page in (t06, t02):
        assert f'<a href="http://duban.test/a/{page}" data-action="open">' in html

    sweep(fresh, D(2019, 8, 13), transport)
    assert len(mails_to(received, ZHJDC)) == 1  # once a day
    sweep(fresh, D(2019, 8, 14), transport)  # the next day's letter has the receipts awaited too
    later = mails_to(received, ZHJDC)[-1]
    assert later["Subject"].startswith("【签收提醒】") and "2项待审核" in later["Subject"]
    assert "提交时间：2019年8月12日（已等待2个工作日）" in parts(later)[0]


def test_a_decision_made_on_a_rest_day_waits_for_the_next_working_morning(fresh: World):
    duban(
        fresh,
        "reassign",
        PLAN,
        "t03",
        "--from",
        "cqwjw",
        "--to",
        "na",
        "--reason",
        "职能调整",
        "--as",
        "office",
        "--as-of",
        "2019-08-17T10:00",  # a Saturday
    )
    for rest in (D(2019, 8, 17), D(2019, 8, 18)):
        assert sweep(fresh, rest).skipped
    with session_scope(fresh.url) as session:
        assert {f.sweep_id for f in session.exec(select(FollowUp))} == {None}

    monday = sweep(fresh, D(2019, 8, 19))
    told = {(f.recipient_code, f.item.event) for f in monday.followups}
    assert told == {("cqwjw", "reassigned_away"), ("na", "reassigned_to")}
    with session_scope(fresh.url) as session:
        letters = {
            m.recipient_code: m
            for m in session.exec(select(OutboxMessage).where(OutboxMessage.kind == "followup"))
        }
    away, to = letters["cqwjw"], letters["na"]
    assert "1项改派他单位" in away.subject and "改由南岸区办理" in away.body.text
    assert "1项改派你单位" in to.subject and "原由市卫生健康委办理" in to.body.text
    assert "改派你单位的事项，请抓紧启动办理。" in to.body.text


def test_a_refused_decision_leaves_nothing_to_mail(fresh: World):
    at = dt.datetime(2019, 8, 12, 9, tzinfo=dt.UTC)
    with pytest.raises(TransitionError), session_scope(fresh.url) as session:
        lifecycle.accept(session, actor=OFFICE, plan=PLAN, task="t02", unit="cqwjw", at=at)
    with session_scope(fresh.url) as session:
        assert session.exec(select(FollowUp)).all() == []


def test_a_dry_run_says_which_decisions_would_go_and_takes_none(fresh: World):
    returned(fresh.url)
    dry = sweep_once(fresh.url, as_of=D(2019, 8, 13), plan=PLAN, dry_run=True)
    assert [(f.recipient_code, f.item.event) for f in dry.followups] == [("cqwjw", "returned")]
    with session_scope(fresh.url) as session:
        assert session.exec(select(FollowUp.sweep_id)).one() is None
    assert sweep_once(fresh.url, as_of=D(2019, 8, 13), plan=PLAN).followups == dry.followups


def returned(url: str) -> None:
    """t02 of 市卫生健康委 submitted and returned, and 南岸区 asking for more time on t06."""
    at = dt.datetime(2019, 8, 12, 9, tzinfo=dt.UTC)
    with session_scope(url) as session:
        unit = lifecycle.resolve_actor(session, PLAN, "cqwjw")
        lifecycle.submit(session, actor=unit, plan=PLAN, task="t02", note="已印发", at=at)
        lifecycle.return_submission(
            session, actor=OFFICE, plan=PLAN, task="t02", unit="cqwjw", reason="缺附件", at=at
        )
        district = lifecycle.resolve_actor(session, PLAN, "na")
        lifecycle.request_extension(
            session,
            actor=district,
            plan=PLAN,
            task="t06",
            new_due=D(2019, 9, 30),
            reason="机构改革",
            at=at,
        )


def sweep_in_process(url: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    barrier.wait(timeout=60)
    outcome = sweep_once(url, as_of=D(2019, 8, 13), plan=PLAN)
    results.put((len(outcome.followups), outcome.messages))


def test_two_sweeps_at_once_mail_each_decision_and_the_queue_once(
    database_url: str, tmp_path: Path
):
    url = build_world(tmp_path, database_url).url
    returned(url)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=sweep_in_process, args=(url, barrier, results)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert sorted(results.get(timeout=5) for _ in workers) == [(0, 0), (1, 2)]
    with session_scope(url) as session:
        letters = session.exec(
            select(OutboxMessage.recipient_code).where(OutboxMessage.kind == "followup")
        ).all()
        followup = session.exec(select(FollowUp)).one()
        carrier = session.get(OutboxMessage, followup.message_id)
    assert sorted(letters) == ["cqwjw", "cqwjw-zhjdc"]  # the unit's decision, the office's queue
    assert carrier is not None and carrier.recipient_code == "cqwjw"
    assert "缺附件" in carrier.body.text
