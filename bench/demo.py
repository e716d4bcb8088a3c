"""`duban demo`, whole process, as a newcomer runs it: import the bundled plans and replay the
Chongqing plan's timeline through the daily sweep, mail to .eml files. Target: ≤ 5 s on a quiet
machine. Each run starts from an empty home (not timed), at least three runs; printed are the
min and median wall and CPU time and the peak memory, beside `python -c "import sqlalchemy"`
measured in the same run for scale. Usage: python bench/demo.py [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from processes import DUBAN, PYTHON, Series, child_environment, interleaved, table_row  # noqa: E402

TARGET = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs: at least 3")
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        env = child_environment(
            DUBAN_HOME=str(home), DUBAN_DATABASE_URL=f"sqlite:///{home / 'duban.db'}"
        )

        def empty_home() -> None:
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir()

        demo = Series("duban demo", [DUBAN, "demo"], prepare=empty_home)
        floor = Series('python -c "import sqlalchemy"', [PYTHON, "-c", "import sqlalchemy"])
        interleaved([demo, floor], 1, env, Path(scratch))  # warm-up: bytecode and page cache
        demo.samples.clear()
        floor.samples.clear()
        interleaved([demo, floor], args.runs, env, Path(scratch))
    print(f"runs: {args.runs} of each, interleaved")
    print(demo.line())
    print(floor.line())
    table_row(
        "`duban demo`",
        f"{demo.wall()[1]:.2f} s, {demo.rss() / 2**20:.0f} MiB",
        f"target {TARGET:.0f} s",
        f"{demo.wall()[1] / TARGET:.2f}× the target",
    )


if __name__ == "__main__":
    main()
