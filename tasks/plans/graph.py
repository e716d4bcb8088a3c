"""A plan as a dependency graph: what waits on what, what a delay holds up, what is critical.

Nodes are task codes and one node per phase (`phase:CODE`). An edge u → v means v cannot be
finished before u. Besides a task's explicit depends_on, phases are ordered by kind: a phase is
done when its tasks are, and the work of a later phase waits on the earlier phases (a midterm
review runs beside implementation, reviewing it as it goes, so it waits only on the launch).
Those rules, and the walks that need no graph library, are in `tasks.plans.waits`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence

import networkx as nx

from duban.errors import BadInput
from tasks.plans.waits import PHASE_RANK as PHASE_RANK  # the nodes and rules, re-exported
from tasks.plans.waits import PhaseNode as PhaseNode
from tasks.plans.waits import TaskNode as TaskNode
from tasks.plans.waits import chain_of_dues, edges, nearest_tasks
from tasks.plans.waits import is_task as is_task
from tasks.plans.waits import phase_node as phase_node


class CycleError(BadInput):
    """Dependencies that go round in a circle can never all be finished."""

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = list(cycle)
        super().__init__("dependency cycle: " + " → ".join([*self.cycle, self.cycle[0]]))


def build_graph(
    tasks: Iterable[TaskNode], phases: Iterable[PhaseNode] = (), *, check_cycles: bool = True
) -> nx.DiGraph:
    """Build the graph; raise CycleError naming the cycle if there is one.

    A stored plan was checked when it was imported, so its sweep may skip the check.
    """
    graph = nx.DiGraph()
    tasks = list(tasks)
    phases = list(phases)
    for phase in phases:
        graph.add_node(phase_node(phase.code), kind="phase", phase_kind=phase.kind, due=None)
    for task in tasks:
        graph.add_node(task.code, kind="task", due=task.due, phase=task.phase)
    graph.add_edges_from(edges(tasks, phases))
    cycle = _first_cycle(graph) if check_cycles else None
    if cycle:
        raise CycleError(cycle)
    return graph


def _first_cycle(graph: nx.DiGraph) -> list[str] | None:
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return None
    return [u for u, _ in cycle]


def topological_order(graph: nx.DiGraph) -> list[str]:
    """Tasks in an order that never puts a task before one it waits on (ties by code)."""
    return [n for n in nx.lexicographical_topological_sort(graph) if is_task(n)]


def waits_on(graph: nx.DiGraph, task: str) -> list[str]:
    """Every task that must be finished before `task` can be."""
    return sorted(n for n in nx.ancestors(graph, task) if is_task(n))


def impact(graph: nx.DiGraph, task: str) -> list[str]:
    """Everything downstream of `task`, in plan order: what a delay in it holds up."""
    return downstream_of(graph)(task)


def downstream_of(graph: nx.DiGraph) -> Callable[[str], list[str]]:
    """`impact` for many tasks of one graph: the order is worked out once, not per task, and
    only if some task holds up two or more (in most plans most hold up none)."""

    @functools.cache
    def order() -> dict[str, int]:
        return {node: i for i, node in enumerate(topological_order(graph))}

    def below(task: str) -> list[str]:
        if task not in graph:
            return []
        after = graph.succ[task]
        # one step is all there is when nothing follows what follows (the last phase's tasks)
        reached = nx.descendants(graph, task) if any(graph.succ[n] for n in after) else after
        found = [n for n in reached if is_task(n)]
        return sorted(found, key=order().__getitem__) if len(found) > 1 else found

    return below


def named_predecessors(graph: nx.DiGraph, task: str) -> list[str]:
    """The tasks `task` names in its depends_on: its edges from tasks, not from phases."""
    return sorted(p for p in graph.predecessors(task) if is_task(p)) if task in graph else []


def task_predecessors(graph: nx.DiGraph, task: str) -> list[str]:
    """The nearest tasks `task` waits on, looking through phase nodes."""
    return nearest_tasks(task, graph.predecessors)


def critical_path(graph: nx.DiGraph) -> list[str]:
    """The chain of due dates that decides when the plan can finish (see waits.chain_of_dues)."""
    dated = {n: d for n, d in graph.nodes(data="due") if is_task(n) and d is not None}
    return chain_of_dues(dated, graph.predecessors)


def schedule_conflicts(graph: nx.DiGraph) -> list[tuple[str, str]]:
    """(task, predecessor) pairs where the predecessor is due after the task itself."""
    due: Mapping[str, dt.date | None] = dict(graph.nodes(data="due"))
    conflicts = []
    for task in topological_order(graph):
        mine = due[task]
        if mine is None:
            continue
        for before in task_predecessors(graph, task):
            theirs = due[before]
            if theirs is not None and theirs > mine:
                conflicts.append((task, before))
    return conflicts


def to_mermaid(graph: nx.DiGraph, labels: Mapping[str, str]) -> str:
    lines = ["flowchart LR"]
    ids = {node: f"n{i}" for i, node in enumerate(sorted(graph.nodes))}
    for node, ident in ids.items():
        text = labels.get(node, node).replace('"', "'")
        lines.append(f'    {ident}["{text}"]' if is_task(node) else f'    {ident}(["{text}"])')
    for u, v in sorted(graph.edges):
        lines.append(f"    {ids[u]} --> {ids[v]}")
    return "\n".join(lines) + "\n"


def to_dot(graph: nx.DiGraph, labels: Mapping[str, str]) -> str:
    lines = ["digraph plan {", "  rankdir=LR;"]
    for node in sorted(graph.nodes):
        shape = "box" if is_task(node) else "ellipse"
        text = labels.get(node, node).replace('"', '\\"')
        lines.append(f'  "{node}" [label="{text}", shape={shape}];')
    for u, v in sorted(graph.edges):
        lines.append(f'  "{u}" -> "{v}";')
    return "\n".join(lines) + "\n}\n"
