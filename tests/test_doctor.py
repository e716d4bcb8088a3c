"""`duban doctor`: the installation in use, and whether what it needs answers."""

from __future__ import annotations

import json

from duban.serve import free_port
from schemas.db import HEAD

from .test_settings import MARKER, duban


def checks(result) -> dict[str, dict]:  # type: ignore[no-untyped-def, type-arg]
    return {c["name"]: c for c in json.loads(result.stdout)["checks"]}


def test_a_healthy_installation_passes_and_says_where_everything_is(here):
    assert duban("init").exit_code == 0
    result = duban("doctor", "--json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["config_file"] is None
    assert report["home"] == str(here / ".duban")
    assert report["database"] == f"sqlite:///{here / '.duban' / 'duban.db'}"
    found = checks(result)
    assert f"migration {HEAD}, at head" in found["database"]["detail"]
    assert found["calendar"]["ok"] and "the horizon is 20" in found["calendar"]["detail"]
    assert found["calendar horizon"]["ok"] and not found["calendar horizon"]["required"]
    assert found["mail"]["ok"] and "writable" in found["mail"]["detail"]
    assert "prefect" not in found  # PREFECT_API_URL is not set in the tests
    text = duban("doctor")
    assert text.exit_code == 0 and "ok   database: sqlite:///" in text.stdout


def test_a_missing_database_fails_and_is_not_created(here):
    result = duban("doctor", "--json")
    assert result.exit_code == 6
    database = checks(result)["database"]
    assert not database["ok"] and database["detail"].startswith("no database at ")
    assert not (here / ".duban").exists()


def test_unreachable_mail_and_prefect_fail_and_no_password_is_printed(here, monkeypatch):
    assert duban("init").exit_code == 0
    port = free_port()
    monkeypatch.setenv("DUBAN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DUBAN_SMTP_PORT", str(port))
    monkeypatch.setenv("DUBAN_SMTP_PASSWORD", MARKER)
    monkeypatch.setenv("DUBAN_DATABASE_URL", f"sqlite:///{here / '.duban' / 'duban.db'}")
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    (here / "duban.toml").write_text('smtp_password = "in-a-file"\n')
    result = duban("doctor", "--json")
    assert result.exit_code == 6
    found = checks(result)
    assert (
        not found["mail"]["ok"]
        and f"SMTP 127.0.0.1:{port}: cannot connect" in (found["mail"]["detail"])
    )
    assert not found["prefect"]["ok"]
    assert not found["settings"]["ok"] and not found["settings"]["required"]
    assert "smtp_password ignored" in found["settings"]["detail"]
    assert json.loads(result.stdout)["settings"]["smtp_password"] == "**********"
    assert MARKER not in result.stdout and MARKER not in duban("doctor").stdout


def test_the_database_password_is_masked_and_an_unreachable_server_named(here, monkeypatch):
    url = f"postgresql+psycopg://duban:{MARKER}@127.0.0.1:{free_port()}/duban"
    monkeypatch.setenv("DUBAN_DATABASE_URL", url)
    result = duban("doctor", "--json")
    assert result.exit_code == 6 and MARKER not in result.stdout
    assert json.loads(result.stdout)["database"].startswith("postgresql+psycopg://duban:***@")
    assert "cannot use the database" in checks(result)["database"]["detail"]
