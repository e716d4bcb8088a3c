"""Where an installation is: duban.toml found by walking up, a database that is not there is
said to be missing (never created to be read), and the SMTP password kept a secret."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from schemas.settings import Settings, config_file

from .conftest import PLANS

MARKER = "pw-never-shown-4711"

READ_COMMANDS = [
    ["plans"],
    ["show", "x"],
    ["tasks", "--unit", "x"],
    ["graph", "x"],
    ["recalc", "x"],
    ["lint", "x"],
    ["review", "x"],
    ["ranking", "x"],
    ["outbox"],
    ["receipts"],
    ["escalations", "x"],
    ["extensions", "x"],
    ["history", "x", "t1"],
    ["sheet", "x", "1", "--out", "sheet.html"],
    ["ack", "DB0000000000", "--as", "office"],
    ["progress", "x", "t1", "--as", "office", "--note", "n"],
    ["sweep", "--as-of", "2019-08-01"],
    ["deliver"],
    ["digest", "x"],
]


def duban(*args: str):  # type: ignore[no-untyped-def]
    from duban.cli import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_a_command_on_a_database_that_does_not_exist_says_so_and_creates_nothing(here, command):
    result = duban(*command)
    assert result.exit_code == 6, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: no database at ")
    assert str(here / ".duban" / "duban.db") in result.stderr
    assert not (here / ".duban").exists()


def test_init_and_import_create_the_database(here):
    assert duban("init").exit_code == 0
    assert (here / ".duban" / "duban.db").exists()
    imported = duban("import", str(PLANS / "chongqing-2019-pilot.yaml"))
    assert imported.exit_code == 0 and "cq-2019-pilot" in duban("plans").stdout


def test_duban_toml_is_found_from_a_subfolder_and_its_paths_read_beside_it(here, monkeypatch):
    (here / "duban.toml").write_text('actor = "office"\ncalendar_dir = "cal"\n')
    deeper = here / "reports" / "2019"
    deeper.mkdir(parents=True)
    monkeypatch.chdir(deeper)
    settings = Settings()
    assert config_file() == here / "duban.toml"
    assert settings.actor == "office" and settings.calendar_dir == here / "cal"
    assert settings.home == here / ".duban"  # the installation's home, not ./.duban here
    assert settings.url == f"sqlite:///{here / '.duban' / 'duban.db'}"


def test_a_subfolder_of_an_installation_reads_its_database(here, monkeypatch):
    (here / "duban.toml").write_text("")
    assert duban("import", str(PLANS / "chongqing-2019-pilot.yaml")).exit_code == 0
    (here / "elsewhere").mkdir()
    monkeypatch.chdir(here / "elsewhere")
    assert "cq-2019-pilot" in duban("plans").stdout
    assert not (here / "elsewhere" / ".duban").exists()


def test_with_duban_home_the_toml_is_looked_for_from_there_not_from_here(here, monkeypatch):
    site = here / "srv" / "duban"
    (site / ".duban").mkdir(parents=True)
    (site / "duban.toml").write_text('actor = "leadership"\n')
    (here / "duban.toml").write_text('actor = "office"\n')
    monkeypatch.setenv("DUBAN_HOME", str(site / ".duban"))
    assert config_file() == site / "duban.toml"
    assert Settings().actor == "leadership" and Settings().home == site / ".duban"


def test_the_smtp_password_comes_from_the_environment_only_and_never_shows(here, monkeypatch):
    (here / "duban.toml").write_text('smtp_host = "mail.example.org"\nsmtp_password = "x"\n')
    assert Settings().smtp_password is None  # the file's password is ignored
    monkeypatch.setenv("DUBAN_SMTP_PASSWORD", MARKER)
    settings = Settings()
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == MARKER
    assert MARKER not in repr(settings) and MARKER not in str(settings)
    assert MARKER not in settings.model_dump_json()


# (duban.toml, DUBAN_* variables): the installations a read-only command must find as the full
# settings do, from the few values it reads without building them (schemas.location)
WHERE = [
    ("", {}),
    ('home = "var/duban"\ncalendar_dir = "cal"\n', {}),
    ('database_url = "sqlite:////srv/file.db"\n', {}),
    ('database_url = "sqlite:////srv/file.db"\n', {"DUBAN_DATABASE_URL": "sqlite:////srv/env.db"}),
    ('home = "var/duban"\n', {"DUBAN_HOME": "elsewhere"}),
    (None, {"duban_home": "lower-case", "DUBAN_CALENDAR_DIR": "/srv/calendars"}),
    (None, {"DUBAN_DATABASE_URL": "postgresql+psycopg://duban@db/duban"}),
]


@pytest.mark.parametrize(("toml", "env"), WHERE)
def test_a_read_only_command_finds_the_installation_the_settings_describe(
    here, monkeypatch, toml, env
):
    from schemas.location import location

    if toml is not None:
        (here / "duban.toml").write_text(toml)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert location() == (settings.url, settings.calendar_dir)
