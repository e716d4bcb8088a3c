"""Writers at once, in several processes, on one database: two submitting the same work (one
wins, the other is told), and workers started together on a database not made yet, or made by
an older duban (it is made or migrated once; every one of them goes on)."""

from __future__ import annotations

import datetime as dt
import multiprocessing

from alembic import command
from sqlmodel import select

from schemas.db import HEAD, create_schema, migration_config, schema_version, session_scope
from schemas.tables import Assignment, AuditEvent, AuditHead, Task
from tasks.plans.importer import import_plan

from .conftest import ROOT

AT = dt.datetime(2020, 6, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def submit_at_once(url: str, version: int, barrier, results) -> None:  # type: ignore[no-untyped-def]
    from tasks.work import lifecycle
    from tasks.work.actors import Actor

    barrier.wait(timeout=60)
    try:
        with session_scope(url) as session:
            lifecycle.submit(
                session,
                actor=Actor("unit", "na"),
                plan="example-2019",
                task="t3",
                note="done",
                at=AT,
                expected_version=version,
            )
        results.put("ok")
    except lifecycle.ConflictError:
        results.put("conflict")
    except Exception as exc:  # reported to the test, which shows it
        results.put(repr(exc))


def test_two_processes_submitting_the_same_assignment(database_url):
    create_schema(database_url)
    with session_scope(database_url) as session:
        import_plan(session, ROOT / "docs" / "example-plan.yaml", at=AT)
        version = session.exec(select(Assignment.version).join(Task).where(Task.code == "t3")).one()
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=submit_at_once, args=(database_url, version, barrier, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    outcomes = sorted(results.get(timeout=5) for _ in workers)
    assert outcomes == ["conflict", "ok"]
    with session_scope(database_url) as session:
        assert (
            session.exec(select(Assignment.state).join(Task).where(Task.code == "t3")).one()
            == "submitted"
        )
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "submit")).all()) == 1


def make_the_schema_at_once(url: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    barrier.wait(timeout=60)
    try:
        create_schema(url)
        results.put("ok")
    except Exception as exc:  # reported to the test, which shows it
        results.put(repr(exc))


def three_workers_making_the_schema(url: str) -> list[str]:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(3), context.Queue()
    workers = [
        context.Process(target=make_the_schema_at_once, args=(url, barrier, results))
        for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    return [results.get(timeout=5) for _ in workers]


def test_workers_started_together_on_a_new_database_make_it_once(database_url):
    assert schema_version(database_url) is None
    assert three_workers_making_the_schema(database_url) == ["ok"] * 3
    assert schema_version(database_url) == HEAD
    with session_scope(database_url) as session:
        assert session.exec(select(AuditHead.last_id)).all() == [0]


def test_workers_started_together_on_an_older_database_migrate_it_once(database_url):
    create_schema(database_url)
    command.downgrade(migration_config(database_url), "0008")  # three migrations behind
    assert three_workers_making_the_schema(database_url) == ["ok"] * 3
    assert schema_version(database_url) == HEAD
