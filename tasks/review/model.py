"""What a review is: the figures leadership and the office read, as plain immutable data.

tasks.review.compute computes it from the database as of a day; tasks.render_* turn it into a
terminal table, Markdown, a self-contained HTML page, an XLSX workbook or a digest mail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, NamedTuple

from schemas.vocabulary import Cause, Light


@dataclass(frozen=True)
class Counts:
    """How much of a plan (or a phase) is done, as of the review's day."""

    tasks: int
    assignments: int
    accepted: int
    accepted_on_time: int
    submitted: int  # awaiting acceptance
    in_progress: int
    not_started: int
    overdue: int  # open and past due now
    extended: int  # an approved extension moved the due date
    waived: int  # waived or cancelled

    @property
    def completion_pct(self) -> float:
        """Accepted (or waived) among all assignments."""
        done = self.accepted + self.waived
        return round(100 * done / self.assignments, 1) if self.assignments else 0.0

    @property
    def on_time_pct(self) -> float:
        """Accepted on time among all accepted."""
        return round(100 * self.accepted_on_time / self.accepted, 1) if self.accepted else 0.0


class ItemReview(NamedTuple):
    """One assignment (or one dated occurrence of it) with its four dates side by side.

    original: what the plan said; approved: after extensions; forecast: for open work, pushed
    later by predecessors that are late; actual: when the accepted work was submitted.

    A named tuple (as TaskReview), not a frozen dataclass like the rest: a review makes one
    per item (100,000 for 40 plans), and a frozen dataclass sets each of its 19 fields through
    `object.__setattr__`, which was a seventh of the review's time.
    """

    task: str
    task_title: str
    phase: str | None
    unit: str
    unit_name: str
    role: str
    state: str
    light: Light
    original_due: dt.date | None
    approved_due: dt.date | None
    forecast_due: dt.date | None
    actual: dt.date | None
    overdue_workdays: int  # open work, as of the review's day
    late_workdays: int  # accepted work submitted after its approved due date
    cause: Cause
    upstream: tuple[tuple[str, int], ...] = ()  # late predecessors and by how many working days
    occurrence: dt.date | None = None
    critical: bool = False
    escalated: bool = False


class TaskReview(NamedTuple):  # a named tuple for ItemReview's reason, one per task
    code: str
    title: str
    kind: str
    phase: str | None
    light: Light | None  # None for a goal no unit holds: a target, never green or done work
    start: dt.date | None
    due: dt.date | None  # the latest approved due date among its assignments
    forecast_due: dt.date | None
    done: bool
    critical: bool
    blocks: tuple[str, ...]  # downstream tasks a delay here holds up
    units: tuple[str, ...]
    no_lead: bool = False  # 牵头单位未明确: held by units, none of them the lead


@dataclass(frozen=True)
class PhaseReview:
    code: str
    kind: str
    name: str
    start: dt.date | None
    due: dt.date | None
    counts: Counts
    ready: bool  # can be declared complete
    missing: tuple[str, ...]  # what stands in the way, one line per open item (the detail)
    missing_summary: tuple[str, ...]  # the same, one line per task and per earlier phase


@dataclass(frozen=True)
class UnitScore:
    """A unit's scorecard. Ranked on its on-time rate over its own due items; delays caused
    upstream, and those of roles not chased, are shown but never counted."""

    unit: str
    name: str
    assigned: int
    due: int  # items counted: due by the review's day, the unit's to answer for
    on_time: int  # of those, handed in by their approved due date
    accepted_on_time: int
    accepted_late: int
    overdue_now: int
    own_delays: int
    upstream_delays: int
    supporting_delays: int  # late as co-responsible or participant, not counted
    avg_workdays_late: float
    summaries_on_time: int
    summaries_due: int
    open_escalations: int
    rank: int = 0  # equal rates share a rank; 0: not ranked (nothing due yet)

    @property
    def rate(self) -> float:
        """Percent of the counted items handed in on time."""
        return round(100 * self.on_time / self.due, 1) if self.due else 0.0


@dataclass(frozen=True)
class Review:
    plan: str
    title: str
    document_number: str | None
    as_of: dt.date
    phase: str | None  # the phase reviewed, or None for the whole plan
    counts: Counts
    phases: tuple[PhaseReview, ...]
    tasks: tuple[TaskReview, ...]
    items: tuple[ItemReview, ...]
    units: tuple[UnitScore, ...]  # ranked, in rank order
    ranking_rule: str
    critical_path: tuple[str, ...]
    at_risk: tuple[str, ...] = field(default=())  # critical-path tasks not green
    span: tuple[dt.date | None, dt.date | None] = (None, None)
    language: Literal["zh", "en"] = "zh"
    not_yet_due: tuple[UnitScore, ...] = ()  # listed apart: nothing of theirs counted yet

    def as_json(self) -> dict[str, Any]:
        """Plain JSON types, percentages included, for `--format json` and artifacts."""

        def plain(value: Any) -> Any:
            if isinstance(value, dt.date):
                return value.isoformat()
            if isinstance(value, ItemReview | TaskReview):
                return plain(value._asdict())
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [plain(v) for v in value]
            return value

        data: dict[str, Any] = plain(asdict(self))
        data["counts"].update(
            completion_pct=self.counts.completion_pct, on_time_pct=self.counts.on_time_pct
        )
        for phase, review in zip(data["phases"], self.phases, strict=True):
            phase["counts"].update(
                completion_pct=review.counts.completion_pct, on_time_pct=review.counts.on_time_pct
            )
        for unit, score in zip(
            data["units"] + data["not_yet_due"], self.units + self.not_yet_due, strict=True
        ):
            unit["rate"] = score.rate
        return data
