"""Commands about time: deadline expressions, the working calendar, working-day arithmetic."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from duban.app import JsonFlag, app, calendar_dir, emit_json, fail, parse_date


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


@app.command()
def calendar(
    year: Annotated[int, typer.Argument(help="The year to show.")],
    month: Annotated[int | None, typer.Option(min=1, max=12, help="Only this month.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the working calendar: holidays (休) and make-up working days (班)."""
    from calendars.workdays import load_calendar
    from duban.terminal import month_grid

    cal = load_calendar(data_dir=calendar_dir())
    first = dt.date(year, month or 1, 1)
    last = dt.date(year, month or 12, 1)
    last = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    infos = [cal.day_info(d) for d in days]
    if as_json:
        emit_json(
            [
                {
                    "date": i.date.isoformat(),
                    "workday": i.workday,
                    "holiday": i.holiday,
                    "makeup": i.makeup,
                }
                for i in infos
            ]
        )
        return
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
