"""Alembic environment: the one SQLModel schema, migrated on whatever URL duban was given."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from schemas import tables  # noqa: F401  (registers the tables)
from schemas.db import FOREIGN_TABLES, engine_for

url = context.config.attributes["url"]


def ours(name: str | None, type_: str, parent_names: object) -> bool:
    """APScheduler keeps its job store in the same database; its table is not ours."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


with engine_for(url).connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=ours,
    )
    with context.begin_transaction():
        context.run_migrations()
