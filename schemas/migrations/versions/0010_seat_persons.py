"""persons in the joint meeting: who holds a seat (召集人 副市长 张三; a unit's 成员) and the
liaison's title

The convener and vice-conveners are people holding posts in units, and every member unit sends
a member (成员) beside its liaison officer (联络员); the seat keeps the person's name and post
and the liaison's title, so `duban show` and the web pages can print the roster.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = ("person_name", "person_title", "liaison_title")


def upgrade() -> None:
    with op.batch_alter_table("jointmeetingseat") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jointmeetingseat") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
