"""The audit trail anchored outside the database: its head sealed with a key the database does
not hold, and a head the office exported and filed. Whoever can only write the database cannot
rewrite the trail, cut it short or empty it without `audit verify` saying so; and the first
audited change on an empty database never trips over the chain's head."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from schemas.db import create_schema, engine_for, session_scope
from schemas.tables import AuditEvent, AuditHead
from schemas.vocabulary import Operation
from tasks.work import audit

from .conftest import PLANS, postgres_connect
from .test_audit_and_story import story

AT = dt.datetime(2020, 6, 1, 4, tzinfo=dt.UTC)


def run_sql(url: str, *statements: str) -> None:
    with engine_for(url).begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def newest(url: str) -> tuple[int, str, str | None]:
    with Session(engine_for(url)) as session:
        head = session.get(AuditHead, 1)
        assert head is not None
        return head.last_id, head.last_hash, head.seal


def refused(duban, *args: str) -> str:  # type: ignore[no-untyped-def]
    result = duban("audit", "verify", *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1
    return result.stderr


def test_the_schema_comes_with_the_chain_head(database_url):
    create_schema(database_url)
    with Session(engine_for(database_url)) as session:
        head = session.get(AuditHead, 1)
    assert head is not None and (head.last_id, head.last_hash) == (0, audit.GENESIS)


def test_each_append_seals_the_head_with_the_key_from_the_settings(duban, database_url):
    story(duban)
    last_id, last_hash, seal = newest(database_url)
    key = (Path.cwd() / "home" / "audit_key").read_text().strip()  # DUBAN_HOME, made once
    assert seal == audit.seal_of(key, last_id, last_hash)
    assert duban("audit", "verify").exit_code == 0


def test_deleting_the_newest_event_and_fixing_the_head_is_detected(duban, database_url):
    story(duban)
    last_id, _, _ = newest(database_url)
    with Session(engine_for(database_url)) as session:
        before = session.get(AuditEvent, last_id - 1)
        assert before is not None
        kept_hash = before.hash
    run_sql(
        database_url,
        f"DELETE FROM auditevent WHERE id = {last_id}",
        f"UPDATE audithead SET last_id = {last_id - 1}, last_hash = '{kept_hash}'",
    )
    assert "does not carry the audit key's seal" in refused(duban)


def test_deleting_the_seal_too_is_detected(duban, database_url):
    story(duban)
    run_sql(database_url, "UPDATE audithead SET seal = NULL")
    assert "its head is not sealed" in refused(duban)


def test_deleting_everything_is_detected_while_the_work_remains(duban, database_url):
    story(duban)
    run_sql(
        database_url,
        "DELETE FROM auditevent",
        f"UPDATE audithead SET last_id = 0, last_hash = '{audit.GENESIS}', seal = NULL",
    )
    stderr = refused(duban)
    assert "audit trail: it is empty, yet the database holds 8" in stderr
    run_sql(database_url, "DELETE FROM audithead")  # the head row too: no better
    assert "it is empty" in refused(duban)


def test_rehashing_the_whole_chain_without_the_key_is_detected(duban, database_url):
    """The attacker changes who acted in an event and re-hashes every event from there on,
    links and all: each hash checks, but the head's seal cannot be made without the key."""
    story(duban)
    with Session(engine_for(database_url)) as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
        events[3].actor = "someone else"
        previous = events[2].hash
        for event in events[3:]:
            event.prev_hash = previous
            event.hash = previous = audit.event_hash(event)
            session.add(event)
        head = session.get(AuditHead, 1)
        assert head is not None
        head.last_hash = previous
        head.seal = audit.seal_of("a guessed key", head.last_id, previous)
        session.add(head)
        session.commit()
    assert "does not carry the audit key's seal" in refused(duban)


def test_another_key_does_not_verify(duban, monkeypatch):
    story(duban)
    monkeypatch.setenv("DUBAN_AUDIT_KEY", "not the key the trail was sealed with")
    assert "does not carry the audit key's seal" in refused(duban)


