"""The `deadline_sweep` and `deliver_outbox` flows on a real Prefect server: what they return,
write and deliver on fixed days of the Chongqing plan, the summary artifact, how many task runs
they cost, and the days they skip."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.logging.handlers import APILogWorker
from sqlmodel import select

from duban.serve import free_port
from flows.deliver import deliver_outbox
from flows.sweep import ARTIFACT_KEY, deadline_sweep
from render.mail import COMPOSER
from schemas.db import create_schema, session_scope, sessions
from schemas.tables import OutboxMessage, SweepRun
from tasks.plans.importer import import_plan
from tasks.sweep.delivery import EmlOutbox
from tasks.sweep.pipeline import DirectSteps, run_sweep, sweep_summary

from ..conftest import sweep_once
from .conftest import CHONGQING

D = dt.date
IMPORTED = dt.datetime(2019, 7, 1, tzinfo=dt.UTC)  # when the tests import and sweep

pytestmark = pytest.mark.usefixtures("prefect_api")


def run(flow: Any, **parameters: Any) -> tuple[Any, UUID]:
    state = flow(**parameters, return_state=True)
    assert state.is_completed(), state
    return state.result(), state.state_details.flow_run_id


def task_runs(flow_run_id: UUID) -> list[str]:
    """The names of the flow run's task runs, in the order they ran."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    ordered = sorted(runs, key=lambda r: (r.expected_start_time, r.created))
    return [r.name.rsplit("-", 1)[0] for r in ordered]


def artifact_counts(flow_run_id: UUID) -> tuple[str, dict[str, int]]:
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    assert artifact.key == ARTIFACT_KEY and artifact.type == "table"
    rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    return artifact.description or "", {row["what"]: row["count"] for row in rows}


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
    assert (result["delivered"], result["failed"]) == (6, 0)
    messages = outbox(duban_home)
    assert len(messages) == 6 and {m.status for m in messages} == {"sent"}
    assert len(list((duban_home / "outbox").glob("*.eml"))) == 6

    assert task_runs(flow_run) == [  # run_sweep's steps, in its order, then the artifact
        "load open work",
        "evaluate",
        "plan notices",
        "write outbox",
        "deliver outbox batch",
        "publish summary",
    ]
    description, counts = artifact_counts(flow_run)
    assert "2019-08-05" in description and "all plans" in description
    assert counts == {
        "notices: urge": 14,
        "notices": 14,
        "follow-ups": 0,
        "messages": 6,
        "escalations opened": 0,
        "escalations closed": 0,
        "delivered": 6,
        "failed": 0,
    }

    again, _ = run(deadline_sweep, as_of=D(2019, 8, 5))  # a rerun sends nothing twice
    assert (again["notices"], again["delivered"]) == ([], 0)
    assert len(outbox(duban_home)) == 6


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
        assert task_runs(flow_run) == ["load open work", "publish summary"]
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
    assert (result["delivered"], result["failed"]) == (0, 6)  # the transport did use it
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
    assert any("failed 6" in log.message for log in logs)  # the run's logs were read
    recorded += [log.model_dump_json() for log in logs]
    captured = capfd.readouterr()
    assert recorded and not [r for r in recorded if marker in r]
    assert marker not in captured.out + captured.err
    with session_scope(f"sqlite:///{duban_home / 'duban.db'}") as session:
        errors = [m.last_error or "" for m in session.exec(select(OutboxMessage))]
    assert all("127.0.0.1" in e and marker not in e for e in errors)
