"""What every command shares: the typer app, one-line errors, JSON output, settings."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
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


def parse_moment(text: str | None, option: str = "--as-of") -> dt.datetime:
    """When an action happens: now, or the date (noon, Asia/Shanghai) or time given, as a
    plain aware datetime (pendulum's lose their zone in arithmetic)."""
    import pendulum

    if text is None:
        return _plain(pendulum.now("Asia/Shanghai"))
    try:
        parsed = pendulum.parse(text, tz="Asia/Shanghai", exact=True)
    except (ValueError, pendulum.parsing.ParserError):
        fail(f"{option}: {text!r} is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM)")
    if isinstance(parsed, dt.datetime):
        return _plain(parsed)
    if isinstance(parsed, dt.date):
        return _plain(
            pendulum.datetime(parsed.year, parsed.month, parsed.day, 12, tz="Asia/Shanghai")
        )
    fail(f"{option}: {text!r} is not a date or time")


def _plain(moment: dt.datetime) -> dt.datetime:
    return dt.datetime.fromisoformat(moment.isoformat())
