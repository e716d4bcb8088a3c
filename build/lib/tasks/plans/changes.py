"""What a revised plan file changes, in words: every field of every block, so that a unit's new
mail address or a new office seat is said, not slipped in.

The importer says what it sees in the rows it writes (tasks and units added, removed, restored,
re-worded, re-dated, re-assigned); this module says everything else, from the plan file as the
last import stored it and the revision. Blocks of items are compared item by item, by code.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from schemas.plan_file import PlanFile

# (block of the plan file, what one of its items is called, the field that names an item)
BLOCKS: tuple[tuple[str, str, str | None], ...] = (
    ("plan", "plan", None),
    ("units", "unit", "code"),
    ("groups", "group", "code"),
    ("joint_meeting", "joint meeting", None),
    ("phases", "phase", "code"),
    ("tasks", "task", "id"),
    ("reports", "report", "id"),
    ("escalation", "escalation", None),
)
ITEM_NAMES = ("code", "id", "unit")  # a list of mappings named by one of these is itemised
# What the importer already says from its rows, left out here so nothing is said twice.
SAID_FROM_ROWS: dict[str, frozenset[str]] = {
    "units": frozenset({"added", "removed"}),
    "tasks": frozenset({"added", "removed", "title", "text", "deadline"}),
    "reports": frozenset({"added", "removed", "title", "text", "deadline"}),
}


def plan_file_changes(stored: dict[str, Any], revised: dict[str, Any]) -> list[str]:
    """Every difference between the plan file the last import stored and the revision."""
    before = _as_read_now(stored)
    changes: list[str] = []
    for block, noun, name in BLOCKS:
        said = SAID_FROM_ROWS.get(block, frozenset())
        old, new = before.get(block), revised.get(block)
        if name is None:
            changes += _compared(noun, old, new)
        else:
            changes += _itemised(noun, name, old or [], new or [], said)
    return changes


def _as_read_now(spec: dict[str, Any]) -> dict[str, Any]:
    """The stored plan file with today's defaults filled in, so a field the format gained since
    is not reported as a change; as stored, if it no longer reads."""
    try:
        return PlanFile.model_validate(spec).model_dump(mode="json")
    except ValidationError:
        return spec


def _compared(label: str, old: Any, new: Any, said: frozenset[str] = frozenset()) -> list[str]:
    if old == new:
        return []
    if old is None or new is None:
        return [f"{label} {'added' if old is None else 'removed'}"]
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return [f"{label}: {old!r} → {new!r}"]
    changes: list[str] = []
    for field in [*new, *(f for f in old if f not in new)]:
        if field in said:
            continue
        before, after = old.get(field), new.get(field)
        name = _item_name(before, after)
        if name is not None:
            changes += _itemised(f"{label}: {field}", name, before or [], after or [])
        elif isinstance(before, dict) and isinstance(after, dict):
            changes += _compared(f"{label}: {field}", before, after)
        elif before != after:
            changes.append(f"{label}: {field} {before!r} → {after!r}")
    return changes


def _itemised(
    noun: str,
    name: str,
    old: list[dict[str, Any]],
    new: list[dict[str, Any]],
    said: frozenset[str] = frozenset(),
) -> list[str]:
    before = {item[name]: item for item in old}
    after = {item[name]: item for item in new}
    changes: list[str] = []
    for key in [*after, *(k for k in before if k not in after)]:
        if key in before and key in after:
            changes += _compared(f"{noun} {key}", before[key], after[key], said)
        elif (word := "added" if key in after else "removed") not in said:
            changes.append(f"{noun} {key} {word}")
    return changes


def _item_name(old: Any, new: Any) -> str | None:
    """The field naming each item when both sides are lists of mappings named alike."""
    items = [*(old or []), *(new or [])] if isinstance(old or new, list) else []
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    return next((n for n in ITEM_NAMES if all(n in item for item in items)), None)
