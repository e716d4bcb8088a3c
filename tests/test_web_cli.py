"""`duban users` and the operator recorded beside `--as` when the CLI writes."""

from __future__ import annotations

import getpass
import json

from sqlmodel import select

from schemas.db import session_scope
from schemas.tables import Account, AuditEvent

from .conftest import ROOT

EXAMPLE = str(ROOT / "docs" / "example-plan.yaml")


def test_users_add_list_disable_reset(duban, database_url):
    assert duban("init").exit_code == 0  # only init, import and demo make a database
    added = duban(
        "users", "add", "nanan", "--role", "liaison", "--unit", "na", "--password", "pw-long-enough"
    )
    assert added.exit_code == 0, added.output
    assert (
        duban("users", "add", "x", "--role", "king", "--password", "pw-long-enough").exit_code == 2
    )
    assert duban("users", "add", "y", "--role", "office", "--password", "short").exit_code == 2
    listed = json.loads(duban("users", "list", "--json").output)
    assert [(u["username"], u["role"], u["unit"], u["active"]) for u in listed] == [
        ("nanan", "liaison", "na", True)
    ]
    assert "pw-long-enough" not in duban("users", "list").output
    assert duban("users", "disable", "nanan").exit_code == 0
    assert duban("users", "disable", "ghost").exit_code == 4
    with session_scope(database_url) as session:
        account = session.exec(select(Account)).one()
        assert not account.active and account.session_version == 2
        assert account.password_hash.startswith("$argon2")
    assert duban("users", "reset", "nanan", "--password", "another-long-pw").exit_code == 0
    with session_scope(database_url) as session:
        assert session.exec(select(Account)).one().active
        event = session.exec(select(AuditEvent)).one()  # the reset, without the password
        assert (event.action, event.unit_code, event.after) == (
            "reset_password",
            "na",
            {"account": "nanan"},
        )
        assert (event.person, event.channel) == (getpass.getuser(), "cli")


def test_a_cli_write_records_the_operating_system_user_and_the_channel(duban, database_url):
    duban("import", EXAMPLE)
    done = duban(
        "progress", "example-2019", "t1", "--note", "起草中", "--as", "whc", "--as-of", "2019-07-10"
    )
    assert done.exit_code == 0, done.output
    with session_scope(database_url) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "progress")).one()
    assert (event.person, event.channel) == (getpass.getuser(), "cli")
    assert duban("audit", "verify").exit_code == 0
