"""The deadline sweep on the bundled Chongqing plan: who is told what at which level on fixed
days, exactly once, and what happens when delivery fails or a sweep runs twice."""

from __future__ import annotations

import datetime as dt
import email
import multiprocessing
import re
import time
from collections import Counter
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from schemas.db import create_schema, engine_for, session_scope, sessions
from schemas.tables import Escalation, Notice, Occurrence, OutboxMessage, Unit
from tasks.plans.importer import import_plan
from tasks.sweep import pipeline
from tasks.sweep.delivery import DeliveryError, EmlOutbox, OutgoingMail
from tasks.sweep.outbox import acknowledge, deliver_pending
from tasks.sweep.pipeline import evaluate, open_escalations, read_open_work
from tasks.work import lifecycle
from tasks.work.actors import Actor

from .conftest import PLANS, sweep_once, with_the_pilot

D = dt.date
PLAN = "cq-2019-pilot"
NOW = dt.datetime(2019, 8, 1, 9, tzinfo=dt.UTC)
OFFICE = Actor("office", "cqwjw-zhjdc", "综合监督处")


@pytest.fixture
def url(database_url: str) -> str:
    return with_the_pilot(database_url, at=NOW)


def told(outcome) -> Counter:  # type: ignore[no-untyped-def]
    return Counter((n.recipient_code, n.level, n.item.task_code) for n in outcome.written)


def test_five_working_days_before_the_launch_deadline_units_are_reminded(url):
    outcome = sweep_once(url, at=NOW, as_of=D(2019, 7, 24))
    assert told(outcome) == Counter(
        {
            ("cqwjw", "reminder", "t01"): 1,
            ("cqwjw", "reminder", "t02"): 1,
            **{(d, "reminder", "t06"): 1 for d in ("spb", "na", "yc", "wl", "zx")},
        }
    )
    assert outcome.messages == 6  # the commission's two items share one mail


def test_the_day_after_the_deadline_leads_are_urged_with_the_office_in_copy(url):
    outcome = sweep_once(url, at=NOW, as_of=D(2019, 8, 1))
    levels = Counter((n.level, n.in_copy) for n in outcome.written)
    assert levels == {("urge", False): 7, ("urge", True): 7}
    assert {n.recipient_code for n in outcome.written if n.in_copy} == {"cqwjw-zhjdc"}
    with session_scope(url) as session:
        mail = session.exec(select(OutboxMessage).where(OutboxMessage.recipient_code == "na")).one()
        assert mail.cc_addrs == [] and "催办" in mail.subject  # the office has its own letter


def test_five_days_late_is_supervised_and_on_the_critical_path_reported(url):
    outcome = sweep_once(url, at=NOW, as_of=D(2019, 8, 7))
    primary = Counter(
        (n.recipient_code, n.level, n.item.task_code, n.item.unit_code)
        for n in outcome.written
        if not n.in_copy
    )
    # t01 and t06 are on the critical path (t01 → t06 → t11 → final summary): 通报 after 5
    # working days, to leadership, and the unit's 督办单 the ladder reaches on the way; t02 is
    # not: 督办 to the commission itself.
    assert primary == Counter(
        {
            ("cq-zhjg-ldxz", "report", "t01", "cqwjw"): 1,
            **{("cq-zhjg-ldxz", "report", "t06", d): 1 for d in ("spb", "na", "yc", "wl", "zx")},
            ("cqwjw", "supervise", "t01", "cqwjw"): 1,
            **{(d, "supervise", "t06", d): 1 for d in ("spb", "na", "yc", "wl", "zx")},
            ("cqwjw", "supervise", "t02", "cqwjw"): 1,
        }
    )
    assert outcome.escalations_opened == 7
    assert all(n.receipt_code for n in outcome.written if not n.in_copy)
    with session_scope(url) as session:
        escalation = session.exec(select(Escalation).where(Escalation.task_code == "t02")).one()
        assert escalation.overdue_workdays == 5 and escalation.original_due == D(2019, 7, 31)


