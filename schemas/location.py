"""Where an installation is: its `duban.toml`, its home, its database and calendar folder.

Split from `schemas.settings` so that a read-only command can find its database without
building the whole Settings model: pydantic-settings takes a good share of a cold start, and
`duban plans` needs three values of the thirty. `location()` reads those three from the same
sources in the same order as `Settings` (DUBAN_* variables first, then the file; a relative
path in the file read beside it); a test holds the two to agreeing.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

from duban.errors import BadInput

CONFIG_NAME = "duban.toml"
ENVIRONMENT_ONLY = frozenset({"smtp_password", "secret_key", "audit_key"})
RELATIVE_PATHS = ("home", "calendar_dir", "evidence_folder")
PREFIX = "DUBAN_"
NOT_A_URL = "not a database URL (sqlite:///path or postgresql+psycopg://…)"


def config_file(start: Path | None = None) -> Path | None:
    """The `duban.toml` in use: the nearest one at or above DUBAN_HOME (else `start`, by
    default the current folder), or None."""
    if start is None:
        home = os.environ.get("DUBAN_HOME")
        start = Path(home) if home else Path.cwd()
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def config_values(path: Path | None = None) -> dict[str, Any]:
    """The settings the file gives, relative paths made absolute, secrets left out."""
    path = path or config_file()
    if path is None:
        return {}
    with path.open("rb") as handle:
        values = {k: v for k, v in tomllib.load(handle).items() if k not in ENVIRONMENT_ONLY}
    values.setdefault("home", ".duban")
    for key in RELATIVE_PATHS:
        if isinstance(values.get(key), str):
            values[key] = path.parent / values[key]
    return values


def default_url(home: Path) -> str:
    """The embedded default: a SQLite file in the home."""
    return f"sqlite:///{home / 'duban.db'}"


def checked_url(url: str) -> str:
    """`url` if SQLAlchemy can read it; ValueError otherwise."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except ArgumentError:
        raise ValueError(NOT_A_URL) from None
    return url


class Location(NamedTuple):
    url: str
    calendar_dir: Path | None


def location() -> Location:
    """The database URL and the calendar folder, as `Settings` would give them.

    Variables are matched without regard to case, as pydantic-settings matches them. A bad
    database URL is BadInput naming the setting; a file that is not TOML raises
    tomllib.TOMLDecodeError, as `Settings()` does."""
    given = {
        name[len(PREFIX) :].lower(): value
        for name, value in os.environ.items()
        if name.upper().startswith(PREFIX)
    }
    found = config_values()

    def value(key: str) -> Any:
        return given[key] if key in given else found.get(key)

    home = value("home")
    home = Path(".duban" if home is None else home).expanduser().resolve()
    url = value("database_url")
    if url is not None:
        try:
            checked_url(str(url))
        except ValueError as exc:
            where = config_file() or CONFIG_NAME
            raise BadInput(
                f"settings: database_url (DUBAN_DATABASE_URL or {where}): {exc}"
            ) from None
    folder = value("calendar_dir")
    return Location(
        str(url) if url else default_url(home), None if folder is None else Path(folder)
    )
