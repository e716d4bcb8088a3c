"""Commands about work on assignments: progress, submission, acceptance, return, extensions,
waiver, re-assignment, and the history and audit trail that record all of it."""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from duban.app import (
    JsonFlag,
    app,
    at_the_cli,
    database_url,
    emit_json,
    fail,
    parse_date,
    parse_moment,
    settings,
    show_rows,
    write_out,
)

Plan = Annotated[str, typer.Argument(help="Code of an imported plan.")]
TaskCode = Annotated[str, typer.Argument(help="Task id within the plan.")]
As = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Who acts: office, leadership or a unit (code, name or alias); default from settings.",
    ),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="When it happens (YYYY-MM-DD[THH:MM], plan time zone); default now."
    ),
]
UnitRef = Annotated[
    str | None, typer.Option("--unit", help="Whose assignment (default: the acting unit's own).")
]
Occurrence = Annotated[str | None, typer.Option(help="The dated report occurrence, YYYY-MM-DD.")]
EvidenceFiles = Annotated[
    list[Path] | None, typer.Option("--evidence", help="A file to attach (repeatable).")
]

audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@contextmanager
def acting(plan: str, who: str | None) -> Iterator[tuple[Any, Any]]:
    """A write session and the resolved actor; a refusal rolls it back and reaches the shell."""
    from schemas.db import session_scope
    from tasks.work.lifecycle import resolve_actor

    who = who or settings().actor
    if who is None:
        fail("say who acts: --as office|leadership|UNIT, or set actor in the settings")
    with session_scope(database_url()) as session:
        yield session, at_the_cli(resolve_actor(session, plan, who))


def optional_day(text: str | None, option: str) -> dt.date | None:
    return parse_date(text, option) if text else None


@app.command()
def progress(
    plan: Plan,
    task: TaskCode,
    note: Annotated[str, typer.Option(help="What was done (进展).")],
    unit: UnitRef = None,
    evidence: EvidenceFiles = None,
    task_wide: Annotated[
        bool, typer.Option("--task-wide", help="As lead unit, report on the task as a whole.")
    ] = False,
    who: As = None,
    as_of: AsOf = None,
) -> None:
    """Report progress (进展反馈) on an assignment."""
    from tasks.work.lifecycle import report_progress

    at = parse_moment(as_of, plan=plan)
    with acting(plan, who) as (session, actor):
        report_progress(
            session,
            actor=actor,
            plan=plan,
            task=task,
            note=note,
            at=at,
            unit=unit,
            task_wide=task_wide,
            evidence=evidence or [],
            evidence_dir=settings().evidence_dir,
            evidence_limit_mb=settings().evidence_limit_mb,
            evidence_from=settings().evidence_from,
        )
    typer.echo(f"progress recorded on {plan} {task}")


@app.command()
def submit(
    plan: Plan,
    task: TaskCode,
    note: Annotated[str, typer.Option(help="What was delivered.")],
    unit: UnitRef = None,
    occurrence: Occurrence = None,
    evidence: EvidenceFiles = None,
    who: As = None,
    as_of: AsOf = None,
) -> None:
    """Submit an assignment (or one dated report) as done, for the office to accept."""
    from tasks.work.lifecycle import submit as submit_work

    at = parse_moment(as_of, plan=plan)
    with acting(plan, who) as (session, actor):
        submission = submit_work(
            session,
            actor=actor,
            plan=plan,
            task=task,
            note=note,
            at=at,
            unit=unit,
            occurrence=optional_day(occurrence, "--occurrence"),
            evidence=evidence or [],
            evidence_dir=settings().evidence_dir,
            evidence_limit_mb=settings().evidence_limit_mb,
            evidence_from=settings().evidence_from,
        )
    typer.echo(f"submitted {plan} {task} (submission {submission.id})")


@app.command()
def accept(
    plan: Plan,
    task: TaskCode,
    unit: UnitRef = None,
    occurrence: Occurrence = None,
    who: As = None,
    as_of: AsOf = None,
) -> None:
    """Accept a submission (办结). Office only."""
    from tasks.work.lifecycle import accept as accept_work

    at = parse_moment(as_of, plan=plan)
    with acting(plan, who) as (session, actor):
        accept_work(
            session,
            actor=actor,
            plan=plan,
            task=task,
            unit=unit,
            at=at,
            occurrence=optional_day(occurrence, "--occurrence"),
        )
    typer.echo(f"accepted {plan} {task}" + (f" ({unit})" if unit else ""))


