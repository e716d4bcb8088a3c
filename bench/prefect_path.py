"""The sweep through Prefect against the plain sweep, on the same data and day.

The data is bench/overdue.py's (100k open assignments, 40 plans × 250 tasks × 10 units); the day
is 2020-01-02, as in bench/daily.py. A real `prefect server start` runs for the whole bench (as
`duban serve` runs one), and three things are measured, interleaved, at least three times each,
every sweep from the database as built (restored before each run, not timed):

- the body: the plain sweep in this process (`run_sweep` with `DirectSteps` and the summary it
  reports, what `duban sweep` runs without Prefect; the flow makes the same summary) against
  the `deadline_sweep` flow's run time as the Prefect server recorded it (`duban sweep` with
  PREFECT_API_URL set runs that flow in its own process). Target: the flow body ≤ 1.2× the
  plain sweep.
- the whole process: `duban sweep --as-of 2020-01-02` without and with PREFECT_API_URL.
- what the difference is made of: `python -c "import prefect, flows.sweep"`.

Usage: python bench/prefect_path.py [--plans 40] [--tasks 250] [--units 10] [--runs 3]
[--keep DIR] (--keep: build the data in DIR once, reuse it later; shared with daily.py)
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from daily import WORKING_DAY, restore  # noqa: E402
from overdue import build_duban, duban_env  # noqa: E402
from processes import (  # noqa: E402
    DUBAN,
    PYTHON,
    Series,
    child_environment,
    load_parser,
    parsed,
    ratio,
    run,
    table_row,
)

TARGET = 1.2


def plain_sweep(url: str) -> float:
    """The sweep `duban sweep` runs without Prefect, in this process, and its summary (what
    the command prints and the flow returns); its seconds."""
    from calendars.clock import now
    from render.mail import composer_for
    from schemas.db import sessions
    from schemas.settings import Settings
    from tasks.sweep.delivery import transport_from
    from tasks.sweep.pipeline import DirectSteps, run_sweep, sweep_summary

    config = Settings()
    steps = DirectSteps(
        sessions(url),
        composer_for(config),
        at=now(),
        calendar_dir=config.calendar_dir,
        transport=transport_from(config),
    )
    started = time.perf_counter()
    sweep_summary(
        run_sweep(steps, as_of=dt.date.fromisoformat(WORKING_DAY), plan=None, dry_run=False)
    )
    return time.perf_counter() - started


def flow_run_times(since: dt.datetime) -> list[float]:
    """The run time of every completed `deadline-sweep` flow run the server has recorded as
    started since `since`, in the order they started (a kept folder keeps its server's runs
    of earlier benchmarks)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterStartTime,
    )

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["deadline-sweep"])),
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)),
        )
    sweeps = [run for run in runs if run.state and run.state.is_completed()]
    sweeps.sort(key=lambda run: run.start_time or dt.datetime.max.replace(tzinfo=dt.UTC))
    return [run.total_run_time.total_seconds() for run in sweeps]


def measure(folder: Path, runs: int) -> None:
    from duban.serve import prefect_server
    from schemas.db import dispose_engines
    from schemas.settings import Settings

    if not (folder / "built.db").exists():
        shutil.copyfile(folder / "bench.db", folder / "built.db")
    os.environ.update(duban_env(folder))
    url = f"sqlite:///{folder / 'bench.db'}"

    def fresh() -> None:
        dispose_engines()
        restore(folder)

    with prefect_server(Settings()) as server:
        env = child_environment(**duban_env(folder))
        env.pop("PREFECT_API_URL", None)
        sweep = [DUBAN, "sweep", "--as-of", WORKING_DAY]
        plain = Series(f"duban sweep --as-of {WORKING_DAY}", sweep, prepare=fresh)
        through = Series(
            "the same, PREFECT_API_URL set",
            ["env", f"PREFECT_API_URL={server.api_url}", *sweep],
            prepare=fresh,
        )
        imports = Series(
            "import prefect, flows.sweep", [PYTHON, "-c", "import prefect, flows.sweep"]
        )
        bodies: list[float] = []
        started = dt.datetime.now(dt.UTC)
        for round in range(runs + 1):  # the first round warms up and is not counted
            fresh()
            body = plain_sweep(url)
            for one in (plain, through, imports):
                if one.prepare:
                    one.prepare()
                sample = run(one.command, env, folder)
                if round:
                    one.samples.append(sample)
            if round:
                bodies.append(body)
        flow_bodies = flow_run_times(started)[1:]  # the first was the warm-up
        fresh()
    print(f"runs: {runs} of each, interleaved, after one round of warm-up")
    print(
        f"plain sweep body (in process):     min {min(bodies):6.3f} s, median "
        f"{statistics.median(bodies):6.3f} s"
    )
    print(
        f"deadline-sweep flow run (server):  min {min(flow_bodies):6.3f} s, median "
        f"{statistics.median(flow_bodies):6.3f} s ({len(flow_bodies)} runs)"
    )
    body_ratio = ratio(
        (min(flow_bodies), statistics.median(flow_bodies)),
        (min(bodies), statistics.median(bodies)),
    )
    print(f"flow body / plain body: {body_ratio} (target ≤ {TARGET}×)")
    for one in (plain, through, imports):
        print(one.line())
    print(f"whole process, through Prefect / plain: wall {ratio(through.wall(), plain.wall())}")
    extra = through.wall()[1] - plain.wall()[1]
    print(
        f"the whole process pays {extra:.2f} s more (median); importing Prefect and the flows "
        f"alone takes {imports.wall()[1]:.2f} s"
    )
    table_row(
        "the sweep's flow body through Prefect",
        f"{statistics.median(flow_bodies):.2f} s",
        f"the plain sweep {statistics.median(bodies):.2f} s",
        f"{statistics.median(flow_bodies) / statistics.median(bodies):.2f}×",
    )
    table_row(
        "`duban sweep` with PREFECT_API_URL, whole process",
        f"{through.wall()[1]:.2f} s (+{extra:.2f} s)",
        f"plain {plain.wall()[1]:.2f} s; `import prefect, flows.sweep` {imports.wall()[1]:.2f} s",
        f"{through.wall()[1] / plain.wall()[1]:.2f}×",
    )


def main() -> None:
    args = parsed(load_parser(__doc__, keep=True))
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "bench.db").exists():
            print(f"duban import {build_duban(folder, args.plans, args.tasks, args.units):.1f} s")
        measure(folder, args.runs)


if __name__ == "__main__":
    main()
