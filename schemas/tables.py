"""The one database schema: plans, their units, phases, tasks, assignments and imports.

Everything a plan file says is kept (the deadline text beside the date it was read as, the
clause beside the units it named), because offices argue from the plan's own words. Rows that a
revised plan drops are marked inactive, never deleted, so an assignment's history survives.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, Relationship, SQLModel

from calendars.clock import OFFICE_ZONE, now
from schemas.vocabulary import (
    AccountRole,
    Action,
    AssignmentState,
    Channel,
    Decision,
    ExtensionState,
    FollowUpEvent,
    Level,
    LinkState,
    MessageKind,
    MessageStatus,
    OccurrenceState,
    Operation,
    Role,
    SeatRole,
)


def versioned() -> Any:  # a `__mapper_args__`, which SQLAlchemy types as Any
    """Optimistic locking: an UPDATE names the version it read, so a lost update is an error."""
    return declared_attr.directive(lambda cls: {"version_id_col": cls.__table__.c.version})


def one_of(table: str, column: str, *vocabularies: type[StrEnum]) -> CheckConstraint:
    """The database refuses a word outside the vocabulary (NULL stays allowed where it is)."""
    listed = ", ".join(f"'{word}'" for words in vocabularies for word in words)
    return CheckConstraint(f"{column} IN ({listed})", name=f"ck_{table}_{column}")


def once_while_open(name: str, *columns: str, where: str) -> Index:
    """A unique index over the rows still open: two writers at once cannot both open one."""
    condition = text(f"closed_on IS NULL AND {where}")
    return Index(name, *columns, unique=True, sqlite_where=condition, postgresql_where=condition)


class Plan(SQLModel, table=True):
    """A work plan under supervision (工作方案 / 实施方案)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    title: str
    document_number: str | None = None
    issuer: str | None = None
    issued: dt.date | None = None
    timezone: str = OFFICE_ZONE  # the plan's clock: its days and the times people are shown
    span_start: dt.date | None = None
    span_end: dt.date | None = None
    calendar_version: str
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    source_path: str | None = None
    source_sha256: str | None = None
    imported_at: dt.datetime = Field(default_factory=now)


