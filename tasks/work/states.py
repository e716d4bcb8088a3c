"""The states of an assignment (and of one dated occurrence) and the moves between them.

Only moves listed here are possible; anything else is an error that names the current state
and the moves it allows. "Blocked" and "overdue" are not states: they are derived from the
graph, the calendar and the date asked about (see tasks.work.status).
"""

from __future__ import annotations

from duban.errors import Conflict

OPEN = ("not_started", "in_progress", "submitted", "returned")
CLOSED = ("accepted", "waived", "cancelled")

MOVES: dict[str, dict[str, str]] = {
    "not_started": {
        "progress": "in_progress",
        "submit": "submitted",
        "waive": "waived",
        "cancel": "cancelled",
    },
    "in_progress": {
        "progress": "in_progress",
        "submit": "submitted",
        "waive": "waived",
        "cancel": "cancelled",
    },
    "submitted": {
        "accept": "accepted",
        "return": "returned",
        "waive": "waived",
        "cancel": "cancelled",
    },
    "returned": {
        "progress": "in_progress",
        "submit": "submitted",
        "waive": "waived",
        "cancel": "cancelled",
    },
    "accepted": {},
    "waived": {},
    "cancelled": {},
}

OCCURRENCE_MOVES: dict[str, dict[str, str]] = {
    "not_started": {"submit": "submitted"},
    "submitted": {"accept": "accepted", "return": "returned"},
    "returned": {"submit": "submitted"},
    "accepted": {},
}


class TransitionError(Conflict):
    """A move the current state does not allow."""


def next_state(
    current: str, move: str, *, moves: dict[str, dict[str, str]] = MOVES, what: str = "assignment"
) -> str:
    allowed = moves[current]
    if move not in allowed:
        options = ", ".join(f"{m} → {s}" for m, s in allowed.items()) or "none: it is closed"
        raise TransitionError(f"cannot {move} a {what} that is {current}; allowed: {options}")
    return allowed[move]
