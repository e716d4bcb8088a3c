"""The main job, for now: load the bundled plans into the embedded database and show what
duban read from them: deadlines on the working calendar, who is responsible, the graph."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from duban.render import plan_tables
from schemas.db import create_schema, session_scope
from tasks.graph import critical_path
from tasks.importer import import_plan
from tasks.plan_graph import plan_graph
from tasks.queries import plan_overview

console = Console()


def run_demo(url: str, plans_dir: Path, *, featured: str = "cq-2019-pilot") -> None:
    started = time.perf_counter()
    create_schema(url)
    with session_scope(url) as session:
        codes = []
        for path in sorted(plans_dir.glob("*.yaml")):
            report = import_plan(session, path)
            codes.append(report.plan)
            console.print(f"imported [bold]{report.plan}[/bold] from {path}: {report.tasks} "
                          f"tasks, {report.assignments} assignments, "
                          f"{len(report.warnings)} lint warning(s)")
        if featured in codes:
            plan_tables(plan_overview(session, featured))
            graph, labels = plan_graph(session, featured)
            console.print("critical path: " + " → ".join(labels[n] for n in critical_path(graph)))
    console.print(f"database: {url}  ({time.perf_counter() - started:.1f} s)")
