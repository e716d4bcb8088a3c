"""A plan at a glance as of a day: its phases and how far each is done, its tasks by phase with
who answers for them and where each stood, its units' open and overdue work, and its dependency
graph in columns.

Built on the plan's review of that day (tasks.review.compute): states, due dates and lights are
the review's, read as they stood that day, so the plan view and the review never disagree. What a
review does not hold (the phases' windows as written, the tasks' own text, pilots, the graph's
columns and edges) is read here, with a handful of queries. Read-only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import networkx as nx
from sqlmodel import Session, col, select

from schemas.plan_file import PlanFile
from schemas.tables import Phase, Task
from schemas.vocabulary import CLOSED, OPEN, Light, Role
from tasks.plans.graph import PHASE_RANK, is_task
from tasks.plans.plan_graph import plan_graph
from tasks.plans.queries import find_plan
from tasks.plans.responsibility import read_pilots
from tasks.review.model import ItemReview, Review, TaskReview

Edge = tuple[str, str]


@dataclass(frozen=True)
class PhaseView:
    """A phase with its window as the plan writes it, and how much of it was done that day."""

    code: str
    kind: str
    name: str
    window: str
    start: dt.date | None
    due: dt.date | None
    begun: bool  # the day is on or after the window's start
    ended: bool  # the day is after the window's end
    done: int  # items accepted or waived
    items: int
    completion_pct: float
    ready: bool  # can be declared complete


@dataclass(frozen=True)
class Share:
    """One unit's part in a task: its role, and where its work stood that day."""

    unit: str
    name: str
    role: str
    state: str
    overdue: bool


@dataclass(frozen=True)
class TaskView:
    """A task as the plan words it, who answers for it and where it stood.

    `due` is when the task is next due (for a recurring report, its next dated submission not
    yet finished; the last one once all are), by its lead units; `original_due` is what the plan
    said for that same submission, so the two differ only by an approved extension.
    """

    code: str
    title: str
    text: str | None
    phase: str | None
    deadline: str | None  # 完成时限 as written
    original_due: dt.date | None
    due: dt.date | None
    light: Light | None  # None: a goal no unit holds
    no_lead: bool  # 牵头单位未明确
    critical: bool
    done: bool
    shares: tuple[Share, ...]
    pilots: tuple[str, ...]

    @property
    def extended(self) -> bool:
        return bool(self.due and self.original_due and self.due != self.original_due)

    def units_in(self, role: str) -> tuple[Share, ...]:
        return tuple(s for s in self.shares if s.role == role)


@dataclass(frozen=True)
class UnitLoad:
    """A unit's items in the plan that day: all, those still open, those overdue."""

    unit: str
    name: str
    items: int
    open: int
    overdue: int


@dataclass(frozen=True)
class GraphView:
    """The dependency graph as the page draws it.

    Nodes are task codes and phase nodes (`phase:CODE`, a phase's completion); `columns` puts
    each in its topological generation, so everything a node waits on stands left of it.
    `depends` are the plan's depends_on edges; `phase_order` pairs each phase with the next
    phases whose work waits on it (the order of kinds, without the pairs it implies); `critical`
    is the critical path as the edges it runs along, through a phase node where the link
    between two of its tasks is the order of phases rather than a depends_on.
    """

    columns: dict[str, int]
    depends: tuple[Edge, ...]
    phase_order: tuple[Edge, ...]
    critical: tuple[Edge, ...]


@dataclass(frozen=True)
class PlanView:
    code: str
    title: str
    document_number: str | None
    span: tuple[dt.date | None, dt.date | None]
    as_of: dt.date
    phases: tuple[PhaseView, ...]
    tasks: tuple[TaskView, ...]
    units: tuple[UnitLoad, ...]  # most overdue first
    graph: GraphView

    def groups(self) -> list[tuple[PhaseView | None, list[TaskView]]]:
        """The tasks by phase, in the plan's order; tasks of no phase last, under None."""
        known = {p.code for p in self.phases}
        found: list[tuple[PhaseView | None, list[TaskView]]] = [
            (p, [t for t in self.tasks if t.phase == p.code]) for p in self.phases
        ]
        stray = [t for t in self.tasks if t.phase not in known]
        return found + [(None, stray)] if stray else found


def plan_view(session: Session, review: Review) -> PlanView:
    """The plan view of the plan `review` reviews, as of the review's day (a whole-plan review)."""
    plan = find_plan(session, review.plan)
    phases = session.exec(
        select(Phase).where(Phase.plan_id == plan.id).order_by(col(Phase.position))
    ).all()
    tasks = {
        t.code: t for t in session.exec(select(Task).where(Task.plan_id == plan.id, Task.active))
    }
    windows = {p.code: p.window_text for p in phases}
    items = _grouped(review.items, lambda i: i.task)
    pilots = _pilots(PlanFile.model_validate(plan.spec))
    return PlanView(
        code=review.plan,
        title=review.title,
        document_number=review.document_number,
        span=review.span,
        as_of=review.as_of,
        phases=tuple(
            PhaseView(
                code=p.code,
                kind=p.kind,
                name=p.name,
                window=windows.get(p.code, ""),
                start=p.start,
                due=p.due,
                begun=p.start is None or p.start <= review.as_of,
                ended=p.due is not None and p.due < review.as_of,
                done=p.counts.accepted + p.counts.waived,
                items=p.counts.assignments,
                completion_pct=p.counts.completion_pct,
                ready=p.ready,
            )
            for p in review.phases
        ),
        tasks=tuple(
            _task_view(t, tasks[t.code], items[t.code], pilots.get(t.code, ()))
            for t in review.tasks
        ),
        units=_loads(review.items),
        graph=_graph_view(session, review),
    )


