"""The `deadline_sweep` and `deliver_outbox` flows on a real Prefect server: what they return,
write and deliver on fixed days of the Chongqing plan, the summary artifact, how many task runs
they cost, and the days they skip."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.flow_engine import run_flow
from prefect.logging.handlers import APILogWorker
from prefect.states import Completed, Failed, Running, Scheduled
from prefect.utilities.annotations import quote
from sqlmodel import select

from duban.serve import free_port
from flows import sweep as sweep_flow
from flows.deliver import deliver_outbox
from flows.fan_out import wait_for_children
from flows.sweep import ARTIFACT_KEY, NOTICES_KEY, deadline_sweep, load_open_work
from render.mail import COMPOSER
from schemas.db import create_schema, dispose_engines, session_scope, sessions
from schemas.tables import OutboxMessage, SweepRun
from tasks.plans.importer import import_plan
from tasks.sweep.delivery import EmlOutbox
from tasks.sweep.pipeline import DirectSteps, run_sweep, sweep_summary

from ..conftest import POSTGRES, postgres_connect, sweep_once
from .conftest import CHONGQING

D = dt.date
IMPORTED = dt.datetime(2019, 7, 1, tzinfo=dt.UTC)  # when the tests import and sweep

pytestmark = pytest.mark.usefixtures("prefect_api")


def run(flow: Any, **parameters: Any) -> tuple[Any, UUID]:
    state = flow(**parameters, return_state=True)
    assert state.is_completed(), state
    result = state.result()
    if isinstance(result, quote):  # the sweep quotes its large summary; the reviews do not
        result = result.unquote()
    return result, state.state_details.flow_run_id


def task_runs(flow_run_id: UUID) -> list[str]:
    """The names of the flow run's task runs, in the order they ran."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    ordered = sorted(runs, key=lambda r: (r.expected_start_time, r.created))
    return [re.sub(r"-[0-9a-z]{3}$", "", r.name) for r in ordered]  # Prefect's suffix off


def artifact(flow_run_id: UUID, key: str) -> tuple[str, list[dict[str, Any]]]:
    """The description and rows of the run's table artifact `key`."""
    with get_client(sync_client=True) as client:
        [found] = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
                key=ArtifactFilterKey(any_=[key]),
            )
        )
    assert found.type == "table"
    rows = json.loads(found.data) if isinstance(found.data, str) else found.data
    return found.description or "", rows


def artifact_counts(flow_run_id: UUID) -> tuple[str, dict[str, int]]:
    description, rows = artifact(flow_run_id, ARTIFACT_KEY)
    return description, {row["what"]: row["count"] for row in rows}


def outbox(home: Path) -> list[OutboxMessage]:
    with session_scope(f"sqlite:///{home / 'duban.db'}") as session:
        return list(session.exec(select(OutboxMessage)))


def sweeps(home: Path) -> list[SweepRun]:
    with session_scope(f"sqlite:///{home / 'duban.db'}") as session:
        return list(session.exec(select(SweepRun)))


