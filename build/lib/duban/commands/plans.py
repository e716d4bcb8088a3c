"""Commands about plans: import, lint, recalc, responsibility, the graph, read-only views."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from duban.app import (
    JsonFlag,
    app,
    at_the_cli,
    calendar_dir,
    database_url,
    emit_json,
    fail,
    parse_date,
    plan_zone,
    settings,
    show_rows,
)

BUNDLED_PLANS = Path(__file__).resolve().parents[2] / "plans"


@app.command()
def init() -> None:
    """Create the database (SQLite file by default) and its tables."""
    url = database_url(create=True)
    typer.echo(f"database ready: {url}")


@app.command("import")
def import_(
    plan_file: Annotated[Path, typer.Argument(help="A plan file (YAML).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report; write nothing.")
    ] = False,
    supervise_from: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="A plan adopted under way: supervise it from this day, YYYY-MM-DD (overrides "
            "plan.supervise_from); items already overdue then start at 催办.",
        ),
    ] = None,
) -> None:
    """Import a plan file, or re-import a revised one in place, saying every change it makes.

    The import, with its changes, is recorded in the audit trail under the operating system's
    user. What the office changed since (a re-assignment, a dated report accepted) stands."""
    from calendars.clock import now
    from duban.errors import BadInput
    from schemas.db import session_scope
    from tasks.plans.importer import import_plan
    from tasks.plans.reader import PlanInvalid

    since = parse_date(supervise_from, "--from") if supervise_from else None
    url = database_url(create=True)
    try:
        with session_scope(url) as session:
            report = import_plan(
                session,
                plan_file,
                at=now(),
                dry_run=dry_run,
                calendar_dir=calendar_dir(),
                supervise_from=since,
                by=at_the_cli(),
            )
    except PlanInvalid as exc:  # each problem on its own line, then what it means
        if len(exc.problems) == 1:
            raise BadInput(f"{exc.problems[0]}; nothing was written") from None
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        raise BadInput(
            f"{plan_file}: {len(exc.problems)} problem(s); nothing was written"
        ) from None
    verb = "would import" if dry_run else "imported"
    typer.echo(
        f"{verb} {report.plan}: {report.tasks} tasks, {report.assignments} assignments"
        + (" (new plan)" if report.created else "")
    )
    for change in report.changes:
        typer.echo(f"  changed: {change}")
    for warning in report.warnings:
        typer.echo(f"  warning: {warning}")


@app.command()
def lint(
    plan: Annotated[str, typer.Argument(help="A plan file, or the code of an imported plan.")],
) -> None:
    """List what is allowed in a plan but worth a look (dates on rest days, unassigned items…)."""
    from tasks.plans.lint import lint_plan

    findings = lint_plan(_resolved(plan))
    for finding in findings:
        typer.echo(f"warning: {finding}")
    typer.echo(f"{len(findings)} warning(s)")


@app.command()
def recalc(
    plan: Annotated[str, typer.Argument(help="Code of an imported plan.")],
    apply: Annotated[
        bool, typer.Option("--apply", help="Move the dates; default only shows.")
    ] = False,
) -> None:
    """Show which stored due dates the current calendar data would move, and why; with
    --apply, move them (recorded in the audit trail)."""
    from calendars.clock import now
    from schemas.db import session_scope
    from tasks.plans.recalc import apply_recalc, date_moves

    with session_scope(database_url()) as session:
        if apply:
            moves = apply_recalc(
                session, plan, at=now(), calendar_dir=calendar_dir(), by=at_the_cli()
            )
        else:
            moves = date_moves(session, plan, calendar_dir=calendar_dir())
    for move in moves:
        typer.echo(str(move))
    if not moves:
        typer.echo(f"{plan}: no due date moves on the current calendar data")
    elif apply:
        typer.echo(f"{plan}: {len(moves)} due date(s) moved")
    else:
        typer.echo(f"{plan}: {len(moves)} due date(s) would move; --apply moves them")


@app.command()
def who(
    clause: Annotated[str, typer.Argument(help="A responsibility clause as the plan writes it.")],
    plan: Annotated[
        str | None, typer.Option(help="Resolve names against this plan's units.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Read who leads, co-leads, participates and pilots from a responsibility clause."""
    from tasks.plans.responsibility import read_pilots, read_responsibility

    found = read_responsibility(clause).as_json()
    found["pilots"] = found["pilots"] or list(read_pilots(clause))
    if plan is not None:
        found = _resolve_names(plan, clause, found)
    if as_json:
        emit_json(found)
        return
    for role, names in found.items():
        typer.echo(f"{role:>12}: {'、'.join(names) if names else '-'}")


