"""The dependency graph: order, what waits on what, impact, the critical path, cycles."""

from __future__ import annotations

import datetime as dt

import pytest

from tasks.plans.graph import (
    CycleError,
    PhaseNode,
    TaskNode,
    build_graph,
    critical_path,
    impact,
    schedule_conflicts,
    to_dot,
    to_mermaid,
    topological_order,
    waits_on,
)

D = dt.date
PHASES = [
    PhaseNode("start", "launch"),
    PhaseNode("work", "implementation"),
    PhaseNode("mid", "midterm_review"),
    PhaseNode("end", "final_evaluation"),
]


def plan_graph():  # type: ignore[no-untyped-def]
    return build_graph(
        [
            TaskNode("t1", "start", D(2019, 7, 31)),
            TaskNode("t2", "work", D(2019, 9, 30)),
            TaskNode("t3", "work", D(2020, 6, 30), depends_on=("t2",)),
            TaskNode("t4", "mid", D(2019, 12, 31)),
            TaskNode("t5", "end", D(2020, 9, 15)),
            TaskNode("t6", "work", None),
        ],
        PHASES,
    )


def test_tasks_come_in_an_order_that_never_puts_a_task_before_what_it_waits_on():
    order = topological_order(plan_graph())
    assert order.index("t1") < order.index("t2") < order.index("t3") < order.index("t5")
    assert order.index("t4") < order.index("t5")


def test_later_phases_wait_on_earlier_ones_but_a_midterm_review_only_on_the_launch():
    graph = plan_graph()
    assert waits_on(graph, "t2") == ["t1"]
    assert waits_on(graph, "t4") == ["t1"]
    assert waits_on(graph, "t5") == ["t1", "t2", "t3", "t4", "t6"]


def test_impact_is_everything_downstream_of_a_task():
    assert impact(plan_graph(), "t2") == ["t3", "t5"]


def test_what_a_task_holds_up_one_step_away_comes_in_plan_order_and_a_last_task_holds_up_none():
    graph = build_graph(
        [
            TaskNode("a", None, D(2020, 3, 31)),
            TaskNode("c", None, D(2020, 6, 30), depends_on=("a",)),
            TaskNode("b", None, D(2020, 6, 30), depends_on=("a",)),
        ]
    )
    assert impact(graph, "a") == ["b", "c"]
    assert impact(graph, "b") == []
    assert impact(plan_graph(), "t5") == []


def test_the_critical_path_follows_the_binding_due_date_back_from_the_end():
    assert critical_path(plan_graph()) == ["t1", "t2", "t3", "t5"]


def test_a_predecessor_due_after_its_successor_is_a_schedule_conflict():
    graph = build_graph(
        [
            TaskNode("a", None, D(2020, 6, 30)),
            TaskNode("b", None, D(2020, 3, 31), depends_on=("a",)),
        ]
    )
    assert schedule_conflicts(graph) == [("b", "a")]


def test_a_cycle_is_reported_by_naming_it():
    with pytest.raises(CycleError) as caught:
        build_graph([TaskNode("3", None, None, ("5",)), TaskNode("5", None, None, ("3",))])
    assert str(caught.value) in ("dependency cycle: 3 → 5 → 3", "dependency cycle: 5 → 3 → 5")


def test_a_cycle_through_phase_order_is_named_with_the_phase():
    with pytest.raises(CycleError) as caught:
        build_graph(
            [TaskNode("a", "start", None, depends_on=("b",)), TaskNode("b", "work", None)],
            PHASES[:2],
        )
    assert set(caught.value.cycle) == {"a", "b", "phase:start"}


def test_the_graph_renders_as_mermaid_and_dot_with_labels():
    graph = plan_graph()
    mermaid = to_mermaid(graph, {"t1": "t1 成立领导小组"})
    assert mermaid.startswith("flowchart LR") and '["t1 成立领导小组"]' in mermaid
    assert mermaid.count("-->") == graph.number_of_edges()
    dot = to_dot(graph, {})
    assert '"t2" -> "t3";' in dot and dot.rstrip().endswith("}")
