"""Overdue benchmark: `duban overdue` against Taskwarrior counting the same overdue work.

The data: 100k open assignments shaped 40 plans × 250 tasks × 10 units (each task led by one
unit, the other nine co-responsible, as in bench/sweep.py), due dates spread evenly over
2019-07-01..2020-09-30, imported through `import_plan` into a SQLite file; and the same 100k
as Taskwarrior tasks (project = plan, tag = unit, the same due date), loaded with `task import`
into a Taskwarrior of their own (a temporary TASKRC and TASKDATA).

Measured, whole process from start to exit, each at least three times, interleaved: `duban
overdue --as-of 2020-01-02` (listing every overdue item with its working days late and rung)
against `task due.before:2020-01-01 count` (counting them). Printed: min and median wall and
CPU time, peak memory (ru_maxrss of the child), and the ratios, against the targets (≤ 0.25×
Taskwarrior's time, under a third of its memory), and beside them a floor: a Python that
imports SQLAlchemy and fetches the overdue rows' ids with the sqlite3 driver. Then `duban
overdue --json` and `duban tasks --unit u0` (10k rows) for reference. Without `task`
installed the Taskwarrior side is skipped with a line saying so. Usage:
python bench/overdue.py [--plans 40] [--tasks 250] [--units 10] [--runs 5] [--keep DIR]
(--keep builds the data in DIR once and reuses it on later runs.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from processes import (  # noqa: E402
    DUBAN,
    PYTHON,
    Series,
    child_environment,
    interleaved,
    load_parser,
    parsed,
    ratio,
    table_row,
)

# The floor: a Python that imports SQLAlchemy (as every duban command must) and fetches the
# overdue rows' ids with the sqlite3 driver, nothing more: what no listing can go below.
FLOOR = """
import sqlite3, sys
import sqlalchemy
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT a.plan_id, a.task_id, a.unit_id, a.role, a.state, a.due FROM assignment a "
    "JOIN task t ON t.id = a.task_id WHERE a.active AND t.active "
    "AND a.state IN ('not_started', 'in_progress', 'returned') "
    "AND t.deadline_kind IN ('date', 'window') AND a.due < ?", (sys.argv[2],)
).fetchall()
"""
FIRST, LAST = dt.date(2019, 7, 1), dt.date(2020, 9, 30)
AS_OF, BEFORE = "2020-01-02", "2020-01-01"
TIME_TARGET, MEMORY_TARGET = 0.25, 1 / 3


def synthetic_plan(index: int, tasks: int, units: int) -> dict[str, Any]:
    """A plan whose tasks fall due evenly over FIRST..LAST, each held by every unit."""
    names = [f"单位{index}-{u}" for u in range(units)]
    span = (LAST - FIRST).days
    return {
        "plan": {"code": f"bench-{index}", "title": f"基准计划{index}", "issued": "2019-06-20"},
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
                "window": "2019年7月至2020年9月",
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
                "deadline": (FIRST + dt.timedelta(days=t * span // max(tasks - 1, 1))).strftime(
                    "%Y年%-m月%-d日"
                ),
            }
            for t in range(tasks)
        ],
    }


def build_duban(folder: Path, plans: int, tasks: int, units: int) -> float:
    from calendars.clock import now
    from schemas.db import create_schema, dispose_engines, session_scope
    from tasks.plans.importer import import_plan

    url = f"sqlite:///{folder / 'bench.db'}"
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
        path.unlink()
    dispose_engines()
    return time.perf_counter() - started


def build_taskwarrior(folder: Path, task: str) -> float:
    """The same open assignments as Taskwarrior tasks, read back from duban's database."""
    data = folder / "taskdata"
    data.mkdir()
    (folder / "taskrc").write_text(
        f"data.location={data}\nconfirmation=off\nhooks=off\nverbose=nothing\nnews.version=2.6.2\n"
    )
    query = """
        SELECT p.code, t.code, u.code, a.due FROM assignment a
        JOIN task t ON t.id = a.task_id JOIN unit u ON u.id = a.unit_id
        JOIN plan p ON p.id = a.plan_id WHERE a.active AND a.due IS NOT NULL ORDER BY a.id
    """
    lines = []
    with sqlite3.connect(folder / "bench.db") as db:
        for n, (plan, code, unit, due) in enumerate(db.execute(query)):
            lines.append(
                json.dumps(
                    {
                        "uuid": f"00000000-0000-4000-8000-{n:012d}",
                        "status": "pending",
                        "entry": "20190620T000000Z",
                        "description": f"{plan} {code} {unit}",
                        "project": plan,
                        "tags": [unit],
                        "due": due.replace("-", "") + "T000000Z",
                    },
                    ensure_ascii=False,
                )
            )
    source = folder / "tasks.json"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    subprocess.run(
        [task, "import", str(source)],
        env=child_environment(**taskwarrior_env(folder)),
        stdout=subprocess.DEVNULL,
        check=True,
    )
    elapsed = time.perf_counter() - started
    source.unlink()
    return elapsed


