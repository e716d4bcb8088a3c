"""Commands about time: deadline expressions, the working calendar, working-day arithmetic."""

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer import _click  # the click typer vendors: its Context is the one TyperGroup takes
from typer.core import TyperGroup

from duban.app import JsonFlag, app, calendar_dir, emit_json, fail, parse_date

if TYPE_CHECKING:
    from calendars.workdays import DayInfo


@app.command()
def due(
    expression: Annotated[str, typer.Argument(help='A deadline as written, e.g. "2019年9月前".')],
    year: Annotated[int | None, typer.Option(help="Year for forms without one.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Read a deadline expression (完成时限) and print what it means."""
    from calendars.deadlines import parse_deadline

    deadline = parse_deadline(expression, year=year)
    if as_json:
        emit_json(deadline.as_json())
        return
    for key, value in deadline.as_json().items():
        if value not in (None, []):
            typer.echo(f"{key:>6}: {', '.join(value) if isinstance(value, list) else value}")


class _ShowByDefault(TyperGroup):
    """`duban calendar 2020` keeps meaning `duban calendar show 2020`: anything that is not a
    subcommand's name is the year to show."""

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


calendar_app = typer.Typer(
    cls=_ShowByDefault,
    help="The working calendar: show a year, or add next year's from the State Council's notice.",
    no_args_is_help=True,
)
app.add_typer(calendar_app, name="calendar")


@calendar_app.command("show")
def calendar(
    year: Annotated[int, typer.Argument(help="The year to show.")],
    month: Annotated[int | None, typer.Option(min=1, max=12, help="Only this month.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the working calendar: holidays (休) and make-up working days (班)."""
    from calendars.workdays import load_calendar

    cal = load_calendar(data_dir=calendar_dir())
    first = dt.date(year, month or 1, 1)
    last = dt.date(year, month or 12, 1)
    last = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    infos = [cal.day_info(d) for d in days]
    if as_json:
        emit_json([i.as_json() for i in infos])
        return
    _grid(year, month, infos)


@calendar_app.command("add-notice")
def add_notice(
    notice: Annotated[
        Path,
        typer.Argument(
            help="The notice's text as published (国务院办公厅关于YYYY年部分节假日安排的通知)."
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Write without asking.")] = False,
) -> None:
    """Read next year's holiday notice into its calendar data file: checked, shown, confirmed."""
    from calendars.notices import install, preview, read_notice
    from calendars.workdays import DATA_DIR

    try:
        text = notice.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{notice}: {getattr(exc, 'strerror', None) or exc}")
    year = read_notice(text)
    cal = preview(year)
    days = [dt.date(year.year, 1, 1) + dt.timedelta(days=i) for i in range(366)]
    _grid(year.year, None, [cal.day_info(d) for d in days if d.year == year.year])
    folder = (calendar_dir() or DATA_DIR) / "cn"
    typer.echo(f"{len(year.holidays)} holidays, {len(year.makeups)} make-up working days")
    if not yes and not typer.confirm(f"Write {folder / f'{year.year}.toml'}?"):
        fail("nothing written")
    typer.echo(f"wrote {install(year, folder)}")


def _grid(year: int, month: int | None, infos: "list[DayInfo]") -> None:
    from duban.terminal import month_grid

    for m in range(month or 1, (month or 12) + 1):
        month_grid(year, m, [i for i in infos if i.date.month == m])


@app.command()
def workdays(
    start: Annotated[str, typer.Argument(help="A date, YYYY-MM-DD.")],
    end: Annotated[str | None, typer.Argument(help="Count working days from START to END.")] = None,
    plus: Annotated[int | None, typer.Option(help="The Nth working day after START.")] = None,
    minus: Annotated[int | None, typer.Option(help="The Nth working day before START.")] = None,
) -> None:
    """Working-day arithmetic on the mainland calendar."""
    from calendars.workdays import load_calendar

    given = [x is not None for x in (end, plus, minus)]
    if sum(given) != 1:
        fail("give exactly one of END, --plus N or --minus N")
    day = parse_date(start, "START")
    cal = load_calendar(data_dir=calendar_dir())
    if end is not None:
        typer.echo(cal.workdays_between(day, parse_date(end, "END")))
    else:
        n = plus if plus is not None else -(minus or 0)
        typer.echo(cal.add_workdays(day, n).isoformat())
