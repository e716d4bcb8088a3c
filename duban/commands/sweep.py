"""Commands about the deadline sweep: run one now, look at the outbox, acknowledge receipts,
and run the embedded scheduler."""

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from duban.app import (
    HOST,
    PORT,
    JsonFlag,
    WebHost,
    WebPort,
    app,
    at_the_cli,
    calendar_warnings,
    database_url,
    emit_json,
    end_if_undelivered,
    fail,
    parse_date,
    parse_moment,
    settings,
    show_rows,
    write_out,
)
from schemas.vocabulary import ScheduledJob


@app.command()
def sweep(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="The day to sweep, YYYY-MM-DD (default: today, Asia/Shanghai)."
        ),
    ] = None,
    plan: Annotated[str | None, typer.Option(help="Only this plan.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; write and send nothing.")
    ] = False,
    catch_up: Annotated[
        bool | None,
        typer.Option(
            "--catch-up/--no-catch-up",
            help="First sweep the working days each plan missed since its last sweep, in "
            "order (at most 20 a plan). Default: yes without --as-of, no with it.",
        ),
    ] = None,
    status: Annotated[
        bool,
        typer.Option(
            "--status",
            help="Sweep nothing: show each plan's last swept day and the working days not "
            "swept since, through --as-of (default today).",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run the deadline sweep once: notices, escalations, delivery.

    Without --as-of it sweeps today, after the working days each plan missed since its last
    sweep (an outage, a killed run), as the scheduled sweep does; with --as-of it sweeps that
    day alone unless told --catch-up. With PREFECT_API_URL set it runs as the `deadline_sweep`
    flow on that server (run history kept there); otherwise it runs the same steps directly
    and keeps its record in duban's own database (the sweep run, the notices, the outbox).
    """
    from calendars.clock import today

    day = parse_date(as_of, "--as-of") if as_of else today()
    if status:
        if dry_run or catch_up is not None:
            fail("--status sweeps nothing: give it without --dry-run and --catch-up")
        _show_status(day, plan, as_json)
        return
    catching_up = as_of is None if catch_up is None else catch_up
    database_url()  # there is a database to sweep, at the current schema
    if os.environ.get("PREFECT_API_URL"):
        from flows.sweep import deadline_sweep

        run = deadline_sweep(as_of=day, plan=plan, dry_run=dry_run, catch_up=catching_up)
        summary: dict[str, Any] = run.unquote()
    else:
        summary = _sweep_directly(day, plan, dry_run, catching_up)
    summary["calendar_warnings"] = calendar_warnings(settings(), day)
    if as_json:
        emit_json(summary)
    else:
        _print_summary(summary, dry_run)
        for warning in summary["calendar_warnings"]:
            typer.echo(f"warning: {warning}", err=True)
    end_if_undelivered(summary["failed"], as_json=as_json)


def _sweep_directly(
    day: dt.date, plan: str | None, dry_run: bool, catch_up: bool
) -> dict[str, Any]:
    from calendars.clock import now
    from render.mail import composer_for
    from schemas.db import sessions
    from tasks.sweep.delivery import transport_from
    from tasks.sweep.pipeline import DirectSteps, run_sweep, sweep_summary

    config = settings()
    steps = DirectSteps(
        sessions(config.url),
        composer_for(config),
        at=now(),
        calendar_dir=config.calendar_dir,
        transport=transport_from(config),
    )
    return sweep_summary(run_sweep(steps, as_of=day, plan=plan, dry_run=dry_run, catch_up=catch_up))


def _show_status(day: dt.date, plan: str | None, as_json: bool) -> None:
    """Each plan's last swept day and its working days not swept since, through `day`."""
    from schemas.db import session_scope
    from tasks.sweep.catch_up import CATCH_UP_LIMIT, sweep_status

    with session_scope(database_url()) as session:
        record = sweep_status(session, through=day, plan=plan, calendar_dir=settings().calendar_dir)
    if as_json:
        emit_json(
            {
                "through": day.isoformat(),
                "limit": CATCH_UP_LIMIT,
                "plans": [p.as_json() for p in record],
            }
        )
        return
    if not record:
        typer.echo("no plan has been imported")
    for one in record:
        last = f"last swept {one.last_swept}" if one.last_swept else "never swept"
        if not one.unswept:
            typer.echo(f"{one.plan}: {last}; nothing to sweep through {day}")
            continue
        shown = ", ".join(str(d) for d in one.unswept[:5])
        more = f" and {len(one.unswept) - 5} more" if len(one.unswept) > 5 else ""
        if one.catches_up():
            then = "the next sweep catches them up" if one.missed else "the next sweep sweeps it"
        else:
            then = (
                f"more than {CATCH_UP_LIMIT} missed, so the next sweep sweeps its own day only"
                f" (sweep the others with `duban sweep --as-of DAY --plan {one.plan}`)"
            )
        typer.echo(
            f"{one.plan}: {last}; {len(one.unswept)} working day(s) not swept through {day}: "
            f"{shown}{more}; {then}"
        )


def _print_summary(summary: dict[str, Any], dry_run: bool) -> None:
    from collections import Counter

    verb = "would send" if dry_run else "wrote"
    for missed in summary.get("caught_up", []):
        typer.echo(
            f"{missed['as_of']} (missed, swept first): {verb} {len(missed['notices'])} "
            f"notice(s) in {missed['messages']} message(s)"
        )
    for left in summary.get("not_caught_up", []):
        typer.echo(f"not caught up: {left['why']}")
    if "skipped" in summary:
        typer.echo(f"{summary['as_of']}: not swept: {summary['skipped']}")
        return
    levels = Counter(n["level"] for n in summary["notices"])
    typer.echo(
        f"{summary['as_of']}: {verb} {len(summary['notices'])} notice(s)"
        + (f" ({', '.join(f'{k} {v}' for k, v in sorted(levels.items()))})" if levels else "")
        + (f" and {len(summary['followups'])} follow-up(s)" if summary["followups"] else "")
    )
    typer.echo(
        f"escalations opened {summary['escalations_opened']}, closed "
        f"{summary['escalations_closed']}; delivered {summary['delivered']}, "
        f"failed {summary['failed']}"
    )


outbox_app = typer.Typer(help="The outbox: list it, or put mail given up on back in it.")
app.add_typer(outbox_app, name="outbox")


@outbox_app.callback(invoke_without_command=True)
def outbox(
    context: typer.Context,
    pending: Annotated[bool, typer.Option("--pending", help="Only messages not yet sent.")] = False,
    failed: Annotated[bool, typer.Option("--failed", help="Only messages given up on.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List the outbox: every message, its recipients and whether it was delivered."""
    if context.invoked_subcommand is not None:
        return
    from schemas.vocabulary import MessageStatus
    from tasks.sweep.outbox import list_outbox

    if pending and failed:
        fail("give --pending or --failed, not both")
    status = MessageStatus.PENDING if pending else MessageStatus.FAILED if failed else None
    show_rows(
        "outbox",
        lambda session: list_outbox(session, status=status),
        ["id", "plan", "recipient", "subject", "status", "attempts", "last_error", "refused"],
        as_json=as_json,
    )


@outbox_app.command("retry")
def outbox_retry(
    failed: Annotated[
        bool, typer.Option("--failed", help="Every message given up on (the default).")
    ] = False,
    ids: Annotated[
        list[int] | None,
        typer.Option("--id", help="Only this message (repeatable); see `duban outbox --failed`."),
    ] = None,
) -> None:
    """Put mail given up on back in the outbox, once what failed it is fixed (recorded in the
    audit trail); the next delivery sends it."""
    if failed and ids:
        fail("give --failed or --id, not both")
    typer.echo(_requeue(ids or None))


def _requeue(ids: list[int] | None) -> str:
    from calendars.clock import now
    from schemas.db import session_scope
    from tasks.sweep.outbox import retry_failed

    with session_scope(database_url()) as session:
        requeued = retry_failed(session, now=now(), by=at_the_cli(), ids=ids)
    return f"{len(requeued)} message(s) given up on are back in the outbox"


@app.command()
def deliver(
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed",
            help="First put the mail given up on back in the outbox (as `duban outbox retry`).",
        ),
    ] = False,
) -> None:
    """Deliver what is waiting in the outbox (the retry the scheduler also runs)."""
    from calendars.clock import now
    from render.mail import composer_for
    from schemas.db import sessions
    from tasks.sweep.delivery import transport_from, where_mail_goes
    from tasks.sweep.outbox import deliver_everything

    config = settings()
    if retry_failed:
        typer.echo(_requeue(None))
    report = deliver_everything(
        sessions(database_url()),
        transport_from(config),
        now=now(),
        composer=composer_for(config),
        clock=now,
    )
    typer.echo(
        f"delivered {len(report.delivered)}, failed {len(report.failed)} "
        f"(mail goes to {where_mail_goes(config)})"
    )
    end_if_undelivered(len(report.failed))


@app.command()
def ack(
    code: Annotated[str, typer.Argument(help="The receipt code (签收编码) on the notice.")],
    who: Annotated[str | None, typer.Option("--as", help="Who acknowledges.")] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="When (YYYY-MM-DD[THH:MM], plan time zone; default now)."),
    ] = None,
) -> None:
    """Acknowledge (签收) a 督办单 or 通报 by its receipt code."""
    from calendars.clock import stamp
    from schemas.db import session_scope
    from tasks.plans.queries import find_plan
    from tasks.sweep.outbox import acknowledge, find_receipt, record_acknowledgement
    from tasks.work.lifecycle import resolve_actor

    who = who or settings().actor
    if who is None:
        fail("say who acknowledges: --as UNIT, or set actor in the settings")
    url = database_url()
    with session_scope(url) as session:
        plan = find_plan(session, find_receipt(session, code).plan_code)
        at = parse_moment(as_of, plan=plan)
        actor = at_the_cli(resolve_actor(session, plan.code, who))
        notice, first = acknowledge(session, code=code, actor=actor, at=at)
        if first:
            record_acknowledgement(session, notice, actor, at)
        summary = f"{notice.receipt_code}: {notice.level} on {notice.plan_code} {notice.task_code}"
        when = stamp(notice.acknowledged_at, plan)
    typer.echo(
        f"acknowledged {summary} at {when}"
        if first
        else f"{summary} was already acknowledged by {notice.acknowledged_by} at {when}"
    )


@app.command()
def receipts(as_json: JsonFlag = False) -> None:
    """督办单 and 通报 not yet acknowledged, for the office."""
    from tasks.sweep.outbox import unacknowledged

    show_rows(
        "unacknowledged",
        unacknowledged,
        ["receipt", "plan", "task", "unit", "level", "sent_on"],
        as_json=as_json,
    )


@app.command()
def serve(
    host: WebHost = HOST,
    port: WebPort = PORT,
    no_web: Annotated[
        bool, typer.Option("--no-web", help="The scheduler alone; `duban web` serves the app.")
    ] = False,
    run_now: Annotated[
        list[ScheduledJob] | None,
        typer.Option(
            "--run-now",
            help="Run this job at once, then on its schedule (repeatable).",
        ),
    ] = None,
) -> None:
    """Serve the web app and run the embedded scheduler in one process: the daily sweep, the
    outbox retry, the phase reviews and the office's weekly digest (times from the
    `*_cron` settings), on a local Prefect server (started here unless PREFECT_API_URL names
    one). One per database. Ctrl-C or SIGTERM stops it once running jobs finish."""
    from duban.serve import WebAddress
    from duban.serve import serve as run_serve

    database_url()  # an unreachable database ends here, before a Prefect server is started
    run_serve(settings(), None if no_web else WebAddress(host, port), run_now or [])


@app.command()
def automations(
    webhook: Annotated[
        str, typer.Option("--webhook", help="The office's webhook (a WeCom or DingTalk robot).")
    ],
    silence: Annotated[
        int,
        typer.Option(
            "--silence",
            min=45,
            help="Seconds without a heartbeat before a run is taken for dead (more than "
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY on the workers).",
        ),
    ] = 150,
) -> None:
    """Set up, on the Prefect server PREFECT_API_URL names, the automations that tell the
    office when a sweep fails or does not run, and mark runs whose heartbeats stopped Crashed
    (replacing earlier ones)."""
    if not os.environ.get("PREFECT_API_URL"):
        fail("PREFECT_API_URL: set it to the Prefect server the workers report to")
    from flows.automations import install_automations

    for name in install_automations(webhook, silence=silence):
        typer.echo(f"automation {name}: created")


