"""follow-ups: the decisions on a unit's work that its next letter tells it of

The words are spelled out here, as in 0002 and 0003: a follow-up's event and the channel the
decision came through.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

EVENTS = (
    "returned",
    "accepted",
    "extension_approved",
    "extension_denied",
    "reassigned_away",
    "reassigned_to",
)
CHANNELS = ("web", "link", "cli")


def _in(column: str, words: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(word) for word in words)})"


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "followup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_code", text(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=True),
        sa.Column("recipient_code", text(), nullable=False),
        sa.Column("event", text(), nullable=False),
        sa.Column("reason", text(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("other_unit_code", text(), nullable=True),
        sa.Column("actor", text(), nullable=False),
        sa.Column("person", text(), nullable=True),
        sa.Column("channel", text(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sweep_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(_in("channel", CHANNELS), name="ck_followup_channel"),
        sa.CheckConstraint(_in("event", EVENTS), name="ck_followup_event"),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["outboxmessage.id"]),
        sa.ForeignKeyConstraint(["occurrence_id"], ["occurrence.id"]),
        sa.ForeignKeyConstraint(["sweep_id"], ["sweeprun.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_followup_assignment_id"), ["assignment_id"])
        batch_op.create_index(batch_op.f("ix_followup_plan_code"), ["plan_code"])
        batch_op.create_index(batch_op.f("ix_followup_sweep_id"), ["sweep_id"])


def downgrade() -> None:
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_followup_sweep_id"))
        batch_op.drop_index(batch_op.f("ix_followup_plan_code"))
        batch_op.drop_index(batch_op.f("ix_followup_assignment_id"))
    op.drop_table("followup")
