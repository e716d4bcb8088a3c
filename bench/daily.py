"""The daily sweep, whole process, against Taskwarrior merely counting the same overdue work.

The data is bench/overdue.py's: 100k open assignments shaped 40 plans × 250 tasks × 10 units,
due dates spread over 2019-07-01..2020-09-30, in a SQLite file, and the same 100k tasks in a
Taskwarrior of their own. Measured, each a new process from start to exit, interleaved, at least
three times:

- `duban sweep --as-of 2020-01-02`: reads the open work, climbs the ladder, writes every notice
  and letter to the outbox and delivers them as .eml files (no SMTP set), the way `duban sweep`
  runs on a server's cron. Before each run, and not timed, the database is put back as it was
  built and the .eml folder emptied, so every run sweeps the same day from the same state.
- `duban sweep --as-of 2020-01-04`, a Saturday: a sweep on a rest day, which does nothing.
- `task due.before:2020-01-01 count`: Taskwarrior counting the overdue tasks.
- Python importing the libraries the sweep is built on (SQLAlchemy, SQLModel, Jinja2, networkx,
  pydantic, yagmail, pendulum, itsdangerous) and nothing else: what any sweep written on them
  pays before it reads a row.
- The floor: that import, then the open work read (every open assignment's row, with the
  sqlite3 driver) and the sweep's .eml files written (the bytes of those a sweep wrote, kept
  aside): what a sweep on these libraries pays before it works out a single notice or composes
  a single letter.

Printed: each command's min and median wall and CPU time and peak memory, how many notices,
letters and .eml files a sweep wrote, and the ratios to Taskwarrior (target: the whole sweep
≤ 1.0× its time, memory ≤ its memory). Usage: python bench/daily.py [--plans 40] [--tasks 250]
[--units 10] [--runs 3] [--keep DIR] (--keep: build the data in DIR once, reuse it later).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from overdue import BEFORE, build_duban, build_taskwarrior, duban_env, taskwarrior_env  # noqa: E402
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
from sweep import FLOOR as OPEN_WORK  # noqa: E402  (every open assignment's row)

WORKING_DAY, REST_DAY = "2020-01-02", "2020-01-04"
LIBRARIES = "sqlalchemy, sqlmodel, jinja2, networkx, pydantic, yagmail, pendulum, itsdangerous"
FLOOR = f"""
import sqlite3, sys
from pathlib import Path
import {LIBRARIES}
rows = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()
for letter in sorted(Path(sys.argv[3]).iterdir()):
    (Path(sys.argv[4]) / letter.name).write_bytes(letter.read_bytes())
"""


def restore(folder: Path) -> None:
    """The database as built, and no mail yet: every sweep starts from the same state."""
    for leftover in ("bench.db-wal", "bench.db-shm"):
        (folder / leftover).unlink(missing_ok=True)
    shutil.copyfile(folder / "built.db", folder / "bench.db")
    shutil.rmtree(folder / "outbox", ignore_errors=True)


def written(folder: Path) -> str:
    with sqlite3.connect(folder / "bench.db") as db:
        (notices,) = db.execute("SELECT count(*) FROM notice").fetchone()
        (letters,) = db.execute("SELECT count(*) FROM outboxmessage").fetchone()
    files = len(list((folder / "outbox").glob("**/*.eml")))
    return f"{notices} notices in {letters} letters, {files} .eml files"


def measure(folder: Path, runs: int) -> None:
    task = shutil.which("task")
    if not task:
        raise SystemExit("Taskwarrior is not installed (apt-get install taskwarrior)")
    if not (folder / "taskdata").exists():
        print(f"Taskwarrior import {build_taskwarrior(folder, task):.1f} s")
    if not (folder / "built.db").exists():
        shutil.copyfile(folder / "bench.db", folder / "built.db")
    env = child_environment(**duban_env(folder), **taskwarrior_env(folder))
    restore(folder)
    subprocess.run(
        [DUBAN, "sweep", "--as-of", WORKING_DAY], env=env, check=True, capture_output=True
    )
    print(f"a sweep of {WORKING_DAY} wrote {written(folder)}")
    letters, copies = folder / "letters", folder / "letters-written"
    shutil.rmtree(letters, ignore_errors=True)
    letters.mkdir()
    for eml in (folder / "outbox").glob("**/*.eml"):
        shutil.copyfile(eml, letters / eml.name)

    def no_copies() -> None:
        shutil.rmtree(copies, ignore_errors=True)
        copies.mkdir()

    sweep = Series(
        f"duban sweep --as-of {WORKING_DAY}",
        [DUBAN, "sweep", "--as-of", WORKING_DAY],
        prepare=lambda: restore(folder),
    )
    rest = Series(
        f"duban sweep --as-of {REST_DAY} (rest)",
        [DUBAN, "sweep", "--as-of", REST_DAY],
        prepare=lambda: restore(folder),
    )
    count = Series(f"task due.before:{BEFORE} count", [task, f"due.before:{BEFORE}", "count"])
    libraries = Series("import the sweep's libraries", [PYTHON, "-c", f"import {LIBRARIES}"])
    floor = Series(
        "floor: libraries, rows read, .eml written",
        [PYTHON, "-c", FLOOR, str(folder / "bench.db"), OPEN_WORK, str(letters), str(copies)],
        prepare=no_copies,
    )
    everything = [sweep, rest, count, libraries, floor]
    interleaved(everything, 1, env, folder)  # warm-up, not counted: bytecode and page cache
    for one in everything:
        one.samples.clear()
    interleaved(everything, runs, env, folder)
    print(f"runs: {runs} of each, interleaved")
    for one in everything:
        print(one.line())
    for one, target in ((sweep, "≤ 1.00×"), (rest, ""), (libraries, ""), (floor, "")):
        print(
            f"{one.label} / Taskwarrior count: wall {ratio(one.wall(), count.wall())}; cpu "
            f"{ratio(one.cpu(), count.cpu())}; peak memory {one.rss() / count.rss():.2f}×"
            + (f" (target {target} in time, ≤ 1.00× in memory)" if target else "")
        )
    print(f"{sweep.label} / floor: wall {ratio(sweep.wall(), floor.wall())}")
    restore(folder)  # left as built, for the next benchmark that reuses the folder
    shutil.rmtree(letters)
    shutil.rmtree(copies)
    theirs = f"{count.label} {count.wall()[1]:.2f} s, {count.rss() / 2**20:.0f} MiB"
    for one, what in ((sweep, "the whole daily sweep, .eml delivery"), (rest, "a rest-day sweep")):
        table_row(
            what,
            f"{one.wall()[1]:.2f} s, {one.rss() / 2**20:.0f} MiB",
            theirs,
            f"{one.wall()[1] / count.wall()[1]:.2f}× time, {one.rss() / count.rss():.2f}× memory",
        )
    for one, what in (
        (libraries, "Python importing the sweep's libraries, nothing else"),
        (floor, "the sweep's floor: those libraries, the open rows read, its .eml files written"),
    ):
        table_row(
            what, f"{one.wall()[1]:.2f} s", theirs, f"{one.wall()[1] / count.wall()[1]:.2f}× time"
        )


def main() -> None:
    args = parsed(load_parser(__doc__, keep=True))
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "bench.db").exists():
            built = build_duban(folder, args.plans, args.tasks, args.units)
            print(f"duban import {built:.1f} s")
        measure(folder, args.runs)


if __name__ == "__main__":
    main()