def test_the_office_reads_one_letter_a_day_listing_every_item_it_is_copied_on(url):
    outcome = sweep_once(url, at=NOW, as_of=D(2019, 8, 1))
    with session_scope(url) as session:
        mails = session.exec(select(OutboxMessage)).all()
        assert all(m.cc_addrs == [] for m in mails)  # no unit's letter is copied to anyone
        [office] = [m for m in mails if m.recipient_code == "cqwjw-zhjdc"]
        copies = session.exec(select(Notice).where(Notice.message_id == office.id)).all()
    assert len(copies) == 7 and all(n.in_copy for n in copies)
    assert outcome.messages == 7  # six units' letters and the office's one
    # grouped by level and unit: every unit whose item it is copied on is named
    units = ["市卫生健康委", "沙坪坝区", "南岸区", "永川区", "武隆区", "忠县"]
    assert all(name in office.body.text for name in units)


def test_letters_written_a_few_at_a_time_each_carry_their_own_recipients_notices(url, monkeypatch):
    """The letters are written in chunks and let go (memory); a notice must still point at
    the letter of its own recipient, whichever chunk that letter was in."""
    monkeypatch.setattr(pipeline, "LETTERS_AT_ONCE", 2)
    outcome = sweep_once(url, at=NOW, as_of=D(2019, 8, 1))
    with session_scope(url) as session:
        mails = {m.id: m for m in session.exec(select(OutboxMessage)).all()}
        notices = session.exec(select(Notice)).all()
    assert outcome.messages == len(mails) == 7  # four chunks
    assert len(notices) == len(outcome.written) > len(mails)
    assert all(mails[n.message_id].recipient_code == n.recipient_code for n in notices)
    assert {n.message_id for n in notices} == set(mails)


def test_each_letter_is_stored_with_its_own_text_at_the_sweeps_instant(url, monkeypatch):
    """Letters are inserted a chunk at a time and their texts stored by the ids the inserts
    return: each text must land on its own recipient's letter, stamped when the sweep ran."""
    monkeypatch.setattr(pipeline, "LETTERS_AT_ONCE", 2)
    sweep_once(url, at=NOW, as_of=D(2019, 8, 1))
    with session_scope(url) as session:
        names = {u.code: u.name for u in session.exec(select(Unit)).all()}
        mails = session.exec(select(OutboxMessage)).all()
        assert len(mails) == 7
        for mail in mails:
            assert mail.created_at == NOW
            assert mail.body.text.startswith(names[mail.recipient_code])
            assert f'<p style="margin:8px 0;">{names[mail.recipient_code]}' in mail.body.html


def test_a_report_to_leadership_does_not_skip_the_units_supervision_order(url):
    # t01 and t06 are on the critical path: 通报 after 5 working days, as early as 督办
    first = sweep_once(url, at=NOW, as_of=D(2019, 8, 7))
    to_units = Counter(
        (n.level, n.in_copy)
        for n in first.written
        if n.recipient_code == n.item.unit_code and n.item.task_code in ("t01", "t06")
    )
    assert to_units == {("supervise", False): 6, ("report", True): 6}
    assert all(n.receipt_code for n in first.written if n.level == "supervise" and not n.in_copy)
    later = sweep_once(url, at=NOW, as_of=D(2019, 8, 8))
    assert not any(n.level == "supervise" for n in later.written)  # issued once


def test_a_first_sweep_past_every_rung_tells_the_unit_too(url):
    outcome = sweep_once(url, at=NOW, as_of=D(2019, 8, 21))  # t02 15 working days late
    told_commission = {
        (n.level, n.in_copy)
        for n in outcome.written
        if n.item.task_code == "t02" and n.recipient_code == "cqwjw"
    }
    assert told_commission == {("supervise", False), ("report", True)}


def test_receipt_codes_cannot_be_worked_out_from_what_the_plan_publishes(url, tmp_path):
    # the same plan swept the same day in a second database: codes derived from the item,
    # its due date and the recipient would come out the same, and anyone could make them
    twin = f"sqlite:///{tmp_path / 'twin.db'}"
    create_schema(twin)
    with session_scope(twin) as session:
        import_plan(session, PLANS / "chongqing-2019-pilot.yaml", at=NOW)
    codes = [
        {n.dedupe_key: n.receipt_code for n in sweep_once(db, at=NOW, as_of=D(2019, 8, 7)).written}
        for db in (url, twin)
    ]
    issued = {key for key, code in codes[0].items() if code}
    assert issued and all(codes[0][key] != codes[1][key] for key in issued)
    assert all(re.fullmatch(r"DB[0-9A-F]{10}", codes[0][key] or "") for key in issued)


