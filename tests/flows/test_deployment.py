"""prefect.yaml deployed with the real Prefect CLI against a real server, as docs/deployment.md
says: the work pool, both deployments with their schedules in Asia/Shanghai, and one scheduled
sweep picked up and run by a process worker from this checkout."""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from email import message_from_bytes
from importlib.metadata import version
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentUpdate
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterParentFlowRunId,
)
from sqlmodel import select

from duban.serve import PrefectServer, free_port
from flows.automations import install_automations
from schemas.db import session_scope
from schemas.tables import SweepRun
from tasks.plans.importer import import_plan

from ..conftest import ROOT
from .conftest import CHONGQING, server_env

PREFECT = [sys.executable, "-m", "prefect"]


@pytest.fixture
def prefect_cli(prefect_server, duban_home):  # type: ignore[no-untyped-def]
    """Run `prefect …` from the project folder against the session's server; a worker started
    so runs flows on `duban_home` (it passes its environment on to the flow run)."""
    env = operator_env(prefect_server, duban_home)

    def prefect(*args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [*PREFECT, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    return prefect


def operator_env(prefect_server: PrefectServer, duban_home: Path) -> dict[str, str]:
    """The environment of an operator's shell: the session's server, duban's home."""
    assert prefect_server.log_path is not None
    return {
        **server_env(prefect_server, prefect_server.log_path.parent),
        "PWD": str(ROOT),
        "DUBAN_HOME": str(duban_home),
        "DUBAN_DATABASE_URL": f"sqlite:///{duban_home / 'duban.db'}",
        "DUBAN_WHEELHOUSE": str(duban_home.parent / "wheelhouse"),  # scripts/release writes it
        # as an operator deploys and runs a worker: in duban's activated environment
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }


def test_prefect_yaml_deploys_both_flows_and_a_worker_runs_them(
    prefect_cli, prefect_api, duban_home
):
    checkout = sorted(p.name for p in ROOT.iterdir())
    prefect_cli("work-pool", "create", "duban-process", "--type", "process", "--overwrite")
    prefect_cli("--no-prompt", "deploy", "--all")
    assert sorted(p.name for p in ROOT.iterdir()) == checkout  # no .prefect/ left behind

    listing = prefect_cli("deployment", "ls")
    assert "deadline-sweep/daily" in listing and "deliver-outbox/outbox-retry" in listing
    with get_client(sync_client=True) as client:
        deployments = {d.name: d for d in client.read_deployments()}
    daily, retry = deployments["daily"], deployments["outbox-retry"]
    review, digest = deployments["phase-review"], deployments["weekly-digest"]
    assert daily.entrypoint == "flows.sweep:deadline_sweep"  # modules: no checkout needed
    assert retry.entrypoint == "flows.deliver:deliver_outbox"
    assert review.entrypoint == "flows.review:phase_review"
    assert digest.entrypoint == "flows.review:office_digest"
    assert digest.schedules[0].schedule.cron == "0 9 * * 1"
    for deployment in (daily, retry, review, digest):
        assert deployment.version == version("duban")  # what the worker must run
        assert deployment.work_pool_name == "duban-process"
        assert deployment.pull_steps == [
            {
                "prefect.deployments.steps.run_shell_script": {
                    "script": "python -m pip install --quiet --disable-pip-version-check "
                    f'--find-links "{duban_home.parent / "wheelhouse"}" duban=={version("duban")}',
                    "stream_output": False,
                }
            }
        ]
        [schedule] = deployment.schedules
        assert schedule.active and schedule.schedule.timezone == "Asia/Shanghai"
    assert daily.schedules[0].schedule.cron == "30 8 * * *"
    assert retry.schedules[0].schedule.interval.total_seconds() == 900
    assert daily.parameter_openapi_schema["properties"]["as_of"]["anyOf"][0] == {
        "format": "date",
        "type": "string",
    }

    # one run of the sweep, taken by a worker that runs it in a process from this checkout
    out = prefect_cli(
        "deployment",
        "run",
        "deadline-sweep/daily",
        "--param",
        "as_of=2019-07-25",
        "--param",
        "plan=cq-2019-pilot",
    )
    flow_run_id = out.split("/runs/flow-run/")[1].split()[0]
    prefect_cli("worker", "start", "--pool", "duban-process", "--run-once")
    with get_client(sync_client=True) as client:
        [flow_run] = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    assert flow_run.state is not None and flow_run.state.is_completed(), flow_run.state
    assert flow_run.parameters == {"as_of": "2019-07-25", "plan": "cq-2019-pilot"}
    assert len(list((duban_home / "outbox").glob("*.eml"))) == 6  # the 7 reminders, delivered


def test_a_worker_with_another_duban_refuses_the_run_saying_what_to_install(
    prefect_cli, prefect_api, duban_home
):
    prefect_cli("work-pool", "create", "duban-process", "--type", "process", "--overwrite")
    prefect_cli("--no-prompt", "deploy", "--name", "daily")
    with get_client(sync_client=True) as client:  # as if deployed by a newer duban
        [daily] = [d for d in client.read_deployments() if d.name == "daily"]
        client.update_deployment(daily.id, DeploymentUpdate(version="9.9.9"))
    out = prefect_cli("deployment", "run", "deadline-sweep/daily", "--param", "as_of=2019-07-25")
    flow_run_id = out.split("/runs/flow-run/")[1].split()[0]
    prefect_cli("worker", "start", "--pool", "duban-process", "--run-once")
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(UUID(flow_run_id))
    assert flow_run.state is not None and flow_run.state.is_failed(), flow_run.state
    assert f"this worker runs duban {version('duban')}" in (flow_run.state.message or "")
    assert "install duban 9.9.9 here" in (flow_run.state.message or "")
    assert not list((duban_home / "outbox").glob("*.eml"))  # nothing was swept or sent


class WebhookSink(http.server.ThreadingHTTPServer):
    """The office's webhook (a WeCom robot, in production): keeps what is posted to it."""

    def __init__(self) -> None:
        self.posted: list[str] = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                sink.posted.append(self.rfile.read(length).decode("utf-8"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/robot"


def test_a_run_that_dies_with_its_worker_is_marked_crashed_and_the_office_is_told(
    prefect_cli, prefect_api, prefect_server, duban_home
):
    """kill -9 of the worker and the flow's process mid-delivery: nobody is left to report
    the run, its heartbeats stop, and the automations mark it Crashed and tell the office."""
    sink = WebhookSink()
    silence = 45
    assert install_automations(sink.url, silence=silence) == [
        "duban-sweep-failed",
        "duban-sweep-missing",
        "duban-runs-unheard",
    ]
    # a plan of its own: the killed run keeps its plan's sweep slot for a minute after dying
    killed = duban_home.parent / "killed.yaml"
    killed.write_text(CHONGQING.read_text(encoding="utf-8").replace("cq-2019-pilot", "cq-killed"))
    with session_scope(f"sqlite:///{duban_home / 'duban.db'}") as session:
        import_plan(session, killed, at=dt.datetime(2019, 7, 1, tzinfo=dt.UTC))
    prefect_cli("work-pool", "create", "duban-process", "--type", "process", "--overwrite")
    prefect_cli("--no-prompt", "deploy", "--name", "daily")
    out = prefect_cli(
        "deployment",
        "run",
        "deadline-sweep/daily",
        "--param",
        "as_of=2019-08-05",
        "--param",
        "plan=cq-killed",
    )
    flow_run_id = UUID(out.split("/runs/flow-run/")[1].split()[0])

    with socket.socket() as mute_smtp:  # accepts, never greets: delivery hangs on it
        mute_smtp.bind(("127.0.0.1", 0))
        mute_smtp.listen()
        env = operator_env(prefect_server, duban_home) | {
            "DUBAN_SMTP_HOST": "127.0.0.1",
            "DUBAN_SMTP_PORT": str(mute_smtp.getsockname()[1]),
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
        }
        worker = subprocess.Popen(
            [*PREFECT, "worker", "start", "--pool", "duban-process"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            mute_smtp.settimeout(120)
            connection, _ = mute_smtp.accept()  # the sweep is delivering: mid-run
            family = [worker.pid, *descendants(worker.pid)]
            for pid in family:
                os.kill(pid, signal.SIGKILL)
            worker.wait(30)
            connection.close()
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    state = wait_for_state(flow_run_id, "CRASHED", timeout=silence + 90)
    assert f"no heartbeat for {silence} s" in (state.message or "")
    deadline = time.monotonic() + 60
    while not sink.posted and time.monotonic() < deadline:
        time.sleep(0.5)
    sink.shutdown()
    sink.server_close()
    [told] = sink.posted
    assert "督办 deadline sweep Crashed" in told and "2019-08-05" in told


def descendants(pid: int) -> list[int]:
    """The processes started by `pid`, and by them, read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def wait_for_state(flow_run_id: UUID, state_type: str, timeout: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(flow_run_id).state
            if state is not None and state.type.value == state_type:
                return state
            time.sleep(1)
    raise AssertionError(f"the flow run is still {state} after {timeout} s")


def test_a_worker_without_a_checkout_installs_the_deployed_duban_and_runs_the_sweep(
    prefect_cli, prefect_api, prefect_server, duban_home, tmp_path
):
    """Another machine: duban's dependencies installed but not duban, no checkout, another
    folder. The run's pull step installs the deployed version from the wheelhouse."""
    env = operator_env(prefect_server, duban_home)
    released = subprocess.run(
        ["bash", "scripts/release", env["DUBAN_WHEELHOUSE"]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert released.stdout.strip().endswith(f"duban-{version('duban')}-py3-none-any.whl")
    prefect_cli("work-pool", "create", "duban-process", "--type", "process", "--overwrite")
    prefect_cli("--no-prompt", "deploy", "--name", "daily")
    out = prefect_cli(  # one plan: a run of all would start child runs for other workers
        "deployment",
        "run",
        "deadline-sweep/daily",
        "--param",
        "as_of=2019-07-25",
        "--param",
        "plan=cq-2019-pilot",
    )
    flow_run_id = UUID(out.split("/runs/flow-run/")[1].split()[0])

    machine = tmp_path / "worker-machine"
    python = environment_without_duban(machine / "env")
    folder = machine / "work"
    folder.mkdir()
    worker_env = env | {
        "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
        "PWD": str(folder),
    }
    subprocess.run(
        [str(python), "-m", "prefect", "worker", "start", "--pool", "duban-process", "--run-once"],
        cwd=folder,
        env=worker_env,
        capture_output=True,
        check=True,
        timeout=300,
    )
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run_id).state
    assert state is not None and state.is_completed(), state
    assert len(list((duban_home / "outbox").glob("*.eml"))) == 6
    installed = subprocess.run(
        [str(python), "-c", "import flows; print(flows.__file__)"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(machine / "env") in installed.stdout  # from the wheel, not this checkout


def environment_without_duban(where: Path) -> Path:
    """A virtual environment holding what duban needs but not duban: this one's packages,
    linked, less duban's own. Returns its python."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    ours = Path(sysconfig.get_paths()["purelib"])
    others = where / "dependencies"
    others.mkdir()
    for entry in ours.iterdir():
        if not entry.name.lower().startswith(("duban", "__editable__")):
            (others / entry.name).symlink_to(entry)
    [site] = where.glob("lib/python*/site-packages")
    (site / "dependencies.pth").write_text(f"{others}\n")
    return where / "bin" / "python"


class SlowInbox:
    """An SMTP server that takes a second over each mail, keeping Message-IDs and when."""

    def __init__(self) -> None:
        self.received: list[tuple[str, float]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        await asyncio.sleep(1)
        message = message_from_bytes(envelope.original_content or b"")
        self.received.append((str(message["Message-ID"]), time.monotonic()))
        return "250 2.0.0 accepted"


def stopped(worker: subprocess.Popen[bytes]) -> None:
    """Wait for a worker told to stop, and kill what is left of it after 30 s.

    In the whole suite's load, a Prefect 3.9 worker has stayed up idle for over a minute after
    its SIGTERM, with no flow run process left under it (py-spy: its event loop waiting, no
    child in `ps`): Prefect's own shutdown, not a run of duban's. This test is about the mail.
    """
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def test_two_workers_sweep_two_plans_at_once_and_send_each_mail_once(
    prefect_cli, prefect_api, prefect_server, duban_home, tmp_path
):
    twin = tmp_path / "twin.yaml"  # a second plan: the same work under another code
    twin.write_text(CHONGQING.read_text(encoding="utf-8").replace("cq-2019-pilot", "cq-twin"))
    swept = dt.datetime(2019, 8, 1, 0, 30, tzinfo=dt.UTC)
    with session_scope(f"sqlite:///{duban_home / 'duban.db'}") as session:
        import_plan(session, twin, at=dt.datetime(2019, 7, 1, tzinfo=dt.UTC))
        # both plans last swept on Thursday 1 August (by a run that sent nothing), so each
        # child first catches up Friday the 2nd for its plan
        session.add(SweepRun(as_of=dt.date(2019, 8, 1), started_at=swept, finished_at=swept))
    prefect_cli("work-pool", "create", "duban-process", "--type", "process", "--overwrite")
    prefect_cli("--no-prompt", "deploy", "--name", "daily")

    inbox = SlowInbox()
    sink = Controller(inbox, hostname="127.0.0.1", port=free_port())
    sink.start()
    env = operator_env(prefect_server, duban_home) | {
        "DUBAN_SMTP_HOST": "127.0.0.1",
        "DUBAN_SMTP_PORT": str(sink.port),
        "PREFECT_WORKER_QUERY_SECONDS": "2",
    }
    workers = [
        subprocess.Popen(
            [*PREFECT, "worker", "start", "--pool", "duban-process", "--limit", "2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(2)
    ]
    try:
        out = prefect_cli(
            "deployment",
            "run",
            "deadline-sweep/daily",
            "--param",
            "as_of=2019-08-05",
            "--param",
            "catch_up=true",
        )
        parent_id = UUID(out.split("/runs/flow-run/")[1].split()[0])
        parent = wait_for_state(parent_id, "COMPLETED", timeout=240)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            stopped(worker)
        sink.stop()

    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent_id])
            )
        )
    assert sorted(c.parameters["plan"] for c in children) == ["cq-2019-pilot", "cq-twin"]
    assert all(c.state is not None and c.state.is_completed() for c in children)
    first, second = sorted(children, key=lambda c: c.start_time)
    assert second.start_time < first.end_time  # at once, not one after the other
    assert parent.state_details is not None
    ids = [message_id for message_id, _ in inbox.received]
    assert len(ids) == 14 and len(set(ids)) == 14  # 7 letters a plan, each sent once
    assert all(c.parameters["catch_up"] is True for c in children)
    with session_scope(f"sqlite:///{duban_home / 'duban.db'}") as session:
        runs = {(r.as_of.isoformat(), r.plan_code) for r in session.exec(select(SweepRun))}
    assert runs == {
        ("2019-08-01", None),
        *(
            (day, plan)
            for day in ("2019-08-02", "2019-08-05")
            for plan in ("cq-2019-pilot", "cq-twin")
        ),
    }
