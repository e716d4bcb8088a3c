"""`duban serve`: the web app and the embedded scheduler for a single machine.

One long-lived process serves the web app (uvicorn, in a thread; `--no-web` leaves it to a
separate `duban web`) and runs the jobs the Prefect deployments run (see docs/deployment.md),
as Prefect flows, so each run is recorded on a real Prefect server:

    deadline sweep   daily at 08:30 Asia/Shanghai (`sweep_cron`; the flow skips rest days)
    outbox retry     every 15 minutes (quarter past, half past, …)
    phase review     daily at 18:00 (`review_cron`; each ended phase is mailed once)
    office digest    Mondays at 09:00 (`digest_cron`)

The schedule is APScheduler's (3.x): a background scheduler whose jobs are kept in duban's own
database (table `apscheduler_jobs`), coalescing missed runs into one and running a missed run
late within a grace time: a sweep missed while the machine was down runs when `duban serve`
comes back, until 14:30, and so does one that started but did not sweep its day (serve killed
as it ran); each sweep first catches up the working days missed before it
(tasks.sweep.catch_up). The Prefect server is the one PREFECT_API_URL names, or else one
started here (`prefect server start` on a free local port, its data under DUBAN_HOME/prefect)
and stopped on exit, or when this process dies (even by kill -9: the server is told by the
kernel, and a server left running anyway is stopped by the next start). Ctrl-C or SIGTERM lets
a running flow finish (the web app answers until then), then stops everything; a second one
abandons running flows and stops at once. One `duban serve` per database: a second one is
refused, naming the first (`duban.serve_lock`).

Prefect is imported only once PREFECT_API_URL is set, inside the jobs.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from calendars.clock import OFFICE_ZONE
from duban.errors import EnvironmentProblem
from duban.serve_lock import only_serve
from schemas.db import engine_for
from schemas.settings import Settings
from schemas.vocabulary import ScheduledJob as Job

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("duban.serve")

TIMEZONE = ZoneInfo(OFFICE_ZONE)  # a plain ZoneInfo: APScheduler pickles it with the job
JOB_TABLE = "apscheduler_jobs"
OUTBOX_GRACE = 15 * 60  # seconds a missed outbox retry may still run late
SWEEP_GRACE = 6 * 3600  # a missed 08:30 sweep still runs until 14:30
SERVER_STARTUP = 120  # seconds to wait for a Prefect server to answer /api/health
PID_FILE = "server.pid"  # under the Prefect home: the server this serve started
PR_SET_PDEATHSIG = 1  # prctl(2)


class ServeError(EnvironmentProblem):
    """The Prefect server could not be started or reached, or the web app could not listen;
    the message says where to look."""


def run_deadline_sweep() -> None:
    """APScheduler job (stored by reference): the `deadline_sweep` flow as of today."""
    from duban.app import settings
    from flows.sweep import deadline_sweep

    _web_logs_stay_ours()
    warn_past_the_calendar(settings())
    deadline_sweep()


def warn_past_the_calendar(settings: Settings, day: dt.date | None = None) -> None:
    """Log each open plan that runs past the calendar data (from 30 working days ahead of
    `day`, today when not given)."""
    from calendars.clock import today
    from duban.app import calendar_warnings

    for warning in calendar_warnings(settings, day or today()):
        log.warning(warning)


def run_outbox_retry() -> None:
    """APScheduler job (stored by reference): the `deliver_outbox` flow."""
    from flows.deliver import deliver_outbox

    _web_logs_stay_ours()
    deliver_outbox()


def run_phase_review() -> None:
    """APScheduler job (stored by reference): the `phase_review` flow (ended phases, once)."""
    from flows.review import phase_review

    _web_logs_stay_ours()
    phase_review()


def run_office_digest() -> None:
    """APScheduler job (stored by reference): the `office_digest` flow."""
    from flows.review import office_digest

    _web_logs_stay_ours()
    office_digest()


def _web_logs_stay_ours() -> None:
    """Importing Prefect (in the first job) sets up its logging, which hands the `uvicorn`
    logger to Prefect's console at WARNING, as if for a Prefect server; here that logger is
    the web app's, so its lines (requests included) go back to this process's log."""
    web = logging.getLogger("uvicorn")
    web.setLevel(logging.INFO)
    web.handlers, web.propagate = [], True


@dataclass(frozen=True)
class JobSpec:
    job: Job
    name: str
    func: Callable[[], None]  # kept by reference ("module:function"), not as code
    trigger: BaseTrigger
    misfire_grace_time: int

    @property
    def id(self) -> str:
        """The fixed id the job keeps in the job store."""
        return f"duban-{self.func.__name__.removeprefix('run_').replace('_', '-')}"

    @property
    def ref(self) -> str:
        return f"{__name__}:{self.func.__name__}"


def job_specs(settings: Settings) -> list[JobSpec]:
    """The jobs of `duban serve`, at the times the settings give."""
    quarter_hours = dt.datetime(2019, 1, 1, tzinfo=TIMEZONE)
    return [
        JobSpec(
            Job.SWEEP,
            f"deadline sweep ({settings.sweep_cron})",
            run_deadline_sweep,
            CronTrigger.from_crontab(settings.sweep_cron, timezone=TIMEZONE),
            SWEEP_GRACE,
        ),
        JobSpec(
            Job.DELIVER,
            "outbox retry (every 15 minutes)",
            run_outbox_retry,
            IntervalTrigger(minutes=15, start_date=quarter_hours, timezone=TIMEZONE),
            OUTBOX_GRACE,
        ),
        JobSpec(
            Job.REVIEW,
            f"phase review ({settings.review_cron})",
            run_phase_review,
            CronTrigger.from_crontab(settings.review_cron, timezone=TIMEZONE),
            SWEEP_GRACE,
        ),
        JobSpec(
            Job.DIGEST,
            f"office digest ({settings.digest_cron})",
            run_office_digest,
            CronTrigger.from_crontab(settings.digest_cron, timezone=TIMEZONE),
            SWEEP_GRACE,
        ),
    ]


class Scheduler(BackgroundScheduler):  # type: ignore[misc]  # APScheduler 3 ships no type hints
    """APScheduler's background scheduler, minus one flaw of 3.x: its loop looks for due jobs
    once more after `shutdown()`, submits them to the stopped executor ("cannot schedule new
    futures after shutdown", agronholm/apscheduler#285, #985) and moves their next run time
    on, so a run due at that moment is lost instead of caught up at the next start."""

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()  # type: ignore[no-any-return]


def build_scheduler(settings: Settings) -> Scheduler:
    """The scheduler, not started and without jobs (`schedule_jobs` adds them once it is
    started, so that a run missed while it was down is kept). Jobs are stored in the same
    database as everything else; one job of each kind runs at a time."""
    store = SQLAlchemyJobStore(engine=engine_for(settings.url), tablename=JOB_TABLE)
    return Scheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(max_workers=2)},
        job_defaults={"coalesce": True, "misfire_grace_time": OUTBOX_GRACE, "max_instances": 1},
        timezone=TIMEZONE,
        daemon=True,
    )


def schedule_jobs(scheduler: Scheduler, settings: Settings, run_now: Sequence[Job] = ()) -> None:
    """Add (or replace) the jobs by their fixed ids on a started scheduler; the `run_now`
    ones are due at once (and then at their schedule again).

    A stored job whose schedule is unchanged keeps its stored next run time, even one in the
    past: that is how a run missed while `duban serve` was down is noticed and run (once,
    within its grace time) instead of being silently replaced by the next one.
    """
    for spec in job_specs(settings):
        try:
            stored = scheduler.get_job(spec.id)
        except Exception as exc:  # stored by an older duban: unreadable, so replaced
            log.warning("replacing the stored job %s, which cannot be read: %s", spec.id, exc)
            stored = None
        keep: dict[str, Any] = {}
        if (
            stored is not None
            and stored.func_ref == spec.ref
            and str(stored.trigger) == str(spec.trigger)
            and getattr(stored.trigger, "timezone", None) == TIMEZONE
            and stored.next_run_time is not None
        ):
            keep["next_run_time"] = stored.next_run_time
        if spec.job in run_now:
            keep["next_run_time"] = dt.datetime.now(TIMEZONE)
        scheduler.add_job(
            spec.ref,
            spec.trigger,
            id=spec.id,
            name=spec.name,
            misfire_grace_time=spec.misfire_grace_time,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
            **keep,
        )


SWEEP_JOB = "duban-deadline-sweep"


def rerun_an_unfinished_sweep(scheduler: Scheduler, settings: Settings, now: dt.datetime) -> None:
    """Make the sweep due now when its last time came within its grace time and the day it was
    due on is still not swept for some plan.

    APScheduler moves a job on to its next time as it starts it, so a `duban serve` killed
    while the sweep ran (or before it wrote anything) would otherwise leave that day to the
    next day's sweep (which catches it up, late). A sweep already due (missed while serve was
    down, or asked for with --run-now) runs anyway and is left alone.
    """
    job = scheduler.get_job(SWEEP_JOB)
    if job is None or job.next_run_time is None or job.next_run_time <= now:
        return
    due = last_time(job.trigger, now, dt.timedelta(seconds=SWEEP_GRACE))
    if due is None:
        return
    from calendars.workdays import CalendarError
    from schemas.db import session_scope
    from tasks.sweep.catch_up import sweep_status

    day = due.astimezone(TIMEZONE).date()
    try:
        with session_scope(settings.url) as session:
            record = sweep_status(session, through=day, calendar_dir=settings.calendar_dir)
    except CalendarError as exc:
        log.warning("cannot tell whether %s was swept: %s", day, exc)
        return
    if unswept := sorted(p.plan for p in record if day in p.unswept):
        log.warning(
            "the sweep due at %s has not swept %s for %s (was duban serve stopped while it "
            "ran?): sweeping now",
            due.strftime("%Y-%m-%d %H:%M"),
            day,
            ", ".join(unswept),
        )
        scheduler.modify_job(SWEEP_JOB, next_run_time=now)


def last_time(trigger: BaseTrigger, now: dt.datetime, within: dt.timedelta) -> dt.datetime | None:
    """The trigger's last time at or before `now`, if it came within `within` of it."""
    found = None
    time_due = trigger.get_next_fire_time(None, now - within)
    while time_due is not None and time_due <= now:
        found = time_due
        time_due = trigger.get_next_fire_time(found, found + dt.timedelta(microseconds=1))
    return found


