"""the audit trail indexed by plan and id, for a plan's newest event in one look-up

The web pages keep what they compute from a plan's data while the plan's newest audit event
is the same (tasks.work.desk.data_version): an index on (plan_code, id) answers max(id) for a
plan at once on PostgreSQL too (SQLite's plan_code index held the row id already). It
replaces the index on plan_code alone, which it covers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_auditevent_plan_code_id", "auditevent", ["plan_code", "id"])
    op.drop_index("ix_auditevent_plan_code", table_name="auditevent")


def downgrade() -> None:
    op.create_index("ix_auditevent_plan_code", "auditevent", ["plan_code"])
    op.drop_index("ix_auditevent_plan_code_id", table_name="auditevent")