def test_the_sweep_flow_writes_delivers_and_reports_what_the_cli_reports(duban_home, tmp_path):
    result, flow_run = run(deadline_sweep, as_of=D(2019, 8, 5))

    # the same day swept without Prefect, on a second copy of the plan: the same result
    twin = f"sqlite:///{tmp_path / 'twin.db'}"
    create_schema(twin)
    with session_scope(twin) as session:
        import_plan(session, CHONGQING, at=IMPORTED)
    outbox_folder = EmlOutbox(tmp_path / "twin-outbox")
    steps = DirectSteps(
        sessions(twin), COMPOSER, at=dt.datetime.now(dt.UTC), transport=outbox_folder
    )
    assert result == sweep_summary(run_sweep(steps, as_of=D(2019, 8, 5)))

    assert result["as_of"] == "2019-08-05"
    assert Counter(n["level"] for n in result["notices"]) == {"urge": 14}
    assert (result["delivered"], result["failed"]) == (7, 0)
    messages = outbox(duban_home)
    assert len(messages) == 7 and {m.status for m in messages} == {"sent"}
    assert len(list((duban_home / "outbox").glob("*.eml"))) == 7

    assert task_runs(flow_run) == [  # run_sweep's steps, in its order, then the artifact
        "load open work of 2019-08-05",
        "evaluate the rungs of 2019-08-05",
        "plan the notices of 2019-08-05",
        "write the outbox of 2019-08-05",
        "deliver outbox batch",
        "publish the summary of the sweep",
    ]
    description, counts = artifact_counts(flow_run)
    assert "2019-08-05" in description and "all plans" in description
    assert counts == {
        "notices: urge": 14,
        "notices": 14,
        "follow-ups": 0,
        "messages": 7,
        "escalations opened": 0,
        "escalations closed": 0,
        "delivered": 7,
        "failed": 0,
    }
    _, notices = artifact(flow_run, NOTICES_KEY)  # what was sent, to whom, about what
    assert notices == result["notices"] and all(n["task"] and n["unit"] for n in notices)

    again, _ = run(deadline_sweep, as_of=D(2019, 8, 5))  # a rerun sends nothing twice
    assert (again["notices"], again["delivered"]) == ([], 0)
    assert len(outbox(duban_home)) == 7


def test_a_sweep_of_thousands_of_notices_lists_the_first_and_says_how_many(duban_home, monkeypatch):
    """The notices artifact is bounded: a first sweep of 100k assignments writes 17,000."""
    monkeypatch.setattr(sweep_flow, "NOTICES_SHOWN", 5)
    result, flow_run = run(deadline_sweep, as_of=D(2019, 8, 5))
    description, notices = artifact(flow_run, NOTICES_KEY)
    assert len(result["notices"]) == 14 and notices == result["notices"][:5]
    assert description.endswith("the first 5 of 14 notices; every one is in the database")


def test_a_dry_run_says_what_would_be_sent_and_writes_nothing(duban_home):
    result, _ = run(deadline_sweep, as_of=D(2019, 7, 25), plan="cq-2019-pilot", dry_run=True)
    assert Counter(n["level"] for n in result["notices"]) == {"reminder": 7}
    assert result["delivered"] == 0
    assert outbox(duban_home) == [] and sweeps(duban_home) == []


@pytest.mark.parametrize(
    ("day", "swept"),
    [
        (D(2019, 10, 2), False),  # National Day holiday, a Wednesday
        (D(2019, 7, 28), False),  # a Sunday
        (D(2019, 9, 29), True),  # a Sunday that is a make-up working day (调休)
        (D(2019, 10, 12), True),  # a Saturday that is a make-up working day
    ],
    ids=["national-day", "sunday", "make-up-sunday", "make-up-saturday"],
)
def test_the_sweep_runs_on_the_working_calendar_not_on_weekdays(duban_home, day, swept):
    result, flow_run = run(deadline_sweep, as_of=day)
    assert result["as_of"] == day.isoformat()
    if swept:
        assert "skipped" not in result and result["notices"]
        assert [s.as_of for s in sweeps(duban_home)] == [day]
        assert len(task_runs(flow_run)) == 6
    else:
        assert result == {
            "as_of": day.isoformat(),
            "notices": [],
            "followups": [],
            "escalations_opened": 0,
            "escalations_closed": 0,
            "delivered": 0,
            "failed": 0,
            "skipped": f"{day} is not a working day for cq-2019-pilot",
        }
        assert sweeps(duban_home) == [] and outbox(duban_home) == []
        # a rest day everywhere: the plans' calendars are read, their work is not
        assert task_runs(flow_run) == ["publish the summary of the sweep"]
        description, _ = artifact_counts(flow_run)
        assert "skipped" in description


