"""Commands about plans: import, lint, recalc, responsibility, the graph, read-only views."""

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
    located,
    parse_date,
    reading_database,
    settings,
    today_on,
    write_out,
)
from schemas.vocabulary import SeatRole

BUNDLED_PLANS = Path(__file__).resolve().parents[2] / "plans"


@app.command()
def init() -> None:
    """Create the database (SQLite file by default) and its tables."""
    url = database_url(create=True)
    typer.echo(f"database ready: {url}")


@app.command("import")
def import_(
    plan_files: Annotated[
        list[Path],
        typer.Argument(help="Plan files (YAML), or task tables (.xlsx, .csv): one or more."),
    ],
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
    """Import plan files, or re-import revised ones in place, saying every change each makes.

    Several files are imported together: if one has a problem, none is written. Each import,
    with its changes, is recorded in the audit trail under the operating system's user. What
    the office changed since (a re-assignment, a dated report accepted) stands."""
    from calendars.clock import now
    from duban.errors import BadInput
    from schemas.db import session_scope
    from tasks.plans.importer import ImportReport, import_plan
    from tasks.plans.reader import PlanInvalid

    since = parse_date(supervise_from, "--from") if supervise_from else None
    url = database_url(create=True)
    reports: list[ImportReport] = []
    try:
        with session_scope(url) as session:
            for plan_file in plan_files:
                reports.append(
                    import_plan(
                        session,
                        plan_file,
                        at=now(),
                        dry_run=dry_run,
                        calendar_dir=calendar_dir(),
                        supervise_from=since,
                        by=at_the_cli(),
                    )
                )
    except PlanInvalid as exc:  # each problem on its own line, then what it means
        if len(exc.problems) == 1:
            raise BadInput(f"{exc.problems[0]}; nothing was written") from None
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        raise BadInput(
            f"{plan_files[len(reports)]}: {len(exc.problems)} problem(s); nothing was written"
        ) from None
    verb = "would import" if dry_run else "imported"
    for report in reports:
        typer.echo(
            f"{verb} {report.plan}: {report.tasks} tasks, {report.assignments} assignments"
            + (" (new plan)" if report.created else "")
        )
        for change in report.changes:
            typer.echo(f"  changed: {change}")
        for warning in report.warnings:
            typer.echo(f"  warning: {warning}")


@app.command()
def template(
    kind: Annotated[str, typer.Argument(help="xlsx (the workbook) or csv (the task sheet).")],
    out: Annotated[Path | None, typer.Option("--out", help="Where to write it.")] = None,
) -> None:
    """Write a blank task table (任务分工表) with the 单位, 分组, 阶段 and 方案 sheets an import
    reads: fill it in Excel, then `duban import` it."""
    from render.plan_table import write_plan_table

    target = out or Path(f"任务分工表.{_table_format(kind)}")
    write_out(target, lambda path: write_plan_table(None, path, fmt=_table_format(kind)))
    typer.echo(f"wrote {target}")


@app.command()
def export(
    plan: Annotated[str, typer.Argument(help="A plan file, or the code of an imported plan.")],
    fmt: Annotated[
        str, typer.Option("--format", help="xlsx or csv (the task sheet alone).")
    ] = "xlsx",
    out: Annotated[Path | None, typer.Option("--out", help="Where to write it.")] = None,
) -> None:
    """Write a plan as the task table offices pass around; `duban import` reads it back."""
    from render.plan_table import write_plan_table

    spec = _resolved(plan).spec
    target = out or Path(f"{spec.plan.code}.{_table_format(fmt)}")
    write_out(target, lambda path: write_plan_table(spec, path, fmt=_table_format(fmt)))
    typer.echo(f"wrote {target}: {len(spec.tasks)} tasks, {len(spec.reports)} reports")


def _table_format(kind: str) -> str:
    if kind not in ("xlsx", "csv"):
        fail(f"format: {kind!r} is not one of xlsx, csv")
    return kind


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

    reading = read_responsibility(clause)
    found = reading.as_json()
    found["pilots"] = found["pilots"] or list(read_pilots(clause))
    if plan is not None:
        found = _resolve_names(plan, clause, found)
    if as_json:
        emit_json(found)
        return
    for role, names in found.items():
        typer.echo(f"{role:>12}: {'、'.join(names) if names else '-'}")
    if reading.note:
        typer.echo(f"{'note':>12}: {reading.note}")


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
    from duban import plain
    from tasks.plans.views import list_plans

    with reading_database() as connection:
        rows = list_plans(connection)
    if as_json:
        emit_json(rows)
    else:
        columns = ["code", "title", "document_number", "tasks", "assignments"]
        plain.emit(plain.table("plans", rows, columns))


@app.command()
def show(
    plan: Annotated[str, typer.Argument(help="Code of an imported plan.")],
    as_json: JsonFlag = False,
) -> None:
    """Show a plan: phases, tasks, due dates and who is assigned."""
    from duban import plain
    from tasks.plans.views import plan_overview

    with reading_database() as connection:
        overview = plan_overview(connection, plan)
    if as_json:
        emit_json(overview)
        return
    tasks = [
        {
            **task,
            "assignees": "、".join(f"{a['unit']}({a['role']})" for a in task["assignees"])
            or "unassigned",
        }
        for task in overview["tasks"]
    ]
    said = f"{overview['title']}  {overview['document_number'] or ''}  ({overview['code']})"
    phases = ["code", "kind", "name", "window", "start", "due"]
    columns = ["code", "title", "phase", "deadline", "due", "assignees"]
    seats = ["seat", "unit", "person", "liaison"]
    roster = [_roster_row(seat) for seat in overview["joint_meeting"]]
    plain.emit(
        "\n\n".join(
            [
                plain.printable(said),
                *([plain.table("joint meeting and office", roster, seats)] if roster else []),
                plain.table("phases", overview["phases"], phases),
                plain.table("tasks", tasks, columns),
            ]
        )
    )


SEAT_NAMES = {
    SeatRole.CONVENER: "召集人",
    SeatRole.VICE_CONVENER: "副召集人",
    SeatRole.MEMBER: "成员单位",
    SeatRole.OFFICE: "办公室",
    SeatRole.LEADERSHIP: "领导",
}


def _roster_row(seat: dict[str, str]) -> dict[str, str]:
    """One seat of the roster: 召集人 市政府 副市长 张三; 成员单位 … 联络员 科长 王五 电话."""

    def person(prefix: str) -> str:
        return " ".join(seat[k] for k in (f"{prefix}_title", f"{prefix}_name") if k in seat)

    contact = [seat[k] for k in ("liaison_phone", "liaison_email") if k in seat]
    return {
        "seat": SEAT_NAMES[SeatRole(seat["role"])],
        "unit": seat["unit"],
        "person": person("person"),
        "liaison": " ".join(filter(None, [person("liaison"), *contact])),
    }


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
    from duban import plain
    from tasks.plans.views import unit_tasks
    from tasks.work.status import with_derived

    day = parse_date(as_of, "--as-of") if as_of else None
    where = located()
    with reading_database(where) as connection:
        day = day or today_on(connection, plan)
        rows = with_derived(connection, unit_tasks(connection, unit, plan), day, where.calendar_dir)
    if as_json:
        emit_json(rows)
        return
    columns = [
        "plan",
        "task",
        "title",
        "role",
        "state",
        "deadline",
        "due",
        "overdue_workdays",
        "blocked_by",
    ]
    shown = [{**r, "blocked_by": "、".join(r["blocked_by"])} for r in rows]
    plain.emit(plain.table(f"tasks of {unit} as of {day}", shown, columns))


LEVELS = {"urge": "urge", "催办": "urge", "supervise": "supervise", "督办": "supervise"}
LEVELS |= {"report": "report", "通报": "report"}


@app.command()
def overdue(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Overdue as of this day, YYYY-MM-DD (default today, Asia/Shanghai; with "
            "--plan, on that plan's clock).",
        ),
    ] = None,
    plan: Annotated[str | None, typer.Option(help="Only this plan (its code).")] = None,
    unit: Annotated[
        str | None, typer.Option(help="Only this unit: its code, name or an alias.")
    ] = None,
    level: Annotated[
        str | None,
        typer.Option(
            help="Only items at this rung or a higher one: urge (催办), supervise (督办) or "
            "report (通报)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List every overdue open item across plans, the most overdue first: its plan, task,
    unit, due date, working days late (on the plan's calendar) and the rung of the escalation
    ladder it has reached. Reads only; sends nothing."""
    from operator import itemgetter

    from duban import plain
    from schemas.vocabulary import Level
    from tasks.sweep.overdue import overdue_items

    day = parse_date(as_of, "--as-of") if as_of else None
    if level is not None and level not in LEVELS:
        fail(f"--level: {level!r} is not one of urge (催办), supervise (督办), report (通报)")
    where = located()
    with reading_database(where) as connection:
        day = day or today_on(connection, plan)
        items = overdue_items(
            connection,
            day,
            plan=plan,
            unit=unit,
            level=Level(LEVELS[level]) if level else None,
            calendar_dir=where.calendar_dir,
        )
    if as_json:
        emit_json([item.as_json() for item in items], compact=True)
        return
    header = ["plan", "task", "unit", "role", "due", "late", "rung", "title"]
    rows = list(map(itemgetter(0, 1, 4, 5, 7, 8, 9, 2), items))
    said = f"overdue as of {day}: {len(items)} item(s), late in working days"
    plain.emit(plain.render(said, header, rows, blank="-"))


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
