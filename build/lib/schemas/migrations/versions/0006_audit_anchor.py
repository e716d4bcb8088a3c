"""the audit trail covers everything and is anchored outside the database

- The chain head is made with the schema (a first audited action on an empty database no longer
  races to insert it) and gets a `seal`: an HMAC under a key kept out of the database.
- The audit trail's new words (tasks done on a whole plan or on the mail) are allowed.
- An assignment made by a re-assignment names the one it replaces, so a re-import keeps it.
- At most one escalation is open per item and due date: a unique index over the open rows.
  Duplicates two sweeps at once could leave behind are closed first, the oldest kept.

The words are spelled out here, as in 0002 and 0003.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
ACTIONS_BEFORE = (  # 0004's
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
    "reset_password",
    "change_password",
)
ACTIONS = (*ACTIONS_BEFORE, "import", "recalc", "sweep", "retry_mail")
OPEN_ESCALATIONS = {  # index name: (columns, which open rows)
    "uq_escalation_open_assignment": (["assignment_id", "due"], "occurrence_id IS NULL"),
    "uq_escalation_open_occurrence": (
        ["assignment_id", "occurrence_id", "due"],
        "occurrence_id IS NOT NULL",
    ),
}
CLOSE_DUPLICATES = """
UPDATE escalation SET closed_on = opened_on, resolution = 'duplicate'
WHERE closed_on IS NULL AND EXISTS (
    SELECT 1 FROM escalation AS earlier
    WHERE earlier.closed_on IS NULL
      AND earlier.assignment_id = escalation.assignment_id
      AND earlier.due = escalation.due
      AND (earlier.occurrence_id = escalation.occurrence_id
           OR (earlier.occurrence_id IS NULL AND escalation.occurrence_id IS NULL))
      AND earlier.id < escalation.id
)
"""


def _in(column: str, words: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(word) for word in words)})"


def upgrade() -> None:
    with op.batch_alter_table("audithead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seal", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.execute(
        "INSERT INTO audithead (id, last_id, last_hash) "
        f"SELECT 1, 0, '{GENESIS}' WHERE NOT EXISTS (SELECT 1 FROM audithead)"
    )
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_constraint("ck_auditevent_action", type_="check")
        batch_op.create_check_constraint("ck_auditevent_action", _in("action", ACTIONS))
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaces_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_assignment_replaces_id_assignment", "assignment", ["replaces_id"], ["id"]
        )
    op.execute(CLOSE_DUPLICATES)
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        for name, (columns, which) in OPEN_ESCALATIONS.items():
            where = sa.text(f"closed_on IS NULL AND {which}")
            batch_op.create_index(
                name, columns, unique=True, sqlite_where=where, postgresql_where=where
            )


def downgrade() -> None:
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        for name in reversed(OPEN_ESCALATIONS):
            batch_op.drop_index(name)
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_constraint("fk_assignment_replaces_id_assignment", type_="foreignkey")
        batch_op.drop_column("replaces_id")
    # As with 0003's words: a trail that holds the new ones cannot go back without them.
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_constraint("ck_auditevent_action", type_="check")
        batch_op.create_check_constraint("ck_auditevent_action", _in("action", ACTIONS_BEFORE))
    with op.batch_alter_table("audithead", schema=None) as batch_op:
        batch_op.drop_column("seal")
