"""Cluster benchmark (issue 14 §3): does a second worker make the daily sweep finish sooner?

Sets up what docs/deployment.md describes, on this machine: duban's database on PostgreSQL
(40 plans × 250 tasks × 10 units = 100,000 open assignments, built as bench/sweep.py builds
them), a real `prefect server start` on a free port with a temporary PREFECT_HOME and its own
PostgreSQL database, the `duban-process` work pool and the `deadline-sweep/daily` deployment
made by `prefect deploy` from prefect.yaml (its schedule switched off, so only the bench starts
runs), `prefect worker start` processes, and an aiosmtpd sink counting Message-IDs.

One measurement: a fresh copy of the same duban database (a PostgreSQL template, so every
measurement sweeps the same data on the same day), N workers started and seen online, then the
clock starts at `run_deployment` of the parent sweep (the fan-out: one child run per plan, each
holding its plan's concurrency limit) and stops when the parent has completed and every message
written to the outbox has arrived at the sink. Measurements alternate one worker and two, so
load from other work on the machine falls on both alike. Prints each measurement, then the min
and median per worker count, the ratio two/one, and the mail duplicated (received more than
once) and lost (written, never received): both must be 0.

Everything it starts (the Prefect server, the workers and their flow runs, the SMTP sink) is
stopped, and its databases dropped, on the way out: at the end, on an error, on Ctrl-C or
SIGTERM. A measurement at full size takes minutes (a child run is a fresh interpreter on the
worker), hence --repeat (default 3).

Usage: python bench/cluster.py [--plans 40] [--tasks 250] [--units 10] [--repeat 3]
       [--limit 4] [--poll 10] [--prefect-db postgres|sqlite]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any, NoReturn, cast
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import psycopg
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from sqlmodel import select
from sweep import build

from duban.serve import (
    PrefectServer,
    free_port,
    prefect_environment,
    stop_process_group,
    stopped_with_parent,
    wait_healthy,
)
from schemas.db import dispose_engines, session_scope
from schemas.tables import Assignment, OutboxMessage

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("DUBAN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
DAY = dt.date(2020, 6, 15)  # a Monday, as in bench/sweep.py: ~11 messages a plan
POOL = "duban-process"
DEPLOYMENT = "deadline-sweep/daily"
PREFECT = [sys.executable, "-m", "prefect"]


class Inbox:
    """The SMTP sink's handler: how often each Message-ID arrived, and when the last did."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received: Counter[str] = Counter()
        self.last = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        message_id = str(message_from_bytes(envelope.original_content or b"")["Message-ID"])
        with self._lock:
            self.received[message_id] += 1
            self.last = time.perf_counter()
        return "250 2.0.0 accepted"

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.last = 0.0

    def snapshot(self) -> tuple[Counter[str], float]:
        with self._lock:
            return Counter(self.received), self.last


@dataclass
class Databases:
    """The PostgreSQL databases of one bench run, all named after it and dropped after it."""

    prefix: str
    template: str = field(init=False)  # duban's data as built, never swept
    run: str = field(init=False)  # a fresh copy of the template for each measurement
    prefect: str = field(init=False)  # the Prefect server's

    def __post_init__(self) -> None:
        self.template, self.run = f"{self.prefix}_template", f"{self.prefix}_run"
        self.prefect = f"{self.prefix}_prefect"

    def all(self) -> list[str]:
        return [self.run, self.template, self.prefect]


def database_url(name: str, driver: str = "psycopg") -> str:
    """POSTGRES (the server and role of the test suite), on database `name`."""
    parts = urlsplit(POSTGRES)
    return urlunsplit((f"postgresql+{driver}", parts.netloc, f"/{name}", "", ""))


def admin(*statements: str) -> None:
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement.encode())


@contextmanager
def databases(prefix: str) -> Iterator[Databases]:
    names = Databases(prefix)
    admin(f"CREATE DATABASE {names.template}", f"CREATE DATABASE {names.prefect}")
    try:
        yield names
    finally:
        dispose_engines()
        admin(*(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for name in names.all()))


