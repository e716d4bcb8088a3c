"""`duban doctor`: which installation this folder uses, and whether everything it needs answers.

Each check says what it found in one line. The database, the calendar data for this year, the
mail transport and (when PREFECT_API_URL names one) the Prefect server are required: when one
of them is broken the command exits non-zero. Nothing is created or changed, not even the
database file a missing SQLite database would otherwise become.
"""

import datetime as dt
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from duban.app import (
    JsonFlag,
    app,
    calendar_warnings,
    emit_json,
    parse_date,
    settings,
)
from duban.errors import EnvironmentProblem

if TYPE_CHECKING:
    from schemas.settings import Settings

TIMEOUT = 5.0  # seconds to wait for the database, the SMTP server or the Prefect server


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


@app.command()
def doctor(
    as_json: JsonFlag = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The day to check the calendar horizon for, YYYY-MM-DD (default: today).",
        ),
    ] = None,
) -> None:
    """Check this installation: settings, database and its migration level, calendar data,
    mail transport, Prefect server. Exits 6 when something required is broken."""
    from calendars.clock import today
    from schemas.settings import config_file

    config = settings()
    day = parse_date(as_of, "--as-of") if as_of else today()
    found = config_file()
    database = _database(config.url)
    checks = [
        _settings_file(found),
        database,
        _calendar(config.calendar_dir, day.year),
        *([_horizon(config, day)] if database.ok else []),
        _mail(config),
    ]
    if api := os.environ.get("PREFECT_API_URL"):
        checks.append(_prefect(api))
    broken = [c.name for c in checks if c.required and not c.ok]
    if as_json:
        emit_json(
            {
                "ok": not broken,
                "config_file": str(found) if found else None,
                "home": str(config.home.resolve()),
                "database": _masked(config.url),
                "settings": _shown_settings(config),
                "checks": [asdict(c) for c in checks],
            }
        )
    else:
        typer.echo(f"duban.toml: {found or 'none (defaults and DUBAN_* environment)'}")
        typer.echo(f"home:       {config.home.resolve()}")
        for key, value in _shown_settings(config).items():
            typer.echo(f"  {key} = {value}")
        for check in checks:
            mark = "ok  " if check.ok else "FAIL" if check.required else "warn"
            typer.echo(f"{mark} {check.name}: {check.detail}")
    if broken:
        raise typer.Exit(EnvironmentProblem.exit_code)


def _shown_settings(config: "Settings") -> dict[str, Any]:
    """Every setting as it is in effect; the SMTP password and database password masked."""
    shown = config.model_dump(mode="json")
    shown["evidence_folder"] = str(config.evidence_dir)
    shown["evidence_from"] = [str(p) for p in config.evidence_from] or "anywhere (not restricted)"
    if config.database_url is not None:
        shown["database_url"] = _masked(config.database_url)
    return shown


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _settings_file(found: Path | None) -> Check:
    from schemas.settings import secrets_in_file

    if found is None:
        return Check("settings", True, "no duban.toml at or above this folder", required=False)
    ignored = secrets_in_file(found)
    if ignored:
        instead = " / ".join(f"DUBAN_{name.upper()}" for name in ignored)
        detail = f"{found}: {', '.join(ignored)} ignored; set {instead} instead"
        return Check("settings", False, detail, required=False)
    return Check("settings", True, str(found), required=False)


def _database(url: str) -> Check:
    from schemas.db import HEAD, engine_for, require_database, schema_version

    where = _masked(url)
    try:
        require_database(url)
        with engine_for(url).connect():
            pass
    except EnvironmentProblem as exc:  # no such file, or the server refuses (host named)
        return Check("database", False, str(exc))
    level = schema_version(url)
    if level is None:
        return Check("database", False, f"{where}: no tables (run `duban init`)")
    state = "at head" if level == HEAD else f"behind head {HEAD}: the next command upgrades it"
    return Check("database", True, f"{where}: migration {level}, {state}")


def _calendar(data_dir: Path | None, this_year: int) -> Check:
    from calendars.workdays import CalendarError, load_calendar

    try:
        years = load_calendar("cn", data_dir=data_dir).years
    except CalendarError as exc:
        return Check("calendar", False, str(exc))
    source = data_dir or "bundled data"
    detail = f"working-day data {years[0]}–{years[-1]} ({source}); the horizon is {years[-1]}"
    if this_year not in years:
        return Check("calendar", False, f"{detail}, but not {this_year}: add its data file")
    return Check("calendar", True, detail)


def _horizon(config: "Settings", day: dt.date) -> Check:
    """Open plans that run past the calendar data: a warning 30 working days ahead."""
    if past := calendar_warnings(config, day):
        return Check("calendar horizon", False, "; ".join(past), required=False)
    return Check("calendar horizon", True, "no open plan runs past the data", required=False)


def _mail(config: "Settings") -> Check:
    from tasks.sweep.delivery import where_mail_goes

    where = where_mail_goes(config)
    if config.smtp_host is None:
        folder = config.outbox_dir.resolve()
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        if existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
            return Check("mail", True, f"{where}: writable")
        return Check("mail", False, f"{where}: {existing} is not writable")
    try:
        socket.create_connection((config.smtp_host, config.smtp_port), timeout=TIMEOUT).close()
    except OSError as exc:
        return Check("mail", False, f"{where}: cannot connect: {exc.strerror or exc}")
    return Check("mail", True, f"{where}: reachable")


def _prefect(api: str) -> Check:
    import httpx

    try:
        answer = httpx.get(f"{api.rstrip('/')}/health", timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return Check("prefect", False, f"{api}: no answer: {exc}")
    if answer.status_code != 200:
        return Check("prefect", False, f"{api}/health answered {answer.status_code}")
    return Check("prefect", True, f"{api}: healthy")
