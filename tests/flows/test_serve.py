"""`duban serve`: the APScheduler jobs kept in duban's own database, a missed sweep caught up
at the next start, and the whole thing in a subprocess: the scheduler alone with its own
Prefect server stopped by Ctrl-C, and the command with the web app beside the scheduler,
stopped by SIGTERM."""

from __future__ import annotations

import datetime as dt
import email
import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import inspect, text
from sqlmodel import select

from duban.serve import (
    JOB_TABLE,
    OUTBOX_GRACE,
    SWEEP_GRACE,
    TIMEZONE,
    PrefectServer,
    build_scheduler,
    free_port,
    rerun_an_unfinished_sweep,
    running,
    schedule_jobs,
    stop_orphaned_server,
)
from duban.serve_lock import LOCK_CLASS
from schemas.db import create_schema, engine_for, session_scope
from schemas.settings import Settings
from schemas.tables import MessageBody, OutboxMessage, SweepRun
from schemas.vocabulary import AccountRole, MessageStatus, ScheduledJob
from tasks.plans.importer import import_plan
from tasks.sweep.delivery import EmlOutbox
from tasks.work.accounts import add_account

from ..conftest import POSTGRES, ROOT, postgres_connect
from ..webworld import csrf_of
from .conftest import CHONGQING, server_env

SWEEP, RETRY = "duban-deadline-sweep", "duban-outbox-retry"
REVIEW, DIGEST = "duban-phase-review", "duban-office-digest"


def started(settings: Settings):  # type: ignore[no-untyped-def]
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)  # nothing runs: jobs are only stored and read back
    schedule_jobs(scheduler, settings)
    return scheduler


def test_the_jobs_are_kept_in_dubans_database_with_their_schedules(tmp_path):
    settings = Settings(home=tmp_path / "home")
    create_schema(settings.url)
    scheduler = started(settings)
    try:
        assert str(scheduler.timezone) == "Asia/Shanghai"
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {SWEEP, RETRY, REVIEW, DIGEST}
        sweep, retry, review, digest = (jobs[j] for j in (SWEEP, RETRY, REVIEW, DIGEST))
        assert sweep.func_ref == "duban.serve:run_deadline_sweep"
        assert retry.func_ref == "duban.serve:run_outbox_retry"
        assert review.func_ref == "duban.serve:run_phase_review"
        assert digest.func_ref == "duban.serve:run_office_digest"
        assert all(job.trigger.timezone == TIMEZONE for job in jobs.values())
        assert retry.trigger.interval == dt.timedelta(minutes=15)
        assert (sweep.misfire_grace_time, retry.misfire_grace_time) == (SWEEP_GRACE, OUTBOX_GRACE)
        assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
        assert (sweep.next_run_time.hour, sweep.next_run_time.minute) == (8, 30)
        assert (review.next_run_time.hour, review.next_run_time.minute) == (18, 0)
        assert digest.next_run_time.weekday() == 0 and digest.next_run_time.hour == 9
        assert retry.next_run_time.minute % 15 == 0 and retry.next_run_time.second == 0
    finally:
        scheduler.shutdown()

    engine = engine_for(settings.url)
    assert {"plan", "outboxmessage", JOB_TABLE} <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        stored = connection.execute(text(f"SELECT id FROM {JOB_TABLE} ORDER BY id")).all()
    assert [row.id for row in stored] == sorted([SWEEP, RETRY, REVIEW, DIGEST])

    # a restart replaces the jobs by id: still four
    scheduler = started(settings)
    assert sorted(job.id for job in scheduler.get_jobs()) == sorted([SWEEP, RETRY, REVIEW, DIGEST])
    scheduler.shutdown()


def test_the_times_of_the_jobs_come_from_the_settings(tmp_path):
    settings = Settings(
        home=tmp_path / "home", sweep_cron="15 7 * * *", digest_cron="30 16 * * fri"
    )
    scheduler = started(settings)
    try:
        sweep, digest = scheduler.get_job(SWEEP), scheduler.get_job(DIGEST)
        assert (sweep.next_run_time.hour, sweep.next_run_time.minute) == (7, 15)
        assert digest.next_run_time.weekday() == 4 and digest.next_run_time.hour == 16
    finally:
        scheduler.shutdown()