def fresh_copy(names: Databases) -> None:
    """The measurement's database: the template as built, nothing swept yet."""
    dispose_engines()
    admin(
        f"DROP DATABASE IF EXISTS {names.run} WITH (FORCE)",
        f"CREATE DATABASE {names.run} TEMPLATE {names.template}",
    )


def prefect_env(server: PrefectServer, home: Path) -> dict[str, str]:
    """The environment of a Prefect command (server, CLI, worker): this bench's server and
    home, none of the caller's PREFECT_ or DUBAN_ settings, this virtualenv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUBAN_"))}
    return {
        **env,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": server.api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


@contextmanager
def prefect_server(home: Path, database: str | None) -> Iterator[PrefectServer]:
    """`prefect server start` on a free port, on PostgreSQL `database` (None: SQLite in
    `home`); stopped with its process group on the way out, and by the kernel if this
    process dies first."""
    port = free_port()
    server = PrefectServer(f"http://127.0.0.1:{port}/api", log_path=home / "server.log")
    env = prefect_env(server, home)
    if database is not None:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url(database, "asyncpg")
    with open(home / "server.log", "wb") as log:
        server.process = subprocess.Popen(
            [*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=stopped_with_parent(),
        )
    try:
        wait_healthy(server, timeout=180)
        yield server
    finally:
        stop_process_group(server.process)


def prefect_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*PREFECT, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def deploy(env: dict[str, str]) -> None:
    """The work pool and the sweep's deployment, as docs/deployment.md makes them; its daily
    schedule is switched off, so that no run but the bench's starts while it measures."""
    prefect_cli(env, "work-pool", "create", POOL, "--type", "process", "--overwrite")
    prefect_cli(env, "--no-prompt", "deploy", "--name", "daily")
    with get_client(sync_client=True) as client:
        daily = client.read_deployment_by_name(DEPLOYMENT)
        for schedule in daily.schedules:
            client.update_deployment_schedule(daily.id, schedule.id, active=False)


def family(pid: int) -> list[int]:
    """`pid` and every process started by it or by them, read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(") ", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def stop_workers(workers: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each worker's process group, then SIGKILL whatever of the workers and their
    flow runs is left (a flow run may have a process group of its own)."""
    members = [pid for worker in workers for pid in family(worker.pid)]
    for worker in workers:
        if worker.poll() is None:
            try:
                os.killpg(worker.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 30
    for worker in workers:
        try:
            worker.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for pid in members:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for worker in workers:
        worker.wait()


@contextmanager
def workers(
    count: int, env: dict[str, str], folder: Path, tag: str, limit: int
) -> Iterator[list[str]]:
    """`count` process workers of the pool, started in `folder` (no checkout: the deployment
    names modules) and seen online by the server; their names."""
    names = [f"{tag}-w{i + 1}" for i in range(count)]
    started: list[subprocess.Popen[bytes]] = []
    try:
        for name in names:
            args = [*PREFECT, "worker", "start", "--pool", POOL, "--name", name]
            with open(folder / f"{name}.log", "wb") as log:
                started.append(
                    subprocess.Popen(
                        [*args, "--limit", str(limit)] if limit else args,
                        cwd=folder,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                        preexec_fn=stopped_with_parent(),
                    )
                )
        deadline = time.monotonic() + 120
        with get_client(sync_client=True) as client:
            while True:
                if dead := [n for n, w in zip(names, started, strict=True) if w.poll() is not None]:
                    raise RuntimeError(f"worker {dead[0]} exited; see {folder / dead[0]}.log")
                online = {
                    w.name
                    for w in client.read_workers_for_work_pool(POOL)
                    if w.last_heartbeat_time is not None
                }
                if online >= set(names):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"workers {names} not online after 120 s; see {folder}")
                time.sleep(0.5)
        yield names
    finally:
        stop_workers(started)


@dataclass
class Measurement:
    workers: int
    seconds: float
    state: str  # the parent's final state
    children: int
    completed: int
    at_once: int  # most child runs running at the same moment
    child_mean: float  # seconds, start to end of a child run
    parent_start: float  # seconds from the trigger to the parent's start
    children_made: float  # seconds from the trigger to the last child run's creation
    first_child: float  # seconds from the trigger to the first child run's start
    messages: int  # written to the outbox
    duplicates: int
    lost: int
    load: str  # /proc/loadavg before, after
    busy: float  # share of the machine's CPU time busy (any process) while measured