def taskwarrior_env(folder: Path) -> dict[str, str]:
    return {"TASKRC": str(folder / "taskrc"), "TASKDATA": str(folder / "taskdata"), "TZ": "UTC"}


def duban_env(folder: Path) -> dict[str, str]:
    return {"DUBAN_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "DUBAN_HOME": str(folder)}


def measure(folder: Path, args: argparse.Namespace, built: str) -> None:
    task = shutil.which("task")
    if task and not (folder / "taskdata").exists():
        built += f"; Taskwarrior import {build_taskwarrior(folder, task):.1f} s"
    env = child_environment(**duban_env(folder), **(taskwarrior_env(folder) if task else {}))
    overdue = [DUBAN, "overdue", "--as-of", AS_OF]
    listed = subprocess.run(overdue, env=env, capture_output=True, text=True, check=True)
    with sqlite3.connect(folder / "bench.db") as db:
        (rows,) = db.execute("SELECT count(*) FROM assignment WHERE active").fetchone()
    print(
        f"data: {args.plans} plans × {args.tasks} tasks × {args.units} units = {rows} open "
        f"assignments, due {FIRST}..{LAST} ({built})"
    )
    print(f"duban: {listed.stdout.splitlines()[0]}")
    if task:
        counted = subprocess.run(
            [task, f"due.before:{BEFORE}", "count"], env=env, capture_output=True, text=True
        )
        print(f"Taskwarrior: {counted.stdout.strip()} tasks due before {BEFORE}")
    else:
        print(
            "Taskwarrior: `task` is not installed, so its side is skipped "
            "(apt-get install taskwarrior)"
        )
    ours = Series(f"duban overdue --as-of {AS_OF}", overdue)
    theirs = Series(
        f"task due.before:{BEFORE} count", [task or "task", f"due.before:{BEFORE}", "count"]
    )
    floor = Series(
        "floor: import sqlalchemy, fetch ids",
        [PYTHON, "-c", FLOOR, str(folder / "bench.db"), AS_OF],
    )
    pair = [ours, theirs, floor] if task else [ours, floor]
    interleaved(pair, 1, env, folder)  # warm-up, not counted: bytecode cache, page cache
    for one in pair:
        one.samples.clear()
    interleaved(pair, args.runs, env, folder)
    print(f"runs: {args.runs} of each, interleaved")
    for one in pair:
        print(one.line())
    if task:
        print(
            f"time duban/Taskwarrior: wall {ratio(ours.wall(), theirs.wall())}; cpu "
            f"{ratio(ours.cpu(), theirs.cpu())} (target ≤ {TIME_TARGET:.2f}×)"
        )
        print(
            f"peak memory duban/Taskwarrior: {ours.rss() / theirs.rss():.2f}× "
            f"(target < {MEMORY_TARGET:.2f}×)"
        )
        print(f"time floor/Taskwarrior: cpu {ratio(floor.cpu(), theirs.cpu())}")
        table_row(
            f"duban overdue --as-of {AS_OF} (lists every item)",
            f"{ours.wall()[1]:.2f} s, {ours.rss() / 2**20:.0f} MiB",
            f"task due.before:{BEFORE} count {theirs.wall()[1]:.2f} s, "
            f"{theirs.rss() / 2**20:.0f} MiB",
            f"{ours.wall()[1] / theirs.wall()[1]:.2f}× time, {ours.rss() / theirs.rss():.2f}× "
            f"memory (floor {floor.wall()[1] / theirs.wall()[1]:.2f}×)",
        )
    print(f"time duban/floor: cpu {ratio(ours.cpu(), floor.cpu())}")
    more = [
        Series("duban overdue --json", [*overdue, "--json"]),
        Series(
            "duban tasks --unit u0 (10k rows)", [DUBAN, "tasks", "--unit", "u0", "--as-of", AS_OF]
        ),
    ]
    interleaved(more, 1, env, folder)
    for one in more:
        one.samples.clear()
    interleaved(more, max(3, args.runs // 2), env, folder)
    for one in more:
        print(one.line())
    tasks_u0 = more[1]
    table_row(
        tasks_u0.label,
        f"{tasks_u0.wall()[1]:.2f} s, {tasks_u0.rss() / 2**20:.0f} MiB",
        f"floor {floor.wall()[1]:.2f} s",
        f"{tasks_u0.wall()[1] / floor.wall()[1]:.2f}× the floor",
    )


def main() -> None:
    args = parsed(load_parser(__doc__, runs=5, keep=True))
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / "bench.db").exists():
            built = f"reused from {folder}"
        else:
            built = f"duban import {build_duban(folder, args.plans, args.tasks, args.units):.1f} s"
        measure(folder, args, built)


if __name__ == "__main__":
    main()