@app.command("return")
def return_(
    plan: Plan,
    task: TaskCode,
    reason: Annotated[str, typer.Option(help="Why it goes back.")],
    unit: UnitRef = None,
    occurrence: Occurrence = None,
    who: As = None,
    as_of: AsOf = None,
) -> None:
    """Return a submission to the unit with a reason (退回). Office only."""
    from tasks.work.lifecycle import return_submission

    at = parse_moment(as_of, plan=plan)
    with acting(plan, who) as (session, actor):
        return_submission(
            session,
            actor=actor,
            plan=plan,
            task=task,
            unit=unit,
            reason=reason,
            at=at,
            occurrence=optional_day(occurrence, "--occurrence"),
        )
    typer.echo(f"returned {plan} {task}" + (f" ({unit})" if unit else ""))


@app.command()
def extend(
    plan: Plan,
    task: TaskCode,
    to: Annotated[str, typer.Option("--to", help="The new due date, YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option(help="Why more time is needed.")],
    unit: UnitRef = None,
    who: As = None,
    as_of: AsOf = None,
) -> None:
    """Request an extension (延期申请) of an assignment's due date."""
    from tasks.work.lifecycle import request_extension

    at = parse_moment(as_of, plan=plan)
    new_due = parse_date(to, "--to")
    with acting(plan, who) as (session, actor):
        request = request_extension(
            session,
            actor=actor,
            plan=plan,
            task=task,
            unit=unit,
            new_due=new_due,
            reason=reason,
            at=at,
        )
    typer.echo(f"extension request {request.id}: {plan} {task} to {new_due}, awaiting decision")


@app.command()
def decide(
    plan: Plan,
    request: Annotated[int, typer.Argument(help="Extension request id.")],
    approve: Annotated[bool, typer.Option("--approve/--deny", help="Approve or deny the request.")],
    reason: Annotated[str, typer.Option(help="The decision's reason.")] = "",
    who: As = None,
    as_of: AsOf = None,
) -> None:
    """Decide an extension request. Office only."""
    from tasks.work.lifecycle import decide_extension

    at = parse_moment(as_of, plan=plan)
    with acting(plan, who) as (session, actor):
        decided = decide_extension(
            session,
            actor=actor,
            plan=plan,
            request_id=request,
            approve=approve,
            reason=reason,
            at=at,
        )
    typer.echo(f"extension request {request} {decided.state}")


@app.command()
def waive(
    plan: Plan,
    task: TaskCode,
    reason: Annotated[str, typer.Option(help="Why the work is no longer required.")],
    unit: Annotated[
        str | None, typer.Option(help="Only this unit's assignment (default: every open one).")
    ] = None,
    cancel: Annotated[bool, typer.Option("--cancel", help="Cancel instead of waive.")] = False,
    who: As = None,
    as_of: AsOf = None,
) -> None:
    """Waive (or --cancel) an assignment, or every open assignment of a task. Office only."""
    from tasks.work.lifecycle import close

    at = parse_moment(as_of, plan=plan)
    with acting(plan, who) as (session, actor):
        closed = close(
            session,
            actor=actor,
            plan=plan,
            task=task,
            unit=unit,
            how="cancel" if cancel else "waive",
            reason=reason,
            at=at,
        )
    typer.echo(f"{'cancelled' if cancel else 'waived'} {len(closed)} assignment(s) of {task}")


@app.command()
def reassign(
    plan: Plan,
    task: TaskCode,
    from_unit: Annotated[str, typer.Option("--from", help="The unit giving it up.")],
    to_unit: Annotated[str, typer.Option("--to", help="The unit taking it over.")],
    reason: Annotated[str, typer.Option(help="Why.")],
    who: As = None,
    as_of: AsOf = None,
) -> None:
    """Give a unit's assignment to another unit. Office only."""
    from tasks.work.lifecycle import reassign as reassign_work

    at = parse_moment(as_of, plan=plan)
    with acting(plan, who) as (session, actor):
        reassign_work(
            session,
            actor=actor,
            plan=plan,
            task=task,
            from_unit=from_unit,
            to_unit=to_unit,
            reason=reason,
            at=at,
        )
    typer.echo(f"re-assigned {plan} {task} from {from_unit} to {to_unit}")


@app.command()
def lead(
    plan: Plan,
    task: TaskCode,
    unit: Annotated[str, typer.Argument(help="The unit that is to lead (code or name).")],
    reason: Annotated[str, typer.Option(help="Why; kept in the audit trail.")],
    who: As = None,
    as_of: AsOf = None,
) -> None:
    """Name the lead of a task whose plan named none (牵头单位未明确). Office only."""
    from tasks.work.lifecycle import name_lead

    at = parse_moment(as_of, plan=plan)
    with acting(plan, who) as (session, actor):
        name_lead(session, actor=actor, plan=plan, task=task, unit=unit, reason=reason, at=at)
    typer.echo(f"{unit} now leads {plan} {task}")


@app.command()
def extensions(
    plan: Plan,
    pending: Annotated[bool, typer.Option("--pending", help="Only undecided ones.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List extension requests, for the office to decide."""
    from tasks.plans.queries import extension_requests

    show_rows(
        "extension requests",
        lambda session: extension_requests(session, plan, pending_only=pending),
        ["id", "task", "unit", "current_due", "requested_due", "state", "reason"],
        as_json=as_json,
    )


@app.command()
def history(
    plan: Plan,
    task: TaskCode,
    unit: Annotated[str | None, typer.Option(help="Only this unit's part.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The story of a task, in order: every change, who made it, before and after."""

    from calendars.clock import stamp
    from duban.terminal import table
    from schemas.db import session_scope
    from tasks.plans.queries import find_plan, find_task
    from tasks.work.audit import history as task_history
    from tasks.work.lifecycle import find_unit

    url = database_url()
    with session_scope(url) as session:
        found = find_plan(session, plan)
        find_task(session, found, task)
        unit_code = find_unit(session, found, unit).code if unit else None
        events = task_history(session, plan, task, unit_code)
    rows: list[dict[str, Any]] = [
        {
            "id": e.id,
            "at": stamp(dt.datetime.fromisoformat(e.at), found),
            "actor": e.actor,
            "action": e.action,
            "unit": e.unit_code,
            "before": e.before,
            "after": e.after,
        }
        for e in events
    ]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        typer.echo(f"no recorded changes on {plan} {task}")
        return
    table(
        f"history of {plan} {task}",
        [{**r, "change": _change(r["before"], r["after"])} for r in rows],
        ["id", "at", "actor", "action", "unit", "change"],
    )


def _change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    before, after = before or {}, after or {}
    parts = [f"{k}: {before.get(k)} → {v}" for k, v in after.items() if before.get(k) != v]
    return "; ".join(parts)


Filed = Annotated[
    list[Path] | None,
    typer.Option(
        "--against",
        help="A head filed earlier (`duban audit export-head`; repeatable): its event must "
        "still be in the trail, unchanged.",
    ),
]


@audit_app.command("verify")
def audit_verify(against: Filed = None) -> None:
    """Check the audit trail: each event's hash and link, the head's seal (under the audit
    key), that no work the database records lost its events, and every head filed; name the
    first thing broken (exit 1)."""
    from schemas.db import session_scope
    from schemas.settings import audit_key
    from tasks.work.audit import verify_chain

    filed = [_filed_head(path) for path in against or []]
    key = audit_key(settings())
    with session_scope(database_url()) as session:
        checked, broken = verify_chain(session, key=key, filed=filed)
    _end_if_broken(checked, broken)
    found = f"; the {len(filed)} filed head(s) are in it" if filed else ""
    typer.echo(f"audit trail intact: {checked} event(s){found}")


@audit_app.command("export-head")
def audit_export_head(
    out: Annotated[Path | None, typer.Option(help="Write it to this file, not stdout.")] = None,
) -> None:
    """The audit trail's head, sealed, for the office to file outside this server (print it,
    sign it): `audit verify --against FILE` then shows whether the trail was cut back or
    rewritten since. The trail is verified first; a broken one is not exported."""
    import json

    from duban.errors import NotFound
    from schemas.db import session_scope
    from schemas.settings import audit_key
    from tasks.work.audit import export_head, verify_chain

    key = audit_key(settings())
    with session_scope(database_url()) as session:
        checked, broken = verify_chain(session, key=key)
        _end_if_broken(checked, broken)
        head = export_head(session)
    if head is None:
        raise NotFound("the audit trail is empty: there is no head to file yet")
    text = json.dumps(head.as_json(), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    write_out(out, lambda path: path.write_text(text, encoding="utf-8"))
    typer.echo(f"wrote {out}: the head at audit event {head.event} ({head.at})")


def _filed_head(path: Path) -> Any:  # a FiledHead; the module is imported when it is needed
    from tasks.work.audit import FiledHead

    try:
        return FiledHead.read(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")
    except ValueError:
        fail(f"{path}: not a head written by `duban audit export-head`")


def _end_if_broken(checked: int, broken: Any) -> None:
    """A broken trail is the check's answer, not an error: exit 1, like a failed test."""
    if broken is None:
        return
    intact = f" ({checked} event(s) before it are intact)" if broken.event_id else ""
    typer.echo(f"error: {broken}{intact}", err=True)
    raise typer.Exit(1)
