"""Bulk work: a sweep, an import, a review, a listing of every overdue item allocate hundreds of
thousands of objects that live to their end and make next to no reference cycles.

CPython's cyclic collector runs every few hundred allocations and, now and then, walks every
object alive: on a 100k sweep it ran 1,300 times and took 0.9–1.0 s of 6–7 s, finding nothing
worth the walk. Paused for the work, it runs again after and collects whatever cycles the work
left (measured: 0.12 s of collection, all of it during imports; 24 MB more at the peak).
"""

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
