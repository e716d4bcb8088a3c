"""Mail that is never lost (#11 §4): mail given up on can be put back; a recipient a server
refuses while it takes the mail for the others is retried (450) or recorded (550); Message-IDs
are unique across installations and kept across retries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import Envelope
from sqlmodel import col, select

from render.mail import COMPOSER
from schemas.db import create_schema, session_scope, sessions
from schemas.tables import AuditEvent, MessageBody, Notice, OutboxMessage
from schemas.vocabulary import MessageStatus
from tasks.plans.importer import import_plan
from tasks.sweep.delivery import DeliveryError, EmlOutbox, OutgoingMail, SmtpTransport
from tasks.sweep.outbox import MAX_ATTEMPTS, deliver_pending

from .conftest import PLANS, sweep_once
from .test_delivery import parse, smtp_server

D = dt.date
NOW = dt.datetime(2019, 8, 1, 9, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=1)


def a_swept_database(url: str) -> str:
    create_schema(url)
    with session_scope(url) as session:
        import_plan(session, PLANS / "chongqing-2019-pilot.yaml", at=NOW)
    sweep_once(url, at=NOW, as_of=D(2019, 8, 1))
    return url


@pytest.fixture
def url(database_url: str) -> str:
    return a_swept_database(database_url)


class Down:
    """An SMTP server that never answers."""

    def send(self, mail: OutgoingMail) -> dict[str, tuple[int, str]]:
        raise DeliveryError("connection refused")


def give_up_on_everything(url: str, start: dt.datetime = NOW) -> list[int]:
    for attempt in range(MAX_ATTEMPTS):
        deliver_pending(sessions(url), Down(), now=start + dt.timedelta(days=attempt))
    with session_scope(url) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        assert {m.status for m in rows} == {MessageStatus.FAILED}
        return [m.id for m in rows if m.id is not None]


def status_of(url: str) -> dict[int, str]:
    with session_scope(url) as session:
        return {m.id: m.status for m in session.exec(select(OutboxMessage)) if m.id is not None}


def test_one_message_given_up_on_is_put_back_by_its_id_and_audited(url, duban):
    first, *others = give_up_on_everything(url)
    result = duban("outbox", "retry", "--id", str(first))
    assert result.exit_code == 0, result.output
    assert "1 message(s) given up on are back in the outbox" in result.output
    statuses = status_of(url)
    assert statuses[first] == MessageStatus.PENDING
    assert {statuses[i] for i in others} == {MessageStatus.FAILED}
    with session_scope(url) as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "retry_mail"))
        assert event.after == {"messages": [first]} and event.channel == "cli"


def test_outbox_retry_failed_and_deliver_retry_failed_put_back_everything(url, duban):
    ids = give_up_on_everything(url)
    assert duban("outbox", "retry", "--failed").exit_code == 0
    assert set(status_of(url).values()) == {MessageStatus.PENDING}
    give_up_on_everything(url, start=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    result = duban("deliver", "--retry-failed")
    assert f"{len(ids)} message(s) given up on are back in the outbox" in result.output
    assert set(status_of(url).values()) == {MessageStatus.SENT}  # the .eml outbox took them


def test_retrying_an_id_not_given_up_on_changes_nothing(url, duban):
    [first, *_] = give_up_on_everything(url)
    result = duban("outbox", "retry", "--id", str(first), "--id", "99999")
    assert result.exit_code != 0 and "99999" in result.output
    assert set(status_of(url).values()) == {MessageStatus.FAILED}


@dataclass
class Refusing:
    """An aiosmtpd handler answering RCPT for some addresses with the reply it is given."""

    replies: dict[str, str]
    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.replies:
            return self.replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 accepted"


def one_mail_to_three(sqlite_url: str) -> int:
    create_schema(sqlite_url)
    with session_scope(sqlite_url) as session:
        message = OutboxMessage(
            recipient_code="na",
            sender="office@cq.example.org",
            to_addrs=["ok@cq.example.org", "busy@cq.example.org"],
            cc_addrs=["gone@cq.example.org"],
            subject="督办单",
            body=MessageBody(text="请办理", html="<p>请办理</p>"),
            message_id_header="<duban.1.abc@cq.example.org>",
        )
        session.add(message)
        session.flush()
        assert message.id is not None
        return message.id


def test_a_450_recipient_is_retried_alone_and_a_550_one_is_recorded(sqlite_url):
    message_id = one_mail_to_three(sqlite_url)
    handler = Refusing(
        {
            "busy@cq.example.org": "450 4.2.1 mailbox busy, try later",
            "gone@cq.example.org": "550 5.1.1 no such mailbox",
        }
    )
    with smtp_server(handler) as server:  # type: ignore[arg-type]
        smtp = SmtpTransport(host="127.0.0.1", port=server.port, user=None, password=None)
        first = deliver_pending(sessions(sqlite_url), smtp, now=NOW)
        assert first.delivered == [] and first.failed == [message_id]
        assert first.refused == [message_id]
        with session_scope(sqlite_url) as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            assert message.status == MessageStatus.PENDING
            assert message.to_addrs == ["busy@cq.example.org"] and message.cc_addrs == []
            assert message.refused == {
                "busy@cq.example.org": "450 4.2.1 mailbox busy, try later",
                "gone@cq.example.org": "550 5.1.1 no such mailbox",
            }
        del handler.replies["busy@cq.example.org"]  # the mailbox has room again
        second = deliver_pending(sessions(sqlite_url), smtp, now=LATER)
    assert second.delivered == [message_id]
    assert [e.rcpt_tos for e in handler.envelopes] == [
        ["ok@cq.example.org"],
        ["busy@cq.example.org"],  # the retry went to the one refused for now, and only to it
    ]
    assert {parse(e.original_content or b"")["Message-ID"] for e in handler.envelopes} == {
        "<duban.1.abc@cq.example.org>"
    }
    with session_scope(sqlite_url) as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        assert message.status == MessageStatus.SENT
        assert message.refused == {"gone@cq.example.org": "550 5.1.1 no such mailbox"}
        assert message.last_error == "refused for good: gone@cq.example.org"


def message_ids(url: str) -> list[str]:
    with session_scope(url) as session:
        query = select(OutboxMessage.message_id_header).where(
            OutboxMessage.kind == "notice"  # the office's daily letter is named by its day
        )
        return sorted(session.exec(query))


def test_two_installations_never_make_the_same_message_id(tmp_path):
    one = a_swept_database(f"sqlite:///{tmp_path / 'one.db'}")
    two = a_swept_database(f"sqlite:///{tmp_path / 'two.db'}")
    assert message_ids(one) and not set(message_ids(one)) & set(message_ids(two))


def test_a_retried_message_keeps_its_message_id(url, tmp_path):
    before = message_ids(url)
    give_up_on_everything(url)
    from tasks.sweep.outbox import retry_failed
    from tasks.work.actors import Actor

    with session_scope(url) as session:
        retry_failed(session, now=LATER, by=Actor("office", "cqwjw-zhjdc", "综合监督处"))
    outbox = EmlOutbox(tmp_path / "out")
    assert deliver_pending(sessions(url), outbox, now=LATER).failed == []
    assert message_ids(url) == before
    assert {p.stem for p in (tmp_path / "out").glob("*.eml")} >= {i.strip("<>") for i in before}


class Unreachable:
    """A server that refuses every mail for the given addresses (a mailbox gone, a dead
    domain) and writes the others to an .eml outbox."""

    def __init__(self, folder: Path, *addresses: str) -> None:
        self.outbox, self.addresses, self.sent = EmlOutbox(folder), set(addresses), []

    def send(self, mail: OutgoingMail) -> dict[str, tuple[int, str]]:
        if self.addresses & {*mail.to, *mail.cc}:
            raise DeliveryError(f"SMTP: connection to {sorted(self.addresses)[0]} timed out")
        self.sent.append(mail)
        return self.outbox.send(mail)


def deliver_until_given_up(url: str, transport: Any, start: dt.datetime = NOW) -> None:
    for attempt in range(MAX_ATTEMPTS + 1):
        deliver_pending(
            sessions(url), transport, now=start + dt.timedelta(days=attempt), composer=COMPOSER
        )


def letters_of_kind(url: str, kind: str) -> list[OutboxMessage]:
    with session_scope(url) as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind)
        return list(session.exec(query.order_by(col(OutboxMessage.id))))


def test_a_letter_given_up_on_is_told_to_the_office(url, tmp_path):
    smtp = Unreachable(tmp_path, "wjw@na.cq.example.org")
    deliver_until_given_up(url, smtp)
    [lost] = [m for m in letters_of_kind(url, "notice") if m.status == MessageStatus.FAILED]
    assert lost.recipient_code == "na"
    [told] = letters_of_kind(url, "undelivered")
    assert told.to_addrs == ["zhjdc@cq.example.org"] and told.status == MessageStatus.SENT
    assert told.subject == "通知未能送达：南岸区"
    assert lost.subject in told.body.text and "wjw@na.cq.example.org" in told.body.text
    assert "connection to wjw@na.cq.example.org timed out" in told.body.text
    assert "duban outbox retry" in told.body.text
    assert told.message_id_header in {m.message_id for m in smtp.sent}


def test_the_office_is_told_the_day_the_lost_letter_was_written_on_the_plans_clock(
    database_url, tmp_path
):
    """A sweep at 07:00 in Chongqing is still the day before in UTC: the letter to the office
    names the day the lost letter was written on the plan's clock."""
    create_schema(database_url)
    early = dt.datetime(2019, 8, 4, 23, tzinfo=dt.UTC)  # Monday 5 August, 07:00 in Chongqing
    with session_scope(database_url) as session:
        import_plan(session, PLANS / "chongqing-2019-pilot.yaml", at=early)
    sweep_once(database_url, at=early, as_of=D(2019, 8, 5))
    deliver_until_given_up(database_url, Unreachable(tmp_path, "wjw@na.cq.example.org"), early)
    [told] = letters_of_kind(database_url, "undelivered")
    assert "发出日期：2019-08-05" in told.body.text


