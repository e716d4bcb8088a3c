"""What the pages compute from the data, kept while the data is unchanged.

A review of 2,500 items, or the rendered list of a unit's 250 assignments, takes longer than
everything else in a request together. Each is computed once per change to the data it comes
from (`tasks.work.desk.data_version` of its plan, read in the request before the data itself),
then served from memory: a change in one plan leaves the other plans' pages where they are.
One computation at a time per key: ten requests arriving just after a change wait for the
first one's result instead of computing it ten times over.

Only what is the same for everyone who may see it is kept here: never the person, never a CSRF
token. Each process of the server keeps its own; all of them ask the database for the version.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from tasks.work.desk import DataVersion

T = TypeVar("T")


class Memo:
    """Results by key, each with the data version it was computed from (the newest kept)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: dict[Hashable, tuple[DataVersion, Any]] = {}
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: DataVersion, compute: Callable[[], T]) -> T:
        """The result for `key` at `version`: kept, or computed now (once, by one request)."""
        kept = self._kept.get(key)
        if kept is not None and kept[0] == version:
            return kept[1]  # type: ignore[no-any-return]
        try:
            with self._lock_for(key):
                kept = self._kept.get(key)
                if kept is not None and kept[0] == version:
                    return kept[1]  # type: ignore[no-any-return]
                result = compute()
                self._keep(key, version, result)
                return result
        finally:
            with self._lock:
                if key not in self._kept:  # refused (no such plan): nothing to wait for
                    self._computing.pop(key, None)

    def _lock_for(self, key: Hashable) -> threading.Lock:
        with self._lock:
            return self._computing.setdefault(key, threading.Lock())

    def _keep(self, key: Hashable, version: DataVersion, result: Any) -> None:
        """Keep the result unless a newer one is kept (a request that began before a change
        may finish after one that began after it); forget the oldest key when full."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] > version:
                return
            self._kept.pop(key, None)
            if len(self._kept) >= self.size:
                oldest = next(iter(self._kept))
                del self._kept[oldest]
                self._computing.pop(oldest, None)
            self._kept[key] = (version, result)
