"""What waits on what, in plain dicts: the edge rules of a plan's dependency graph and the two
walks over it that need nothing more (the nearest tasks a task waits on; the critical path).

`tasks.plans.graph` builds its networkx graph from these same edges for the questions that need
one (cycles, orders, everything downstream). The read-only commands use these directly:
networkx takes a good share of a second to import, which a cold `duban tasks` or
`duban overdue` cannot afford.

Nodes are task codes and one node per phase (`phase:CODE`). An edge u → v means v cannot be
finished before u. Besides a task's explicit depends_on, phases are ordered by kind: a phase is
done when its tasks are, and the work of a later phase waits on the earlier phases (a midterm
review runs beside implementation, reviewing it as it goes, so it waits only on the launch).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

PHASE_RANK = {"launch": 0, "implementation": 1, "midterm_review": 1, "final_evaluation": 2}

Predecessors = Callable[[str], Iterable[str]]  # the nodes with an edge into a node


@dataclass(frozen=True)
class TaskNode:
    code: str
    phase: str | None
    due: dt.date | None
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class PhaseNode:
    code: str
    kind: str


def phase_node(code: str) -> str:
    return f"phase:{code}"


def is_task(node: str) -> bool:
    return not node.startswith("phase:")


def edges(tasks: Sequence[TaskNode], phases: Sequence[PhaseNode]) -> list[tuple[str, str]]:
    """Every edge (before, after) of the plan's graph, in the order the graph adds them."""
    found = []
    for task in tasks:
        found += [(before, task.code) for before in task.depends_on]
        if task.phase is not None:
            found.append((task.code, phase_node(task.phase)))
    rank = {phase.code: PHASE_RANK[phase.kind] for phase in phases}
    for task in tasks:
        if task.phase is None:
            continue
        found += [
            (phase_node(earlier.code), task.code)
            for earlier in phases
            if rank[earlier.code] < rank[task.phase]
        ]
    return found


def predecessors(tasks: Sequence[TaskNode], phases: Sequence[PhaseNode]) -> Predecessors:
    """The graph's predecessors as a plain lookup (a node it does not know has none)."""
    into: dict[str, list[str]] = defaultdict(list)
    for before, after in edges(tasks, phases):
        into[after].append(before)
    return lambda node: into.get(node, ())


def nearest_tasks(task: str, before: Predecessors) -> list[str]:
    """The nearest tasks `task` waits on, looking through phase nodes."""
    found: list[str] = []
    stack = list(before(task))
    seen: set[str] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if is_task(node):
            found.append(node)
        else:
            stack.extend(before(node))
    return sorted(found)


def chain_of_dues(dated: Mapping[str, dt.date], before: Predecessors) -> list[str]:
    """The critical path: the chain of due dates that decides when the plan can finish.

    Start at the task due last and walk back, each time to the predecessor due last (the one
    that binds); a slip anywhere on this chain moves the end of the plan. `dated`: the due
    date of every task that has one.
    """
    if not dated:
        return []
    node = max(dated, key=lambda n: (dated[n], n))
    path = [node]
    while True:
        earlier = [p for p in nearest_tasks(node, before) if p in dated and p not in path]
        if not earlier:
            return list(reversed(path))
        node = max(earlier, key=lambda n: (dated[n], n))
        path.append(node)


def critical_tasks(tasks: Sequence[TaskNode], phases: Sequence[PhaseNode]) -> list[str]:
    """The critical path of a plan given as its tasks and phases, without building a graph."""
    dated = {t.code: t.due for t in tasks if t.due is not None}
    return chain_of_dues(dated, predecessors(tasks, phases))