@app.command()
def escalations(
    plan: Annotated[str, typer.Argument(help="Code of an imported plan.")],
    open_only: Annotated[bool, typer.Option("--open", help="Only those not yet resolved.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The plan's 督办 escalations: opened when, how late, resolved how."""
    from tasks.plans.queries import escalations as plan_escalations

    show_rows(
        "escalations",
        lambda session: plan_escalations(session, plan, open_only=open_only),
        [
            "id",
            "task",
            "unit",
            "due",
            "opened_on",
            "overdue_workdays",
            "reported",
            "receipt",
            "closed_on",
            "resolution",
        ],
        as_json=as_json,
    )


@app.command()
def sheet(
    plan: Annotated[str, typer.Argument(help="Code of an imported plan.")],
    escalation: Annotated[int, typer.Argument(help="Escalation id (see `duban escalations`).")],
    out: Annotated[Path, typer.Option(help="Write the printable 督办单 (HTML) here.")],
) -> None:
    """The 督办单 of one escalation, as a printable page in the layout offices use."""
    from duban.errors import NotFound
    from render.documents import supervision_sheet_html
    from schemas.db import session_scope
    from schemas.tables import Escalation
    from tasks.plans.queries import find_plan, find_task, issued_order
    from tasks.sweep.digest import office_of
    from tasks.work.lifecycle import find_unit

    url = database_url()
    with session_scope(url) as session:
        row = session.get(Escalation, escalation)
        found = find_plan(session, plan)
        if row is None or row.plan_code != plan:
            raise NotFound(f"no escalation {escalation} in plan {plan}")
        task = find_task(session, found, row.task_code)
        unit = find_unit(session, found, row.unit_code).name
        issued = issued_order(session, row)
        notice, issue_date = issued if issued else (None, row.opened_on)
        office = office_of(session, plan)
        page = supervision_sheet_html(
            plan_title=found.title,
            document_number=found.document_number,
            task_code=task.code,
            task_title=task.title,
            unit_name=unit,
            original_due=row.original_due,
            current_due=row.due,
            overdue_workdays=notice.overdue_workdays if notice else row.overdue_workdays,
            blocks=row.blocks,
            receipt_code=(notice.receipt_code if notice else None) or "—",
            issuer=(office.full_name or office.name) if office else found.title,
            issue_date=issue_date,
            sheet_number=escalation,
        )
    write_out(out, lambda path: path.write_text(page, encoding="utf-8"))
    typer.echo(f"wrote {out}")