def test_when_the_offices_own_address_fails_nothing_goes_round_in_circles(url, tmp_path):
    smtp = Unreachable(tmp_path, "wjw@na.cq.example.org", "zhjdc@cq.example.org")
    deliver_until_given_up(url, smtp)
    deliver_until_given_up(url, smtp, start=NOW + dt.timedelta(days=30))  # the office's too
    told = letters_of_kind(url, "undelivered")
    assert [m.status for m in told] == [MessageStatus.FAILED] * len(told)
    gave_up = [m for m in letters_of_kind(url, "notice") if m.status == MessageStatus.FAILED]
    # one letter to the office per letter lost (the office's own among them), none about those
    assert len(told) == len(gave_up)


def test_a_recipient_refused_for_good_is_told_to_the_office(url, tmp_path):
    handler = Refusing({"wjw@na.cq.example.org": "550 5.1.1 no such mailbox"})
    with smtp_server(handler) as server:  # type: ignore[arg-type]
        smtp = SmtpTransport(host="127.0.0.1", port=server.port, user=None, password=None)
        first = deliver_pending(sessions(url), smtp, now=NOW, composer=COMPOSER)
        assert len(first.given_up) == 1  # na's only address: refused for good, not retried
        deliver_pending(sessions(url), smtp, now=NOW, composer=COMPOSER)
    [told] = letters_of_kind(url, "undelivered")
    assert told.status == MessageStatus.SENT
    assert "550 5.1.1 no such mailbox" in told.body.text and "南岸区" in told.body.text


