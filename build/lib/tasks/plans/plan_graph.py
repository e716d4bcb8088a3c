"""The stored plan as a dependency graph (kept apart from tasks.plans.queries: networkx takes a
noticeable share of a second to import, and most read commands draw no graph)."""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
from sqlmodel import Session, select

from schemas.tables import Dependency, Phase, Task
from tasks.plans.graph import PhaseNode, TaskNode, build_graph, phase_node
from tasks.plans.queries import find_plan


def plan_graph(session: Session, code: str) -> tuple[nx.DiGraph, dict[str, str]]:
    """The stored plan's dependency graph and a label for every node."""
    plan = find_plan(session, code)
    tasks = session.exec(select(Task).where(Task.plan_id == plan.id, Task.active)).all()
    by_id = {t.id: t.code for t in tasks}
    needs: dict[str, list[str]] = defaultdict(list)
    for edge in session.exec(select(Dependency).where(Dependency.plan_id == plan.id)):
        if edge.task_id in by_id and edge.depends_on_id in by_id:
            needs[by_id[edge.task_id]].append(by_id[edge.depends_on_id])
    phases = session.exec(select(Phase).where(Phase.plan_id == plan.id)).all()
    graph = build_graph(
        [TaskNode(t.code, t.phase_code, t.due, tuple(needs[t.code])) for t in tasks],
        [PhaseNode(p.code, p.kind) for p in phases],
    )
    labels = {t.code: f"{t.code} {t.title}" for t in tasks}
    labels.update({phase_node(p.code): p.name for p in phases})
    return graph, labels