def _pilots(spec: PlanFile) -> dict[str, tuple[str, ...]]:
    """The pilots each task names, as the importer reads them: listed, or in its text."""
    return {
        t.id: tuple(t.pilots) if t.pilots is not None else read_pilots(t.text or "")
        for t in spec.tasks
    }


ROLE_ORDER: dict[str, int] = {role: n for n, role in enumerate(Role)}


def _task_view(
    reviewed: TaskReview, task: Task, items: Sequence[ItemReview], pilots: tuple[str, ...]
) -> TaskView:
    leads = [i for i in items if i.role == Role.LEAD] or list(items)
    shown = _current(leads)
    return TaskView(
        code=task.code,
        title=task.title,
        text=task.text,
        phase=task.phase_code,
        deadline=task.deadline_text,
        original_due=shown.original_due if shown else task.due,
        due=shown.approved_due if shown else task.due,
        light=reviewed.light,
        no_lead=reviewed.no_lead,
        critical=reviewed.critical,
        done=reviewed.done,
        shares=_shares(items),
        pilots=pilots,
    )


def _current(items: Sequence[ItemReview]) -> ItemReview | None:
    """The item that says when a task is due: the soonest still open, else the last."""
    dated = sorted(
        (i for i in items if i.approved_due), key=lambda i: i.approved_due or dt.date.min
    )
    still_open = [i for i in dated if i.state in OPEN]
    if still_open:
        return still_open[0]
    return dated[-1] if dated else None


def _shares(items: Iterable[ItemReview]) -> tuple[Share, ...]:
    """Each unit's share of a task, leads first; a unit with dated submissions stands where its
    next unfinished one stands."""
    shares = []
    for unit, mine in _grouped(items, lambda i: i.unit).items():
        current = next((i for i in mine if i.state not in CLOSED), mine[-1])
        shares.append(
            Share(
                unit=unit,
                name=mine[0].unit_name,
                role=mine[0].role,
                state=current.state,
                overdue=any(i.overdue_workdays > 0 for i in mine),
            )
        )
    return tuple(sorted(shares, key=lambda s: ROLE_ORDER.get(s.role, len(ROLE_ORDER))))


def _loads(items: Iterable[ItemReview]) -> tuple[UnitLoad, ...]:
    loads = [
        UnitLoad(
            unit=unit,
            name=mine[0].unit_name,
            items=len(mine),
            open=sum(i.state in OPEN for i in mine),
            overdue=sum(i.overdue_workdays > 0 for i in mine),
        )
        for unit, mine in _grouped(items, lambda i: i.unit).items()
    ]
    return tuple(sorted(loads, key=lambda u: (-u.overdue, -u.open, u.name)))


def _grouped(
    items: Iterable[ItemReview], key: Callable[[ItemReview], str]
) -> dict[str, list[ItemReview]]:
    found: dict[str, list[ItemReview]] = defaultdict(list)
    for item in items:
        found[key(item)].append(item)
    return found


def _graph_view(session: Session, review: Review) -> GraphView:
    graph, _ = plan_graph(session, review.plan)
    columns = {
        node: n
        for n, generation in enumerate(nx.topological_generations(graph))
        for node in generation
    }
    depends = tuple(sorted((u, v) for u, v in graph.edges if is_task(u) and is_task(v)))
    kinds = {
        node.removeprefix("phase:"): kind
        for node, kind in graph.nodes(data="phase_kind")
        if not is_task(node)
    }
    return GraphView(
        columns=columns,
        depends=depends,
        phase_order=_phase_order(kinds),
        critical=_critical_edges(graph, review.critical_path),
    )


def _phase_order(kinds: dict[str, str]) -> tuple[Edge, ...]:
    """(earlier, later) for each phase and the phases of the next rank after it."""
    ranks = sorted({PHASE_RANK[k] for k in kinds.values()})
    following = dict(zip(ranks, ranks[1:], strict=False))
    return tuple(
        (earlier, later)
        for earlier, kind in kinds.items()
        for later, other in kinds.items()
        if PHASE_RANK[kind] in following and PHASE_RANK[other] == following[PHASE_RANK[kind]]
    )


def _critical_edges(graph: nx.DiGraph, path: Sequence[str]) -> tuple[Edge, ...]:
    """The critical path's links as graph edges: direct, or through the phase node between."""
    edges: list[Edge] = []
    for before, after in zip(path, path[1:], strict=False):
        if graph.has_edge(before, after):
            edges.append((before, after))
            continue
        through = next(
            (n for n in graph.successors(before) if not is_task(n) and graph.has_edge(n, after)),
            None,
        )
        if through is not None:
            edges += [(before, through), (through, after)]
    return tuple(edges)