def test_a_filed_head_catches_a_trail_cut_back_to_an_older_sealed_head(duban, database_url):
    """A restored backup: the trail cut back to the head after the import, seal and all, and
    the work since removed with it. Only the head the office filed shows what is missing."""
    assert duban("import", str(PLANS / "chongqing-2019-pilot.yaml")).exit_code == 0
    old_id, old_hash, old_seal = newest(database_url)
    story(duban)
    exported = duban("audit", "export-head", "--out", "filed.json")
    assert (
        exported.exit_code == 0 and "wrote filed.json: the head at audit event" in exported.stdout
    )
    filed = json.loads(Path("filed.json").read_text())
    assert set(filed) == {"event", "hash", "seal", "at"}
    run_sql(
        database_url,
        f"DELETE FROM auditevent WHERE id > {old_id}",
        f"UPDATE audithead SET last_id = {old_id}, last_hash = '{old_hash}', seal = '{old_seal}'",
        "DELETE FROM submission",
        "DELETE FROM progressreport",
        "DELETE FROM extensionrequest",
    )
    assert duban("audit", "verify").exit_code == 0  # as far as the database alone can tell
    stderr = refused(duban, "--against", "filed.json")
    assert f"audit event {filed['event']}: a filed head" in stderr and "is gone" in stderr


def test_export_head_prints_the_sealed_head_and_verify_finds_it(duban, database_url):
    story(duban)
    printed = duban("audit", "export-head")
    assert printed.exit_code == 0
    filed = json.loads(printed.stdout)
    last_id, last_hash, seal = newest(database_url)
    assert (filed["event"], filed["hash"], filed["seal"]) == (last_id, last_hash, seal)
    Path("head.json").write_text(printed.stdout)
    assert (
        duban("progress", "cq-2019-pilot", "t08", "--note", "又一步", "--as", "永川区").exit_code
        == 0
    )
    verified = duban("audit", "verify", "--against", "head.json")
    assert verified.exit_code == 0 and "the 1 filed head(s) are in it" in verified.stdout


def test_a_forged_or_unreadable_filed_head_is_refused(duban):
    story(duban)
    forged = json.loads(duban("audit", "export-head").stdout)
    forged["seal"] = "0" * 64
    Path("forged.json").write_text(json.dumps(forged))
    assert "was not sealed with this trail's key" in refused(duban, "--against", "forged.json")
    Path("junk.json").write_text("{}")
    junk = duban("audit", "verify", "--against", "junk.json")
    assert junk.exit_code == 2 and "not a head written by `duban audit export-head`" in junk.stderr


def test_export_head_refuses_a_broken_or_empty_trail(duban, database_url):
    assert duban("init").exit_code == 0
    empty = duban("audit", "export-head")
    assert empty.exit_code == 4 and "the audit trail is empty" in empty.stderr
    story(duban)
    run_sql(database_url, "UPDATE auditevent SET actor = 'x' WHERE id = 2")
    broken = duban("audit", "export-head", "--out", "head.json")
    assert broken.exit_code == 1 and "audit event 2" in broken.stderr
    assert not Path("head.json").exists()


def first_change(url: str, pid: list[int], outcome: list[str]) -> None:
    """A second writer's first audited change; tells its backend's pid before it starts."""
    try:
        with session_scope(url) as session:
            pid.append(session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar())
            audit.record(
                session,
                actor="office",
                action=Operation.IMPORT,
                subject=audit.Subject("import", 2, "b"),
                at=AT,
                key="k",
            )
        outcome.append("ok")
    except Exception as exc:  # reported to the test, which shows it
        outcome.append(repr(exc))


def waiting_for_a_lock(pid: int) -> bool:
    with postgres_connect() as connection:
        row = connection.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
    return row is not None and row[0] == "Lock"


def test_two_first_changes_at_once_on_an_empty_database_make_one_chain(postgres_url):
    """The first writer has appended but not committed; the second starts its first change and
    waits for the head; when the first commits, the second follows it on the chain."""
    create_schema(postgres_url)
    pid: list[int] = []
    outcome: list[str] = []
    second = threading.Thread(target=first_change, args=(postgres_url, pid, outcome))
    with session_scope(postgres_url) as session:
        audit.record(
            session,
            actor="office",
            action=Operation.IMPORT,
            subject=audit.Subject("import", 1, "a"),
            at=AT,
            key="k",
        )
        second.start()
        for _ in range(600):  # until the second writer waits on the first's lock (or 60 s)
            if pid and waiting_for_a_lock(pid[0]):
                break
            threading.Event().wait(0.1)
        else:
            pytest.fail("the second writer never waited for the first")
    second.join(timeout=60)
    assert outcome == ["ok"]
    with session_scope(postgres_url) as session:
        assert audit.verify_chain(session, key="k") == (2, None)
