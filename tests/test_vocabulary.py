"""One vocabulary: the database refuses a word outside it, on SQLite and on PostgreSQL, and the
migration that adds the constraints keeps the data of a database made before them."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from duban.web.words import WORDS
from schemas.db import (
    HEAD,
    create_schema,
    engine_for,
    migration_config,
    schema_version,
    session_scope,
)
from schemas.tables import Assignment, JointMeetingSeat
from schemas.vocabulary import (
    CLOSED,
    LIGHT_SEVERITY,
    OPEN,
    SEVERITY,
    WITH_UNIT,
    Action,
    AssignmentState,
    Channel,
    ExtensionState,
    Level,
    Light,
    MessageStatus,
)
from tasks.plans.importer import import_plan

from .conftest import ROOT

IMPORTED = dt.datetime(2019, 7, 1, 9, 0, tzinfo=dt.UTC)

EXAMPLE = ROOT / "docs" / "example-plan.yaml"


def test_the_sets_split_the_states_as_the_spec_says():
    """Written out, not derived: open is everything not finished, the unit owes the open ones
    but the submitted, and the two sets cover every state once."""
    assert set(OPEN) == {"not_started", "in_progress", "submitted", "returned"}
    assert set(CLOSED) == {"accepted", "waived", "cancelled"}
    assert set(WITH_UNIT) == {"not_started", "in_progress", "returned"}
    assert sorted(OPEN + CLOSED) == sorted(AssignmentState)


def test_severity_puts_the_most_severe_highest():
    ladder = ["reminder", "due", "urge", "supervise", "report", "unacknowledged"]
    assert sorted(Level, key=SEVERITY.__getitem__) == ladder
    assert sorted(Light, key=LIGHT_SEVERITY.__getitem__) == ["green", "yellow", "red"]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_word_the_pages_show_from_the_vocabulary_is_translated(language):
    """The audit history, the states and the extension decisions name their members in the
    reader's language, never by the stored word."""
    words = WORDS[language]
    expected = (
        [f"action.{member}" for member in Action]
        + [f"channel.{member}" for member in Channel]
        + [f"state.{member}" for member in AssignmentState]
        + [f"ext.{member}" for member in ExtensionState]
    )
    assert [key for key in expected if key not in words] == []


def test_a_member_is_its_stored_word():
    assert AssignmentState.NOT_STARTED == "not_started"
    assert f"{Level.REPORT}" == str(Level.REPORT) == "report"
    assert {"status": MessageStatus.SENT} == {"status": "sent"}


def _imported(url: str) -> str:
    with session_scope(url) as session:
        import_plan(session, EXAMPLE, at=IMPORTED)
    return url


def _refused(url: str, statement: str) -> None:
    with pytest.raises(IntegrityError), engine_for(url).begin() as connection:
        connection.execute(sa.text(statement))


def test_the_database_refuses_a_word_outside_the_vocabulary(database_url):
    create_schema(database_url)
    _imported(database_url)
    _refused(database_url, "UPDATE assignment SET state = 'finished'")
    _refused(database_url, "UPDATE assignment SET role = 'helper'")
    _refused(database_url, "UPDATE jointmeetingseat SET role = 'chair'")
    _refused(
        database_url,
        "INSERT INTO outboxmessage (kind, recipient_code, sender, subject, "
        "message_id_header, status, attempts, created_at) VALUES ('notice', 'x', 'a@b.c', "
        "'s', '<1@b.c>', 'lost', 0, '2019-08-01 00:00:00')",
    )
    with session_scope(database_url) as session:  # nothing was changed by the refusals
        states = set(session.exec(select(Assignment.state)))
        roles = set(session.exec(select(JointMeetingSeat.role)))
    assert states == {"not_started"}
    assert roles <= {"convener", "vice_convener", "member", "office", "leadership"}


def test_every_vocabulary_constraint_of_the_models_is_in_the_migrated_database(database_url):
    create_schema(database_url)
    inspector = sa.inspect(engine_for(database_url))
    for table in SQLModel.metadata.sorted_tables:
        wanted = {
            c.name: str(c.sqltext) for c in table.constraints if isinstance(c, sa.CheckConstraint)
        }
        found = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)}
        assert set(found) == set(wanted), table.name
        for name, text in wanted.items():  # every allowed word, and no other, in the database
            words = set(text.split("'")[1::2])
            assert set(found[name].split("'")[1::2]) == words, name


def test_the_migration_keeps_the_data_of_a_database_made_before_it(database_url):
    """A plan imported, the database taken back to the first schema (today's importer writes
    what that schema cannot hold, so it is made here, not there), and brought forward again."""
    config = migration_config(database_url)
    create_schema(database_url)
    _imported(database_url)
    with engine_for(database_url).begin() as connection:  # words the first schema did not know
        connection.execute(sa.text("DELETE FROM auditevent"))
    command.downgrade(config, "0001")
    rows = "SELECT id, task_id, unit_id, role, state, due FROM assignment ORDER BY id"
    with engine_for(database_url).connect() as connection:
        before = connection.execute(sa.text(rows)).all()
    command.upgrade(config, "head")
    assert schema_version(database_url) == HEAD
    with engine_for(database_url).connect() as connection:
        assert connection.execute(sa.text(rows)).all() == before and before
    _refused(database_url, "UPDATE assignment SET state = 'finished'")

    command.downgrade(config, "0001")  # and back: the constraints go, the data stays
    with engine_for(database_url).begin() as connection:
        connection.execute(sa.text("UPDATE assignment SET state = 'finished' WHERE id = 1"))
        connection.execute(sa.text("UPDATE assignment SET state = 'not_started' WHERE id = 1"))
    command.upgrade(config, "head")
    with engine_for(database_url).connect() as connection:
        assert connection.execute(sa.text(rows)).all() == before
