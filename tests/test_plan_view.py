"""The plan view's content, read from a real SQLite world (tasks.review.plan_view), and the
drawing of its graph (render.plan_drawing): phases with their windows and how far each is done,
tasks by phase with their units and pilots, the units' open and overdue work, and a graph that
reads left to right."""

from __future__ import annotations

import datetime as dt
from itertools import combinations

import pytest

from duban.web.words import WORDS
from render.plan_drawing import NODE_H, NODE_W, ROWS, Drawing, draw_graph
from schemas.db import session_scope
from schemas.vocabulary import Light
from tasks.review.compute import review_plan
from tasks.review.plan_view import GraphView, PlanView, Share, TaskView, UnitLoad, plan_view

from .webworld import DAY, PLAN, World, build_world

D = dt.date


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("plan-view"))


def view_of(world: World, day: dt.date = DAY) -> PlanView:
    with session_scope(world.url) as session:
        return plan_view(session, review_plan(session, PLAN, day))


def test_the_phases_come_in_the_plans_order_with_their_windows_and_the_days_place(world: World):
    view = view_of(world)
    assert [(p.name, p.window) for p in view.phases] == [
        ("启动阶段", "2019年7月"),
        ("实施阶段", "2019年8月至2020年8月"),
        ("中期总结评估阶段", "2019年12月"),
        ("全面总结评估阶段", "2020年9月"),
    ]
    assert [(p.begun, p.ended) for p in view.phases] == [
        (True, True),
        (True, False),
        (False, False),
        (False, False),
    ]
    launch = view.phases[0]
    assert (launch.done, launch.items, launch.completion_pct, launch.ready) == (0, 7, 0.0, False)
    earlier = view_of(world, D(2019, 7, 15)).phases[0]
    assert (earlier.begun, earlier.ended) == (True, False)


def test_each_task_says_who_answers_for_it_when_it_is_due_and_where_it_stood(world: World):
    tasks = {t.code: t for t in view_of(world).tasks}
    t02 = tasks["t02"]
    assert t02.title == "理顺内部监管职责" and (t02.text or "").startswith("理顺内部管理和监督职责")
    assert t02.shares == (Share("cqwjw", "市卫生健康委", "lead", "not_started", overdue=True),)
    assert (t02.original_due, t02.due, t02.extended, t02.light) == (
        D(2019, 7, 31),
        D(2019, 7, 31),
        False,
        Light.RED,
    )
    assert tasks["t08"].pilots == ("南岸区", "永川区")
    assert {s.name for s in tasks["t08"].shares} == {"南岸区", "永川区"}
    assert tasks["t03"].pilots == ()
    assert tasks["stage-summary"].due == D(2019, 9, 20)  # the next dated submission
    assert [t.code for t in tasks.values() if t.critical] == ["t01", "t06", "t11", "final-summary"]
    on_time = view_of(world, D(2019, 7, 15))
    assert {t.code: t for t in on_time.tasks}["t02"].light != Light.RED


def test_tasks_are_grouped_by_phase_in_the_plans_order(world: World):
    groups = [
        (phase.code if phase else None, [t.code for t in tasks])
        for phase, tasks in view_of(world).groups()
    ]
    assert [code for code, _ in groups] == ["launch", "implementation", "midterm", "final"]
    assert groups[0][1] == ["t01", "t02", "t06"]
    assert groups[2][1] == ["t05"] and groups[3][1] == ["final-summary"]


def test_the_units_most_overdue_come_first_with_their_open_work(world: World):
    units = view_of(world).units
    assert units[0] == UnitLoad("cqwjw", "市卫生健康委", items=9, open=9, overdue=2)
    assert [u.overdue for u in units] == sorted((u.overdue for u in units), reverse=True)
    assert {u.name for u in units} >= {"南岸区", "忠县", "市卫生计生监督执法局"}


