"""Plan lint: things that are allowed in a plan but that an office would want to know about.

Warnings, not errors: real plans contain them (a report date falling on a Saturday, a measure
with no named unit), and the office decides what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.vocabulary import Role
from tasks.plans.graph import build_graph, schedule_conflicts
from tasks.plans.resolution import ResolvedPlan, phase_nodes, task_nodes
from tasks.plans.responsibility import NO_LEAD

# What `duban draft` writes where it could not read a value: lint lists every one left.
PLACEHOLDER = "TODO: 请填写"


@dataclass(frozen=True)
class LintWarning:
    """One finding, with the plan element it concerns."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def lint_plan(plan: ResolvedPlan) -> list[LintWarning]:
    findings: list[LintWarning] = [
        LintWarning(f"{plan.code} {where}", f"placeholder left to fill in: {value}")
        for where, value in _placeholders(plan.spec.model_dump(mode="json"), "")
    ]
    if plan.spec.plan.issued is None:
        findings.append(LintWarning(plan.code, "no issue date (plan.issued)"))
    phases = {p.code: p for p in plan.phases}
    calendar = plan.calendar
    for task in plan.tasks:
        where = f"{plan.code} {task.code}"
        phase = phases.get(task.phase or "")
        if phase and phase.due and task.due and task.due > phase.due:
            findings.append(
                LintWarning(where, f"due {task.due} after its phase {phase.code} ends {phase.due}")
            )
        if task.kind == "report" and task.deadline:
            for day in task.deadline.dates or ((task.due,) if task.due else ()):
                if calendar.covers(day) and not calendar.is_workday(day):
                    findings.append(
                        LintWarning(
                            where,
                            f"report date {day} is not a working day"
                            f" ({calendar.holiday_name(day) or '周末'})",
                        )
                    )
        if task.assignments and all(a.role != Role.LEAD for a in task.assignments):
            findings.append(
                LintWarning(where, f"{NO_LEAD}: no lead unit is named (name one: duban lead)")
            )
        if task.deadline and task.deadline.warning:
            findings.append(LintWarning(where, task.deadline.warning))
        if task.deadline and task.deadline.kind == "recurring" and plan.span is None:
            findings.append(
                LintWarning(
                    where,
                    f"'{task.deadline.text}' recurs ({task.deadline.rule}), but the plan has "
                    "neither phases nor span, so it has no dates: give plan.span",
                )
            )
        if not task.assignments and task.kind != "goal":
            findings.append(LintWarning(where, "no responsible unit: held as unassigned"))
        if task.deadline is None and task.kind in ("task", "report"):
            findings.append(LintWarning(where, "no deadline"))
    graph = build_graph(task_nodes(plan.tasks), phase_nodes(plan.phases))
    for code, before in schedule_conflicts(graph):
        findings.append(LintWarning(f"{plan.code} {code}", f"due before its predecessor {before}"))
    used = {t.phase for t in plan.tasks}
    findings.extend(
        LintWarning(f"{plan.code} phase {p.code}", "has no tasks")
        for p in plan.phases
        if p.code not in used
    )
    findings.extend(
        LintWarning(f"{plan.code} unit {u.code}", f"{u.name} has no mail address")
        for u in plan.spec.units
        if not u.emails
    )
    return findings


def _placeholders(node: object, where: str) -> list[tuple[str, str]]:
    """Every string in the plan file still holding the drafter's placeholder, by its path."""
    if isinstance(node, str):
        return [(where, node)] if PLACEHOLDER in node else []
    if isinstance(node, dict):
        return [f for k, v in node.items() for f in _placeholders(v, f"{where}.{k}".lstrip("."))]
    if isinstance(node, list):
        return [f for i, v in enumerate(node) for f in _placeholders(v, f"{where}[{i}]")]
    return []
