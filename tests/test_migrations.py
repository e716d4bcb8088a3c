"""Schema changes go through migrations: the migrated database matches the models exactly."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

from schemas.db import (
    FOREIGN_TABLES,
    HEAD,
    SchemaAhead,
    create_schema,
    engine_for,
    migration_config,
    schema_version,
)


def test_the_migrations_build_exactly_the_models_schema(database_url):
    create_schema(database_url)
    with engine_for(database_url).connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _: (
                    not (kind == "table" and name in FOREIGN_TABLES)
                ),
            },
        )
        assert compare_metadata(context, SQLModel.metadata) == [], (
            "the models changed without a migration: add one under schemas/migrations/versions"
        )


def test_head_names_the_newest_migration(sqlite_url):
    scripts = ScriptDirectory.from_config(migration_config(sqlite_url))
    assert scripts.get_current_head() == HEAD


def test_creating_the_schema_twice_is_a_no_op(database_url):
    create_schema(database_url)
    create_schema(database_url)
    assert schema_version(database_url) == HEAD


def test_a_database_migrated_by_a_newer_duban_is_refused_not_touched(database_url):
    create_schema(database_url)
    newer = f"{int(HEAD) + 1:04d}"
    with engine_for(database_url).begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": newer})
    with pytest.raises(SchemaAhead) as refused:
        create_schema(database_url)
    assert str(refused.value) == (
        f"the database is at migration {newer}, newer than this duban knows ({HEAD}): "
        "install the duban version that migrated it here"
    )
    assert schema_version(database_url) == newer


def test_letters_written_before_their_bodies_moved_keep_their_text_and_html(database_url):
    """0011 moved a letter's text and HTML out of its outbox row: a letter waiting in an
    outbox at 0010 is sent after the upgrade with the same words, and a downgrade puts them back."""
    config = migration_config(database_url)
    command.upgrade(config, "0010")
    letter = {"text": "请办理", "html": "<p>请办理</p>"}
    with engine_for(database_url).begin() as connection:
        connection.execute(
            text(
                "INSERT INTO outboxmessage (kind, recipient_code, sender, subject, text, html, "
                "message_id_header, status, attempts, created_at) VALUES ('notice', 'na', "
                "'a@b.c', '督办单', :text, :html, '<1@b.c>', 'pending', 0, '2019-08-01')"
            ),
            letter,
        )
    create_schema(database_url)
    with engine_for(database_url).connect() as connection:
        moved = connection.execute(text("SELECT text, html FROM messagebody")).one()
    command.downgrade(config, "0010")
    with engine_for(database_url).connect() as connection:
        back = connection.execute(text("SELECT text, html FROM outboxmessage")).one()
    assert moved._asdict() == letter and back._asdict() == letter
