"""A phase's figures and whether it can be declared complete (验收), with what stands in the way.

`count` gives the figures of any set of items (the whole plan's too). What a phase lacks is
kept twice: one line per open item (the detail) and one line per task and per earlier phase
(the summary the pages show first): 24 counties' open summaries are one line, not 24.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from operator import attrgetter
from typing import TypedDict

from schemas.tables import Phase
from schemas.vocabulary import CLOSED, SET_ASIDE, AssignmentState
from tasks.plans.graph import PHASE_RANK
from tasks.review.model import Counts, ItemReview, PhaseReview, TaskReview


class _Words(TypedDict):
    item: str
    due: str
    phase: str
    task: str
    one_unit: str
    units: str
    units_items: str
    due_span: str
    state_count: str
    sep: str
    states: dict[str, str]


MISSING: dict[str, _Words] = {
    "zh": {
        "item": "{task} {unit}：{state}",
        "due": "，完成时限{due}",
        "phase": "{name}尚有{count}项未办结",
        "task": "{task} {title}：{units}未办结（{states}）",
        "one_unit": "{task} {unit}：{count}项未办结（{states}）",
        "units": "{n}个单位",
        "units_items": "{n}个单位{count}项",
        "due_span": "，完成时限{first}至{last}",
        "state_count": "{state}{n}",
        "sep": "、",
        "states": {
            "not_started": "未启动",
            "in_progress": "推进中",
            "returned": "已退回",
            "submitted": "已报送待审核",
        },
    },
    "en": {
        "item": "{task} {unit}: {state}",
        "due": ", due {due}",
        "phase": "{name} has {count} item(s) not finished",
        "task": "{task} {title}: {units} not finished ({states})",
        "one_unit": "{task} {unit}: {count} items not finished ({states})",
        "units": "{n} units",
        "units_items": "{count} items of {n} units",
        "due_span": ", due {first} to {last}",
        "state_count": "{n} {state}",
        "sep": ", ",
        "states": {
            "not_started": "not started",
            "in_progress": "in progress",
            "returned": "returned",
            "submitted": "awaiting acceptance",
        },
    },
}


def count(tasks: list[TaskReview], items: list[ItemReview]) -> Counts:
    """The figures of these tasks and their items; a goal no unit holds is not a task here
    (it has no light and nothing to complete). The states are counted in one pass."""
    states = Counter(map(attrgetter("state"), items))
    accepted = [i.late_workdays for i in items if i.state == AssignmentState.ACCEPTED]
    return Counts(
        tasks=sum(t.light is not None for t in tasks),
        assignments=len(items),
        accepted=states[AssignmentState.ACCEPTED],
        accepted_on_time=accepted.count(0),
        submitted=states[AssignmentState.SUBMITTED],
        in_progress=states[AssignmentState.IN_PROGRESS] + states[AssignmentState.RETURNED],
        not_started=states[AssignmentState.NOT_STARTED],
        overdue=sum(i.overdue_workdays > 0 for i in items),
        extended=sum(i.approved_due != i.original_due for i in items),
        waived=sum(states[state] for state in SET_ASIDE),
    )


def review_phases(
    phases: Sequence[Phase],
    tasks: list[TaskReview],
    items: list[ItemReview],
    language: str,
) -> tuple[PhaseReview, ...]:
    """Each phase's figures, and what stands in the way of declaring it complete: its open
    items and every earlier phase with open items.

    The items are sorted into phases once (a plan of 100,000 items and four phases read them
    ten times over when each phase picked its own and its predecessors' out of the whole)."""
    words = MISSING[language]
    tasks_in: dict[str | None, list[TaskReview]] = defaultdict(list)
    for task in tasks:
        tasks_in[task.phase].append(task)
    items_in: dict[str | None, list[ItemReview]] = defaultdict(list)
    for item in items:
        items_in[item.phase].append(item)
    open_in = {
        phase.code: [i for i in items_in[phase.code] if i.state not in CLOSED] for phase in phases
    }
    reviews = []
    for phase in phases:
        still_open = open_in[phase.code]
        missing = _missing_lines(still_open, words)
        summary = _missing_by_task(still_open, missing, words)
        for earlier in phases:
            if PHASE_RANK[earlier.kind] < PHASE_RANK[phase.kind] and open_in[earlier.code]:
                line = words["phase"].format(name=earlier.name, count=len(open_in[earlier.code]))
                missing.append(line)
                summary.append(line)
        reviews.append(
            PhaseReview(
                code=phase.code,
                kind=phase.kind,
                name=phase.name,
                start=phase.start,
                due=phase.due,
                counts=count(tasks_in[phase.code], items_in[phase.code]),
                ready=not missing,
                missing=tuple(missing),
                missing_summary=tuple(summary),
            )
        )
    return tuple(reviews)


def _missing_lines(still_open: list[ItemReview], words: _Words) -> list[str]:
    """One line per open item: "t04 区卫生健康委：推进中，完成时限2020-03-31".

    A phase can have 100,000 open items but only a few hundred tasks, states and due dates:
    the template is cut at its {unit}, both parts are filled once per task, state and due date,
    and each line joins three strings (formatting every line was a tenth of the review)."""
    before, after = words["item"].split("{unit}")
    parts: dict[tuple[str, str, dt.date | None], tuple[str, str]] = {}
    lines = []
    for item in still_open:
        key = (item.task, item.state, item.approved_due)
        found = parts.get(key)
        if found is None:
            names = {"task": item.task, "state": words["states"].get(item.state, item.state)}
            due = words["due"].format(due=item.approved_due) if item.approved_due else ""
            found = parts[key] = (before.format_map(names), after.format_map(names) + due)
        lines.append(found[0] + item.unit_name + found[1])
    return lines


def _missing_by_task(still_open: list[ItemReview], missing: list[str], words: _Words) -> list[str]:
    """One line per task: its one open item's line (of `missing`, the items' lines) as is, or
    how many units have it open, in which states, by when (24 counties' summaries are one line,
    not 24)."""
    by_task: dict[str, list[ItemReview]] = defaultdict(list)
    line_of: dict[str, str] = {}
    for item, line in zip(still_open, missing, strict=True):
        by_task[item.task].append(item)
        line_of[item.task] = line
    lines = []
    for code, found in by_task.items():
        if len(found) == 1:
            lines.append(line_of[code])
            continue
        units = len({i.unit for i in found})
        states = words["sep"].join(
            words["state_count"].format(state=words["states"].get(state, state), n=n)
            for state, n in Counter(i.state for i in found).items()
        )
        if units == 1:  # one unit's dated reports
            line = words["one_unit"].format(
                task=code, unit=found[0].unit_name, count=len(found), states=states
            )
        else:
            who = (
                words["units"].format(n=units)
                if units == len(found)
                else words["units_items"].format(n=units, count=len(found))
            )
            line = words["task"].format(
                task=code, title=found[0].task_title, units=who, states=states
            )
        dues = sorted({i.approved_due for i in found if i.approved_due})
        if len(dues) == 1:
            line += words["due"].format(due=dues[0])
        elif dues:
            line += words["due_span"].format(first=dues[0], last=dues[-1])
        lines.append(line)
    return lines
