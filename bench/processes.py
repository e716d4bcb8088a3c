"""Whole processes, measured as a user waits for them: wall time from start to exit, the CPU
time the child used, and its peak memory (ru_maxrss), from os.wait4 on the child itself.

The child is started by a small launcher process, not by the benchmark: Linux counts the
memory a forked child shared with its parent before exec in the child's ru_maxrss, so a child
of the benchmark (which has imported duban to build the data) would report at least the
benchmark's own size. The launcher (`python -S`, a few MiB) measures the child and reports.

Shared by the benchmarks that run whole processes (overdue, cold, daily). Every numerator is
run at least three times, interleaved with what it is compared against, so a busy shared machine
slows both alike; the min and the median are printed, and the ratios are taken from the same
run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PYTHON = sys.executable
DUBAN = str(Path(PYTHON).with_name("duban"))


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds from start to exit
    cpu: float  # user + system seconds of the child
    rss: int  # peak resident memory of the child, bytes


LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    json.dump([status, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024], out)
"""


def run(
    command: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> Sample:
    """Run `command` once, its output discarded (as to a file, not a slow terminal)."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as report:
        launched = subprocess.run(
            [PYTHON, "-S", "-c", LAUNCHER, report.name, *command],
            env=env,
            cwd=cwd,
            stderr=subprocess.PIPE,
            text=True,
        )
        status, wall, cpu, rss = json.load(report) if launched.returncode == 0 else (1, 0, 0, 0)
    if status:
        raise SystemExit(f"{' '.join(command)} failed ({status}): {launched.stderr[-2000:]}")
    return Sample(wall, cpu, rss)


@dataclass
class Series:
    """The samples of one command, and what they come to. `prepare`, when given, runs before
    each sample, unmeasured: a command that changes its data (a sweep) gets the same data every
    time."""

    label: str
    command: list[str]
    samples: list[Sample] = field(default_factory=list)
    prepare: Callable[[], None] | None = None

    def wall(self) -> tuple[float, float]:
        return _min_median([s.wall for s in self.samples])

    def cpu(self) -> tuple[float, float]:
        return _min_median([s.cpu for s in self.samples])

    def rss(self) -> int:
        return max(s.rss for s in self.samples)

    def line(self) -> str:
        (wall_min, wall_med), (cpu_min, cpu_med) = self.wall(), self.cpu()
        return (
            f"{self.label:<34} wall min {wall_min:6.3f} s, median {wall_med:6.3f} s | cpu min "
            f"{cpu_min:6.3f} s, median {cpu_med:6.3f} s | peak {self.rss() / 2**20:5.0f} MiB"
        )


def _min_median(values: list[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def interleaved(
    series: Sequence[Series],
    runs: int,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> None:
    """`runs` rounds, each running every command once, in turn."""
    for _ in range(runs):
        for one in series:
            if one.prepare:
                one.prepare()
            one.samples.append(run(one.command, env, cwd))


def child_environment(**settings: str) -> dict[str, str]:
    """The environment of the measured children: this one, with `settings`, and allowed to
    write Python's bytecode cache. An installed duban has its .pyc files; a machine that sets
    PYTHONDONTWRITEBYTECODE would have every child compile duban's sources afresh, which no
    user's installation does (and `python -c "import sqlalchemy"` never pays)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | settings


def load_parser(
    doc: str, *, plans: int = 40, tasks: int = 250, runs: int | None = 3, keep: bool = False
) -> argparse.ArgumentParser:
    """The arguments of a benchmark on the synthetic load (bench/sweep.py's plans): its size,
    --plans plans of --tasks tasks each held by --units units; how many --runs (at least
    three, checked by `parsed`); and, with `keep`, --keep DIR to build the data once and reuse
    it. The description is the first line of the benchmark's docstring."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--plans", type=int, default=plans)
    parser.add_argument("--tasks", type=int, default=tasks)
    parser.add_argument("--units", type=int, default=10)
    if runs is not None:
        parser.add_argument("--runs", type=int, default=runs)
    if keep:
        parser.add_argument("--keep", type=Path, help="Build the data here once and reuse it.")
    return parser


def parsed(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The command line; every figure is repeated at least three times."""
    args = parser.parse_args()
    if getattr(args, "runs", 3) < 3:
        parser.error("--runs: at least 3")
    return args


def table_row(what: str, ours: str, reference: str, ratio: str) -> None:
    """One row of the table bench/all.py prints (issue 13's table), marked so it can find it."""
    print(f"{TABLE_ROW}| {what} | {ours} | {reference} | {ratio} |")


TABLE_ROW = "table: "


def ratio(numerator: tuple[float, float], denominator: tuple[float, float]) -> str:
    return (
        f"{numerator[0] / denominator[0]:.2f}× (min), {numerator[1] / denominator[1]:.2f}× (median)"
    )
