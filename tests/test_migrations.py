"""Schema changes go through migrations: the migrated database matches the models exactly."""

from __future__ import annotations

import logging

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
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
    command.upgrade(migration_config(database_url), "head")  # every step, not a new database's
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


def test_a_new_database_is_made_in_one_step_as_the_migrations_make_it(database_url):
    """A database with none of our tables is made at the current schema directly: the same
    tables, columns, keys, indexes, checks and rows (the audit trail's head) as the migrations
    make step by step, and stamped at the newest migration."""
    command.upgrade(migration_config(database_url), "head")
    migrated = database_shape(database_url)
    with engine_for(database_url).begin() as connection:
        SQLModel.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE alembic_version"))
    assert schema_version(database_url) is None

    create_schema(database_url)

    assert schema_version(database_url) == HEAD
    made = database_shape(database_url)
    assert made.keys() == migrated.keys()
    for table in migrated:
        assert made[table] == migrated[table], table


def test_a_new_database_replays_no_migration_and_an_older_one_the_ones_it_lacks(
    database_url, caplog
):
    caplog.set_level(logging.INFO, logger="alembic.runtime.migration")
    create_schema(database_url)
    assert upgrades_run(caplog) == []
    command.downgrade(migration_config(database_url), "0010")
    caplog.clear()
    create_schema(database_url)
    assert [step.split(",")[0] for step in upgrades_run(caplog)] == ["upgrade 0010 -> 0011"]
    assert schema_version(database_url) == HEAD


def test_a_new_database_interrupted_while_it_is_made_is_left_as_it_was(database_url, monkeypatch):
    """Made in one transaction on SQLite too (its driver commits each CREATE TABLE on its own
    unless told otherwise): a process that dies before the version is stamped leaves no table
    behind, and the next one makes the database from the start, not half of it."""

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt  # as a process stopped while it stamps the version

    with monkeypatch.context() as patched:
        patched.setattr(MigrationContext, "stamp", interrupted)
        with pytest.raises(KeyboardInterrupt):
            create_schema(database_url)
    with engine_for(database_url).connect() as connection:
        assert inspect(connection).get_table_names() == []
    create_schema(database_url)
    assert schema_version(database_url) == HEAD


def upgrades_run(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage().removeprefix("Running ")
        for r in caplog.records
        if r.getMessage().startswith("Running upgrade")
    ]


def test_a_database_holding_only_schedulers_jobs_is_still_a_new_one(database_url, caplog):
    """`duban serve` keeps APScheduler's job table in the same database; with nothing of ours
    beside it the schema is made in one step, and the job table is left as it was."""
    with engine_for(database_url).begin() as connection:
        connection.execute(text("CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY)"))
        connection.execute(text("INSERT INTO apscheduler_jobs (id) VALUES ('deadline sweep')"))
    caplog.set_level(logging.INFO, logger="alembic.runtime.migration")
    create_schema(database_url)
    assert upgrades_run(caplog) == []
    assert schema_version(database_url) == HEAD
    with engine_for(database_url).connect() as connection:
        assert connection.execute(text("SELECT id FROM apscheduler_jobs")).scalars().all() == [
            "deadline sweep"
        ]
        assert connection.execute(text("SELECT last_id FROM audithead")).scalars().all() == [0]


def database_shape(url: str) -> dict[str, dict[str, object]]:
    """Each table's columns, keys, indexes, checks and rows, as the database reports them
    (order-free: a migration adds a column after the others, a new table has it in place).
    SQLite's unnamed unique constraints go by the convention the migrations find them with
    (0008: once a migration has rebuilt a table, it carries that name)."""
    with engine_for(url).connect() as connection:
        found = inspect(connection)
        shape: dict[str, dict[str, object]] = {}
        for table in found.get_table_names():
            rows = connection.execute(text(f"SELECT * FROM {table}")).mappings().all()
            shape[table] = {
                "columns": {
                    c["name"]: (str(c["type"]), c["nullable"], c.get("default"))
                    for c in found.get_columns(table)
                },
                "primary key": found.get_pk_constraint(table)["constrained_columns"],
                "foreign keys": sorted(
                    (tuple(k["constrained_columns"]), k["referred_table"], k["name"] or "")
                    for k in found.get_foreign_keys(table)
                ),
                "indexes": sorted(
                    (i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                    for i in found.get_indexes(table)
                ),
                "unique": sorted(
                    (u["name"] or f"uq_{table}_{u['column_names'][0]}", tuple(u["column_names"]))
                    for u in found.get_unique_constraints(table)
                ),
                "checks": sorted(
                    (k["name"] or "", " ".join(k["sqltext"].split()))
                    for k in found.get_check_constraints(table)
                ),
                "rows": sorted(map(repr, map(dict, rows)) if table != "alembic_version" else []),
            }
    return shape


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