@dataclass(frozen=True)
class WebAddress:
    """Where `duban serve` serves the web app beside the scheduler."""

    host: str
    port: int


def serve(settings: Settings, web: WebAddress | None = None, run_now: Sequence[Job] = ()) -> None:
    """Serve the web app at `web` (if given) and run the embedded scheduler until Ctrl-C or
    SIGTERM (what `duban serve` does).

    The web app listens before the Prefect server is started, and stops last: it answers while
    running flows finish. Uses the Prefect server PREFECT_API_URL names, or starts one
    (`prefect server start` on a free port of 127.0.0.1, PREFECT_HOME under
    `settings.home / "prefect"`) and stops it on exit. The first Ctrl-C or SIGTERM lets running
    flows finish; a second one abandons them (their database transactions roll back), stops
    the server and exits the process at once (status 130). Must be called from the main thread
    (it installs signal handlers). Raises AlreadyServing when another serve holds the
    database, ServeError when the server does not come up or dies, or the web app cannot
    listen.
    """
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s | %(levelname)-7s | %(name)s - %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Prefect API call
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if stop.is_set():  # the second: stop now, and let nothing interrupt stopping the server
            for s in (signal.SIGINT, signal.SIGTERM):
                signal.signal(s, signal.SIG_IGN)
            raise KeyboardInterrupt
        log.info(
            "%s: stopping after the running jobs finish (Ctrl-C again to stop now)",
            signal.Signals(signum).name,
        )
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    warn_past_the_calendar(settings)
    try:
        with (
            only_serve(settings.url),
            web_app(settings, web, stop) as site,
            prefect_server(settings, stop=stop) as server,
        ):
            if not stop.is_set():
                run_scheduler(settings, server, stop, site, run_now)
    except KeyboardInterrupt:
        log.warning("stopped without waiting: running flows were abandoned")
        logging.shutdown()
        os._exit(130)  # the executor's threads would otherwise still be joined at exit
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info("duban serve stopped")


