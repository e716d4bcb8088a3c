"""refused recipients: what a server refused of a message while it took it for the others

A partial refusal (one recipient 450 or 550, the others 250) is recorded per recipient on the
message, so a temporary one is retried for that recipient only and a permanent one is kept
and reported instead of the message passing for delivered.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outboxmessage") as batch:
        batch.add_column(sa.Column("refused", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage") as batch:
        batch.drop_column("refused")
