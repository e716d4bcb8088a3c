"""Alembic environment: the one SQLModel schema, migrated on whatever URL duban was given."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from schemas import tables  # noqa: F401  (registers the tables)
from schemas.db import engine_for

url = context.config.attributes["url"]

with engine_for(url).connect() as connection:
    context.configure(connection=connection, target_metadata=SQLModel.metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
