"""Commands for leadership and the office: the phase review, the ranking, the digest mails."""

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from duban.app import (
    app,
    calendar_dir,
    database_url,
    emit_json,
    end_if_undelivered,
    fail,
    parse_date,
    plan_zone,
    write_out,
)

FORMATS = ("terminal", "md", "html", "xlsx", "json")


def _day(as_of: str | None, plan: str) -> dt.date:
    """The day given, or today on the plan's clock."""
    from calendars.clock import today

    return parse_date(as_of, "--as-of") if as_of else today(plan_zone(plan))


def load_review(plan: str, day: dt.date, phase: str | None) -> Any:
    from schemas.db import session_scope
    from tasks.review.compute import review_plan

    with session_scope(database_url()) as session:
        return review_plan(session, plan, day, phase=phase, calendar_dir=calendar_dir())


def write_review(review: Any, format: str, out: Path | None) -> None:
    """Render in the asked format to the terminal or to a file (xlsx needs a file)."""
    from render.review import render_html, render_markdown

    if format == "terminal":
        from duban.terminal import review_tables

        review_tables(review)
        return
    if format == "xlsx" and out is None:
        fail("--format xlsx needs --out FILE")
    if format == "json":
        import json

        text = json.dumps(review.as_json(), ensure_ascii=False, indent=2) + "\n"
    elif format != "xlsx":
        text = render_markdown(review) if format == "md" else render_html(review)
    if out is None:
        typer.echo(text, nl=False)
        return
    if format == "xlsx":
        from render.xlsx import write_xlsx

        write_out(out, lambda path: write_xlsx(review, path))
    else:
        write_out(out, lambda path: path.write_text(text, encoding="utf-8"))
    typer.echo(f"wrote {out}")


@app.command()
def review(
    plan: Annotated[str, typer.Argument(help="Code of an imported plan.")],
    phase: Annotated[str | None, typer.Option(help="One phase, by kind or code.")] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Review as of this day (default today, plan time zone)."),
    ] = None,
    format: Annotated[str, typer.Option(help="terminal, md, html, xlsx or json.")] = "terminal",
    out: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """The leadership review: completion, traffic lights, lateness and its causes, ranking."""
    if format not in FORMATS:
        fail(f"--format: {format!r} is not one of {', '.join(FORMATS)}")
    write_review(load_review(plan, _day(as_of, plan), phase), format, out)


@app.command()
def ranking(
    plan: Annotated[str, typer.Argument(help="Code of an imported plan.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="As of this day.")] = None,
    circular: Annotated[
        Path | None,
        typer.Option(help="Also write the ranking circular (通报) as printable HTML here."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The unit ranking (排名) with its rule; optionally the circular that announces it."""
    from duban.terminal import table
    from render.documents import ranking_circular_html

    found = load_review(plan, _day(as_of, plan), None)
    rows = [dict(u.__dict__, rate=u.rate) for u in found.units]
    apart = [dict(u.__dict__, rate=u.rate) for u in found.not_yet_due]
    if as_json:
        emit_json({"rule": found.ranking_rule, "units": rows, "not_yet_due": apart})
    else:
        table(
            f"ranking of {plan} as of {found.as_of}",
            [*rows, *apart],
            [
                "rank",
                "name",
                "rate",
                "on_time",
                "due",
                "own_delays",
                "upstream_delays",
                "supporting_delays",
                "overdue_now",
                "open_escalations",
            ],
        )
        typer.echo(found.ranking_rule)
    if circular is not None:
        page = ranking_circular_html(found, issuer=_office_name(plan))
        write_out(circular, lambda path: path.write_text(page, encoding="utf-8"))
        typer.echo(f"wrote {circular}")


def _office_name(plan: str) -> str:
    from schemas.db import session_scope
    from tasks.sweep.digest import office_of

    with session_scope(database_url()) as session:
        office = office_of(session, plan)
        return (office.full_name or office.name) if office else plan


@app.command()
def digest(
    plan: Annotated[str, typer.Argument(help="Code of an imported plan.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="As of this day.")] = None,
    review_phase: Annotated[
        str | None,
        typer.Option(
            "--review",
            help="Instead, mail leadership the review of this phase (kind or code), "
            "or 'plan' for the whole plan.",
        ),
    ] = None,
) -> None:
    """Queue the office's digest of red and yellow items (or a review for leadership) in the
    outbox, then deliver it; asking twice queues it once."""
    from calendars.clock import now
    from duban.app import settings
    from render.mail import COMPOSER
    from schemas.db import session_scope, sessions
    from tasks.sweep.delivery import transport_from
    from tasks.sweep.digest import queue_reviews
    from tasks.sweep.outbox import deliver_everything

    day = _day(as_of, plan)
    url = database_url()
    with session_scope(url) as session:
        messages = queue_reviews(
            session,
            as_of=day,
            composer=COMPOSER,
            plan=plan,
            phase=None if review_phase in (None, "plan") else review_phase,
            on_demand=review_phase is not None,
            digest=review_phase is None,
        )
        queued = messages[0].subject if messages else None
    typer.echo(f"queued: {queued}" if queued else "already queued before: nothing new")
    report = deliver_everything(sessions(url), transport_from(settings()), now=now(), clock=now)
    typer.echo(f"delivered {len(report.delivered)}, failed {len(report.failed)}")
    end_if_undelivered(len(report.failed))
