"""Alembic environment: the one SQLModel schema, migrated on whatever URL duban was given."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from schemas import tables  # noqa: F401  (registers the tables)
from schemas.db import FOREIGN_TABLES, engine_for

url = context.config.attributes["url"]


def ours(name: str | None, type_: str, parent_names: object) -> bool:
    """APScheduler keeps its job store in the same database; its table is not ours."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def foreign_keys(connection: Connection, on: bool) -> None:
    """SQLite changes a table by copying it and dropping the old one, which its foreign keys
    refuse while other tables refer to it: they are off while migrating (the switch works only
    outside a transaction) and checked before they are on again."""
    if connection.dialect.name != "sqlite":
        return
    if on:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


with engine_for(url).connect() as connection:
    foreign_keys(connection, on=False)
    try:
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            render_as_batch=True,
            compare_type=True,
            include_name=ours,
        )
        with context.begin_transaction():
            context.run_migrations()
    finally:
        foreign_keys(connection, on=True)
