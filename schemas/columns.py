"""The tables as SQLAlchemy Core sees them: names and columns, no ORM, no pydantic.

The read-only commands (`plans`, `show`, `tasks`, `overdue`) read through these: building the
SQLModel classes in `schemas.tables` (and the pydantic and ORM machinery under them) costs a
cold command more than the rest of its work. Only the columns those reads use are named here;
`tests/test_columns.py` holds each to its table in `schemas.tables`, name and type.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Date, Integer, String, TableClause, column, table

plan: TableClause = table(
    "plan",
    column("id", Integer),
    column("code", String),
    column("title", String),
    column("document_number", String),
    column("issuer", String),
    column("issued", Date),
    column("timezone", String),
    column("span_start", Date),
    column("span_end", Date),
    column("calendar_version", String),
    column("spec", JSON),
)

unit: TableClause = table(
    "unit",
    column("id", Integer),
    column("plan_id", Integer),
    column("code", String),
    column("name", String),
    column("full_name", String),
    column("aliases", JSON),
    column("active", Boolean),
)

phase: TableClause = table(
    "phase",
    column("id", Integer),
    column("plan_id", Integer),
    column("code", String),
    column("kind", String),
    column("name", String),
    column("window_text", String),
    column("start", Date),
    column("due", Date),
    column("position", Integer),
)

task: TableClause = table(
    "task",
    column("id", Integer),
    column("plan_id", Integer),
    column("code", String),
    column("title", String),
    column("kind", String),
    column("phase_code", String),
    column("deadline_text", String),
    column("deadline_kind", String),
    column("due", Date),
    column("position", Integer),
    column("active", Boolean),
)

dependency: TableClause = table(
    "dependency",
    column("plan_id", Integer),
    column("task_id", Integer),
    column("depends_on_id", Integer),
)

assignment: TableClause = table(
    "assignment",
    column("id", Integer),
    column("plan_id", Integer),
    column("task_id", Integer),
    column("unit_id", Integer),
    column("role", String),
    column("state", String),
    column("original_due", Date),
    column("due", Date),
    column("active", Boolean),
)

occurrence: TableClause = table(
    "occurrence",
    column("id", Integer),
    column("assignment_id", Integer),
    column("due", Date),
    column("state", String),
    column("active", Boolean),
)

jointmeetingseat: TableClause = table(
    "jointmeetingseat",
    column("id", Integer),
    column("plan_id", Integer),
    column("unit_id", Integer),
    column("role", String),
    column("person_name", String),
    column("person_title", String),
    column("liaison_name", String),
    column("liaison_title", String),
    column("liaison_email", String),
    column("liaison_phone", String),
)

ALL = (plan, unit, phase, task, dependency, assignment, occurrence, jointmeetingseat)
