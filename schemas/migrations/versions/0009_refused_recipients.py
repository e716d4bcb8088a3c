"""mail that is never lost: refused recipients per message; the 通知未能送达 letter kind

A partial refusal (one recipient 450 or 550, the others 250) is recorded per recipient on the
message, so a temporary one is retried for that recipient only and a permanent one is kept
and reported instead of the message passing for delivered. A letter the outbox gave up on, or
a recipient refused for good, is told to the office in a letter of the new kind "undelivered".

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

KINDS_BEFORE = ("notice", "digest", "review", "followup")
KINDS = (*KINDS_BEFORE, "undelivered")


def _in(column: str, words: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(word) for word in words)})"


def upgrade() -> None:
    with op.batch_alter_table("outboxmessage") as batch:
        batch.add_column(sa.Column("refused", sa.JSON(), nullable=True))
        batch.drop_constraint("ck_outboxmessage_kind", type_="check")
        batch.create_check_constraint("ck_outboxmessage_kind", _in("kind", KINDS))


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage") as batch:
        batch.drop_constraint("ck_outboxmessage_kind", type_="check")
        batch.create_check_constraint("ck_outboxmessage_kind", _in("kind", KINDS_BEFORE))
        batch.drop_column("refused")
