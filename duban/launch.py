"""The `duban` console command: the app, run with the cyclic collector paused.

A command is a short process: it loads a thousand modules, then builds rows, items and letters
by the ten thousand, and none of it makes garbage cycles worth looking for. The collector still
walked everything alive every few hundred allocations: 100 times in a cold `duban plans` (7% of
its time), 570 times in an import of 10k assignments (a fifth), 1,300 in a 100k sweep (a
seventh). A command's leftovers are freed when it exits. `web` and `serve` run for days and
`demo` replays a year and a half of days in one process (without the collector its peak went
from 114 to 155 MB), so they keep it; each sweep they run pauses it for itself (tasks.bulk).
"""

from __future__ import annotations

import gc
import sys

LONG_RUNNING = frozenset({"web", "serve", "demo"})


def main() -> None:
    if not LONG_RUNNING.intersection(sys.argv[1:2]):
        gc.disable()
    from duban.cli import app

    app()
