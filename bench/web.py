"""Web benchmark: the unit page, the office desk and the leadership review against uvicorn,
on the sweep benchmark's data (40 plans × 250 tasks × 10 units = 100k assignments).

A client makes `--requests` requests per page, `--concurrency` at a time, against uvicorn in
its own process, and prints p50/p95 per page and the ratio to the bare SQL read of the same
rows (measured in the same run on the same file). Each account is limited to plan bench-0,
as a real liaison or office is to its own plan: 250 rows for the unit, 2,500 for the office.
Usage: python bench/web.py [--plans 40] [--tasks 250] [--units 10] [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from sweep import FLOOR, build  # noqa: E402  (the same synthetic load)

from calendars.clock import now  # noqa: E402
from schemas.db import engine_for, session_scope  # noqa: E402
from tasks.work.accounts import add_account  # noqa: E402

PASSWORD = "bench-password"
PAGES = {  # page: (account, path, the rows it reads)
    "unit page": ("liaison", "/my", " AND p.code = 'bench-0' AND u.code = 'u3'"),
    "office desk": ("office", "/office", " AND p.code = 'bench-0'"),
    "leadership review": ("leader", "/review/bench-0", " AND p.code = 'bench-0'"),
}
SERVER = """
import datetime as dt, uvicorn
from duban.web.app import create_app
uvicorn.run(create_app(fixed_day=dt.date(2020, 6, 15)), host="127.0.0.1", port={port},
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


async def hammer(
    base: str, username: str, path: str, requests: int, concurrency: int
) -> list[float]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        page = await client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        answer = await client.post(
            "/login", data={"csrf": csrf.group(1), "username": username, "password": PASSWORD}
        )
        assert answer.status_code == 303, answer.text
        assert (await client.get(path)).status_code == 200  # warm: the first review is computed
        times: list[float] = []
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                started = time.perf_counter()
                response = await client.get(path)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200

        await asyncio.gather(*(one() for _ in range(requests)))
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=40)
    parser.add_argument("--tasks", type=int, default=250)
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
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
        rows = len(engine_for(url).connect().execute(text(FLOOR)).all())
        print(f"data: {rows} open assignments in {args.plans} plans (built in {built:.0f} s)")
        env = {
            **os.environ,
            "DUBAN_DATABASE_URL": url,
            "DUBAN_HOME": str(folder / "home"),
            "DUBAN_SECRET_KEY": "bench",
        }
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER.format(port=args.port)],
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(f"{base}/login", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            print(
                f"{'page':<20}{'p50 ms':>8}{'p95 ms':>8}{'SQL ms':>8}{'p95/SQL':>9}  "
                f"({args.requests} requests, {args.concurrency} at a time)"
            )
            for name, (username, path, where) in PAGES.items():
                times = asyncio.run(hammer(base, username, path, args.requests, args.concurrency))
                times.sort()
                p50 = statistics.median(times) * 1000
                p95 = times[int(len(times) * 0.95) - 1] * 1000
                sql = floor(url, where) * 1000
                verdict = "ok" if p95 < 100 else "MISSES 100 ms"
                print(f"{name:<20}{p50:>8.1f}{p95:>8.1f}{sql:>8.2f}{p95 / sql:>8.0f}×  {verdict}")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