class Unit(SQLModel, table=True):
    """A body that can be held responsible: department, district, agency, office (单位)."""

    __table_args__ = (UniqueConstraint("plan_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    code: str
    name: str
    full_name: str | None = None
    kind: str = "department"
    parent_code: str | None = None
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    emails: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    contact_role: str | None = None
    active: bool = True


class UnitGroup(SQLModel, table=True):
    """A named set of units the plan treats as one, e.g. 试点区县, with members expanded."""

    __table_args__ = (UniqueConstraint("plan_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    code: str
    name: str
    unit_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON))


class JointMeetingSeat(SQLModel, table=True):
    """A unit's seat in the joint meeting (联席会议): convener, member, office, leadership."""

    __table_args__ = (one_of("jointmeetingseat", "role", SeatRole),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    role: str  # SeatRole
    person_name: str | None = None  # who holds the seat: 张三 (the convener), a unit's 成员
    person_title: str | None = None  # their post or title: 副市长, 副主任
    liaison_name: str | None = None
    liaison_title: str | None = None
    liaison_email: str | None = None
    liaison_phone: str | None = None


class Phase(SQLModel, table=True):
    """A stage of the plan: 启动, 实施, 中期评估, 全面总结评估, or a custom one mapped to them."""

    __table_args__ = (UniqueConstraint("plan_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    code: str
    kind: str
    name: str
    window_text: str
    start: dt.date | None = None
    due: dt.date | None = None
    position: int = 0


class Task(SQLModel, table=True):
    """One line of the decomposition table, a measure, a goal or a recurring report."""

    __table_args__ = (UniqueConstraint("plan_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    code: str
    title: str
    text: str | None = None
    kind: str = "task"
    phase_code: str | None = None
    responsibility_text: str | None = None
    deadline_text: str | None = None
    deadline_kind: str | None = None  # date | window | dates | recurring | ongoing
    start: dt.date | None = None
    due: dt.date | None = None
    rule: str | None = None
    deadline_note: str | None = None
    calendar_version: str | None = None
    remarks: str | None = None
    position: int = 0
    active: bool = True


class Dependency(SQLModel, table=True):
    """An explicit depends_on edge between two tasks of one plan."""

    __table_args__ = (UniqueConstraint("task_id", "depends_on_id"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    task_id: int = Field(foreign_key="task.id")
    depends_on_id: int = Field(foreign_key="task.id")


class Assignment(SQLModel, table=True):
    """A task given to one unit in one role (牵头 lead, 配合 co, 参与 participant).

    `original_due` is what the plan said; `due` moves only by an approved extension.
    """

    __table_args__ = (
        UniqueConstraint("task_id", "unit_id", "role"),
        one_of("assignment", "role", Role),
        one_of("assignment", "state", AssignmentState),
    )
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: str  # Role
    state: str = AssignmentState.NOT_STARTED
    original_due: dt.date | None = None
    due: dt.date | None = None
    active: bool = True
    closed_reason: str | None = None
    replaces_id: int | None = Field(  # re-assigned from; the key named as migration 0006 made it
        default=None,
        sa_column_args=[ForeignKey("assignment.id", name="fk_assignment_replaces_id_assignment")],
    )
    version: int = 1
    created_at: dt.datetime = Field(default_factory=now)
    updated_at: dt.datetime = Field(default_factory=now)

    __mapper_args__ = versioned()


class Occurrence(SQLModel, table=True):
    """One dated submission of a multi-date or recurring assignment (a quarterly summary, say)."""

    __table_args__ = (
        UniqueConstraint("assignment_id", "due"),
        one_of("occurrence", "state", OccurrenceState),
    )
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    due: dt.date
    state: str = OccurrenceState.NOT_STARTED
    active: bool = True
    version: int = 1

    __mapper_args__ = versioned()


class ImportRecord(SQLModel, table=True):
    """One import of a plan file: what it changed, from which file, on which calendar data."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    imported_at: dt.datetime = Field(default_factory=now)
    source_path: str | None = None
    source_sha256: str | None = None
    calendar_version: str
    changes: list[str] = Field(default_factory=list, sa_column=Column(JSON))


class ProgressReport(SQLModel, table=True):
    """进展反馈: what a unit reports on its assignment (or, as lead, on the whole task)."""

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    task_wide: bool = False
    note: str
    reported_by: str
    reported_at: dt.datetime


class Submission(SQLModel, table=True):
    """A unit saying "done" (for the assignment, or one dated occurrence), and the decision."""

    __table_args__ = (one_of("submission", "decision", Decision),)
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    occurrence_id: int | None = Field(default=None, foreign_key="occurrence.id")
    note: str
    submitted_by: str
    submitted_at: dt.datetime
    decision: str | None = None  # Decision
    decision_reason: str | None = None
    decided_by: str | None = None
    decided_at: dt.datetime | None = None


class Evidence(SQLModel, table=True):
    """A file attached to a progress report or submission, stored once by its SHA-256."""

    id: int | None = Field(default=None, primary_key=True)
    progress_id: int | None = Field(default=None, foreign_key="progressreport.id")
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    name: str
    size: int
    sha256: str = Field(index=True)


class ExtensionRequest(SQLModel, table=True):
    """延期申请: a unit asks for a later due date; the office approves or denies it."""

    __table_args__ = (one_of("extensionrequest", "state", ExtensionState),)
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    current_due: dt.date | None = None
    requested_due: dt.date
    reason: str
    state: str = ExtensionState.REQUESTED
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    decision_reason: str | None = None


class AuditEvent(SQLModel, table=True):
    """One change, hash-chained to the one before it so an edited or deleted row shows.

    Indexed by plan and id: a plan's newest event is one look-up (what the web pages keep is
    good while it is the same, tasks.work.desk.data_version)."""

    __table_args__ = (
        one_of("auditevent", "action", Action, Operation),
        one_of("auditevent", "channel", Channel),
        Index("ix_auditevent_plan_code_id", "plan_code", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: str  # ISO 8601, UTC: hashed as text so every database gives back the same bytes
    actor: str
    action: str  # Action or Operation
    entity: str
    entity_id: int | None = None
    plan_code: str | None = None
    task_code: str | None = None
    unit_code: str | None = None
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    prev_hash: str
    hash: str
    person: str | None = None  # who, by name: an account's login, or the OS user at the CLI
    channel: str | None = None  # Channel (None: written before people were recorded)


GENESIS = "0" * 64  # the hash before the first audit event: where every chain starts


class AuditHead(SQLModel, table=True):
    """The chain's newest link, one row (made with the schema), locked while an event is
    appended, and sealed with a key kept outside the database (see tasks.work.audit)."""

    id: int = Field(primary_key=True)  # always 1; no default, so a SERIAL as 0001 made it
    last_id: int = 0
    last_hash: str = ""
    seal: str | None = None  # HMAC of (last_id, last_hash) under the audit key


class SweepRun(SQLModel, table=True):
    """One deadline sweep: when it looked, at which plans, and what it did."""

    id: int | None = Field(default=None, primary_key=True)
    as_of: dt.date = Field(index=True)
    plan_code: str | None = None  # None: every plan
    dry_run: bool = False
    started_at: dt.datetime = Field(default_factory=now)
    finished_at: dt.datetime | None = None
    notices: int = 0
    messages: int = 0
    escalations_opened: int = 0
    escalations_closed: int = 0


class Notice(SQLModel, table=True):
    """One rung of the ladder reached by one item for one recipient: written once, ever.

    The dedupe key (item, due date, rung, recipient) is unique, so a sweep run twice, or two
    sweeps at once, cannot write the same notice twice.
    """

    __table_args__ = (one_of("notice", "level", Level),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)
    sweep_id: int = Field(foreign_key="sweeprun.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="outboxmessage.id", index=True)
    plan_code: str = Field(index=True)
    task_code: str
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    occurrence_id: int | None = Field(default=None, foreign_key="occurrence.id")
    unit_code: str  # whose item it is
    recipient_code: str  # who is told (the unit itself, the office, leadership)
    in_copy: bool = False  # the recipient is told for information (抄送)
    level: str  # Level
    rung: str  # e.g. "5wd-before", "1wd-overdue"
    due: dt.date
    overdue_workdays: int = 0
    receipt_code: str | None = Field(default=None, index=True)  # one per letter (0008)
    acknowledged_by: str | None = None
    acknowledged_at: dt.datetime | None = None


class OutboxMessage(SQLModel, table=True):
    """One mail to one recipient from one sweep, bundling that recipient's notices.

    Written before any delivery is tried; delivery claims it, sends it, and records the result,
    so a notice is never lost and, with the claim, never sent twice by two workers.
    """

    __table_args__ = (
        one_of("outboxmessage", "kind", MessageKind),
        one_of("outboxmessage", "status", MessageStatus),
    )
    id: int | None = Field(default=None, primary_key=True)
    sweep_id: int | None = Field(default=None, foreign_key="sweeprun.id", index=True)
    kind: str = MessageKind.NOTICE
    plan_code: str | None = None
    recipient_code: str
    sender: str
    sender_name: str | None = None
    to_addrs: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    cc_addrs: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    subject: str
    # read with the message when a message is read as an object (recording a failed send,
    # reading what was mailed); delivery claims and settles rows without it, and the outbox
    # is listed from its columns
    body: MessageBody = Relationship(sa_relationship_kwargs={"lazy": "selectin"})
    message_id_header: str = Field(unique=True)
    status: str = Field(default=MessageStatus.PENDING, index=True)
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None  # None: as soon as a worker comes by
    claimed_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    last_error: str | None = None
    # the recipients a server refused while the others got the mail: address → its reply
    # ("550 5.1.1 …" permanent, kept; "450 …" temporary, dropped once a retry reaches it)
    refused: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: dt.datetime = Field(default_factory=now)


class MessageBody(SQLModel, table=True):
    """A message's plain text and HTML, kept apart from its delivery state.

    Claiming and settling a message update its row; SQLite writes an updated row whole, and a
    letter's text and HTML run to hundreds of KB: with them in the row, the claims and settles
    of a 100k sweep's 440 letters took 0.64 s, without them 0.01 s. Written with the message.
    """

    message_id: int | None = Field(default=None, primary_key=True, foreign_key="outboxmessage.id")
    text: str
    html: str


class FollowUp(SQLModel, table=True):
    """A decision on a unit's work to tell the unit of (办理情况): recorded by the lifecycle in
    the decision's transaction, whichever door it came through, and put into the unit's next
    letter by the sweep, which claims it (`sweep_id`) and names the letter (`message_id`).
    """

    __table_args__ = (
        one_of("followup", "event", FollowUpEvent),
        one_of("followup", "channel", Channel),
    )
    id: int | None = Field(default=None, primary_key=True)
    plan_code: str = Field(index=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)  # what the link opens
    occurrence_id: int | None = Field(default=None, foreign_key="occurrence.id")
    recipient_code: str  # the unit told (the one whose work it is, or was)
    event: str  # FollowUpEvent
    reason: str | None = None  # the office's reason, as it gave it
    due: dt.date | None = None  # the date decided on: granted, or asked for and refused
    other_unit_code: str | None = None  # a re-assignment: the unit the work went to or came from
    actor: str
    person: str | None = None
    channel: str | None = None  # Channel
    at: dt.datetime
    sweep_id: int | None = Field(default=None, foreign_key="sweeprun.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="outboxmessage.id")


class Escalation(SQLModel, table=True):
    """督办: an overdue item opened at the joint meeting office, until it is resolved.

    At most one is open per item (an assignment, or one dated occurrence of it) and due date,
    whichever sweeps run at once: a unique index over the open rows says so.
    """

    __table_args__ = (
        once_while_open(
            "uq_escalation_open_assignment",
            "assignment_id",
            "due",
            where="occurrence_id IS NULL",
        ),
        once_while_open(
            "uq_escalation_open_occurrence",
            "assignment_id",
            "occurrence_id",
            "due",
            where="occurrence_id IS NOT NULL",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    plan_code: str = Field(index=True)
    task_code: str
    unit_code: str
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    occurrence_id: int | None = Field(default=None, foreign_key="occurrence.id")
    due: dt.date
    original_due: dt.date | None = None
    opened_on: dt.date
    overdue_workdays: int
    blocks: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    reported: bool = False  # raised to leadership (通报)
    closed_on: dt.date | None = None
    resolution: str | None = None


class Account(SQLModel, table=True):
    """A person who logs in: a unit's liaison (联络员), the office's staff, or leadership.

    `unit_code` names the unit a liaison acts for (in every plan that has it); `plan_code`
    limits the account to one plan (None: all). Only an argon2 hash of the password is kept.
    """

    __table_args__ = (one_of("account", "role", AccountRole),)
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True)
    name: str
    email: str | None = None
    role: str  # AccountRole
    unit_code: str | None = None
    plan_code: str | None = None
    password_hash: str
    active: bool = True
    failed_logins: int = 0
    locked_until: dt.datetime | None = None
    session_version: int = 1  # raised by a reset or a disable: every open session ends
    created_at: dt.datetime = Field(default_factory=now)
    last_login_at: dt.datetime | None = None


class LinkRecord(SQLModel, table=True):
    """A one-click link that was used or revoked, kept by the SHA-256 of its token.

    Links themselves are signed, not stored: a row here is what makes one single-use or
    revocable. A revocation with no hash revokes every link of its binding.
    """

    __table_args__ = (one_of("linkrecord", "state", LinkState),)
    id: int | None = Field(default=None, primary_key=True)
    sha256: str | None = Field(default=None, unique=True)
    binding: str = Field(index=True)  # action:subject:recipient
    state: str  # LinkState
    at: dt.datetime
    by: str | None = None
