"""The stored plan as a dependency graph (kept apart from tasks.plans.queries: networkx takes a
noticeable share of a second to import, and most read commands draw no graph)."""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
from sqlalchemy import select as select_core
from sqlmodel import Session, col, select

from schemas.tables import Dependency, Phase, Plan, Task
from tasks.plans.graph import PhaseNode, TaskNode, build_graph, phase_node
from tasks.plans.queries import no_plan


def plan_graph(session: Session, code: str) -> tuple[nx.DiGraph, dict[str, str]]:
    """The stored plan's dependency graph and a label for every node.

    Read as plain columns: a review of forty plans draws forty graphs, and building ORM tasks
    and decoding each plan's spec once more was a quarter of that."""
    plan_id = session.exec(select(Plan.id).where(Plan.code == code)).first()
    if plan_id is None:
        raise no_plan(session, code)
    return graph_of_plan(session, plan_id)


def graph_of_plan(session: Session, plan_id: int) -> tuple[nx.DiGraph, dict[str, str]]:
    """`plan_graph` for a caller that has read the plan already."""
    tasks = (
        session.connection()
        .execute(
            select_core(
                col(Task.id), col(Task.code), col(Task.title), col(Task.phase_code), col(Task.due)
            ).where(col(Task.plan_id) == plan_id, col(Task.active))
        )
        .all()
    )
    by_id = {task_id: task for task_id, task, *_ in tasks}
    needs: dict[str, list[str]] = defaultdict(list)
    for task_id, depends_on_id in session.exec(
        select(Dependency.task_id, Dependency.depends_on_id).where(Dependency.plan_id == plan_id)
    ):
        if task_id in by_id and depends_on_id in by_id:
            needs[by_id[task_id]].append(by_id[depends_on_id])
    phases = session.exec(
        select(Phase.code, Phase.kind, Phase.name).where(Phase.plan_id == plan_id)
    ).all()
    graph = build_graph(  # the import, which alone writes dependencies, refused any cycle
        [TaskNode(task, phase, due, tuple(needs[task])) for _, task, _, phase, due in tasks],
        [PhaseNode(phase, kind) for phase, kind, _ in phases],
        check_cycles=False,
    )
    labels = {task: f"{task} {title}" for _, task, title, *_ in tasks}
    labels.update({phase_node(phase): name for phase, _, name in phases})
    return graph, labels