@app.command()
def graph(
    plan: Annotated[str, typer.Argument(help="Code of an imported plan.")],
    format: Annotated[str, typer.Option(help="mermaid, dot or json.")] = "mermaid",
    impact: Annotated[str | None, typer.Option(help="Show what this task holds up.")] = None,
) -> None:
    """Print the plan's dependency graph, or everything downstream of one task."""
    import networkx as nx

    from duban.errors import NotFound
    from schemas.db import session_scope
    from tasks.plans import graph as plan_graph_ops
    from tasks.plans.plan_graph import plan_graph

    if format not in ("mermaid", "dot", "json"):
        fail(f"--format: {format!r} is not one of mermaid, dot, json")
    with session_scope(database_url()) as session:
        g, labels = plan_graph(session, plan)
    if impact is not None:
        if impact not in g:
            raise NotFound(f'no task "{impact}" in plan {plan}')
        for code in plan_graph_ops.impact(g, impact):
            typer.echo(labels.get(code, code))
        return
    if format == "json":
        emit_json(
            {
                "nodes": [{"id": n, "label": labels.get(n, n)} for n in sorted(g.nodes)],
                "edges": [list(e) for e in sorted(g.edges)],
                "order": plan_graph_ops.topological_order(g),
                "critical_path": plan_graph_ops.critical_path(g),
                "acyclic": nx.is_directed_acyclic_graph(g),
            }
        )
    elif format == "dot":
        typer.echo(plan_graph_ops.to_dot(g, labels), nl=False)
    else:
        typer.echo(plan_graph_ops.to_mermaid(g, labels), nl=False)


@app.command()
def plans(as_json: JsonFlag = False) -> None:
    """List the imported plans."""
    from tasks.plans.queries import list_plans

    show_rows(
        "plans",
        list_plans,
        ["code", "title", "document_number", "tasks", "assignments"],
        as_json=as_json,
    )


@app.command()
def show(
    plan: Annotated[str, typer.Argument(help="Code of an imported plan.")],
    as_json: JsonFlag = False,
) -> None:
    """Show a plan: phases, tasks, due dates and who is assigned."""
    from duban.terminal import plan_tables
    from schemas.db import session_scope
    from tasks.plans.queries import plan_overview

    with session_scope(database_url()) as session:
        overview = plan_overview(session, plan)
    if as_json:
        emit_json(overview)
    else:
        plan_tables(overview)


@app.command("tasks")
def tasks_(
    unit: Annotated[str, typer.Option(help="Unit code, name or alias.")],
    plan: Annotated[str | None, typer.Option(help="Only this plan.")] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Overdue as of this day (default today, Asia/Shanghai)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List a unit's assignments across plans: state, due date, overdue, blocked."""
    from calendars.clock import today
    from duban.terminal import table
    from schemas.db import session_scope
    from tasks.plans.queries import unit_tasks
    from tasks.work.status import with_derived

    day = parse_date(as_of, "--as-of") if as_of else today(plan_zone(plan) if plan else None)
    with session_scope(database_url()) as session:
        rows = with_derived(session, unit_tasks(session, unit, plan), day, calendar_dir())
    if as_json:
        emit_json(rows)
    else:
        table(
            f"tasks of {unit} as of {day}",
            [{**r, "blocked_by": "、".join(r["blocked_by"])} for r in rows],
            [
                "plan",
                "task",
                "title",
                "role",
                "state",
                "deadline",
                "due",
                "overdue_workdays",
                "blocked_by",
            ],
        )


@app.command()
def schema(
    write: Annotated[bool, typer.Option("--write", help="Write schemas/plan.schema.json.")] = False,
) -> None:
    """Print (or write) the JSON Schema of plan files, for editors to validate against."""
    from schemas.plan_schema import SCHEMA_PATH, plan_json_schema

    text = plan_json_schema()
    if write:
        SCHEMA_PATH.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {SCHEMA_PATH}")
    else:
        typer.echo(text, nl=False)


@app.command()
def demo(
    plans_dir: Annotated[
        Path | None,
        typer.Option(help="Where the plans are (default: the bundled plans/ of this checkout)."),
    ] = None,
    web: Annotated[
        bool, typer.Option("--web", help="Then serve the story in the web app, with accounts.")
    ] = False,
    host: Annotated[str, typer.Option(help="With --web: the address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --web: the port.")] = 8000,
) -> None:
    """The main job on the embedded default: import the bundled plans and replay the Chongqing
    plan's whole timeline through the daily sweep; mail goes to .eml files. With --web, then
    serve it all in the web app as of the story's last day."""
    plans_dir = plans_dir or BUNDLED_PLANS
    if not any(plans_dir.glob("*.yaml")):
        fail(f"{plans_dir}: no plan files (*.yaml) here")
    if web:
        from duban.web.demo import demo_web

        demo_web(settings(), plans_dir, host=host, port=port)
        return
    from duban.demo import run_demo

    run_demo(settings(), plans_dir)


def _resolved(plan: str):  # type: ignore[no-untyped-def]
    """A plan file path, or the plan stored under that code, resolved afresh."""
    from schemas.db import session_scope
    from tasks.plans.importer import load_plan
    from tasks.plans.queries import find_plan
    from tasks.plans.recalc import resolve_stored

    if Path(plan).is_file():
        return load_plan(Path(plan), calendar_dir=calendar_dir())
    with session_scope(database_url()) as session:
        stored = find_plan(session, plan)
    return resolve_stored(stored.spec, plan, calendar_dir=calendar_dir())


def _resolve_names(plan: str, clause: str, found: dict[str, list[str]]) -> dict[str, list[str]]:
    directory = _resolved(plan).directory
    return {
        role: [
            directory.name_of(code)
            for name in names
            for code in directory.resolve(name, clause=clause)
        ]
        for role, names in found.items()
    }