def cpu_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of every core since boot, from /proc/stat."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
    return sum(fields) - idle, sum(fields)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def wait_final(run_id: UUID, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(run_id).state
            if state is not None and state.is_final():
                return state.type.value
            time.sleep(0.25)
    return "TIMED OUT"


def children_of(run_id: UUID) -> list[FlowRun]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run_id])
            )
        )


def most_at_once(runs: Sequence[FlowRun]) -> int:
    """The most runs between their start and end at any one moment."""
    edges = sorted(
        (moment, step)
        for run in runs
        if run.start_time is not None and run.end_time is not None
        for moment, step in ((run.start_time, 1), (run.end_time, -1))
    )
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def written_messages(url: str) -> set[str]:
    with session_scope(url) as session:
        return set(session.exec(select(OutboxMessage.message_id_header)))


def measure(
    count: int, inbox: Inbox, names: Databases, env: dict[str, str], folder: Path, args: Any
) -> Measurement:
    fresh_copy(names)
    tag = f"m{uuid.uuid4().hex[:6]}"
    with workers(count, env, folder, tag, args.limit):
        inbox.clear()
        before = loadavg()
        ticks = cpu_ticks()
        started = time.perf_counter()
        parent = cast(
            FlowRun,
            run_deployment(DEPLOYMENT, parameters={"as_of": DAY.isoformat()}, timeout=0),
        )
        state = wait_final(parent.id, args.timeout)
        finished = time.perf_counter()
        expected = written_messages(database_url(names.run))
        grace = time.monotonic() + 60  # mail still on its way (there should be none)
        while set(inbox.snapshot()[0]) < expected and time.monotonic() < grace:
            time.sleep(0.25)
        received, last = inbox.snapshot()
        after = loadavg()
        busy, total = (now - then for now, then in zip(cpu_ticks(), ticks, strict=True))
    children = children_of(parent.id)
    spans = [
        (run.end_time - run.start_time).total_seconds()
        for run in children
        if run.start_time is not None and run.end_time is not None
    ]
    starts = [run.start_time for run in children if run.start_time is not None]
    created = parent.created
    with get_client(sync_client=True) as client:
        parent = client.read_flow_run(parent.id)
    assert created is not None

    def since_trigger(moment: dt.datetime | None) -> float:
        return (moment - created).total_seconds() if moment is not None else float("nan")

    return Measurement(
        workers=count,
        seconds=max(finished, last) - started,
        state=state,
        children=len(children),
        completed=sum(1 for c in children if c.state is not None and c.state.is_completed()),
        at_once=most_at_once(children),
        child_mean=statistics.fmean(spans) if spans else 0.0,
        parent_start=since_trigger(parent.start_time),
        children_made=since_trigger(max((c.created for c in children if c.created), default=None)),
        first_child=since_trigger(min(starts, default=None)),
        messages=len(expected),
        duplicates=sum(n - 1 for n in received.values() if n > 1),
        lost=len(expected - set(received)),
        load=f"{before} → {after}",
        busy=busy / total if total else float("nan"),
    )


def report(measurement: Measurement) -> None:
    m = measurement
    print(
        f"{m.workers} worker{'s' if m.workers > 1 else ' '}: {m.seconds:7.1f} s  parent "
        f"{m.state}, children {m.completed}/{m.children} completed, at most {m.at_once} at "
        f"once, {m.child_mean:.1f} s each on average; after the trigger: parent started "
        f"{m.parent_start:.1f} s, children made {m.children_made:.1f} s, first child started "
        f"{m.first_child:.1f} s; messages {m.messages}, duplicated {m.duplicates}, lost {m.lost}; "
        f"CPU busy {m.busy:.0%}, load {m.load}",
        flush=True,
    )


