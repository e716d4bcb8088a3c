"""accounts, one-click link records, and who acted through which channel in the audit trail

The new words are spelled out here, as in 0002: an account's role, a link record's state, the
audit trail's channel and its new action (acknowledge: 签收 on the web is audited), and the
outbox's new kind of mail (followup, the web's 办理提示).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ROLES = ("liaison", "office", "leadership")
LINK_STATES = ("used", "revoked")
CHANNELS = ("web", "link", "cli")
KINDS_BEFORE = ("notice", "digest", "review")
KINDS = (*KINDS_BEFORE, "followup")
ACTIONS_BEFORE = (
    "progress",
    "submit",
    "accept",
    "return",
    "waive",
    "cancel",
    "request_extension",
    "decide_extension",
    "approve_extension",
    "deny_extension",
    "reassign",
)
ACTIONS = (*ACTIONS_BEFORE, "acknowledge")


def _in(column: str, words: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(word) for word in words)})"


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("unit_code", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("plan_code", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_login_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint(_in("role", ROLES), name="ck_account_role"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_username"), ["username"], unique=True)
    op.create_table(
        "linkrecord",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("binding", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.CheckConstraint(_in("state", LINK_STATES), name="ck_linkrecord_state"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    with op.batch_alter_table("linkrecord", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_linkrecord_binding"), ["binding"], unique=False)
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_check_constraint("ck_auditevent_channel", _in("channel", CHANNELS))
        batch_op.drop_constraint("ck_auditevent_action", type_="check")
        batch_op.create_check_constraint("ck_auditevent_action", _in("action", ACTIONS))
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_constraint("ck_outboxmessage_kind", type_="check")
        batch_op.create_check_constraint("ck_outboxmessage_kind", _in("kind", KINDS))


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_constraint("ck_outboxmessage_kind", type_="check")
        batch_op.create_check_constraint("ck_outboxmessage_kind", _in("kind", KINDS_BEFORE))
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_constraint("ck_auditevent_action", type_="check")
        batch_op.create_check_constraint("ck_auditevent_action", _in("action", ACTIONS_BEFORE))
        batch_op.drop_constraint("ck_auditevent_channel", type_="check")
        batch_op.drop_column("channel")
        batch_op.drop_column("person")
    with op.batch_alter_table("linkrecord", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_linkrecord_binding"))
    op.drop_table("linkrecord")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_username"))
    op.drop_table("account")
