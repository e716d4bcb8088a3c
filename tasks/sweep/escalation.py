"""The escalation ladder: which rung an open item has reached on a given day.

Rungs, in working days on the plan's calendar: reminders before the due date, a reminder on
the day, then 催办 (urge), 督办 (supervise) and 通报 (report to leadership) as lateness grows.
Only the highest rung reached counts: a sweep that did not run for a week sends what is due
now, not the reminders it missed. Co-responsible and participating units are reminded against
their internal deadline (if the policy gives them one); past it, they are urged only when the
policy chases them (`co_units: chased`), never supervised or reported: the lead unit answers
for the task and is escalated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from calendars.workdays import WorkCalendar
from schemas.vocabulary import Level, Role


class Ladder(Protocol):
    """The rules a rung is reached by: a plan file's `EscalationPolicy`, or the same fields
    read from a stored plan file without validating it again (`tasks.sweep.overdue`), so that
    a read of the ladder need not load pydantic."""

    @property
    def remind_before(self) -> Sequence[int]: ...
    @property
    def remind_on_due(self) -> bool: ...
    @property
    def urge_after(self) -> int: ...
    @property
    def supervise_after(self) -> int: ...
    @property
    def report_after(self) -> int: ...
    @property
    def report_after_critical(self) -> int: ...
    @property
    def co_lead_time(self) -> int: ...
    @property
    def co_units(self) -> str: ...


@dataclass(frozen=True)
class Rung:
    """A rung reached: its level, its name (part of the dedupe key) and the numbers behind it."""

    level: Level
    name: str
    due: dt.date
    workdays_left: int = 0
    overdue_workdays: int = 0


def rung_reached(
    *,
    due: dt.date,
    as_of: dt.date,
    role: str,
    critical: bool,
    policy: Ladder,
    calendar: WorkCalendar,
    since: dt.date | None = None,
) -> Rung | None:
    """The highest rung `due` has reached on `as_of` for a unit in `role`, or None.

    `since` is the day supervision of the plan began (its `supervise_from`): an item already
    overdue then climbs from 催办 on that day, a rung at a time, instead of arriving at 通报.
    """
    if role != Role.LEAD and policy.co_lead_time:
        due = calendar.add_workdays(due, -policy.co_lead_time)
    horizon = max(policy.remind_before, default=0)
    if due > as_of:
        if (due - as_of).days > 2 * horizon + 14:  # far off: skip the calendar arithmetic
            return None
        left = calendar.workdays_between(as_of, due)
        for before in sorted(policy.remind_before):
            if left <= before:
                return Rung(Level.REMINDER, f"{before}wd-before", due, workdays_left=left)
        return None
    if due == as_of:
        return Rung(Level.DUE, "due-day", due) if policy.remind_on_due else None
    late = calendar.workdays_between(due, as_of)
    climbed = late
    if since is not None and due < since:
        climbed = min(late, policy.urge_after + calendar.workdays_between(since, as_of))
    for level, after in _ladder(role, critical, policy):
        if climbed >= after:
            return Rung(level, f"{after}wd-overdue", due, overdue_workdays=late)
    return None


def _ladder(role: str, critical: bool, policy: Ladder) -> list[tuple[Level, int]]:
    """The rungs past the due date a unit in `role` can reach, the highest first."""
    if role != Role.LEAD:
        return [(Level.URGE, policy.urge_after)] if policy.co_units == "chased" else []
    return [
        (Level.REPORT, policy.report_after_critical if critical else policy.report_after),
        (Level.SUPERVISE, policy.supervise_after),
        (Level.URGE, policy.urge_after),
    ]


def why(
    rung: Rung,
    role: str,
    policy: Ladder,
    *,
    critical: bool,
    language: str = "zh",
    office_own: bool = False,
    ongoing: bool = False,
) -> str:
    """The rule that fired, in the letter's language, so the recipient sees why they got it.

    `office_own`: the item is the office's own, so leadership is told instead of the office
    pressing itself. `ongoing`: 持续开展 or a recurring report, whose date is the day of this
    report, not a deadline for the work."""
    zh = language == "zh"
    internal = (
        (
            f"（配合单位内部时限：牵头单位时限前{policy.co_lead_time}个工作日）"
            if zh
            else f" (internal deadline for co-responsible units: {policy.co_lead_time}"
            " working days before the lead's)"
        )
        if role != Role.LEAD and policy.co_lead_time
        else ""
    )
    to_leadership = (
        (
            "；该事项由联席会议办公室承办，报领导"
            if zh
            else "; the office's own item: leadership is told"
        )
        if office_own
        else ""
    )
    if rung.level == Level.REMINDER:
        return (
            f"距{'本次报送' if ongoing else '完成时限'}还有{rung.workdays_left}个工作日"
            if zh
            else f"{rung.workdays_left} working day(s) before the "
            + ("day of this report" if ongoing else "due date")
        ) + internal
    if rung.level == Level.DUE:
        if ongoing:
            return "今日为本次进展报送日" if zh else "this progress report is due today"
        return "今日为完成时限" if zh else "due today"
    late = rung.overdue_workdays
    if rung.level == Level.URGE:
        copy = "" if office_own else ("，抄送联席会议办公室" if zh else ", office in copy")
        return (
            f"逾期{late}个工作日{internal}，予以催办{copy}"
            if zh
            else f"{late} working day(s) overdue{internal}: urged{copy}"
        ) + to_leadership
    if rung.level == Level.SUPERVISE:
        return (
            f"逾期{late}个工作日（满{policy.supervise_after}个工作日），列入督办"
            if zh
            else f"{late} working days overdue (at least {policy.supervise_after}): "
            "formal supervision opened"
        ) + to_leadership
    threshold = policy.report_after_critical if critical else policy.report_after
    path = ("，且影响后续任务进度" if zh else ", holding up later tasks") if critical else ""
    return (
        f"逾期{late}个工作日（满{threshold}个工作日{path}），报领导通报"
        if zh
        else f"{late} working days overdue (at least {threshold}{path}): reported to leadership"
    )
