"""receipts per letter: one receipt code (签收编码) covers every 督办单 and 通报 of one letter

A notice's receipt code is no longer unique: the items of one letter share it, so a recipient
acknowledges the letter once. An index keeps acknowledging by code a lookup.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 18:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# 0001 left the unique constraint unnamed: SQLite's is found by this convention, PostgreSQL
# named it notice_receipt_code_key
CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _unique_name() -> str:
    return (
        "notice_receipt_code_key"
        if op.get_bind().dialect.name == "postgresql"
        else ("uq_notice_receipt_code")
    )


def upgrade() -> None:
    with op.batch_alter_table("notice", naming_convention=CONVENTION) as batch:
        batch.drop_constraint(_unique_name(), type_="unique")
        batch.create_index("ix_notice_receipt_code", ["receipt_code"])


def downgrade() -> None:
    with op.batch_alter_table("notice", naming_convention=CONVENTION) as batch:
        batch.drop_index("ix_notice_receipt_code")
        batch.create_unique_constraint(_unique_name(), ["receipt_code"])
