"""Everything that changes what the office supervises is an audit event, from any door: an
import and a re-import with every change it made, `recalc --apply`, a 签收 at the command line,
a sweep, mail put back in the outbox; and the trail still verifies after all of it."""

from __future__ import annotations

import getpass
import json
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from calendars.workdays import DATA_DIR
from schemas.db import engine_for
from schemas.tables import AuditEvent

from .conftest import PLANS, ROOT

EXAMPLE = (ROOT / "docs" / "example-plan.yaml").read_text(encoding="utf-8")
PILOT = str(PLANS / "chongqing-2019-pilot.yaml")


def events(url: str, action: str) -> list[AuditEvent]:
    with Session(engine_for(url)) as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(session.exec(query.order_by(col(AuditEvent.id))))


def by_the_operator(event: AuditEvent) -> bool:
    return (event.actor, event.person, event.channel) == ("office", getpass.getuser(), "cli")


def test_a_reimport_shows_and_audits_a_new_mail_address_and_a_new_office_seat(duban, database_url):
    Path("plan.yaml").write_text(EXAMPLE, encoding="utf-8")
    assert duban("import", "plan.yaml").exit_code == 0
    revised = EXAMPLE.replace("emails: [whc@example.org]", "emails: [zhjd@example.org]").replace(
        "  office: 联席会议办公室\n", "  office: 区卫生健康委\n"
    )
    Path("plan.yaml").write_text(revised, encoding="utf-8")
    result = duban("import", "plan.yaml")
    email = "unit whc: emails ['whc@example.org'] → ['zhjd@example.org']"
    seat = "joint meeting: office '联席会议办公室' → '区卫生健康委'"
    assert f"changed: {email}" in result.stdout and f"changed: {seat}" in result.stdout
    first, again = events(database_url, "import")
    assert first.after is not None and first.after["created"] and first.after["changes"] == []
    assert again.after is not None and {email, seat} <= set(again.after["changes"])
    assert again.plan_code == "example-2019" and by_the_operator(again)
    assert duban("import", "plan.yaml", "--dry-run").exit_code == 0
    assert len(events(database_url, "import")) == 2  # a dry run writes nothing, no event either


def test_recalc_apply_is_audited_with_its_moves(duban, database_url, monkeypatch, tmp_path):
    calendar = tmp_path / "calendar"
    shutil.copytree(DATA_DIR, calendar)
    monkeypatch.setenv("DUBAN_CALENDAR_DIR", str(calendar))
    Path("plan.yaml").write_text(EXAMPLE, encoding="utf-8")
    duban("import", "plan.yaml")
    year = calendar / "cn" / "2019.toml"
    year.write_text(
        year.read_text(encoding="utf-8") + '\n[[holidays]]\nname = "测试假日"\n'
        "start = 2019-09-30\nend = 2019-09-30\n",
        encoding="utf-8",
    )
    assert "would move" in duban("recalc", "example-2019").stdout
    assert events(database_url, "recalc") == []  # showing is not doing
    applied = duban("recalc", "example-2019", "--apply")
    assert applied.exit_code == 0 and "due date(s) moved" in applied.stdout
    (event,) = events(database_url, "recalc")
    assert by_the_operator(event) and event.after is not None
    assert any("2019-09-30 → 2019-10-08" in move for move in event.after["moves"])
    assert "no due date moves" in duban("recalc", "example-2019", "--apply").stdout
    assert len(events(database_url, "recalc")) == 1


def test_a_sweep_and_an_acknowledgement_at_the_cli_are_audited(duban, database_url):
    duban("import", PILOT)
    assert duban("sweep", "--as-of", "2019-08-07", "--dry-run").exit_code == 0
    assert events(database_url, "sweep") == []
    duban("sweep", "--as-of", "2019-08-07")
    (swept,) = events(database_url, "sweep")
    assert swept.actor == "system" and swept.after is not None
    assert swept.after["as_of"] == "2019-08-07" and swept.after["escalations_opened"] == 7
    receipt = json.loads(duban("receipts", "--json").stdout)[0]["receipt"]
    who = json.loads(duban("receipts", "--json").stdout)[0]["recipient"]
    assert duban("ack", receipt, "--as", who, "--as-of", "2019-08-08").exit_code == 0
    assert duban("ack", receipt, "--as", who).exit_code == 0  # already: nothing new
    (acked,) = events(database_url, "acknowledge")
    assert (acked.person, acked.channel) == (getpass.getuser(), "cli")
    assert acked.after == {"receipt": receipt, "recipient": who}
    assert duban("audit", "verify").exit_code == 0


def test_putting_failed_mail_back_in_the_outbox_is_audited(duban, database_url):
    duban("import", PILOT)
    duban("sweep", "--as-of", "2019-08-01")
    with engine_for(database_url).begin() as connection:
        connection.execute(text("UPDATE outboxmessage SET status = 'failed' WHERE id IN (1, 2)"))
    retried = duban("deliver", "--retry-failed")
    assert retried.exit_code == 0, retried.output
    assert "2 message(s) given up on are back in the outbox" in retried.stdout
    assert "delivered 2, failed 0" in retried.stdout
    (event,) = events(database_url, "retry_mail")
    assert by_the_operator(event) and event.after == {"messages": [1, 2]}
    again = duban("deliver", "--retry-failed")
    assert "0 message(s)" in again.stdout and len(events(database_url, "retry_mail")) == 1


def test_a_reassignment_and_the_reimport_after_it_are_both_on_record(duban, database_url):
    duban("import", PILOT)
    moved = duban(
        "reassign", "cq-2019-pilot", "t02", "--from", "市卫生健康委", "--to", "南岸区",
        "--reason", "职责调整", "--as", "office",
    )  # fmt: skip
    assert moved.exit_code == 0, moved.output
    duban("import", PILOT)
    actions = [(e.action, e.unit_code) for e in _all(database_url)]
    assert actions == [
        ("import", None),
        ("cancel", "cqwjw"),
        ("reassign", "na"),
        ("import", None),
    ]
    tasks = json.loads(
        duban("tasks", "--unit", "南岸区", "--plan", "cq-2019-pilot", "--json").stdout
    )
    assert any(t["task"] == "t02" for t in tasks)  # the re-import left it with 南岸区


def _all(url: str) -> list[Any]:
    with Session(engine_for(url)) as session:
        return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))))
