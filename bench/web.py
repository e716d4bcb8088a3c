"""Web benchmark: the unit page, the office desk and the leadership review against uvicorn,
on the sweep benchmark's data (40 plans × 250 tasks × 10 units = 100k assignments).

A client makes `--requests` requests per page, `--concurrency` at a time, against uvicorn in
a process of its own (one process, as `duban web` runs it), and prints p50/p95 per page and
the ratio to the bare SQL read of the same rows, measured in the same round on the same file.
Each account is limited to plan bench-0, as a real liaison or office is to its own plan: 250
rows for the unit, 2,500 for the office.

Two figures per page. "Steady": the data unchanged while the page is read, so what the pages
keep from one request to the next (duban.web.memo) serves. "After a write": a liaison reports
progress on a bench-0 assignment (through the web, so the data version moves), then
`--concurrency` requests for the page at once; repeated until `--requests` are timed. That is
the page computed afresh, the worst a reader waits.

Every figure is measured `--repeat` times (rounds interleaved) and the median printed, with
the spread of p95 beside it: absolute times on a shared machine are noise, the ratios less so.
Usage: python bench/web.py [--plans 40] [--tasks 250] [--units 10] [--requests 200]
[--concurrency 10] [--repeat 3] [--keep DIR] (build the data once into DIR and
copy it from there on later runs)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from processes import load_parser  # noqa: E402
from sweep import FLOOR, build  # noqa: E402  (the same synthetic load)

from calendars.clock import now  # noqa: E402
from schemas.db import engine_for, session_scope  # noqa: E402
from tasks.work.accounts import add_account  # noqa: E402

PASSWORD = "bench-password"
DAY = dt.date(2020, 6, 15)  # the sweep benchmark's day: some work overdue, some due later
PAGES = {  # page: (account, path, the rows it reads)
    "unit page": ("liaison", "/my", " AND p.code = 'bench-0' AND u.code = 'u3'"),
    "office desk": ("office", "/office", " AND p.code = 'bench-0'"),
    "leadership review": ("leader", "/review/bench-0", " AND p.code = 'bench-0'"),
}
SERVER = """
import datetime as dt, uvicorn
from duban.web.app import create_app
uvicorn.run(create_app(fixed_day=dt.date.fromisoformat({day!r})), host="127.0.0.1", port={port},
            log_level="warning")
"""


def floor(url: str, where: str, runs: int = 20) -> float:
    """The median time of one SQL query reading the page's rows (all states)."""
    query = text(
        FLOOR.replace("AND a.state IN ('not_started', 'in_progress', 'returned')", "") + where
    )
    times = []
    with engine_for(url).connect() as conn:
        for _ in range(runs):
            started = time.perf_counter()
            conn.execute(query).all()
            times.append(time.perf_counter() - started)
    return statistics.median(times)