def test_a_plan_adopted_under_way_starts_overdue_items_at_the_first_rung(database_url, tmp_path):
    adopted = tmp_path / "adopted.yaml"
    text = (PLANS / "chongqing-2019-pilot.yaml").read_text(encoding="utf-8")
    adopted.write_text(
        text.replace("\nplan:\n", "\nplan:\n  supervise_from: 2019-09-02\n", 1), encoding="utf-8"
    )
    create_schema(database_url)
    with session_scope(database_url) as session:
        import_plan(session, adopted, at=NOW)
    assert sweep_once(database_url, at=NOW, as_of=D(2019, 8, 21)).written == []
    first = sweep_once(database_url, at=NOW, as_of=D(2019, 9, 2))  # t01, t02, t06 late since July
    late = {n.level for n in first.written if n.item.task_code in ("t01", "t02", "t06")}
    assert late == {"urge"}
    assert {n.overdue_workdays for n in first.written if n.item.task_code == "t02"} == {23}
    week = sweep_once(database_url, at=NOW, as_of=D(2019, 9, 9))  # then a rung at a time
    assert ("cqwjw", "supervise", "t02") in told(week)


def test_letters_name_no_internal_ids_or_system_words(url):
    sweep_once(url, at=NOW, as_of=D(2019, 8, 7))  # 通报, 督办单, copies, blocked tasks
    with session_scope(url) as session:
        texts = [m.body.text + m.body.html for m in session.exec(select(OutboxMessage))]
    assert texts
    for text in texts:
        assert not re.search(
            r"(?<![\w-])t\d\d(?!\w)|-summary|读作|触发规则|关键路径|上游延误", text
        )


def test_every_letter_says_whom_to_call_at_the_office(database_url, tmp_path):
    named = tmp_path / "named.yaml"
    text = (PLANS / "chongqing-2019-pilot.yaml").read_text(encoding="utf-8")
    liaison = "  members:\n    - unit: 综合监督处\n      name: 李明\n      phone: 023-67700000\n"
    named.write_text(text.replace("  members:\n", liaison, 1), encoding="utf-8")
    create_schema(database_url)
    with session_scope(database_url) as session:
        import_plan(session, named, at=NOW)
    sweep_once(database_url, at=NOW, as_of=D(2019, 7, 24))
    with session_scope(database_url) as session:
        mails = session.exec(select(OutboxMessage)).all()
    assert mails and all("联系人：李明，联系电话：023-67700000" in m.body.text for m in mails)


def test_a_sweep_that_missed_days_sends_only_the_highest_rung_now_due(url):
    outcome = sweep_once(url, at=NOW, as_of=D(2019, 8, 2))
    assert {n.level for n in outcome.written} == {"urge"}
    assert not any(n.level == "reminder" for n in outcome.written)


def test_running_the_same_sweep_twice_sends_nothing_new(url):
    first = sweep_once(url, at=NOW, as_of=D(2019, 8, 1))
    second = sweep_once(url, at=NOW, as_of=D(2019, 8, 1))
    assert first.written and second.written == [] and second.messages == 0


def test_no_sweep_on_a_holiday_and_one_on_a_makeup_sunday(url):
    holiday = sweep_once(url, at=NOW, as_of=D(2019, 10, 1))
    assert (
        holiday.written == [] and holiday.skipped == f"2019-10-01 is not a working day for {PLAN}"
    )
    makeup = sweep_once(url, at=NOW, as_of=D(2019, 9, 29))  # Sunday, worked for National Day
    assert {(n.level, n.item.task_code) for n in makeup.written} >= {("reminder", "t03")}


def test_a_rest_day_reads_the_plans_calendars_and_none_of_their_work(url):
    """A sweep on a day off everywhere leaves before reading a task or an assignment."""
    engine, read = engine_for(url), []

    def remember(_conn, _cursor, statement, *_):  # type: ignore[no-untyped-def]
        read.append(statement.lower())

    event.listen(engine, "before_cursor_execute", remember)
    try:
        holiday = sweep_once(url, at=NOW, as_of=D(2019, 10, 1))
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert holiday.skipped == f"2019-10-01 is not a working day for {PLAN}"
    assert any(re.search(r'from "?plan\b', statement) for statement in read)
    assert not any(re.search(r"\b(task|assignment|notice|unit)\b", s) for s in read)


