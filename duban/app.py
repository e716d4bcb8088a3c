"""What every command shares: the typer app, one-line errors, JSON output, settings."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from calendars.clock import Zoned
    from schemas.settings import Settings

app = typer.Typer(
    help="duban (督办): supervise work plans: tasks, responsible units, deadlines, escalation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr and a non-zero exit: how every user error ends."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def emit_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: {text!r} is not a date (YYYY-MM-DD)")


def database_url(*, create: bool = False) -> str:
    """The configured database, brought to the current schema (a no-op when it is).

    Only the commands that make a database (`init`, `import`) pass `create`: every other
    command on a SQLite file that does not exist says so and exits, instead of creating an
    empty database and answering from it.
    """
    from schemas.db import NoDatabase, create_schema, require_database

    url = settings().url
    if not create:
        try:
            require_database(url)
        except NoDatabase as exc:
            fail(str(exc), code=6)
    create_schema(url)
    return url


def calendar_dir() -> Path | None:
    """An office's own calendar data files, replacing the bundled ones when set."""
    return settings().calendar_dir


def show_rows(
    title: str,
    rows_of: Callable[[Any], list[dict[str, Any]]],
    columns: Sequence[str],
    *,
    as_json: bool,
) -> None:
    """Run one read-only query in a fresh session; print its rows as JSON or a table."""
    from duban.terminal import table
    from schemas.db import session_scope
    from tasks.plans.queries import NotFound

    url = database_url()
    with session_scope(url) as session:
        try:
            rows = rows_of(session)
        except NotFound as exc:
            fail(str(exc))
    if as_json:
        emit_json(rows)
    else:
        table(title, rows, columns)


def settings() -> Settings:
    from schemas.settings import Settings

    return Settings()


def parse_moment(
    text: str | None, option: str = "--as-of", *, plan: str | Zoned | None = None
) -> dt.datetime:
    """When an action happens, as a UTC instant: now, or the date (noon) or time given on the
    clock of `plan`, a stored plan or a plan's code (the office's when no plan is named or
    it is not imported)."""
    from calendars.clock import moment, now

    if text is None:
        return now()
    try:
        return moment(text, plan_zone(plan) if isinstance(plan, str) else plan)
    except ValueError:
        fail(f"{option}: {text!r} is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM)")


def plan_zone(plan: str) -> str | None:
    """The zone an imported plan runs on; None (the office's) for a plan not imported."""
    from sqlmodel import select

    from schemas.db import session_scope
    from schemas.tables import Plan

    with session_scope(database_url()) as session:
        return session.exec(select(Plan.timezone).where(Plan.code == plan)).first()
