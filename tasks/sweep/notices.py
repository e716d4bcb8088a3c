"""Notices (督办通知): the letter a sweep sends to one recipient, in Chinese or English.

One letter per recipient bundles every item the sweep has for them, grouped by level from the
most to the least severe: 通报 (report to leadership), 督办 (formal supervision, each item a
督办单), 催办 (urge), 到期提醒 (due today), 提醒 (reminder), 未签收提醒 (receipt not yet
acknowledged); then the decisions on the recipient's work since its last letter (办理情况),
and for the office what waits for its decision (待审核事项). This module holds what a letter
says; render.letters turns it into a one-line subject, a plain-text part and a self-contained
HTML part. Nothing here reads the clock: the letter carries its `as_of` date.

`MailComposer` is the seam between what a mail says and its markup: the sweep and the review
mails take one from their caller (`render.mail.COMPOSER`), so nothing in `tasks` imports
`render`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal, NamedTuple, Protocol

from schemas.vocabulary import RECEIPTED, FollowUpEvent, Level, RecipientRole, Waiting
from tasks.review.model import Review

# The order of the sections in a letter: most severe first, receipts still awaited last.
ORDER: tuple[Level, ...] = (
    Level.REPORT,
    Level.SUPERVISE,
    Level.URGE,
    Level.DUE,
    Level.REMINDER,
    Level.UNACKNOWLEDGED,
)
BLOCKS_SHOWN = 5  # downstream tasks named in an item; the rest are counted
WAITING_SHOWN = 50  # items of the office's queue listed in a letter; the rest are counted


@dataclass(frozen=True)
class NoticeLink:
    """A link in a notice: ack (签收, one click), report (the unit's form), open (the page)."""

    action: Literal["ack", "report", "open"]
    url: str


class NoticeItem(NamedTuple):
    """One item in a letter: one assignment (or dated report occurrence) at one rung.

    A named tuple, not a frozen dataclass: a sweep makes one per notice and remakes each with
    its links (`_replace`), and a frozen dataclass's `dataclasses.replace` of these 27 fields
    took a fifth of the time a 100k sweep spent composing its letters."""

    plan_code: str
    plan_title: str
    document_number: str | None  # e.g. 渝卫发〔2019〕32号
    task_code: str
    task_title: str
    unit_name: str  # whose assignment it is (the office gets copies of others' items)
    role: str  # Role: 牵头 lead / 配合 co / 参与 participant
    level: Level
    rung: str  # e.g. "5wd-before", "due-day", "15wd-overdue", "ack-2wd"
    why: str  # the rule that fired, already in the letter's language
    due: date  # current due date (after approved extensions)
    original_due: date | None  # the plan's date, if different
    deadline_text: str | None  # 完成时限 as the plan wrote it, e.g. "2019年9月前"
    deadline_reading: str | None  # how it was read, e.g. "'前' read as by the end of the month"
    workdays_left: int  # >0 before due, 0 on the day
    overdue_workdays: int  # >0 when late
    in_copy: bool  # the recipient is told for information (抄送), not responsible
    recipient_role: RecipientRole  # why this recipient gets it
    receipt_code: str | None  # 督办单 / 通报: the code to acknowledge with `duban ack CODE`
    blocks: tuple[str, ...] = ()  # downstream tasks held up, e.g. "t11 建设智慧卫监平台"
    occurrence: date | None = None  # for a dated report occurrence (阶段总结 due 9月20日)
    assignment_id: int | None = None  # which assignment, for the links to act on it
    recipient_code: str | None = None  # who this copy of the item is for (a unit's code)
    links: tuple[NoticeLink, ...] = ()  # filled by tasks.sweep.links.add_links
    task_text: str | None = None  # what the plan asks to be done (the task's own text)
    ongoing: bool = False  # 持续开展 / a recurring report: `due` is this report's day, not an end

    # The plan's own date when the rest-day rule moved it into the next month (8月31日, a
    # Saturday, kept as 9月2日): the letter says so, or "8月底前" would seem misread.
    moved_from: date | None = None

    @property
    def receipted(self) -> bool:
        """A 督办单 or 通报 to the recipient: acknowledged with the letter's one receipt code."""
        return bool(self.receipt_code) and not self.in_copy and self.level in RECEIPTED


@dataclass(frozen=True)
class FollowUpItem:
    """A decision on the recipient's work since its last letter (办理情况): a return with its
    reason, an acceptance, an extension granted or refused, a re-assignment."""

    plan_code: str
    plan_title: str
    document_number: str | None
    task_code: str
    task_title: str
    unit_name: str  # whose assignment it is
    role: str  # Role
    event: FollowUpEvent
    decided_on: date  # the day of the decision, on the plan's clock
    reason: str | None  # the office's reason, as it gave it
    due: date | None = None  # the date granted, or asked for and refused
    other_unit: str | None = None  # a re-assignment: the unit the work went to or came from
    occurrence: date | None = None  # a dated report: which submission was decided on
    assignment_id: int | None = None  # the page to act on
    links: tuple[NoticeLink, ...] = ()  # filled by tasks.sweep.links.add_links


@dataclass(frozen=True)
class WaitingItem:
    """A submission or an extension request waiting for the office's decision (待审核事项)."""

    plan_code: str
    plan_title: str
    document_number: str | None
    task_code: str
    task_title: str
    unit_name: str
    role: str  # Role
    kind: Waiting
    since: date  # when it was handed in, on the plan's clock
    waited_workdays: int  # working days since then, as of the letter's day
    note: str  # the unit's note with the submission, or its reason for more time
    due: date | None  # the due date now
    requested_due: date | None = None  # an extension request: the date asked for
    occurrence: date | None = None
    assignment_id: int | None = None
    links: tuple[NoticeLink, ...] = ()


@dataclass(frozen=True)
class Letter:
    """One mail to one recipient: every item the sweep has for them, the decisions on their
    work since their last letter, and (for the office) what waits for its decision."""

    recipient_name: str  # e.g. 南岸区 / 综合监督处
    to: tuple[str, ...]  # email addresses: each recipient has a letter of its own, no copies
    sender_name: str  # the joint meeting office, e.g. 重庆市医疗卫生行业综合监管联席会议办公室
    as_of: date
    items: tuple[NoticeItem, ...]
    language: Literal["zh", "en"] = "zh"
    followups: tuple[FollowUpItem, ...] = ()
    waiting: tuple[WaitingItem, ...] = ()  # oldest first, at most WAITING_SHOWN
    waiting_more: int = 0  # waiting beyond those listed
    desk: str | None = None  # the office's desk page, for what is not listed
    contact_name: str | None = None  # the office's liaison (联络员), whom to call
    contact_phone: str | None = None
    ack: str | None = None  # the one-click 签收 of the letter's receipt code (add_links)

    @property
    def empty(self) -> bool:
        return not (self.items or self.followups or self.waiting)

    @property
    def receipt_code(self) -> str | None:
        """The one code acknowledging the letter's 督办单 and 通报, if it holds any."""
        return next((i.receipt_code for i in self.items if i.receipted), None)


@dataclass(frozen=True)
class Undelivered:
    """A letter the outbox could not deliver (gave up on, or a recipient refused for good),
    told to the office so that it can reach the recipient another way."""

    office_name: str
    recipient_name: str  # the unit the letter was for
    subject: str  # the letter's
    addresses: tuple[str, ...]  # the addresses it did not reach
    why: str  # the server's answer, or the last error
    sent_on: date  # when it was written
    language: Literal["zh", "en"] = "zh"


@dataclass(frozen=True)
class RenderedMail:
    """A letter ready to send: one-line subject, plain-text part, HTML part."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class MailBody:
    """The two parts of a mail whose subject is made elsewhere (the review mails)."""

    text: str
    html: str


class MailComposer(Protocol):
    """Turns what a mail says into the parts a mail client shows."""

    def letter(self, letter: Letter) -> RenderedMail:
        """A sweep's letter: subject, plain text, HTML."""
        ...

    def undelivered(self, notice: Undelivered) -> RenderedMail:
        """通知未能送达: tells the office which letter did not reach whom, and why."""
        ...

    def review(self, review: Review) -> MailBody:
        """A review mailed to leadership or the office: Markdown as the text, the page as HTML."""
        ...


def one_line(value: str) -> str:
    """The value with control characters and line breaks turned into single spaces."""
    if value.isprintable():  # none of those categories (one C call; a letter makes thousands)
        return " ".join(value.split())
    cleaned = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in value
    )
    return " ".join(cleaned.split())


def moved_from(written: date | None, kept: date | None) -> date | None:
    """The plan's date, when the rest-day rule moved it past a month end to `kept`."""
    if written is None or kept is None or written >= kept:
        return None
    return written if (written.year, written.month) != (kept.year, kept.month) else None