def test_acceptance_stops_the_ladder_and_closes_the_escalation(url):
    sweep_once(url, at=NOW, as_of=D(2019, 8, 7))
    at = dt.datetime(2019, 8, 7, 15, tzinfo=dt.UTC)
    with session_scope(url) as session:
        who = lifecycle.resolve_actor(session, PLAN, "市卫生健康委")
        lifecycle.submit(session, actor=who, plan=PLAN, task="t02", note="done", at=at)
        lifecycle.accept(session, actor=OFFICE, plan=PLAN, task="t02", unit="cqwjw", at=at)
    later = sweep_once(url, at=NOW, as_of=D(2019, 8, 8))
    assert later.escalations_closed == 1
    assert not any(n.item.task_code == "t02" for n in later.written)
    with session_scope(url) as session:
        closed = session.exec(select(Escalation).where(Escalation.task_code == "t02")).one()
        assert (closed.closed_on, closed.resolution) == (D(2019, 8, 8), "accepted")


def test_an_approved_extension_starts_a_new_ladder_for_the_new_date(url):
    sweep_once(url, at=NOW, as_of=D(2019, 8, 7))
    at = dt.datetime(2019, 8, 7, 15, tzinfo=dt.UTC)
    with session_scope(url) as session:
        who = lifecycle.resolve_actor(session, PLAN, "忠县")
        request = lifecycle.request_extension(
            session, actor=who, plan=PLAN, task="t06", new_due=D(2019, 8, 30), reason="换届", at=at
        )
        lifecycle.decide_extension(
            session,
            plan=PLAN,
            actor=OFFICE,
            request_id=request.id,
            approve=True,
            reason="同意",
            at=at,
        )
    after = sweep_once(url, at=NOW, as_of=D(2019, 8, 8))
    assert after.escalations_closed == 1
    assert not any(n.item.unit_code == "zx" for n in after.written)
    reminded = sweep_once(url, at=NOW, as_of=D(2019, 8, 23))
    assert ("zx", "reminder", "t06") in told(reminded)


def test_an_unacknowledged_supervision_notice_is_flagged_to_the_office(url):
    sweep_once(url, at=NOW, as_of=D(2019, 8, 7))
    with session_scope(url) as session:
        [code] = set(
            session.exec(
                select(Notice.receipt_code).where(Notice.level == "report", ~Notice.in_copy)
            )
        )
        acknowledge(  # leadership's letter of six 通报: one code
            session,
            code=code or "",
            actor=Actor("leadership", "cq-zhjg-ldxz", "领导小组"),
            at=dt.datetime(2019, 8, 8, tzinfo=dt.UTC),
        )
    flagged = sweep_once(url, at=NOW, as_of=D(2019, 8, 9))
    unacked = [
        (n.recipient_code, n.item.task_code, n.item.unit_code)
        for n in flagged.written
        if n.level == "unacknowledged"
    ]
    # the seven 督办单 (t01 and t02 to the commission, t06 to the five districts); no 通报
    assert sorted(unacked) == sorted(
        [
            ("cqwjw-zhjdc", "t01", "cqwjw"),
            ("cqwjw-zhjdc", "t02", "cqwjw"),
            *(("cqwjw-zhjdc", "t06", d) for d in ("spb", "na", "yc", "wl", "zx")),
        ]
    )


def test_a_letter_has_one_receipt_code_for_all_its_supervision_orders_and_reports(url):
    sweep_once(url, at=NOW, as_of=D(2019, 8, 7))
    with session_scope(url) as session:
        receipted = session.exec(select(Notice).where(col(Notice.receipt_code).is_not(None))).all()
        codes: dict[int | None, set[str | None]] = {}
        for notice in receipted:
            codes.setdefault(notice.message_id, set()).add(notice.receipt_code)
        assert all(len(letter) == 1 for letter in codes.values())
        leadership = next(n for n in receipted if n.recipient_code == "cq-zhjg-ldxz")
        acknowledge(
            session,
            code=leadership.receipt_code or "",
            actor=Actor("leadership", "cq-zhjg-ldxz", "领导小组"),
            at=dt.datetime(2019, 8, 8, tzinfo=dt.UTC),
        )
    with session_scope(url) as session:
        reports = session.exec(select(Notice).where(Notice.recipient_code == "cq-zhjg-ldxz")).all()
    assert len(reports) == 6 and all(n.acknowledged_at for n in reports)  # one code, six 通报


