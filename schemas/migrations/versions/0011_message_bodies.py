"""message bodies apart: a letter's text and HTML in a table of their own

Claiming a message and recording its outcome update its row, and SQLite writes an updated row
whole: with hundreds of KB of letter in the row, every claim and every settle rewrote them.
The text and HTML move to `messagebody`, one row per message, written with it and only read.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = ("text", "html")


def upgrade() -> None:
    op.create_table(
        "messagebody",
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("outboxmessage.id"), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("html", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.execute(
        "INSERT INTO messagebody (message_id, text, html) SELECT id, text, html FROM outboxmessage"
    )
    with op.batch_alter_table("outboxmessage") as batch:
        for name in COLUMNS:
            batch.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(), nullable=True))
    for name in COLUMNS:
        op.execute(
            f"UPDATE outboxmessage SET {name} = (SELECT {name} FROM messagebody"
            " WHERE messagebody.message_id = outboxmessage.id)"
        )
    with op.batch_alter_table("outboxmessage") as batch:
        for name in COLUMNS:
            batch.alter_column(name, existing_type=sa.String(), nullable=False)
    op.drop_table("messagebody")
