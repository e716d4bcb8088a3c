"""Every benchmark of issue 13 in one run, and its table with today's figures.

Runs, one after the other, each as its own process: the whole daily sweep against Taskwarrior
(daily.py), the overdue list (overdue.py), the sweep through Prefect (prefect_path.py), the
sweep's compute at 10k and 100k assignments (sweep.py, for the cost per item), importing 10k
assignments against Taskwarrior (imports.py), reviews (review.py), the cold read-only commands
(cold.py) and `duban demo` (demo.py). Each benchmark's own output is shown as it comes; the
rows it marks for the table (processes.table_row) are collected and printed at the end as one
Markdown table, ready for a note. daily.py, overdue.py and prefect_path.py share one built copy
of the 100k data. A benchmark that fails is reported in the table as failed, and the others
still run.

Usage: python bench/all.py [--quick] [--keep DIR]
(--quick: 4 plans × 50 tasks × 5 units, to try the whole chain in a minute; the figures then say
little. --keep: build the shared data in DIR once and reuse it on later runs.)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from processes import PYTHON, TABLE_ROW  # noqa: E402

HERE = Path(__file__).resolve().parent
FULL = ["--plans", "40", "--tasks", "250", "--units", "10"]
QUICK = ["--plans", "4", "--tasks", "50", "--units", "5"]
TENTH = ["--plans", "4", "--tasks", "250", "--units", "10"]


def benchmarks(size: list[str], shared: Path, quick: bool) -> list[tuple[str, list[str]]]:
    """(script, arguments) in the order they run."""
    keep = ["--keep", str(shared)]
    return [
        ("daily.py", [*size, *keep]),
        ("overdue.py", [*size, *keep]),
        ("prefect_path.py", [*size, *keep]),
        ("sweep.py", QUICK if quick else TENTH),
        ("sweep.py", size),
        ("imports.py", ["--tasks", "50", "--units", "5"] if quick else []),
        ("review.py", size),
        ("cold.py", []),
        ("demo.py", []),
    ]


def run(script: str, arguments: list[str]) -> list[str]:
    """The benchmark's output passed through as it comes; its table rows returned."""
    print(f"\n== {script} {' '.join(arguments)}", flush=True)
    started = time.perf_counter()
    child = subprocess.Popen(
        [PYTHON, str(HERE / script), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdout is not None
    rows = []
    for line in child.stdout:
        print(line, end="", flush=True)
        if line.startswith(TABLE_ROW):
            rows.append(line.removeprefix(TABLE_ROW).rstrip("\n"))
    if child.wait():
        rows.append(f"| {script} | failed (exit {child.returncode}) | | |")
    print(f"== {script}: {time.perf_counter() - started:.0f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", type=Path, help="Build the shared 100k data here once.")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory() as scratch:
        shared = args.keep or Path(scratch)
        shared.mkdir(parents=True, exist_ok=True)
        rows = [
            row
            for script, arguments in benchmarks(size, shared, args.quick)
            for row in run(script, arguments)
        ]
    print("\n| what | duban | reference | ratio |\n| --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