def test_dry_run_shows_what_would_be_sent_and_writes_nothing(url):
    dry = sweep_once(url, at=NOW, as_of=D(2019, 8, 1), dry_run=True)
    assert len(dry.written) == 14
    with session_scope(url) as session:
        assert session.exec(select(Notice)).all() == []
        assert session.exec(select(OutboxMessage)).all() == []


def test_delivery_writes_readable_eml_files(url, tmp_path):
    sweep_once(url, at=NOW, as_of=D(2019, 8, 1))
    report = deliver_pending(sessions(url), EmlOutbox(tmp_path), now=NOW)
    files = sorted(tmp_path.glob("*.eml"))
    assert len(report.delivered) == len(files) == 7  # six units (the commission's two items
    # share one) and the office's letter of its copies
    messages = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    to_na = next(m for m in messages if str(m["To"]) == "wjw@na.cq.example.org")
    assert "催办" in str(to_na["Subject"]) and to_na["Cc"] is None
    assert "辖区试点方案与推进" in to_na.get_body(("plain",)).get_content()


class FlakySmtp:
    """A transport that is down for the first `down` sends, like an SMTP outage."""

    def __init__(self, folder: Path, down: int) -> None:
        self.inner, self.down, self.sent = EmlOutbox(folder), down, []

    def send(self, mail: OutgoingMail) -> dict[str, tuple[int, str]]:
        if self.down > 0:
            self.down -= 1
            raise DeliveryError("connection refused")
        self.sent.append(mail.message_id)
        return self.inner.send(mail)


def test_smtp_down_then_back_loses_nothing_and_doubles_nothing(url, tmp_path):
    sweep_once(url, at=NOW, as_of=D(2019, 8, 1))
    flaky = FlakySmtp(tmp_path, down=7)
    first = deliver_pending(sessions(url), flaky, now=NOW)
    assert first.delivered == [] and len(first.failed) == 7
    too_soon = deliver_pending(sessions(url), flaky, now=NOW + dt.timedelta(minutes=1))
    assert too_soon.delivered == [] and too_soon.failed == []  # backing off
    back = deliver_pending(sessions(url), flaky, now=NOW + dt.timedelta(minutes=3))
    assert len(back.delivered) == 7 and len(set(flaky.sent)) == len(flaky.sent) == 7
    assert deliver_pending(sessions(url), flaky, now=NOW + dt.timedelta(hours=1)).delivered == []


def test_a_crash_between_outbox_and_delivery_delivers_once_on_the_next_run(url, tmp_path):
    sweep_once(url, at=NOW, as_of=D(2019, 8, 1))  # written; the process "dies" before delivering
    outbox = EmlOutbox(tmp_path)
    assert len(deliver_pending(sessions(url), outbox, now=NOW).delivered) == 7
    assert deliver_pending(sessions(url), outbox, now=NOW).delivered == []
    assert len(list(tmp_path.glob("*.eml"))) == 7


def test_a_claim_abandoned_mid_send_is_taken_again_after_the_lease(url, tmp_path):
    from tasks.sweep.outbox import (
        _claim,  # the first half of a delivery, as a dying worker leaves it
    )

    sweep_once(url, at=NOW, as_of=D(2019, 8, 1))
    with session_scope(url) as session:
        first = session.exec(select(OutboxMessage.id).order_by(OutboxMessage.id)).first()
    assert _claim(sessions(url), first, NOW) is not None
    assert len(deliver_pending(sessions(url), EmlOutbox(tmp_path), now=NOW).delivered) == 6
    later = deliver_pending(sessions(url), EmlOutbox(tmp_path), now=NOW + dt.timedelta(minutes=11))
    assert later.delivered == [first]