def test_a_job_asked_for_now_is_due_at_once_then_at_its_time(tmp_path):
    settings = Settings(home=tmp_path / "home")
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)
    try:
        before = dt.datetime.now(TIMEZONE)
        schedule_jobs(scheduler, settings, run_now=[ScheduledJob.DIGEST])
        assert scheduler.get_job(DIGEST).next_run_time <= dt.datetime.now(TIMEZONE)
        assert scheduler.get_job(DIGEST).next_run_time >= before - dt.timedelta(seconds=1)
        assert scheduler.get_job(SWEEP).next_run_time > dt.datetime.now(TIMEZONE)
    finally:
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


def test_serve_no_web_runs_the_missed_sweep_on_its_own_prefect_server_and_stops_on_ctrl_c(tmp_path):
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
            [duban_command(), "serve", "--no-web"],
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
    assert "web app" not in out  # `duban web` serves it, in a process of its own

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


def test_duban_serve_answers_on_the_web_runs_the_jobs_and_stops_cleanly_on_sigterm(
    tmp_path, prefect_server: PrefectServer
):
    """The command as an operator runs it: one process, the web app on its port, the missed
    sweep and outbox retry run as flows on the Prefect server PREFECT_API_URL names, a mail
    left in the outbox delivered; SIGTERM stops it all with status 0."""
    home = tmp_path / "home"
    settings = Settings(home=home)
    create_schema(settings.url)
    with session_scope(settings.url) as session:
        add_account(
            session,
            username="boss",
            name="王科长",
            role=AccountRole.OFFICE,
            password="long-enough-1",
            at=dt.datetime.now(dt.UTC),
        )
        session.add(waiting_mail())
    scheduler = started(settings)  # both jobs were due a minute ago, while serve was down
    for job in (SWEEP, RETRY):
        scheduler.modify_job(job, next_run_time=dt.datetime.now(TIMEZONE) - dt.timedelta(minutes=1))
    scheduler.shutdown()

    assert prefect_server.log_path is not None
    env = server_env(prefect_server, prefect_server.log_path.parent) | {"DUBAN_HOME": str(home)}
    port = free_port()
    log = tmp_path / "serve.log"
    command = [duban_command(), "serve", "--port", str(port)]
    with open(log, "wb") as output:
        serve = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=output, stderr=output)
    try:
        for job in ("deadline sweep", "outbox retry"):  # APScheduler's line when a job ends
            wait_for(log, f'Job "{job}', serve, timeout=120)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as browser:
            login = browser.get("/login")
            assert login.status_code == 200 and "登录" in login.text
            answer = browser.post(
                "/login",
                data={"csrf": csrf_of(login.text), "username": "boss", "password": "long-enough-1"},
            )
            assert answer.status_code == 303
            users = browser.get("/users")
            assert users.status_code == 200 and "王科长" in users.text
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(60) == 0, read(log)
    finally:
        if serve.poll() is None:
            serve.kill()
    out = read(log)
    assert f"web app on http://127.0.0.1:{port}" in out
    for job in ("deadline sweep", "outbox retry"):
        assert re.search(f'Job "{job} .*" executed successfully', out), out
    assert "skipping the sweep: no plan has been imported" in out
    assert '"GET /users HTTP/1.1" 200' in out  # the web's log lines outlive Prefect's setup
    assert "SIGTERM: stopping" in out and "web app stopped" in out
    assert out.rstrip().endswith("duban serve stopped")
    assert "Traceback" not in out and "ERROR" not in out, out
    with session_scope(settings.url) as session:
        mail = session.exec(select(OutboxMessage)).one()
        assert mail.status == MessageStatus.SENT
    assert EmlOutbox(home / "outbox").path_for(mail.message_id_header).exists()
    try:
        httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
        raise AssertionError("the web app still answers after duban serve stopped")
    except httpx.ConnectError:
        pass


