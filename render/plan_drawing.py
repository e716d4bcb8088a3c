"""Where each shape of the plan view's dependency graph goes: the arithmetic, for the template
web/plan_graph.svg to write (it writes every element, autoescaped, and nothing is placed there).

The picture reads left to right: a column per topological generation of the plan's graph, so a
task stands right of everything it waits on. Each phase is a band of its own (a lane) that spans
the columns of its tasks and ends in a diamond, the phase's completion; an arrow from that
diamond to the lanes of the next phases is the order of phases, and the plan's depends_on edges
join the tasks. A generation with many tasks in one lane wraps into side-by-side sub-columns of
at most `ROWS` tasks, so a plan of a hundred tasks is wide rather than endlessly tall. The
critical path runs as a dark line, through the diamonds where the link is the phase order.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from render.charts import colour_of, fit, text_width
from render.environment import iso
from tasks.plans.graph import is_task, phase_node
from tasks.review.plan_view import PhaseView, PlanView, TaskView

MARGIN = 12
NODE_W, NODE_H = 180, 44  # a task's box
ROW = NODE_H + 10
SUB_GAP = 14  # between the sub-columns of one wrapped generation
GAP = 36  # between generations
GATE, GATE_COL = 26, 30  # a phase's diamond, and the width of a column holding only diamonds
HEAD, PAD, LANE_GAP = 28, 10, 10  # a lane's title row, its padding, the space between lanes
ROWS = 8  # tasks in one column of one lane before it wraps


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Box:
    """A task's box: its top-left corner, its title and second line fitted to the box."""

    task: TaskView
    x: float
    y: float
    label: str
    sub: str
    fill: str
    stripe: str


@dataclass(frozen=True)
class Gate:
    """A phase's diamond: its centre and the four corners written as SVG points."""

    phase: PhaseView
    x: float
    y: float
    points: str
    fill: str


@dataclass(frozen=True)
class Lane:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Curve:
    """An edge as an SVG path; `kind` is depends, phase or critical."""

    path: str
    kind: str


@dataclass(frozen=True)
class Drawing:
    width: float
    height: float
    lanes: tuple[Lane, ...]
    curves: tuple[Curve, ...]
    boxes: tuple[Box, ...]
    gates: tuple[Gate, ...]
    node_width: float = NODE_W
    node_height: float = NODE_H


def draw_graph(view: PlanView, words: Mapping[str, str]) -> Drawing:
    """Every shape of the plan's graph in place (`words`: the page's, for the no-phase lane and
    the count of units on a box)."""
    grid = _Grid.of(view)
    boxes = {
        code: _box(grid.tasks[code], *grid.place(code, n), words)
        for found in grid.cells.values()
        for n, code in enumerate(found)
    }
    gates = {
        phase_node(code): _gate(phase, *grid.middle(code))
        for code, phase in grid.phases.items()
        if phase_node(code) in grid.columns
    }
    lanes = _lanes(grid, [*boxes.values()], [*gates.values()], words)
    return Drawing(
        width=round(grid.width),
        height=round(grid.height),
        lanes=tuple(lanes.values()),
        curves=tuple(_curves(view, boxes, gates, lanes)),
        boxes=tuple(boxes.values()),
        gates=tuple(gates.values()),
    )


@dataclass(frozen=True)
class _Grid:
    """Where things go: each task's cell (lane × column), each column's left edge and width,
    each lane's top and height."""

    tasks: dict[str, TaskView]
    phases: dict[str, PhaseView]
    columns: dict[str, int]
    cells: dict[tuple[str | None, int], list[str]]  # in the order they fill the cell
    lane: dict[str, str | None]  # of every node
    left: dict[int, float]
    widths: dict[int, float]
    tops: dict[str | None, float]
    heights: dict[str | None, float]
    width: float
    height: float

    @classmethod
    def of(cls, view: PlanView) -> _Grid:
        tasks = {t.code: t for t in view.tasks}
        phases = {p.code: p for p in view.phases}
        columns = {n: c for n, c in view.graph.columns.items() if not is_task(n) or n in tasks}
        lane = {
            node: (tasks[node].phase if tasks[node].phase in phases else None)
            if is_task(node)
            else node.removeprefix("phase:")
            for node in columns
        }
        cells: dict[tuple[str | None, int], list[str]] = defaultdict(list)
        for node in tasks:
            if node in columns:
                cells[(lane[node], columns[node])].append(node)
        for found in cells.values():
            if len(found) > ROWS:
                found.sort(key=_wrapping(view))
        widths: dict[int, float] = dict.fromkeys(columns.values(), GATE_COL)
        for (_, column), found in cells.items():
            k = _wraps(found)
            widths[column] = max(widths[column], k * NODE_W + (k - 1) * SUB_GAP)
        left, x = {}, float(MARGIN + PAD)
        for column in sorted(widths):
            left[column], x = x, x + widths[column] + GAP
        order: list[str | None] = [*phases, *([None] if None in lane.values() else [])]
        tops: dict[str | None, float] = {}
        heights: dict[str | None, float] = {}
        y = float(MARGIN)
        for name in order:
            rows = max((_rows(f) for (n, _), f in cells.items() if n == name), default=1)
            tops[name], heights[name] = y, HEAD + (rows - 1) * ROW + NODE_H + PAD
            y += heights[name] + LANE_GAP
        return cls(
            tasks=tasks,
            phases=phases,
            columns=columns,
            cells=dict(cells),
            lane=lane,
            left=left,
            widths=widths,
            tops=tops,
            heights=heights,
            width=x - GAP + PAD + MARGIN,
            height=y - LANE_GAP + MARGIN,
        )

    def place(self, code: str, n: int) -> tuple[float, float]:
        """The top-left corner of the `n`th task of its cell."""
        lane, column = self.lane[code], self.columns[code]
        sub, row = divmod(n, _rows(self.cells[(lane, column)]))
        return self.left[column] + sub * (NODE_W + SUB_GAP), self.tops[lane] + HEAD + row * ROW

    def middle(self, phase: str) -> tuple[float, float]:
        """The centre of a phase's diamond: in its column, halfway down its lane's tasks."""
        column = self.columns[phase_node(phase)]
        rows = self.heights[phase] - HEAD - PAD
        return self.left[column] + self.widths[column] / 2, self.tops[phase] + HEAD + rows / 2