def test_the_outbox_retry_delivers_in_batches_one_task_run_each(duban_home):
    db = f"sqlite:///{duban_home / 'duban.db'}"
    sweep_once(db, as_of=D(2019, 7, 25), at=IMPORTED)  # 6 messages
    result, flow_run = run(deliver_outbox, limit=4)
    assert result == {"delivered": 6, "failed": 0, "given_up": 0}
    assert task_runs(flow_run) == ["deliver outbox batch"] * 2  # 4, then 2 (a short batch)
    assert len(list((duban_home / "outbox").glob("*.eml"))) == 6
    assert run(deliver_outbox)[0] == {"delivered": 0, "failed": 0, "given_up": 0}


def test_the_smtp_password_reaches_no_prefect_parameter_and_no_log(duban_home, monkeypatch, capfd):
    marker = f"pw-{uuid4().hex}"
    monkeypatch.setenv("DUBAN_SMTP_PASSWORD", marker)
    monkeypatch.setenv("DUBAN_SMTP_USER", "zhjdc@cq.example.org")
    monkeypatch.setenv("DUBAN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DUBAN_SMTP_PORT", str(free_port()))  # nothing listens: sends fail
    result, flow_run = run(deadline_sweep, as_of=D(2019, 8, 5))
    assert (result["delivered"], result["failed"]) == (0, 7)  # the transport did use it
    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        recorded = [client.read_flow_run(flow_run).model_dump_json()]
        recorded += [
            r.model_dump_json()
            for r in client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run]))
            )
        ]
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run]))
        )
    assert any("failed 7" in log.message for log in logs)  # the run's logs were read
    recorded += [log.model_dump_json() for log in logs]
    captured = capfd.readouterr()
    assert recorded and not [r for r in recorded if marker in r]
    assert marker not in captured.out + captured.err
    with session_scope(f"sqlite:///{duban_home / 'duban.db'}") as session:
        errors = [m.last_error or "" for m in session.exec(select(OutboxMessage))]
    assert all("127.0.0.1" in e and marker not in e for e in errors)


def test_a_run_that_starts_late_sweeps_the_day_it_was_scheduled_for(duban_home):
    """Scheduled for 08:30 on Monday 2019-08-05, started (a worker down overnight) on the 6th:
    it sweeps the 5th, the day whose notices would otherwise never be sent."""
    scheduled = dt.datetime(2019, 8, 5, 0, 30, tzinfo=dt.UTC)  # 08:30 in Shanghai
    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run(deadline_sweep, state=Scheduled(scheduled_time=scheduled))
    state = run_flow(deadline_sweep, flow_run=flow_run, return_type="state")
    assert state.is_completed(), state
    assert state.result().unquote()["as_of"] == "2019-08-05"
    assert [s.as_of for s in sweeps(duban_home)] == [D(2019, 8, 5)]


