"""Importing a plan, whole process, against Taskwarrior importing the same tasks.

The plans are the sweep benchmark's synthetic ones (bench/sweep.py): --plans plans of --tasks
tasks, each held by every one of --units units, so 1 × 1,000 × 10 = 10,000 assignments by
default, due across 2020 (`--plans 10` makes 100,000: a plan file is at most 2 MB, so a larger
load comes as several plans). Measured, each a new process from start to exit, interleaved, at
least three times:

- `duban import PLAN-0.yaml PLAN-1.yaml …`, every plan file in one command: reads, checks and
  resolves each plan file, writes the plans, their tasks and assignments in one transaction,
  and audits each import. Before each run, and not timed, the database
  is put back to an empty one at the current schema (made once by `duban init`): what an office
  that has installed duban waits for when it loads a plan.
- `task import TASKS.json`: Taskwarrior loading the same assignments as tasks (project = plan,
  tag = unit, the same due date) into an empty data folder, emptied before each run.

- the floor: a Python that imports what an import is built on (SQLAlchemy, SQLModel and
  duban's tables, pydantic and the plan file's model, networkx, PyYAML, Typer) and parses the
  plan files with libyaml, nothing more: what no import on these libraries can go below.

Printed: each command's min and median wall and CPU time and peak memory, and the ratios
(target: duban ≤ 1.0× Taskwarrior; beside it, the floor's). Usage: python bench/imports.py
[--plans 1] [--tasks 1000] [--units 10] [--runs 3]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from overdue import taskwarrior_env  # noqa: E402
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
from sweep import synthetic_plan  # noqa: E402

# The floor: the modules `duban import` stands on, imported with the cyclic collector paused as
# the `duban` command pauses it (duban.launch), and the plan files parsed by libyaml.
FLOOR = """
import gc, sys
gc.disable()
import networkx, typer, yaml
import schemas.plan_file, schemas.tables
for name in sys.argv[1:]:
    with open(name, encoding="utf-8") as plan:
        yaml.load(plan, Loader=yaml.CSafeLoader)
"""

from calendars.deadlines import parse_deadline  # noqa: E402


def taskwarrior_tasks(plan: dict[str, object]) -> str:
    """The plan's assignments as Taskwarrior's import format, one task per line."""
    code = plan["plan"]["code"]  # type: ignore[index]
    lines: list[str] = []
    for task in plan["tasks"]:  # type: ignore[attr-defined]
        due = parse_deadline(task["deadline"]).due
        assert due is not None
        held = task["responsibility"]
        for unit in [*held["lead"], *held["co"]]:
            lines.append(
                json.dumps(
                    {
                        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{code}/{task['id']}/{unit}")),
                        "status": "pending",
                        "entry": "20200101T000000Z",
                        "description": f"{code} {task['id']} {unit}",
                        "project": code,
                        "tags": [unit],
                        "due": f"{due:%Y%m%d}T000000Z",
                    },
                    ensure_ascii=False,
                )
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    args = parsed(load_parser(__doc__, plans=1, tasks=1000))
    task = shutil.which("task")
    if not task:
        raise SystemExit("Taskwarrior is not installed (apt-get install taskwarrior)")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        plans = [synthetic_plan(index, args.tasks, args.units) for index in range(args.plans)]
        for index, plan in enumerate(plans):
            (folder / f"plan-{index}.yaml").write_text(
                yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8"
            )
        tasks_file = folder / "tasks.json"
        tasks_file.write_text("".join(taskwarrior_tasks(plan) for plan in plans), encoding="utf-8")
        (folder / "taskrc").write_text(
            f"data.location={folder / 'taskdata'}\nconfirmation=off\nhooks=off\n"
            "verbose=nothing\nnews.version=2.6.2\n"
        )
        database = folder / "bench.db"
        env = child_environment(
            DUBAN_DATABASE_URL=f"sqlite:///{database}",
            DUBAN_HOME=str(folder),
            **taskwarrior_env(folder),
        )
        subprocess.run([DUBAN, "init"], env=env, check=True, capture_output=True)
        shutil.copyfile(database, folder / "empty.db")

        def empty_database() -> None:
            for leftover in ("bench.db-wal", "bench.db-shm"):
                (folder / leftover).unlink(missing_ok=True)
            shutil.copyfile(folder / "empty.db", database)

        def empty_taskwarrior() -> None:
            shutil.rmtree(folder / "taskdata", ignore_errors=True)
            (folder / "taskdata").mkdir()

        files = [str(folder / f"plan-{index}.yaml") for index in range(args.plans)]
        ours = Series("duban import", [DUBAN, "import", *files], prepare=empty_database)
        theirs = Series("task import", [task, "import", str(tasks_file)], prepare=empty_taskwarrior)
        floor = Series("floor: libraries, plan files read", [PYTHON, "-c", FLOOR, *files])
        interleaved([ours, theirs, floor], args.runs, env=env, cwd=folder)
    assignments = args.plans * args.tasks * args.units
    print(
        f"{assignments} assignments ({args.plans} plan files × {args.tasks} tasks × "
        f"{args.units} units)"
    )
    print(f"runs: {args.runs} of each, interleaved")
    print(ours.line())
    print(theirs.line())
    print(floor.line())
    print(f"duban import / task import: wall {ratio(ours.wall(), theirs.wall())} (target ≤ 1.0×)")
    print(f"floor / task import: wall {ratio(floor.wall(), theirs.wall())}")
    print(f"duban import / floor: wall {ratio(ours.wall(), floor.wall())}")
    table_row(
        f"import {assignments} assignments",
        f"{ours.wall()[1]:.2f} s",
        f"task import {theirs.wall()[1]:.2f} s",
        f"{ours.wall()[1] / theirs.wall()[1]:.2f}× (target 1.0×; floor "
        f"{floor.wall()[1] / theirs.wall()[1]:.2f}×)",
    )


if __name__ == "__main__":
    main()
