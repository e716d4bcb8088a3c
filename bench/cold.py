"""Cold read-only commands: `duban plans`, `show`, `tasks`, `overdue`, each a new process,
against `python -c "import sqlalchemy"` measured in the same run (the floor: every one of them
reads its database through SQLAlchemy). Target: ≤ 1.3× that import.

The database holds the three bundled plans (imported with `duban import`). Each command is run
at least three times, interleaved with the others and the floor; printed are the min and the
median of the wall and CPU time, the peak memory, and each command's ratio to the floor.
Usage: python bench/cold.py [--runs 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from processes import (  # noqa: E402
    DUBAN,
    PYTHON,
    Series,
    child_environment,
    interleaved,
    ratio,
    table_row,
)

PLANS = Path(__file__).resolve().parents[1] / "plans"
TARGET = 1.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs: at least 3")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        env = child_environment(
            DUBAN_DATABASE_URL=f"sqlite:///{folder / 'duban.db'}", DUBAN_HOME=str(folder)
        )
        for plan in sorted(PLANS.glob("*.yaml")):
            subprocess.run(
                [DUBAN, "import", str(plan)], env=env, cwd=folder, check=True, capture_output=True
            )
        floor = Series('python -c "import sqlalchemy"', [PYTHON, "-c", "import sqlalchemy"])
        commands = [
            Series("duban plans", [DUBAN, "plans"]),
            Series("duban show cq-2019-pilot", [DUBAN, "show", "cq-2019-pilot"]),
            Series("duban tasks --unit na", [DUBAN, "tasks", "--unit", "na"]),
            Series("duban overdue", [DUBAN, "overdue"]),
            Series("duban overdue --as-of 2019-12-31", [DUBAN, "overdue", "--as-of", "2019-12-31"]),
        ]
        everything = [floor, *commands]
        interleaved(everything, 1, env, folder)  # warm-up, not counted: bytecode and page cache
        for one in everything:
            one.samples.clear()
        interleaved(everything, args.runs, env, folder)
    print(f"runs: {args.runs} of each, interleaved; the three bundled plans imported")
    for one in everything:
        print(one.line())
    for one in commands:
        print(
            f"{one.label:<34} / import sqlalchemy: wall {ratio(one.wall(), floor.wall())}; "
            f"cpu {ratio(one.cpu(), floor.cpu())} (target ≤ {TARGET}×)"
        )
        table_row(
            f"`{one.label}` cold",
            f"{one.wall()[1]:.2f} s",
            f"{floor.label} {floor.wall()[1]:.2f} s",
            f"{one.wall()[1] / floor.wall()[1]:.2f}×",
        )


if __name__ == "__main__":
    main()