def sweep_in_process(url: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    barrier.wait(timeout=60)
    outcome = sweep_once(url, at=NOW, as_of=D(2019, 8, 7))
    results.put(len(outcome.written))


def test_two_sweeps_at_once_write_each_notice_once(url):
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=sweep_in_process, args=(url, barrier, results)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    counts = sorted(results.get(timeout=5) for _ in workers)
    with session_scope(url) as session:
        notices = session.exec(select(Notice)).all()
        messages = session.exec(select(OutboxMessage)).all()
    assert counts[0] == 0 and counts[1] == len(notices) == 26
    assert len({n.dedupe_key for n in notices}) == len(notices)
    assert len(messages) == 8  # leadership, the office, the commission and the five districts


def deliver_in_process(url: str, folder: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    barrier.wait(timeout=60)
    report = deliver_pending(sessions(url), EmlOutbox(Path(folder)), now=NOW)
    results.put(report.delivered)


def test_two_workers_delivering_at_once_send_each_message_once(url, tmp_path):
    sweep_once(url, at=NOW, as_of=D(2019, 8, 1))
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(
            target=deliver_in_process, args=(url, str(tmp_path / f"w{i}"), barrier, results)
        )
        for i in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    delivered = [results.get(timeout=5) for _ in workers]
    both = delivered[0] + delivered[1]
    assert len(both) == len(set(both)) == 7
    assert len(list(tmp_path.rglob("*.eml"))) == 7


def test_a_real_smtp_server_down_then_back_gets_each_notice_once(url):
    from aiosmtpd.controller import Controller

    from tasks.sweep.delivery import SmtpTransport

    from .test_delivery import Inbox, free_port

    sweep_once(url, at=NOW, as_of=D(2019, 8, 1))
    port = free_port()
    relay = SmtpTransport(host="127.0.0.1", port=port, user=None, password=None)
    down = deliver_pending(sessions(url), relay, now=NOW)
    assert down.delivered == [] and len(down.failed) == 7
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        back = deliver_pending(sessions(url), relay, now=NOW + dt.timedelta(minutes=3))
        again = deliver_pending(sessions(url), relay, now=NOW + dt.timedelta(hours=1))
    finally:
        server.stop()
    assert len(back.delivered) == 7 and again.delivered == []
    received = inbox.messages()
    assert len(received) == 7 == len({m["Message-ID"] for m in received})
    assert all("催办" in str(m["Subject"]) for m in received)


def test_waiving_a_recurring_item_closes_its_occurrence_escalations(url):
    stage = D(2019, 9, 27)  # the first stage summaries (9月20日) are 5 working days late
    sweep_once(url, at=NOW, as_of=stage)
    with session_scope(url) as session:
        opened = session.exec(
            select(Escalation).where(
                Escalation.task_code == "stage-summary", Escalation.unit_code == "na"
            )
        ).all()
        assert len(opened) == 1 and opened[0].occurrence_id is not None
        lifecycle.close(
            session,
            actor=OFFICE,
            plan=PLAN,
            task="stage-summary",
            unit="南岸区",
            how="waive",
            reason="并入区总结",
            at=dt.datetime(2019, 9, 27, 15, tzinfo=dt.UTC),
        )
    later = sweep_once(url, at=NOW, as_of=D(2019, 9, 29))
    assert later.escalations_closed == 1
    with session_scope(url) as session:
        closed = session.exec(select(Escalation).where(Escalation.id == opened[0].id)).one()
        assert closed.resolution == "waived: 并入区总结"


def test_the_database_keeps_one_open_escalation_per_item_and_due_date(url):
    """Whatever writes them: a second open escalation of the same item and due date is refused,
    for an assignment and for one dated occurrence alike; closed ones may repeat."""
    sweep_once(url, at=NOW, as_of=D(2019, 8, 7))
    with session_scope(url) as session:
        first = session.exec(select(Escalation).order_by(Escalation.id)).first()
        assert first is not None and first.occurrence_id is None
        twin = first.model_copy(update={"id": None, "opened_on": D(2019, 8, 8)})
    with pytest.raises(IntegrityError), session_scope(url) as session:
        session.add(Escalation.model_validate(twin.model_dump()))
    with session_scope(url) as session:
        occurrence = (
            session.exec(
                select(Occurrence).where(Occurrence.assignment_id == first.assignment_id)
            ).first()
            or session.exec(select(Occurrence)).first()
        )
        assert occurrence is not None
        dated = {**twin.model_dump(), "assignment_id": occurrence.assignment_id}
        dated |= {"occurrence_id": occurrence.id, "due": occurrence.due}
        session.add(Escalation.model_validate(dated))
    with pytest.raises(IntegrityError), session_scope(url) as session:
        session.add(Escalation.model_validate(dated))
    with session_scope(url) as session:  # closed, the same item may be escalated again later
        session.add(Escalation.model_validate({**dated, "closed_on": D(2019, 8, 9)}))
        session.add(Escalation.model_validate({**dated, "closed_on": D(2019, 8, 10)}))


def test_two_sweeps_of_different_days_at_once_open_one_escalation(postgres_url):
    """The sweep of 8 August has looked for open escalations and found none; before it writes,
    the sweep of 9 August (which found none either) commits the escalations it opened. The
    first then retries and takes them over instead of opening each a second time."""
    create_schema(postgres_url)
    with session_scope(postgres_url) as session:
        import_plan(session, PLANS / "chongqing-2019-pilot.yaml", at=NOW)
        contexts, items, _ = read_open_work(session, as_of=D(2019, 8, 9))
    other_day = evaluate(items, contexts, D(2019, 8, 9))
    engine = engine_for(postgres_url)
    ran: list[str | int] = []

    def the_other_sweep_commits_first(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        if ran or "FROM escalation" not in statement or "assignment_id IN" not in statement:
            return
        ran.append("started")  # once: the other sweep's own look must not start a third
        with session_scope(postgres_url) as other:
            ran.append(open_escalations(other, other_day, contexts, D(2019, 8, 9)))

    event.listen(engine, "after_cursor_execute", the_other_sweep_commits_first)
    try:
        outcome = sweep_once(postgres_url, at=NOW, as_of=D(2019, 8, 8))
    finally:
        event.remove(engine, "after_cursor_execute", the_other_sweep_commits_first)
    assert ran == ["started", 7] and outcome.escalations_opened == 0
    with session_scope(postgres_url) as session:
        rows = session.exec(select(Escalation)).all()
    assert len(rows) == 7
    assert len({(r.assignment_id, r.occurrence_id, r.due) for r in rows}) == 7


def test_letters_quote_the_task_and_word_ongoing_work_by_its_report_day(url):
    """t04 is 持续开展: its quarterly report is due on 2019-09-30, not the work (#11)."""
    outcome = sweep_once(url, at=NOW, as_of=D(2019, 9, 30))
    ongoing = [n.content for n in outcome.written if n.item.task_code == "t04"]
    assert ongoing and all(c.ongoing and c.why == "今日为本次进展报送日" for c in ongoing)
    with session_scope(url) as session:
        texts = [m.body.text for m in session.exec(select(OutboxMessage))]
    assert texts and all("工作任务：" in text for text in texts)
    t04 = [text for text in texts if "加强医疗卫生行业信用制度建设" in text]
    assert t04 and all("持续开展（持续性工作，按期报送进展）" in text for text in t04)
    assert not any("持续开展（即" in text for text in texts)


def test_a_message_being_sent_late_in_a_long_batch_is_not_taken_by_another_worker(url, monkeypatch):
    """The claim lease (shortened here to half a second) counts from each message's own
    claim, not from the start of its batch: a second worker looking in while the first is
    sending its third mail finds that mail taken."""
    monkeypatch.setattr("tasks.sweep.outbox.LEASE", dt.timedelta(seconds=0.5))
    sweep_once(url, at=NOW, as_of=D(2019, 8, 1))  # 7 messages
    sent: list[str] = []
    started = time.monotonic()

    def clock() -> dt.datetime:  # the replayed day, running at the real clock's pace
        return NOW + dt.timedelta(seconds=time.monotonic() - started)

    class Quick:
        def send(self, mail: OutgoingMail) -> None:
            sent.append(mail.message_id)

    class Slow:
        def send(self, mail: OutgoingMail) -> None:
            sent.append(mail.message_id)
            time.sleep(0.4)
            if len(sent) == 3:  # a second worker looks in while this one is still busy
                deliver_pending(sessions(url), Quick(), now=clock(), limit=1)

    deliver_pending(sessions(url), Slow(), now=NOW, clock=clock)
    assert len(sent) == len(set(sent)) == 7