def test_a_scheduled_run_after_an_outage_sweeps_the_missed_days_first(duban_home):
    """Swept on Tuesday 6 August; the runs of Wednesday and Thursday were lost (a worker down);
    Friday's scheduled run sweeps Wednesday and Thursday first, each its own sweep run and
    task runs, then Friday, and mails each recipient one letter."""
    db = f"sqlite:///{duban_home / 'duban.db'}"
    sweep_once(db, as_of=D(2019, 8, 6), at=IMPORTED)
    scheduled = dt.datetime(2019, 8, 9, 0, 30, tzinfo=dt.UTC)  # Friday 08:30 in Shanghai
    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run(deadline_sweep, state=Scheduled(scheduled_time=scheduled))
    state = run_flow(deadline_sweep, flow_run=flow_run, return_type="state")
    assert state.is_completed(), state
    result = state.result().unquote()
    assert [day["as_of"] for day in result["caught_up"]] == ["2019-08-07", "2019-08-08"]
    assert [s.as_of for s in sweeps(duban_home)] == [
        D(2019, 8, 6),
        D(2019, 8, 7),
        D(2019, 8, 8),
        D(2019, 8, 9),
    ]
    assert Counter(n["level"] for n in result["notices"]) == {"supervise": 8, "report": 18}
    friday = [m for m in outbox(duban_home) if m.sweep_id == sweeps(duban_home)[-1].id]
    assert len(friday) == len({m.recipient_code for m in friday}) == result["delivered"] - 7
    assert task_runs(flow_run.id) == [
        "read the days swept",  # first: whether there is work to read at all
        "load open work of 2019-08-09",
        "evaluate the rungs of 2019-08-07",
        "plan the notices of 2019-08-07",
        "evaluate the rungs of 2019-08-08",
        "plan the notices of 2019-08-08",
        "evaluate the rungs of 2019-08-09",
        "plan the notices of 2019-08-09",
        "write the outbox of 2019-08-07",
        "write the outbox of 2019-08-08",
        "write the outbox of 2019-08-09",
        "deliver outbox batch",
        "publish the summary of the sweep",
    ]
    _, counts = artifact_counts(flow_run.id)
    assert counts["missed days swept first"] == 2

    again, _ = run(deadline_sweep, as_of=D(2019, 8, 9), catch_up=True)  # nothing missed now
    assert "caught_up" not in again and again["notices"] == []


def test_a_summary_that_cannot_be_published_does_not_fail_a_finished_sweep(duban_home, monkeypatch):
    def server_away(*_args: Any, **_kwargs: Any) -> None:
        raise ConnectionError("the Prefect server went away for a moment")

    monkeypatch.setattr("flows.sweep.create_table_artifact", server_away)
    result, flow_run = run(deadline_sweep, as_of=D(2019, 8, 5))  # run() asserts Completed
    assert result["delivered"] == 7 and len(outbox(duban_home)) == 7
    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run]))
        )
    assert any("summary could not be published" in log.message for log in logs)


def test_a_database_away_for_minutes_makes_the_sweep_late_not_lost(monkeypatch):
    """The database comes back after the task's own retries have given up: the whole run is
    tried again (waits shortened here) and the day is swept."""
    name = f"duban_outage_{uuid4().hex[:8]}"
    url = POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0]
    monkeypatch.setenv("DUBAN_DATABASE_URL", f"{url}/{name}")
    monkeypatch.setattr("flows.runtime.OUTAGE_WAITS", (1,) * 20)
    monkeypatch.setattr(load_open_work, "retries", 0)

    def come_back() -> None:
        time.sleep(4)
        with postgres_connect() as connection:
            connection.execute(f"CREATE DATABASE {name}")

    returning = threading.Thread(target=come_back)
    returning.start()
    try:
        result, flow_run = run(deadline_sweep, as_of=D(2019, 8, 5))
    finally:
        returning.join()
        dispose_engines()
        with postgres_connect() as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name}")
    assert result["skipped"] == "no plan has been imported"  # swept: an empty database
    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run]))
        )
    assert any("the database is unreachable" in log.message for log in logs)


def test_the_parent_waits_for_every_child_however_many_plans_and_reports_each_state():
    """201 children (more than the server returns in one page), one of them still running
    when the parent first looks: it waits for that one and reports every plan's final state."""

    @flow(name="bench child")
    def child() -> None:
        pass

    with get_client(sync_client=True) as client:
        children = {
            f"plan-{i:03}": client.create_flow_run(child, state=Completed()).id for i in range(199)
        }
        children["failed"] = client.create_flow_run(child, state=Failed()).id
        late = client.create_flow_run(child, state=Running()).id
        children["late"] = late

    def finish_late() -> None:
        time.sleep(1)
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(late, Completed(), force=True)

    finishing = threading.Thread(target=finish_late)
    finishing.start()
    try:
        states = wait_for_children(children)
    finally:
        finishing.join()
    assert Counter(states.values()) == {"COMPLETED": 200, "FAILED": 1}
    assert states["failed"] == "FAILED" and states["late"] == "COMPLETED"
