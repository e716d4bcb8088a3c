"""What every command shares: the typer app, one-line errors, JSON output, settings."""

from __future__ import annotations

import copy
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
import typer.main
from typer.core import TyperGroup

from duban.errors import BadInput, DeliveryFailed, DubanError, family_of

try:  # typer's coercion of parameters, to spare plain text options a pydantic TypeAdapter
    from typer._coercion import RuntimeParam
except ImportError:  # another typer: its own coercion stands
    RuntimeParam = None  # type: ignore[assignment,misc]


class Shell(TyperGroup):
    """The one place where errors end: a DubanError raised by any command becomes one line on
    stderr (`error: …`), or with `--json` on the command line an `{"error": …}` object on
    stdout, and its family's exit code. Anything else is a bug and keeps its traceback; usage
    errors (a missing argument, a number that is not one) keep Typer's own message, exit 2."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        argv = sys.argv[1:] if args is None else list(args)
        try:
            return super().main(args, *rest, **kwargs)
        except DubanError as error:
            report(error, as_json="--json" in argv)
            raise SystemExit(error.exit_code) from None

    def get_help_option(self, ctx: Any) -> Any:
        return _as_given(super().get_help_option(ctx))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            for param in [*command.params, command.get_help_option(ctx)]:
                _as_given(param)
        return command


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class _AsGiven(RuntimeParam):
        """A value taken as the command line gives it. Typer checks every value, even a flag
        left out, through a pydantic TypeAdapter, and building the first one imports pydantic:
        a fifth of a cold read-only command, for a string or a flag that needs no checking."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            return value


def _as_given(param: Any) -> Any:
    """Spare `param` typer's pydantic check when there is nothing to check: a parameter typed
    `str` (or `str | None`) with no parser, path, file or choices, or a flag (`bool`) that no
    environment variable sets. Anything else, or another typer, keeps typer's own coercion."""
    descriptor = getattr(param, "type_descriptor", None)
    if (
        RuntimeParam is None
        or descriptor is None
        or getattr(param, "_runtime_param", False) is not None
        or param.multiple
        or param.nargs != 1
        or descriptor.parameter_info.parser is not None
    ):
        return param
    text = descriptor.annotation is str and not (
        descriptor.is_file or descriptor.is_path or descriptor.is_choice
    )
    flag = descriptor.annotation is bool and getattr(param, "is_flag", False) and not param.envvar
    if text or flag:
        param._runtime_param = _AsGiven(parameter_info=descriptor.parameter_info, annotation=str)
    return param


def report(error: DubanError, *, as_json: bool) -> None:
    """The error as the user sees it: a line per line of its message, or one JSON object."""
    message = str(error)
    if as_json:
        kind = {"type": type(error).__name__, "family": family_of(error), "message": message}
        emit_json({"error": kind})
        return
    for line in message.splitlines() or [type(error).__name__]:
        typer.echo(f"error: {line}", err=True)


if TYPE_CHECKING:
    from sqlalchemy import Connection

    from calendars.clock import Zoned
    from schemas.location import Location
    from schemas.settings import Settings
    from tasks.work.actors import Actor


class Duban(typer.Typer):
    """The app. A process runs one command, so when the command line starts with a command's
    name, only that command is built: typer otherwise builds all fifty (reading each one's
    signature, annotations and options) at every start, a tenth of a cold `duban plans`.
    Anything else (`--help`, a group such as `calendar`, a name that is no command) builds
    them all, as typer does."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        argv = args[0] if args else kwargs.get("args")
        argv = sys.argv[1:] if argv is None else list(argv)
        named = [
            info
            for info in self.registered_commands
            if argv
            and info.callback is not None
            and (info.name or typer.main.get_command_name(info.callback.__name__)) == argv[0]
        ]
        if len(named) != 1:
            return super().__call__(*args, **kwargs)
        alone = copy.copy(self)
        alone.registered_commands, alone.registered_groups = named, []
        return typer.main.get_group(alone)(*args, **kwargs)


app = Duban(
    cls=Shell,
    help="duban (督办): supervise work plans: tasks, responsible units, deadlines, escalation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

HOST, PORT = "127.0.0.1", 8000  # where the web app listens: a reverse proxy in front, on this host
WebHost = Annotated[str, typer.Option(help="The address the web app listens on.")]
WebPort = Annotated[int, typer.Option(help="The port the web app listens on.")]


def fail(message: str) -> NoReturn:
    """Refuse an argument: the shell prints one line and exits with BadInput's code (2)."""
    raise BadInput(message)


