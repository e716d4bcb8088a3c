"""the vocabulary's CHECK constraints

States, roles, levels and outcomes are constrained to the words of schemas.vocabulary. The
words are spelled out here, not imported: a migration records the schema as it was made, and a
later change to the vocabulary comes with its own migration.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 12:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "assignment": {
        "role": ("lead", "co", "participant"),
        "state": (
            "not_started",
            "in_progress",
            "submitted",
            "returned",
            "accepted",
            "waived",
            "cancelled",
        ),
    },
    "occurrence": {"state": ("not_started", "submitted", "returned", "accepted")},
    "jointmeetingseat": {
        "role": ("convener", "vice_convener", "member", "office", "leadership"),
    },
    "submission": {"decision": ("accepted", "returned")},
    "extensionrequest": {"state": ("requested", "approved", "denied")},
    "auditevent": {
        "action": (
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
        ),
    },
    "notice": {
        "level": ("reminder", "due", "urge", "supervise", "report", "unacknowledged"),
    },
    "outboxmessage": {
        "kind": ("notice", "digest", "review"),
        "status": ("pending", "sending", "sent", "failed"),
    },
}


def upgrade() -> None:
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, words in columns.items():
                listed = ", ".join(f"'{word}'" for word in words)
                batch_op.create_check_constraint(f"ck_{table}_{column}", f"{column} IN ({listed})")


def downgrade() -> None:
    for table, columns in reversed(CHECKS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_constraint(f"ck_{table}_{column}", type_="check")
