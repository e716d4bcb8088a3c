"""Who is acting, and what each kind of actor may do.

A unit acts only on its own assignments (a lead unit may also report on its task as a whole);
the joint meeting office decides (accepts, returns, rules on extensions, waives, re-assigns);
leadership reads everything and changes nothing; the system (the sweep) changes no assignment.
"""

from __future__ import annotations

from dataclasses import dataclass

from duban.errors import PermissionDenied
from schemas.vocabulary import Action, ActorKind

UNIT_ACTIONS = frozenset({Action.PROGRESS, Action.SUBMIT, Action.REQUEST_EXTENSION})
OFFICE_ACTIONS = frozenset(
    {
        Action.ACCEPT,
        Action.RETURN,
        Action.DECIDE_EXTENSION,
        Action.WAIVE,
        Action.CANCEL,
        Action.REASSIGN,
    }
)


class Forbidden(PermissionDenied):
    """The actor may not do this; the message says who may."""


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    unit: str | None = None  # the unit's code when kind == "unit"
    label: str = ""
    person: str | None = None  # who, by name: an account's login, or the OS user at the CLI
    channel: str | None = None  # web | link | cli

    def __str__(self) -> str:
        return self.label or (f"unit:{self.unit}" if self.unit else self.kind)


def check_allowed(actor: Actor, action: str, *, unit: str | None) -> None:
    """Raise Forbidden unless `actor` may do `action` on an assignment of `unit`."""
    if action in UNIT_ACTIONS:
        if actor.kind == ActorKind.UNIT and actor.unit == unit:
            return
        raise Forbidden(
            f"{actor} may not {action.replace('_', ' ')} for {unit}: only the "
            f"responsible unit itself may"
        )
    if action in OFFICE_ACTIONS:
        if actor.kind == ActorKind.OFFICE:
            return
        raise Forbidden(
            f"{actor} may not {action.replace('_', ' ')}: only the joint meeting "
            f"office (联席会议办公室) may"
        )
    raise Forbidden(f"unknown action {action}")