def _wraps(found: list[str]) -> int:
    """Into how many sub-columns a cell of these tasks wraps."""
    return math.ceil(len(found) / ROWS)


def _rows(found: list[str]) -> int:
    return math.ceil(len(found) / _wraps(found))


def _lanes(
    grid: _Grid, boxes: list[Box], gates: list[Gate], words: Mapping[str, str]
) -> dict[str | None, Lane]:
    """A band per phase (and one for tasks of no phase) around its tasks and its diamond."""
    spans: dict[str | None, list[tuple[float, float]]] = defaultdict(list)
    for box in boxes:
        spans[grid.lane[box.task.code]].append((box.x, box.x + NODE_W))
    for gate in gates:
        spans[gate.phase.code].append((gate.x - GATE / 2, gate.x + GATE / 2))
    lanes = {}
    for name in grid.tops:
        if not spans[name]:
            continue
        start = min(s for s, _ in spans[name]) - PAD
        end = max(e for _, e in spans[name]) + PAD
        phase = grid.phases.get(name or "")
        title = f"{phase.name} · {phase.window}" if phase else words["no_phase"]
        lanes[name] = Lane(
            start,
            grid.tops[name],
            end - start,
            grid.heights[name],
            fit(title, end - start - 16, 13),
        )
    return lanes


def _curves(
    view: PlanView, boxes: dict[str, Box], gates: dict[str, Gate], lanes: dict[str | None, Lane]
) -> list[Curve]:
    """The depends_on edges, the order of phases (a diamond to the next lanes), and the critical
    path over them."""
    ends = {
        code: (Point(b.x, b.y + NODE_H / 2), Point(b.x + NODE_W, b.y + NODE_H / 2))
        for code, b in boxes.items()
    }
    for node, g in gates.items():
        ends[node] = (Point(g.x - GATE / 2, g.y), Point(g.x + GATE / 2, g.y))
    curves = [
        Curve(_bend(ends[u][1], ends[v][0]), "depends")
        for u, v in view.graph.depends
        if u in ends and v in ends and (u, v) not in view.graph.critical
    ]
    for earlier, later in view.graph.phase_order:
        node, target = phase_node(earlier), lanes.get(later)
        if node in ends and target is not None:
            entry = Point(target.x, target.y + HEAD / 2)
            curves.append(Curve(_bend(ends[node][1], entry), "phase"))
    curves += [
        Curve(_bend(ends[u][1], ends[v][0]), "critical")
        for u, v in view.graph.critical
        if u in ends and v in ends
    ]
    return curves


def _wrapping(view: PlanView) -> Callable[[str], tuple[int, int]]:
    """The order a wrapped cell fills in (down, then the next sub-column): what waits on an
    earlier column first and what a later column waits on last, so that no edge runs behind a
    box; otherwise the plan's order."""
    before = {v for _, v in view.graph.depends}
    after = {u for u, _ in view.graph.depends}
    order = {t.code: n for n, t in enumerate(view.tasks)}
    return lambda code: ((code in after) - (code in before), order[code])


def _box(task: TaskView, x: float, y: float, words: Mapping[str, str]) -> Box:
    units = task.units_in("lead") or task.shares
    who = ""
    if units:
        who = units[0].name
        if len(units) > 1:
            who = words["and_others"].format(name=who, count=len(units), others=len(units) - 1)
    when = iso(task.due) if task.due else (task.deadline or "")
    room = NODE_W - 18
    return Box(
        task=task,
        x=x,
        y=y,
        label=fit(("✓ " if task.done else "") + task.title, room, 13),
        sub=_sub(who, when, room),
        fill="#eef6ee" if task.done else "#ffffff",
        stripe=colour_of(task.light),
    )


def _sub(who: str, when: str, room: float) -> str:
    """The box's second line: who leads, cut to leave room for when it is due."""
    if not who or not when:
        return fit(who or when, room, 11)
    return f"{fit(who, room - text_width(when + ' · ', 11), 11)} · {when}"


def _gate(phase: PhaseView, x: float, y: float) -> Gate:
    half = GATE / 2
    corners = ((x, y - half), (x + half, y), (x, y + half), (x - half, y))
    return Gate(
        phase=phase,
        x=x,
        y=y,
        points=" ".join(f"{a:.1f},{b:.1f}" for a, b in corners),
        fill="#2f7d32" if phase.ready else "#ffffff",
    )


def _bend(start: Point, end: Point) -> str:
    """A smooth S from one side of a shape to the facing side of the next."""
    dx = max(abs(end.x - start.x) / 2, 24.0)
    return (
        f"M {start.x:.1f} {start.y:.1f} C {start.x + dx:.1f} {start.y:.1f}, "
        f"{end.x - dx:.1f} {end.y:.1f}, {end.x:.1f} {end.y:.1f}"
    )
