"""Bulk work: a sweep or a review allocates hundreds of thousands of objects that live to its
end and makes next to no reference cycles.

CPython's cyclic collector runs every few hundred allocations and, now and then, walks every
object alive: in a 100k sweep it ran 1,300 times and took 0.9–1.0 s of 6–7 s, in a review of
40 plans 1,060 times and 1.3 s of 4.8 s, and freed next to nothing. Paused for the work, it
runs again after and collects whatever cycles the work left (a sweep's peak: 24 MB more). The
one-shot commands run without it altogether (duban.launch); this is for the processes that
live on: `duban serve`, `duban web`, a Prefect worker, a replay."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for the block, as it was after it (nested blocks leave it off
    until the outermost ends)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