def test_a_sweep_killed_mid_write_is_completed_by_the_next_run_of_the_day(
    database_url, monkeypatch
):
    create_schema(database_url)
    with session_scope(database_url) as session:
        import_plan(session, PLANS / "chongqing-2019-pilot.yaml", at=NOW)
    import tasks.sweep.pipeline as pipeline

    def killed(*args: Any, **kwargs: Any) -> int:
        raise KeyboardInterrupt  # the process dies after the outbox was written, uncommitted

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "open_escalations", killed)
        with pytest.raises(KeyboardInterrupt):
            sweep_once(database_url, at=NOW, as_of=D(2019, 8, 1))
    outcome = sweep_once(database_url, at=NOW, as_of=D(2019, 8, 1))
    again = sweep_once(database_url, at=NOW, as_of=D(2019, 8, 1))
    with session_scope(database_url) as session:
        keys = list(session.exec(select(Notice.dedupe_key)))
    assert len(keys) == len(set(keys)) == len(outcome.written) > 0
    assert again.written == []


def test_the_fault_script_finds_nothing_lost_or_duplicated_on_sqlite():
    """bench/faults.py, one run of its in-process faults (the SIGKILL runs are too slow here)."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Path(__file__).resolve().parent.parent / "bench" / "faults.py"
    args = ["--runs", "1", "--backends", "sqlite", "--faults", "outage,refusal"]
    done = subprocess.run(
        [sys.executable, str(script), *args, "--port", str(port)],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and all(" lost 0  duplicated 0" in line for line in lines), done.stdout