def write_out(path: Path, write: Callable[[Path], object]) -> None:
    """Write an --out file; a folder that is missing or not writable is the user's to fix."""
    try:
        write(path)
    except OSError as exc:
        raise BadInput(f"{path}: {exc.strerror or exc}") from None


def end_if_undelivered(failed: int, *, as_json: bool = False) -> None:
    """After its summary, a command whose mail was not all delivered ends with DeliveryFailed
    (exit 7); with --json the summary on stdout already says so, and only the code is added."""
    if not failed:
        return
    if as_json:
        raise typer.Exit(DeliveryFailed.exit_code)
    raise DeliveryFailed(
        f"{failed} message(s) not delivered: `duban outbox` shows why; `duban deliver` retries"
    )


def emit_json(value: Any, *, compact: bool = False) -> None:
    """`value` as JSON, indented; `compact` for long lists: an item a line, no indent (a
    hundredfold faster to write than indented JSON, which Python writes in pure Python), and
    written straight to stdout (JSON escapes control characters, so typer.echo's pass to strip
    terminal codes, a regex over megabytes, has nothing to do)."""
    if compact and isinstance(value, list):
        items = ",\n".join(map(json.JSONEncoder(ensure_ascii=False).encode, value))
        sys.stdout.write(f"[\n{items}\n]\n" if value else "[]\n")
        sys.stdout.flush()
        return
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
    from schemas.db import create_schema, require_database

    url = settings().url
    if not create:
        require_database(url)
    create_schema(url)
    return url


def located() -> Location:
    """Where the database and the calendar data are, read without building the Settings model
    (schemas.location): what the read-only commands need, and all they load."""
    import tomllib

    from schemas.location import config_file, location

    try:
        return location()
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{config_file()}: not valid TOML: {exc}") from None


def reading_database(where: Location | None = None) -> AbstractContextManager[Connection]:
    """A plain connection to the configured database, brought to the current schema, for the
    read-only commands' Core queries: neither SQLModel nor the table classes are loaded."""
    from schemas.db import create_schema, reading, require_database

    url = (where or located()).url
    require_database(url)
    create_schema(url)
    return reading(url)


def today_on(connection: Connection, plan: str | None) -> dt.date:
    """Today on the clock of `plan` (a code), else of the office; a plan not imported runs on
    the office's clock."""
    from sqlalchemy import select

    from calendars.clock import today
    from schemas import columns

    zone = None
    if plan is not None:
        zone = connection.scalar(select(columns.plan.c.timezone).where(columns.plan.c.code == plan))
    return today(zone)


def calendar_warnings(config: Settings, as_of: dt.date) -> list[str]:
    """Open plans that run past the calendar data, once its end is 30 working days away: what
    the sweep, `serve` and `doctor` warn of (tasks/work/horizon.py)."""
    from schemas.db import session_scope
    from tasks.work.horizon import plans_past_the_calendar

    with session_scope(config.url) as session:
        past = plans_past_the_calendar(session, as_of, data_dir=config.calendar_dir)
    return [str(p) for p in past]


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

    with session_scope(database_url()) as session:
        rows = rows_of(session)
    if as_json:
        emit_json(rows)
    else:
        table(title, rows, columns)


def settings() -> Settings:
    """The settings; a value that is not valid (DUBAN_SMTP_PORT=abc, say) is BadInput."""
    import tomllib

    from pydantic import ValidationError

    from schemas.settings import Settings, config_file

    try:
        return Settings()
    except ValidationError as exc:
        where = config_file() or "duban.toml"
        problems = "; ".join(
            f"{key} (DUBAN_{key.upper()} or {where}): {e['msg']}"
            for e in exc.errors()
            for key in [".".join(str(p) for p in e["loc"])]
        )
        raise BadInput(f"settings: {problems}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{config_file()}: not valid TOML: {exc}") from None


def at_the_cli(actor: Actor | None = None) -> Actor:
    """Who writes from the command line, as the audit trail records it: the actor resolved
    from `--as` (the office when the command takes none), with the operating system's user
    and the channel cli."""
    import getpass
    from dataclasses import replace

    from schemas.vocabulary import ActorKind, Channel
    from tasks.work.actors import Actor

    return replace(actor or Actor(ActorKind.OFFICE), person=getpass.getuser(), channel=Channel.CLI)


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