@asynccontextmanager
async def logged_in(base: str, username: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client with a session, and the session's CSRF token."""
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        page = await client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        answer = await client.post(
            "/login", data={"csrf": csrf.group(1), "username": username, "password": PASSWORD}
        )
        assert answer.status_code == 303, answer.text
        page = await client.get(answer.headers["location"])  # a login gets a fresh token
        csrf = re.search(r'<meta name="csrf" content="([^"]+)"', page.text)
        assert csrf, page.text
        yield client, csrf.group(1)


async def timed_gets(client: httpx.AsyncClient, path: str, count: int, at_once: int) -> list[float]:
    times: list[float] = []
    gate = asyncio.Semaphore(at_once)

    async def one() -> None:
        async with gate:
            started = time.perf_counter()
            response = await client.get(path)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code

    await asyncio.gather(*(one() for _ in range(count)))
    return times


async def steady(
    base: str, username: str, path: str, requests: int, at_once: int, server: int
) -> tuple[list[float], float]:
    """The times of the requests, and the server's processor time per request meanwhile."""
    async with logged_in(base, username) as (client, _):
        await timed_gets(client, path, at_once, at_once)  # the first computes it
        used = cpu_seconds(server)
        times = await timed_gets(client, path, requests, at_once)
        return times, (cpu_seconds(server) - used) / requests


async def after_writes(
    base: str,
    username: str,
    path: str,
    requests: int,
    at_once: int,
    write: Callable[[], Awaitable[None]],
) -> list[float]:
    times: list[float] = []
    async with logged_in(base, username) as (client, _):
        while len(times) < requests:
            await write()
            times += await timed_gets(client, path, at_once, at_once)
    return times


@dataclass
class Figures:
    p50: list[float]
    p95: list[float]
    cpu: list[float]  # the server's processor time per request, steady
    sql: list[float]
    written_p50: list[float]
    written_p95: list[float]


def cpu_seconds(pid: int) -> float:
    """The processor time a process has used so far (Linux), or 0 where that is unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


async def measure(
    args: argparse.Namespace, base: str, url: str, target: int, server: int
) -> dict[str, Figures]:
    figures = {name: Figures([], [], [], [], [], []) for name in PAGES}
    async with logged_in(base, "liaison") as (writer, csrf):
        notes = iter(range(1_000_000))

        async def write() -> None:
            """A progress report: an audit event, so every kept result is out of date."""
            answer = await writer.post(
                f"/a/{target}/progress", data={"csrf": csrf, "note": f"bench {next(notes)}"}
            )
            assert answer.status_code == 303, answer.text

        for _ in range(args.repeat):
            for name, (username, path, where) in PAGES.items():
                shown = figures[name]
                times, used = await steady(
                    base, username, path, args.requests, args.concurrency, server
                )
                p50, p95 = percentiles(times)
                shown.p50.append(p50)
                shown.p95.append(p95)
                shown.cpu.append(used * 1000)
                shown.sql.append(floor(url, where) * 1000)
                times = await after_writes(
                    base, username, path, args.requests, args.concurrency, write
                )
                p50, p95 = percentiles(times)
                shown.written_p50.append(p50)
                shown.written_p95.append(p95)
    return figures


def report(args: argparse.Namespace, figures: dict[str, Figures]) -> None:
    median = statistics.median
    print(
        f"{args.requests} requests a figure, {args.concurrency} at a time, "
        f"one uvicorn process, median of {args.repeat} rounds (p95 spread in []; CPU: the "
        "server's processor time per request)"
    )
    print(
        f"{'page':<18}{'p50 ms':>8}{'p95 ms':>8}{'[spread]':>12}{'CPU ms':>8}{'SQL ms':>8}"
        f"{'p95/SQL':>9}  {'after a write: p50':>18}{'p95 ms':>8}{'p95/SQL':>9}"
    )
    for name, f in figures.items():
        ratio = median(p / s for p, s in zip(f.p95, f.sql, strict=True))
        written = median(p / s for p, s in zip(f.written_p95, f.sql, strict=True))
        spread = f"[{min(f.p95):.0f}–{max(f.p95):.0f}]"
        print(
            f"{name:<18}{median(f.p50):>8.1f}{median(f.p95):>8.1f}{spread:>12}"
            f"{median(f.cpu):>8.2f}{median(f.sql):>8.2f}{ratio:>8.0f}×  "
            f"{median(f.written_p50):>18.1f}{median(f.written_p95):>8.1f}{written:>8.0f}×"
        )
    print("verdict (p95 under 100 ms at concurrency 10):")
    for name, f in figures.items():
        calm, written = median(f.p95), median(f.written_p95)
        print(
            f"  {name}: steady {'met' if calm < 100 else 'MISSED'} ({calm:.0f} ms); "
            f"right after a write {'met' if written < 100 else 'MISSED'} ({written:.0f} ms)"
        )


def prepared(args: argparse.Namespace, folder: Path) -> str:
    """The data in folder/bench.db: built there, or copied from a kept pristine build."""
    shape = f"{args.plans}x{args.tasks}x{args.units}"
    kept = args.keep / f"bench-{shape}.db" if args.keep else None
    if kept is not None and kept.exists():
        shutil.copyfile(kept, folder / "bench.db")
        return f"copied from {kept}"
    url = f"sqlite:///{folder / 'bench.db'}"
    built = build(url, folder, args.plans, args.tasks, args.units)
    with session_scope(url) as session:
        for username, role, unit in (
            ("liaison", "liaison", "u3"),
            ("office", "office", None),
            ("leader", "leadership", None),
        ):
            add_account(
                session,
                username=username,
                name=username,
                role=role,
                password=PASSWORD,
                unit_code=unit,
                plan_code="bench-0",
                at=now(),
            )
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        with engine_for(url).connect() as conn:  # one file, the WAL folded in, then copied
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(folder / "bench.db", kept)
    return f"built in {built:.0f} s"


def writable(url: str) -> int:
    """The assignment the bench's writes report progress on: one of the liaison's own."""
    query = text(
        "SELECT a.id FROM assignment a JOIN unit u ON a.unit_id = u.id "
        "JOIN plan p ON a.plan_id = p.id WHERE p.code = 'bench-0' AND u.code = 'u3' "
        "ORDER BY a.id LIMIT 1"
    )
    with engine_for(url).connect() as conn:
        return int(conn.execute(query).scalar_one())


def main() -> None:
    parser = load_parser(__doc__, runs=None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep", type=Path, help="a folder to keep the built data in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'bench.db'}"
        built = prepared(args, folder)
        rows = len(engine_for(url).connect().execute(text(FLOOR)).all())
        print(f"data: {rows} open assignments in {args.plans} plans ({built})")
        env = {
            **os.environ,
            "DUBAN_DATABASE_URL": url,
            "DUBAN_HOME": str(folder / "home"),
            "DUBAN_SECRET_KEY": "bench",
        }
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER.format(day=DAY.isoformat(), port=args.port)],
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{base}/login", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            report(args, asyncio.run(measure(args, base, url, writable(url), server.pid)))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