def run_scheduler(
    settings: Settings,
    server: PrefectServer,
    stop: threading.Event,
    site: WebThread | None,
    run_now: Sequence[Job] = (),
) -> None:
    """Schedule the jobs and run them until `stop` is set; then wait for running jobs."""
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)
    try:
        schedule_jobs(scheduler, settings, run_now)
        rerun_an_unfinished_sweep(scheduler, settings, dt.datetime.now(TIMEZONE))
        scheduler.resume()
        for job in scheduler.get_jobs():
            log.info("scheduled %s: next run %s", job.name, job.next_run_time)
        log.info("duban serve: runs recorded at %s; Ctrl-C stops", server.ui_url)
        while not stop.wait(1.0):
            if not server.alive():
                raise ServeError(f"the Prefect server stopped; see {server.log_path}")
            if site is not None and not site.alive():
                raise ServeError("the web app stopped; see the lines above")
    finally:
        scheduler.shutdown(wait=True)
        _flush_prefect()


class WebThread:
    """The web app on uvicorn in a thread of this process. uvicorn installs no signal handlers
    outside the main thread, so `serve`'s own decide when it stops."""

    def __init__(self, server: uvicorn.Server) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.run, name="duban-web", daemon=True)

    def alive(self) -> bool:
        return self.thread.is_alive()

    def wait_listening(self, address: WebAddress, stop: threading.Event) -> None:
        """Until uvicorn listens (or `stop` is set); ServeError if it gives up (the port is
        taken, say: uvicorn has logged why)."""
        while not self.server.started and not stop.is_set():
            if not self.alive():
                raise ServeError(
                    f"the web app could not listen on {address.host}:{address.port}; "
                    "see the lines above"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop accepting, finish the requests under way, close the connections."""
        self.server.should_exit = True
        self.thread.join()


@contextmanager
def web_app(
    settings: Settings, address: WebAddress | None, stop: threading.Event
) -> Iterator[WebThread | None]:
    """The web app served at `address` while the block runs (nothing when it is None)."""
    if address is None:
        yield None
        return
    import uvicorn

    from duban.web.server import listening, web_config

    config = web_config(settings, address.host, address.port, own_logging=False)
    site = WebThread(uvicorn.Server(config))
    site.thread.start()
    try:
        site.wait_listening(address, stop)
        log.info(listening(settings, address.host, address.port))
        yield site
    finally:
        site.stop()
        log.info("web app stopped")


@dataclass
class PrefectServer:
    api_url: str
    process: subprocess.Popen[bytes] | None = None  # None: a server someone else runs
    log_path: Path | None = None

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")

    def alive(self) -> bool:
        return self.process is None or self.process.poll() is None


@contextmanager
def prefect_server(
    settings: Settings, *, stop: threading.Event | None = None
) -> Iterator[PrefectServer]:
    """The Prefect server flows report to, with PREFECT_API_URL set in this process (waiting
    for it stops early when `stop` is set)."""
    given = os.environ.get("PREFECT_API_URL")
    if given:
        server = PrefectServer(given)
        wait_healthy(server, timeout=30, stop=stop)
        yield server
        return
    home = (settings.home / "prefect").resolve()
    home.mkdir(parents=True, exist_ok=True)
    stop_orphaned_server(home / PID_FILE)
    port = free_port()
    log_path = home / "server.log"
    server = PrefectServer(f"http://127.0.0.1:{port}/api", log_path=log_path)
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # where the UI's pages call the API (else they call port 4200 and find nothing)
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_API_URL": server.api_url,
    }
    log.info("starting a Prefect server on port %d (log: %s)", port, log_path)
    with open(log_path, "ab") as output:
        # Its own session: Ctrl-C reaches this process only, which stops the server last;
        # the kernel stops it if this process dies without doing so.
        server.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=stopped_with_parent(),
        )
    (home / PID_FILE).write_text(f"{server.process.pid}\n")
    try:
        wait_healthy(server, timeout=SERVER_STARTUP, stop=stop)
        with prefect_environment(PREFECT_HOME=str(home), PREFECT_API_URL=server.api_url):
            yield server
    finally:
        stop_process_group(server.process)
        (home / PID_FILE).unlink(missing_ok=True)
        log.info("Prefect server stopped")


def stopped_with_parent() -> Callable[[], None] | None:
    """On Linux, a function for the child to run before `exec`: the kernel sends it SIGTERM
    when this process dies, kill -9 included (prctl PR_SET_PDEATHSIG), so no Prefect server
    outlives `duban serve`. Elsewhere None: the next start stops an orphan instead."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not in the forked child

    def ask_for_sigterm() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return ask_for_sigterm


def stop_orphaned_server(pid_file: Path) -> None:
    """Stop the Prefect server a killed `duban serve` left running on these files (its pid is
    in `pid_file`), so that a restart does not run a second one beside it."""
    try:
        pid = int(pid_file.read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)
        return
    if b"prefect" in command and b"server" in command:
        log.warning("stopping the Prefect server (pid %d) a stopped duban serve left running", pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while running(pid) and time.monotonic() < deadline:
                time.sleep(0.25)
            if running(pid):
                os.killpg(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


def running(pid: int) -> bool:
    """Whether the process runs (one that has exited but is not yet reaped does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@contextmanager
def prefect_environment(**updates: str) -> Iterator[None]:
    """Point this process's Prefect settings elsewhere for a while, then put them back."""
    saved = {key: os.environ.get(key) for key in updates}
    os.environ.update(updates)
    _refresh_prefect_settings()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _refresh_prefect_settings()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(
    server: PrefectServer, *, timeout: float, stop: threading.Event | None = None
) -> None:
    """Wait until the server answers /api/health (or `stop` is set)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stop is not None and stop.is_set():
            return
        if not server.alive():
            raise ServeError(f"the Prefect server exited at start; see {server.log_path}")
        try:
            if httpx.get(f"{server.api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    where = f"see {server.log_path}" if server.log_path else "is PREFECT_API_URL right?"
    raise ServeError(
        f"no Prefect server answered at {server.api_url} within {timeout:.0f} s; {where}"
    )


def stop_process_group(process: subprocess.Popen[bytes] | None, timeout: float = 20) -> None:
    """SIGTERM the process group this process started (the server and its children), then
    SIGKILL what is left after `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            continue


def _refresh_prefect_settings() -> None:
    """Prefect reads its settings when imported; if it already is, read them again."""
    if "prefect.context" in sys.modules:
        sys.modules["prefect.context"].refresh_global_settings_context()


def _flush_prefect() -> None:
    """Send the last logs and events of the flows to the server before it is stopped."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)