def summary(measurements: Sequence[Measurement]) -> None:
    times = {
        n: [m.seconds for m in measurements if m.workers == n and m.state == "COMPLETED"]
        for n in (1, 2)
    }
    for n, label in ((1, "one worker "), (2, "two workers")):
        if times[n]:
            print(
                f"{label}: min {min(times[n]):.1f} s, median {statistics.median(times[n]):.1f} s "
                f"({len(times[n])} completed runs)"
            )
    if times[1] and times[2]:
        print(
            f"ratio two/one: {min(times[2]) / min(times[1]):.2f} (min), "
            f"{statistics.median(times[2]) / statistics.median(times[1]):.2f} (median)"
        )
    failed = sum(1 for m in measurements if m.state != "COMPLETED" or m.completed != m.children)
    print(
        f"duplicated {sum(m.duplicates for m in measurements)}, lost "
        f"{sum(m.lost for m in measurements)} (of {sum(m.messages for m in measurements)} "
        f"messages written); runs not completed: {failed}"
    )


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, through every cleanup on the way out."""

    def raise_exit(signum: int, _frame: Any) -> NoReturn:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, raise_exit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=40)
    parser.add_argument("--tasks", type=int, default=250)
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="measurements per worker count")
    parser.add_argument(
        "--limit",
        type=int,
        default=4,
        help="each worker's --limit: runs at once, the parent's included (0: no limit)",
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=None,
        help="PREFECT_WORKER_QUERY_SECONDS, how often a worker asks for runs (Prefect: 10)",
    )
    parser.add_argument("--prefect-db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per measurement")
    args = parser.parse_args()
    stop_on_sigterm()
    print(
        f"machine: {os.cpu_count()} cores, load {loadavg()}; {args.plans} plans × {args.tasks} "
        f"tasks × {args.units} units; as of {DAY}; worker limit {args.limit or 'none'}, poll "
        f"{args.poll or 'Prefect default'} s; Prefect server on {args.prefect_db}",
        flush=True,
    )
    measurements: list[Measurement] = []
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-cluster-")))
        names = stack.enter_context(databases(f"bench_cluster_{uuid.uuid4().hex[:8]}"))
        built = build(database_url(names.template), folder, args.plans, args.tasks, args.units)
        dispose_engines()  # no connection may stay open on a template
        with session_scope(database_url(names.template)) as session:
            assignments = len(session.exec(select(Assignment.id)).all())
        dispose_engines()
        print(f"data: {assignments} assignments, built in {built:.1f} s", flush=True)

        home = folder / "prefect"
        home.mkdir()
        started = time.perf_counter()
        server = stack.enter_context(
            prefect_server(home, names.prefect if args.prefect_db == "postgres" else None)
        )
        stack.enter_context(
            prefect_environment(PREFECT_API_URL=server.api_url, PREFECT_HOME=str(home))
        )
        wheelhouse = folder / "wheelhouse"  # empty: the workers already have this duban
        wheelhouse.mkdir()
        env = prefect_env(server, home) | {"DUBAN_WHEELHOUSE": str(wheelhouse)}
        deploy(env)
        print(f"prefect server and deployment ready in {time.perf_counter() - started:.1f} s")

        inbox = Inbox()
        sink = Controller(inbox, hostname="127.0.0.1", port=free_port())
        sink.start()
        stack.callback(sink.stop)
        machine = folder / "worker"
        machine.mkdir()
        worker_env = env | {
            "DUBAN_DATABASE_URL": database_url(names.run),
            "DUBAN_HOME": str(machine / "home"),
            "DUBAN_SMTP_HOST": "127.0.0.1",
            "DUBAN_SMTP_PORT": str(sink.port),
        }
        if args.poll is not None:
            worker_env["PREFECT_WORKER_QUERY_SECONDS"] = str(args.poll)
        for _ in range(args.repeat):
            for count in (1, 2):
                measurement = measure(count, inbox, names, worker_env, machine, args)
                report(measurement)
                measurements.append(measurement)
        summary(measurements)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # everything started is stopped by now (the `with` blocks)
        print("interrupted; the server, the workers and the databases are gone", file=sys.stderr)
        sys.exit(130)
