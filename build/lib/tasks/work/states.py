"""The states of an assignment (and of one dated occurrence) and the moves between them.

Only moves listed here are possible; anything else is an error that names the current state
and the moves it allows. "Blocked" and "overdue" are not states: they are derived from the
graph, the calendar and the date asked about (see tasks.work.status).
"""

from __future__ import annotations

from duban.errors import Conflict
from schemas.vocabulary import Action, AssignmentState, OccurrenceState

MOVES: dict[str, dict[str, str]] = {
    AssignmentState.NOT_STARTED: {
        Action.PROGRESS: AssignmentState.IN_PROGRESS,
        Action.SUBMIT: AssignmentState.SUBMITTED,
        Action.WAIVE: AssignmentState.WAIVED,
        Action.CANCEL: AssignmentState.CANCELLED,
    },
    AssignmentState.IN_PROGRESS: {
        Action.PROGRESS: AssignmentState.IN_PROGRESS,
        Action.SUBMIT: AssignmentState.SUBMITTED,
        Action.WAIVE: AssignmentState.WAIVED,
        Action.CANCEL: AssignmentState.CANCELLED,
    },
    AssignmentState.SUBMITTED: {
        Action.ACCEPT: AssignmentState.ACCEPTED,
        Action.RETURN: AssignmentState.RETURNED,
        Action.WAIVE: AssignmentState.WAIVED,
        Action.CANCEL: AssignmentState.CANCELLED,
    },
    AssignmentState.RETURNED: {
        Action.PROGRESS: AssignmentState.IN_PROGRESS,
        Action.SUBMIT: AssignmentState.SUBMITTED,
        Action.WAIVE: AssignmentState.WAIVED,
        Action.CANCEL: AssignmentState.CANCELLED,
    },
    AssignmentState.ACCEPTED: {},
    AssignmentState.WAIVED: {},
    AssignmentState.CANCELLED: {},
}

OCCURRENCE_MOVES: dict[str, dict[str, str]] = {
    OccurrenceState.NOT_STARTED: {Action.SUBMIT: OccurrenceState.SUBMITTED},
    OccurrenceState.SUBMITTED: {
        Action.ACCEPT: OccurrenceState.ACCEPTED,
        Action.RETURN: OccurrenceState.RETURNED,
    },
    OccurrenceState.RETURNED: {Action.SUBMIT: OccurrenceState.SUBMITTED},
    OccurrenceState.ACCEPTED: {},
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