def test_a_taken_port_ends_serve_in_one_line_before_any_prefect_server_starts(tmp_path):
    home = tmp_path / "home"
    create_schema(Settings(home=home).url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUBAN_"))}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ended = subprocess.run(
            [duban_command(), "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env | {"DUBAN_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert ended.returncode == 6, ended.stderr
    lines = ended.stderr.splitlines()
    assert (
        lines[-1] == f"error: the web app could not listen on 127.0.0.1:{port}; see the lines above"
    )
    assert "address already in use" in ended.stderr and "Traceback" not in ended.stderr
    assert "Prefect server" not in ended.stderr and not (home / "prefect").exists()


def waiting_mail() -> OutboxMessage:
    """A mail an earlier sweep could not deliver: the outbox retry's to send."""
    return OutboxMessage(
        recipient_code="na",
        sender="duban@example.org",
        to_addrs=["liaison@na.example.org"],
        subject="催办",
        body=MessageBody(text="请于本周内报送进展。", html="<p>请于本周内报送进展。</p>"),
        message_id_header="<serve-test.1@example.org>",
    )


def duban_command() -> str:
    """The `duban` console script of this environment, as an operator starts it."""
    return str(Path(sys.executable).with_name("duban"))


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


def test_serve_runs_a_job_asked_for_now_shows_a_working_ui_and_leaves_no_server_when_killed(
    tmp_path,
):
    home = tmp_path / "home"
    create_schema(Settings(home=home).url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUBAN_"))}
    log = tmp_path / "serve.log"
    with open(log, "wb") as output:
        serve = subprocess.Popen(
            [duban_command(), "serve", "--no-web", "--run-now", "digest"],
            cwd=ROOT,
            env=env | {"DUBAN_HOME": str(home)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(log, 'Job "office digest', serve, timeout=120)
        out = read(log)
        assert re.search(r'Job "office digest .*" executed successfully', out), out
        ui = out.split("runs recorded at ")[1].split(";")[0]
        # the UI's pages call the API of this server, not localhost:4200
        assert httpx.get(f"{ui}/ui-settings", timeout=10).json()["api_url"] == f"{ui}/api"
        server_pid = int((home / "prefect" / "server.pid").read_text())
    finally:
        serve.kill()  # kill -9: no chance to stop its Prefect server itself
        serve.wait()
    deadline = time.monotonic() + 60
    while running(server_pid) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert not running(server_pid), "the Prefect server outlived duban serve"


def test_a_prefect_server_left_by_a_killed_serve_is_stopped_by_the_next_start(tmp_path):
    """Where the kernel cannot stop it with its parent (not Linux), the pid file can."""
    pid_file = tmp_path / "server.pid"
    orphan = subprocess.Popen(  # looks like `python -m prefect server start` to /proc
        [sys.executable, "-c", "import time; time.sleep(600)", "prefect", "server", "start"],
        start_new_session=True,
    )
    while b"prefect" not in Path(f"/proc/{orphan.pid}/cmdline").read_bytes():
        time.sleep(0.05)  # until it has exec'd: a fork still shows pytest's command line
    pid_file.write_text(f"{orphan.pid}\n")
    stop_orphaned_server(pid_file)
    assert orphan.wait(30) == -signal.SIGTERM
    assert not pid_file.exists()

    pid_file.write_text(f"{os.getpid()}\n")  # a pid reused by something else: left alone
    stop_orphaned_server(pid_file)
    assert not pid_file.exists()


def calendar_where_these_work(folder: Path, days: list[dt.date]) -> Path:
    """Calendar data (DUBAN_CALENDAR_DIR) with the bundled years before this one, and this
    year's with no holidays and `days` working even on a weekend, so that a test sweeping
    today has a working day to sweep whatever day it runs on."""
    year = max(days).year
    national = folder / "cn"
    national.mkdir(parents=True)
    for path in (ROOT / "calendars" / "data" / "cn").glob("*.toml"):
        if int(path.stem) < year:
            national.joinpath(path.name).write_bytes(path.read_bytes())
    for older in range(2019, year):  # years past the bundled data: weekends only
        if not national.joinpath(f"{older}.toml").exists():
            national.joinpath(f"{older}.toml").write_text(
                f'year = {older}\nregion = "cn"\nnotice = "test data"\n', encoding="utf-8"
            )
    lines = [f"year = {year}", 'region = "cn"', 'notice = "test data: these days are worked"']
    weekend = sorted({d for d in days if d.weekday() >= 5 and d.year == year})  # once each
    if weekend:  # a make-up working day must name a holiday: a weekday of this year
        rest = next(
            d
            for d in (dt.date(year, 12, 31) - dt.timedelta(n) for n in range(14))
            if d.weekday() < 5 and d not in days
        )
        lines += ["[[holidays]]", 'name = "测试"', f"start = {rest}", f"end = {rest}"]
        for day in weekend:
            lines += ["[[makeup_workdays]]", f"date = {day}", 'for = "测试"']
    national.joinpath(f"{year}.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def a_minute_ago() -> tuple[dt.datetime, str]:
    """The moment a minute ago, Asia/Shanghai, and a daily crontab line for it."""
    due = dt.datetime.now(TIMEZONE).replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    return due, f"{due.minute} {due.hour} * * *"


def test_a_sweep_that_started_but_did_not_sweep_its_day_is_run_again_at_the_next_start(
    tmp_path,
):
    """APScheduler moved the job on as it started it; serve died before the day was swept.
    Within the grace time the next start makes the sweep due again, once the day is swept
    not, and a sweep whose time is long past is left to the next day's catch-up."""
    due, cron = a_minute_ago()
    days = [due.date() - dt.timedelta(1), due.date()]
    settings = Settings(
        home=tmp_path / "home",
        calendar_dir=calendar_where_these_work(tmp_path / "calendars", days),
        sweep_cron=cron,
    )
    create_schema(settings.url)
    with session_scope(settings.url) as session:
        import_plan(session, CHONGQING, at=dt.datetime(2019, 7, 1, tzinfo=dt.UTC))
    now = dt.datetime.now(TIMEZONE)
    scheduler = started(settings)
    try:
        assert scheduler.get_job(SWEEP).next_run_time > now  # tomorrow, as APScheduler has it
        rerun_an_unfinished_sweep(scheduler, settings, now)
        assert scheduler.get_job(SWEEP).next_run_time == now
    finally:
        scheduler.shutdown()

    with session_scope(settings.url) as session:  # the day swept: nothing to run again
        session.add(SweepRun(as_of=due.date(), started_at=now, finished_at=now))
    scheduler = started(settings)
    try:
        moved_on(scheduler, now)
        rerun_an_unfinished_sweep(scheduler, settings, now)
        assert scheduler.get_job(SWEEP).next_run_time > now
    finally:
        scheduler.shutdown()

    late = settings.model_copy(update={"sweep_cron": f"{due.minute} {(due.hour - 7) % 24} * * *"})
    with session_scope(settings.url) as session:
        session.execute(text("DELETE FROM sweeprun"))
    scheduler = started(late)
    try:
        moved_on(scheduler, now)
        rerun_an_unfinished_sweep(scheduler, late, now)  # seven hours ago: past the grace
        assert scheduler.get_job(SWEEP).next_run_time > now
    finally:
        scheduler.shutdown()


def moved_on(scheduler, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """The sweep's next time as APScheduler sets it when it starts a run: the next after now."""
    job = scheduler.get_job(SWEEP)
    scheduler.modify_job(SWEEP, next_run_time=job.trigger.get_next_fire_time(None, now))


def test_serve_killed_as_its_sweep_starts_sweeps_that_day_once_after_a_restart(
    tmp_path, postgres_url, prefect_server: PrefectServer
):
    """kill -9 at the sweep's first look at the sweep record (held there by a lock this test
    takes, so nothing of the day can have been written), then a plain restart: the day is
    swept by the restarted serve, once, and every letter is in the outbox folder once."""
    plan = tmp_path / "plan.yaml"  # a plan of its own: the killed run's slot lease is its own
    plan.write_text(
        CHONGQING.read_text(encoding="utf-8").replace("cq-2019-pilot", "cq-serve-killed"),
        encoding="utf-8",
    )
    create_schema(postgres_url)
    with session_scope(postgres_url) as session:
        import_plan(session, plan, at=dt.datetime(2019, 7, 1, tzinfo=dt.UTC))
    due, cron = a_minute_ago()
    today = dt.datetime.now(TIMEZONE).date()
    home = tmp_path / "home"
    assert prefect_server.log_path is not None
    env = server_env(prefect_server, prefect_server.log_path.parent) | {
        "DUBAN_HOME": str(home),
        "DUBAN_DATABASE_URL": postgres_url,
        "DUBAN_CALENDAR_DIR": str(
            calendar_where_these_work(tmp_path / "calendars", [due.date(), today])
        ),
        "DUBAN_SWEEP_CRON": cron,  # its time came a minute ago
    }
    schema = re.search(r"search_path%3D(\w+)", postgres_url)
    assert schema is not None
    schema_name = schema.group(1)

    def start(log: Path, *args: str) -> subprocess.Popen[bytes]:
        with open(log, "wb") as output:
            return subprocess.Popen(
                [duban_command(), "serve", "--no-web", *args],
                cwd=tmp_path,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with postgres_connect() as watcher, psycopg_connection(schema_name) as holder:
        holder.execute("LOCK TABLE sweeprun IN ACCESS EXCLUSIVE MODE")  # until rolled back
        serve = start(first_log, "--run-now", "sweep")
        try:
            deadline = time.monotonic() + 120
            while not waiting_for_sweeprun(watcher, schema_name):
                assert serve.poll() is None, read(first_log)
                assert time.monotonic() < deadline, read(first_log)
                time.sleep(0.2)
        finally:
            serve.kill()  # SIGKILL, as its sweep reads which days were swept
            serve.wait()
        assert holder.execute("SELECT count(*) FROM sweeprun").fetchone() == (0,)
        holder.rollback()
        key = zlib.crc32(f"duban serve {schema_name}".encode()) & 0x7FFFFFFF
        deadline = time.monotonic() + 60
        while watcher.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s"
            " AND objid = %s",
            (LOCK_CLASS, key),
        ).fetchone() != (0,):
            assert time.monotonic() < deadline, "the killed serve's lock outlived it"
            time.sleep(0.2)
    assert 'Running job "deadline sweep' in read(first_log)

    serve = start(second_log)  # no --run-now: the start finds the day not swept
    try:
        wait_for(second_log, 'Job "deadline sweep', serve, timeout=300)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(120) == 0, read(second_log)
    finally:
        if serve.poll() is None:
            serve.kill()
    out = read(second_log)
    assert f"has not swept {due.date()} for cq-serve-killed" in out, out
    assert re.search(r'Job "deadline sweep .*" executed successfully', out), out
    assert "Traceback" not in out and "ERROR" not in out, out

    with session_scope(postgres_url) as session:
        runs = session.exec(select(SweepRun)).all()
        letters = session.exec(select(OutboxMessage)).all()
    assert [(r.as_of, r.plan_code) for r in runs] == [(today, None)]
    assert letters and {m.status for m in letters} == {MessageStatus.SENT}
    ids = [m.message_id_header for m in letters]
    delivered = Counter(
        email.message_from_bytes(eml.read_bytes())["Message-ID"]
        for eml in (home / "outbox").glob("*.eml")
    )
    assert delivered == Counter(ids)  # each letter once, and nothing else
    assert set(delivered.values()) == {1}


def psycopg_connection(schema: str):  # type: ignore[no-untyped-def]
    """A connection of this test's own, in a transaction, on the test's schema."""
    import psycopg

    connection = psycopg.connect(POSTGRES, connect_timeout=5)
    connection.execute(f"SET search_path TO {schema}")
    return connection


def waiting_for_sweeprun(watcher, schema: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether a session waits for a lock on the schema's sweeprun table."""
    row = watcher.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relname = 'sweeprun' AND n.nspname = %s AND NOT l.granted",
        (schema,),
    ).fetchone()
    return bool(row and row[0])
