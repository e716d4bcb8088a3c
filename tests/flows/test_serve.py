"""`duban serve`: the APScheduler jobs kept in duban's own database, a missed sweep caught up
at the next start, and the whole thing (its own Prefect server, a flow run from a job, Ctrl-C)
in a subprocess."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import inspect, text

from duban.serve import (
    JOB_TABLE,
    OUTBOX_GRACE,
    SWEEP_GRACE,
    TIMEZONE,
    build_scheduler,
    schedule_jobs,
)
from schemas.db import create_schema, engine_for
from schemas.settings import Settings

from ..conftest import ROOT

SWEEP, RETRY = "duban-deadline-sweep", "duban-outbox-retry"


def started(settings: Settings):  # type: ignore[no-untyped-def]
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)  # nothing runs: jobs are only stored and read back
    schedule_jobs(scheduler)
    return scheduler


def test_the_jobs_are_kept_in_dubans_database_with_their_schedules(tmp_path):
    settings = Settings(home=tmp_path / "home")
    create_schema(settings.url)
    scheduler = started(settings)
    try:
        assert str(scheduler.timezone) == "Asia/Shanghai"
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {SWEEP, RETRY}
        sweep, retry = jobs[SWEEP], jobs[RETRY]
        assert sweep.func_ref == "duban.serve:run_deadline_sweep"
        assert retry.func_ref == "duban.serve:run_outbox_retry"
        assert str(sweep.trigger) == "cron[hour='8', minute='30']"
        assert sweep.trigger.timezone == TIMEZONE
        assert retry.trigger.interval == dt.timedelta(minutes=15)
        assert (sweep.misfire_grace_time, retry.misfire_grace_time) == (SWEEP_GRACE, OUTBOX_GRACE)
        assert sweep.coalesce and retry.coalesce
        assert sweep.max_instances == retry.max_instances == 1
        assert (sweep.next_run_time.hour, sweep.next_run_time.minute) == (8, 30)
        assert retry.next_run_time.minute % 15 == 0 and retry.next_run_time.second == 0
    finally:
        scheduler.shutdown()

    engine = engine_for(settings.url)
    assert {"plan", "outboxmessage", JOB_TABLE} <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        stored = connection.execute(text(f"SELECT id FROM {JOB_TABLE} ORDER BY id")).all()
    assert [row.id for row in stored] == [SWEEP, RETRY]

    # a restart replaces the jobs by id: still two
    scheduler = started(settings)
    assert sorted(job.id for job in scheduler.get_jobs()) == [SWEEP, RETRY]
    scheduler.shutdown()


def test_a_sweep_missed_while_serve_was_down_is_kept_for_the_next_start(tmp_path):
    settings = Settings(home=tmp_path / "home")
    missed = dt.datetime.now(TIMEZONE).replace(microsecond=0) - dt.timedelta(hours=1)
    scheduler = started(settings)
    scheduler.modify_job(SWEEP, next_run_time=missed)
    scheduler.shutdown()

    scheduler = started(settings)  # paused: the missed run is found but not run here
    try:
        assert scheduler.get_job(SWEEP).next_run_time == missed
    finally:
        scheduler.shutdown()
    scheduler = started(settings)  # shutting down did not consume it either
    try:
        assert scheduler.get_job(SWEEP).next_run_time == missed
    finally:
        scheduler.shutdown()


def test_a_stored_job_that_cannot_be_read_any_more_is_replaced(tmp_path):
    settings = Settings(home=tmp_path / "home")
    started(settings).shutdown()
    with engine_for(settings.url).begin() as connection:  # as if stored by an older duban
        state = pickle.loads(
            connection.execute(
                text(f"SELECT job_state FROM {JOB_TABLE} WHERE id = :id"), {"id": SWEEP}
            ).scalar_one()
        )
        state["func"] = "duban.serve:a_function_since_renamed"
        connection.execute(
            text(f"UPDATE {JOB_TABLE} SET job_state = :state WHERE id = :id"),
            {"state": pickle.dumps(state), "id": SWEEP},
        )
    scheduler = started(settings)
    try:
        assert scheduler.get_job(SWEEP).func_ref == "duban.serve:run_deadline_sweep"
    finally:
        scheduler.shutdown()


def test_serve_starts_its_own_prefect_server_runs_the_missed_sweep_and_stops_on_ctrl_c(tmp_path):
    home = tmp_path / "home"
    settings = Settings(home=home)
    scheduler = started(settings)  # the 08:30 sweep was missed a minute ago
    scheduler.modify_job(SWEEP, next_run_time=dt.datetime.now(TIMEZONE) - dt.timedelta(minutes=1))
    scheduler.shutdown()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUBAN_"))}
    env |= {"DUBAN_HOME": str(home)}
    log = tmp_path / "serve.log"
    with open(log, "wb") as output:
        serve = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from duban.serve import serve\n"
                "from schemas.settings import Settings\nserve(Settings())",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(log, "executed successfully", serve, timeout=120)
        serve.send_signal(signal.SIGINT)
        assert serve.wait(60) == 0, read(log)
    finally:
        if serve.poll() is None:
            serve.kill()
    out = read(log)
    assert 'Running job "deadline sweep' in out
    assert "skipping the sweep: no plan has been imported" in out  # an empty database
    assert "Prefect server stopped" in out and "duban serve stopped" in out
    assert "Traceback" not in out and "ERROR" not in out, out

    api = out.split("runs recorded at ")[1].split(";")[0]
    assert (home / "prefect" / "server.log").exists()  # PREFECT_HOME under DUBAN_HOME
    try:
        httpx.get(f"{api}/api/health", timeout=2)
        raise AssertionError(f"the Prefect server at {api} is still running")
    except httpx.ConnectError:
        pass
    scheduler = started(settings)
    try:  # the catch-up ran once; the next sweep is the next 08:30
        next_run = scheduler.get_job(SWEEP).next_run_time
        assert (next_run.hour, next_run.minute) == (8, 30)
        assert next_run > dt.datetime.now(TIMEZONE)
    finally:
        scheduler.shutdown()


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def wait_for(log: Path, text: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in read(log):
            return
        if process.poll() is not None:
            raise AssertionError(f"duban serve exited with {process.returncode}:\n{read(log)}")
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} within {timeout} s:\n{read(log)}")
