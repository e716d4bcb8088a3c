"""Two writers at once, in two processes, on one database: one wins, the other is told."""

from __future__ import annotations

import datetime as dt
import multiprocessing

from sqlmodel import select

from schemas.db import create_schema, session_scope
from schemas.tables import Assignment, AuditEvent, Task
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
