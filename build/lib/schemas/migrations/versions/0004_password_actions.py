"""password resets and changes in the audit trail

The audit trail's action gains two words, spelled out here as in 0002 and 0003:
reset_password (the office on the web, or the operator with `duban users reset`) and
change_password (a person's own, on the web).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

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
    "acknowledge",
)
ACTIONS = (*ACTIONS_BEFORE, "reset_password", "change_password")


def _in(column: str, words: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(word) for word in words)})"


def _allow(words: tuple[str, ...]) -> None:
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_constraint("ck_auditevent_action", type_="check")
        batch_op.create_check_constraint("ck_auditevent_action", _in("action", words))


def upgrade() -> None:
    _allow(ACTIONS)


def downgrade() -> None:
    _allow(ACTIONS_BEFORE)  # fails while the trail holds a password event: it is kept