def test_the_graph_puts_each_task_right_of_what_it_waits_on(world: World):
    graph = view_of(world).graph
    column = graph.columns
    assert column["t01"] < column["t06"] < column["phase:launch"] < column["t03"]
    assert column["t03"] < column["phase:implementation"] < column["final-summary"]
    assert graph.depends == (("t01", "t06"),)
    assert set(graph.phase_order) == {
        ("launch", "implementation"),
        ("launch", "midterm"),
        ("implementation", "final"),
        ("midterm", "final"),
    }
    assert graph.critical == (
        ("t01", "t06"),
        ("t06", "phase:launch"),  # t11 waits on t06 through the order of phases
        ("phase:launch", "t11"),
        ("t11", "phase:implementation"),
        ("phase:implementation", "final-summary"),
    )


# -- the drawing


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) < NODE_W and abs(a[1] - b[1]) < NODE_H


def start_and_end(path: str) -> tuple[float, float]:
    numbers = path.replace("M", "").replace("C", "").replace(",", "").split()
    return float(numbers[0]), float(numbers[-2])


def check_drawing(drawing: Drawing) -> None:
    """Boxes apart, each inside its lane, every edge running left to right."""
    corners = [(b.x, b.y) for b in drawing.boxes]
    assert not [pair for pair in combinations(corners, 2) if overlaps(*pair)]
    for box in drawing.boxes:
        assert any(
            lane.x <= box.x
            and box.x + NODE_W <= lane.x + lane.width
            and lane.y <= box.y
            and box.y + NODE_H <= lane.y + lane.height
            for lane in drawing.lanes
        ), box.task.code
    for curve in drawing.curves:
        start, end = start_and_end(curve.path)
        assert start < end, curve


def test_the_chongqing_graph_is_drawn_apart_and_fits_a_1366_wide_screen(world: World):
    drawing = draw_graph(view_of(world), WORDS["zh"])
    check_drawing(drawing)
    assert len(drawing.boxes) == 18 and len(drawing.gates) == 4
    assert [lane.title for lane in drawing.lanes][:2] == [
        "启动阶段 · 2019年7月",
        "实施阶段 · 2019年8月至2020年8月",
    ]
    assert drawing.width <= 1366 - 80  # the page's main column, less its padding
    assert [c.kind for c in drawing.curves].count("critical") == 5
    assert [c.kind for c in drawing.curves].count("phase") == 4
    t06 = next(b for b in drawing.boxes if b.task.code == "t06")
    assert t06.sub == "沙坪坝区等5个 · 2019-07-31"


def task(code: str, title: str = "任务") -> TaskView:
    return TaskView(
        code=code,
        title=title,
        text=None,
        phase=None,
        deadline=None,
        original_due=None,
        due=None,
        light=Light.GREEN,
        no_lead=False,
        critical=False,
        done=False,
        shares=(),
        pilots=(),
    )


def test_a_crowded_column_wraps_and_a_long_title_is_cut_with_its_whole_text_kept():
    codes = [f"m{n:02}" for n in range(20)]
    long = "加强医疗卫生行业秩序监管并建立健全医疗卫生行业综合监管长效机制"
    view = PlanView(
        code="p",
        title="plan",
        document_number=None,
        span=(None, None),
        as_of=D(2020, 1, 1),
        phases=(),
        tasks=tuple(task(c, long if c == "m00" else "任务") for c in codes),
        units=(),
        graph=GraphView(
            columns={**dict.fromkeys(codes[:-1], 0), codes[-1]: 1},
            depends=(("m00", "m19"),),
            phase_order=(),
            critical=(),
        ),
    )
    drawing = draw_graph(view, WORDS["en"])
    check_drawing(drawing)
    assert [lane.title for lane in drawing.lanes] == ["No phase"]
    first = {b.task.code: b for b in drawing.boxes}
    lefts = sorted({b.x for b in drawing.boxes if b.task.code != "m19"})
    assert len(lefts) == 3  # 19 tasks in sub-columns of at most ROWS
    assert max(sum(b.x == x for b in drawing.boxes) for x in lefts) <= ROWS
    assert first["m00"].x == lefts[-1]  # what a later column waits on stands nearest to it
    assert first["m00"].label.endswith("…") and len(first["m00"].label) < len(long)
    assert first["m00"].task.title == long
