"""Sweep benchmark: 100k open assignments (40 plans × 250 tasks × 10 units) on SQLite.

Prints the sweep's compute time (load open work, evaluate the ladder, plan the notices) and its
ratio to the floor: one SQL query reading the same open assignments. Both are measured in the
same run on the same file, so the ratio means something on a shared machine; the absolute
times do not. Usage: python bench/sweep.py [--plans 40] [--tasks 250] [--units 10]
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from processes import load_parser, parsed, table_row
from sqlalchemy import text

from calendars.clock import now
from render.mail import COMPOSER
from schemas.db import create_schema, engine_for, session_scope, sessions
from tasks.bulk import collector_paused
from tasks.plans.importer import import_plan
from tasks.sweep.pipeline import DirectSteps

FLOOR = """
SELECT a.id, p.code, t.code, u.code, a.role, a.due, a.original_due
FROM assignment a JOIN task t ON a.task_id = t.id JOIN unit u ON a.unit_id = u.id
JOIN plan p ON a.plan_id = p.id
WHERE a.active AND t.active AND a.state IN ('not_started', 'in_progress', 'returned')
"""


def synthetic_plan(index: int, tasks: int, units: int) -> dict[str, Any]:
    """A plan whose tasks fall due across 2020, every task held by every unit (1 lead)."""
    names = [f"单位{index}-{u}" for u in range(units)]
    start = dt.date(2020, 1, 31)
    return {
        "plan": {"code": f"bench-{index}", "title": f"基准计划{index}", "issued": "2020-01-01"},
        "units": [
            {"code": f"u{u}", "name": name, "emails": [f"u{u}@p{index}.example.org"]}
            for u, name in enumerate(names)
        ]
        + [
            {
                "code": "office",
                "name": "办公室",
                "kind": "office",
                "emails": [f"office@p{index}.example.org"],
            }
        ],
        "joint_meeting": {"name": "联席会议", "convener": names[0], "office": "办公室"},
        "phases": [
            {
                "code": "work",
                "kind": "implementation",
                "name": "实施阶段",
                "window": "2020年1月至2020年12月",
            }
        ],
        "tasks": [
            {
                "id": f"t{t}",
                "title": f"任务{t}",
                "phase": "work",
                "responsibility": {
                    "lead": [names[t % units]],
                    "co": [n for n in names if n != names[t % units]],
                },
                "deadline": (start + dt.timedelta(days=t * 335 // tasks)).strftime(
                    "%Y年%-m月%-d日"
                ),
            }
            for t in range(tasks)
        ],
    }


def build(url: str, folder: Path, plans: int, tasks: int, units: int) -> float:
    create_schema(url)
    started = time.perf_counter()
    for index in range(plans):
        path = folder / f"bench-{index}.yaml"
        path.write_text(
            yaml.safe_dump(synthetic_plan(index, tasks, units), allow_unicode=True),
            encoding="utf-8",
        )
        with session_scope(url) as session:
            import_plan(session, path, at=now())
    return time.perf_counter() - started


T = TypeVar("T")


def best_of(runs: int, work: Callable[[], T]) -> tuple[float, float, T]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times), result


def main() -> None:
    args = parsed(load_parser(__doc__, runs=5))
    as_of = dt.date(2020, 6, 15)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        built = build(url, Path(tmp), args.plans, args.tasks, args.units)
        engine = engine_for(url)

        def floor() -> int:
            with engine.connect() as conn:
                return len(conn.execute(text(FLOOR)).all())

        steps = DirectSteps(sessions(url), COMPOSER, at=now())

        def compute() -> tuple[int, int]:
            with collector_paused():  # as run_sweep runs these steps
                contexts, items, waiting = steps.load(as_of, None)
                findings = steps.evaluate(items, contexts, as_of)
                return len(items), len(steps.plan(findings, contexts, as_of, waiting))

        floor_best, floor_median, rows = best_of(args.runs, floor)
        sweep_best, sweep_median, (items, notices) = best_of(args.runs, compute)
        contexts, open_items, waiting = steps.load(as_of, None)
        findings = steps.evaluate(open_items, contexts, as_of)
        planned = steps.plan(findings, contexts, as_of, waiting)
        started = time.perf_counter()
        outcome = steps.write(as_of, None, findings, planned, contexts, False)
        written = time.perf_counter() - started
    print(
        f"data: {args.plans} plans × {args.tasks} tasks × {args.units} units = {rows} open "
        f"assignments (imported in {built:.1f} s)"
    )
    print(f"floor (one query reading them):  best {floor_best:.3f} s, median {floor_median:.3f} s")
    print(
        f"sweep compute (load+evaluate+plan): best {sweep_best:.3f} s, median "
        f"{sweep_median:.3f} s, {items} items, {notices} notices"
    )
    print(
        f"ratio sweep/floor: {sweep_best / floor_best:.2f}× (best), "
        f"{sweep_median / floor_median:.2f}× (median)"
    )
    table_row(
        f"sweep compute, {items} items",
        f"{sweep_median:.2f} s, {sweep_median / items * 1e6:.1f} µs per item",
        f"floor {floor_median:.2f} s",
        f"{sweep_median / floor_median:.2f}× the floor",
    )
    print(
        f"writing the outbox: {written:.3f} s for {len(outcome.written)} notices in "
        f"{outcome.messages} messages ({written / floor_best:.1f}× the floor)"
    )


if __name__ == "__main__":
    main()
