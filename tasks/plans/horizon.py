"""A plan that reaches past the calendar data: one error for the plan, not one per item.

Resolution counts every assignment's due date on the working calendar, and each one past the
last year of data fails alike; a plan with "2027年3月底前" in seven places used to get seven
identical lines with no line number. Here they become one problem located at the first item
that reaches past the data, saying how many do and what to set (see docs/calendar.md,
"Next year's calendar").
"""

from __future__ import annotations

import re
from pathlib import Path

from calendars.deadlines import DeadlineConventions, DeadlineError, parse_deadline
from schemas.plan_file import PlanFile
from tasks.plans.reader import Locator, PlanInvalid, Problem
from tasks.plans.resolution import ResolvedPlan, resolve_plan

_MISSING = re.compile(r"^no working-day calendar data for (\d{4}): ")


def resolve_within_calendar(
    spec: PlanFile, locator: Locator, *, calendar_dir: Path | None = None
) -> ResolvedPlan:
    """resolve_plan, with every "no calendar data for YYYY" problem folded into one."""
    try:
        return resolve_plan(spec, locator, calendar_dir=calendar_dir)
    except PlanInvalid as invalid:
        missing = [p for p in invalid.problems if _MISSING.match(p.message)]
        if not missing:
            raise
        others = [p for p in invalid.problems if p not in missing]
        raise PlanInvalid([*others, _one(spec, locator, missing)]) from None


def _one(spec: PlanFile, locator: Locator, missing: list[Problem]) -> Problem:
    year = min(int(m[1]) for p in missing if (m := _MISSING.match(p.message)))
    fix = _MISSING.sub("", next(p.message for p in missing if f" {year}: " in p.message))
    reaching = _items_reaching(spec, year)
    count = f"{len(reaching)} item(s) reach {year} or later" if reaching else "the plan does"
    where = reaching[0] if reaching else ("plan", "span")
    message = f"{count}, past the working-day calendar data; {fix}"
    return locator.problem(where, message)


def _items_reaching(spec: PlanFile, year: int) -> list[tuple[str | int, ...]]:
    """The deadline fields, in file order, whose dates fall in `year` or later."""
    conventions = DeadlineConventions(
        **spec.plan.deadline_reading.model_dump(exclude={"non_workday"})
    )
    issued = spec.plan.issued.year if spec.plan.issued else None
    span = spec.plan.span
    found: list[tuple[str | int, ...]] = []
    items = [("tasks", i, t.deadline) for i, t in enumerate(spec.tasks)]
    items += [("reports", i, r.deadline) for i, r in enumerate(spec.reports)]
    for section, index, text in items:
        if not text:
            continue
        try:
            d = parse_deadline(text, year=issued, span=span, conventions=conventions)
        except DeadlineError:
            continue
        days = [*d.dates, *([d.due] if d.due else [])]
        if any(day.year >= year for day in days):
            found.append((section, index, "deadline"))
    return found
