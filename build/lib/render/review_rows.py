"""The rows of the review's tables, as words: red and yellow items, units, who holds a task.

Many units answering one task (24 counties' summary report) make one row, not 24: the row
names the units by state and gives the span of their dates and lateness. The detail stays one
row per item in the workbook (render.xlsx). `words` is the label set of render.review_words.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from render.environment import iso, pct
from schemas.vocabulary import LIGHT_SEVERITY, Cause, Light
from tasks.review.model import ItemReview, Review, UnitScore

GROUP_FROM = 4  # this many red (or yellow) units on one task and date make one row
UNITS_SHOWN = 5  # a list of units names this many, then how many in all

ITEM_COLUMNS = (
    "light",
    "task",
    "unit",
    "state",
    "original_due",
    "approved_due",
    "forecast_due",
    "actual",
    "late",
    "cause",
)
UNIT_COLUMNS = (
    "rank",
    "name",
    "assigned",
    "due_items",
    "on_time_items",
    "rate",
    "overdue_now",
    "own_delays",
    "excused",
    "avg_late",
    "summaries",
    "open_escalations",
)


def late_days(item: ItemReview) -> int:
    """Working days late: still open past due, or submitted after it."""
    return item.overdue_workdays or item.late_workdays


def cause_text(item: ItemReview, words: dict[str, str]) -> str:
    """自身延误 / 上游延误：t03迟12个工作日 / 已批准延期 …"""
    text = words[f"cause.{item.cause}"]
    if item.cause == Cause.UPSTREAM and item.upstream:
        text += words["colon"] + words["sep"].join(
            words["upstream_detail"].format(task=t, n=n) for t, n in item.upstream
        )
    return text


def flagged(items: Iterable[ItemReview]) -> list[ItemReview]:
    """Red then yellow, the latest first, then by task."""
    return sorted(
        (i for i in items if i.light != Light.GREEN),
        key=lambda i: (-LIGHT_SEVERITY[i.light], -late_days(i), i.task, i.unit),
    )


@dataclass(frozen=True)
class FlaggedRow:
    """One row of the red and yellow items: one item, or many units on one task and date."""

    light: Light
    cells: list[str]  # as ITEM_COLUMNS
    escalated: bool
    critical: bool


def flagged_rows(items: Iterable[ItemReview], words: dict[str, str]) -> list[FlaggedRow]:
    """The red and yellow items in order; GROUP_FROM or more units of one light on one task
    and date become one row, where the first of them would stand."""
    ordered = flagged(items)
    groups: dict[tuple[str, object, Light], list[ItemReview]] = defaultdict(list)
    for item in ordered:
        groups[(item.task, item.occurrence, item.light)].append(item)
    rows, shown = [], set()
    for item in ordered:
        key = (item.task, item.occurrence, item.light)
        group = groups[key]
        if len(group) < GROUP_FROM:
            rows.append(
                FlaggedRow(item.light, item_cells(item, words), item.escalated, item.critical)
            )
        elif key not in shown:
            shown.add(key)
            rows.append(
                FlaggedRow(
                    item.light,
                    group_cells(group, words),
                    any(i.escalated for i in group),
                    item.critical,
                )
            )
    return rows


def _task_cell(item: ItemReview, words: dict[str, str]) -> str:
    task = f"{item.task} {item.task_title}"
    if item.occurrence:
        task += words["occurrence"].format(date=iso(item.occurrence))
    return task


def item_cells(item: ItemReview, words: dict[str, str]) -> list[str]:
    return [
        words[item.light],
        _task_cell(item, words),
        item.unit_name,
        words.get(f"state.{item.state}", item.state),
        iso(item.original_due),
        iso(item.approved_due),
        iso(item.forecast_due),
        iso(item.actual),
        str(late_days(item) or ""),
        cause_text(item, words),
    ]


def group_cells(group: Sequence[ItemReview], words: dict[str, str]) -> list[str]:
    """One row for many units: the units by state, each date and the lateness as a span, the
    causes counted."""
    states = _by(group, lambda i: words.get(f"state.{i.state}", i.state))
    causes = Counter(cause_text(i, words) for i in group)
    return [
        words[group[0].light],
        _task_cell(group[0], words),
        words["units_states"].format(
            n=len(group),
            groups=words["group_sep"].join(
                words["state_group"].format(state=state, names=words["sep"].join(names))
                for state, names in states.items()
            ),
        ),
        words["sep"].join(
            words["state_n"].format(state=state, n=len(names)) for state, names in states.items()
        ),
        _span([i.original_due for i in group], words),
        _span([i.approved_due for i in group], words),
        _span([i.forecast_due for i in group], words),
        _span([i.actual for i in group], words),
        _number_span([late_days(i) for i in group], words),
        next(iter(causes))
        if len(causes) == 1
        else words["sep"].join(
            words["cause_n"].format(cause=cause, n=n) for cause, n in causes.items()
        ),
    ]


def _by(group: Iterable[ItemReview], key: Callable[[ItemReview], str]) -> dict[str, list[str]]:
    """Unit names by a key (their state), in the order met."""
    found: dict[str, list[str]] = defaultdict(list)
    for item in group:
        found[key(item)].append(item.unit_name)
    return found


def _span(days: Sequence[dt.date | None], words: dict[str, str]) -> str:
    """One day, the first to the last, or a dash."""
    known = sorted({d for d in days if d is not None})
    if len(known) <= 1:
        return iso(known[0] if known else None)
    return words["span"].format(first=iso(known[0]), last=iso(known[-1]))


def _number_span(values: Sequence[int], words: dict[str, str]) -> str:
    low, high = min(values, default=0), max(values, default=0)
    if low == high:
        return str(high or "")
    return words["span"].format(first=low, last=high)


def unit_names(names: Sequence[str], words: dict[str, str]) -> str:
    """区卫生健康委、区财政局; many units: the first few and how many in all."""
    if len(names) <= UNITS_SHOWN:
        return words["sep"].join(names)
    return words["units_more"].format(shown=words["sep"].join(names[:UNITS_SHOWN]), n=len(names))


def unit_cells(
    unit: UnitScore, review: Review, words: dict[str, str], columns: Sequence[str] = UNIT_COLUMNS
) -> list[str]:
    """A unit's row of the ranking, in the given columns (the 通报 shows fewer)."""
    tied = sum(u.rank == unit.rank for u in review.units) > 1
    values = {
        "rank": words["tied"].format(rank=unit.rank) if tied else str(unit.rank or "—"),
        "name": unit.name,
        "assigned": str(unit.assigned),
        "due_items": str(unit.due),
        "on_time_items": str(unit.on_time),
        "rate": pct(unit.rate) if unit.due else "—",
        "overdue_now": str(unit.overdue_now),
        "own_delays": str(unit.own_delays),
        "excused": str(unit.upstream_delays + unit.supporting_delays),
        "avg_late": f"{unit.avg_workdays_late:.1f}",
        "summaries": f"{unit.summaries_on_time}/{unit.summaries_due}",
        "open_escalations": str(unit.open_escalations),
    }
    return [values[column] for column in columns]


def not_yet_due(review: Review, words: dict[str, str]) -> str:
    """The line naming the units listed apart, or nothing."""
    names = [u.name for u in review.not_yet_due]
    if not names:
        return ""
    return words["not_yet_due"].format(n=len(names), names=words["sep"].join(names))
