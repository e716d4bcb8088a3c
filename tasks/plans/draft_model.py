"""What a drafted plan holds, and the readings the document and table readers share.

Every value of a `Draft` carries a `Source`: the line it was read from, a short quote and how
sure the reading is (高, 中, 低), so a clerk checks the draft against the document instead of
retyping it. Clauses are read by `responsibility.read_responsibility`, dates by
`calendars.deadlines.parse_deadline`; nothing here reads them a second way.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from calendars.deadlines import DeadlineError, parse_deadline
from tasks.plans.draft_meeting import DraftMeeting
from tasks.plans.draft_units import DraftUnit, UnitRoll
from tasks.plans.responsibility import Responsibility, ResponsibilityError, read_responsibility

__all__ = [
    "LEVEL3",
    "Draft",
    "DraftPhase",
    "DraftTask",
    "Source",
    "parses",
    "phase_kinds",
    "read_clause",
    "reading_of",
    "set_deadline",
    "short",
    "title_of",
]

LEVEL3 = re.compile(r"^\d{1,2}\s*[.．、](?!\d)\s*")  # "1." "2．": a numbered row or item


@dataclass(frozen=True)
class Source:
    """Where a value was read: its line, a short quote, how sure the reading is (高/中/低)."""

    line: int | None
    quote: str
    sure: str
    why: str = ""


@dataclass
class DraftPhase:
    """A stage as read from 实施步骤 or a table's stage column; `window` None if not read."""

    code: str
    kind: str
    name: str
    window: str | None
    text: str
    source: Source
    dates_in_text: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class DraftTask:
    """A measure, a table row or a goal; each value read says where, in its `*_source`."""

    id: str
    title: str
    text: str
    kind: str
    source: Source
    phase: str | None = None
    responsibility: str | None = None
    responsibility_source: Source | None = None
    reading: str = ""
    deadline: str | None = None
    deadline_source: Source | None = None
    remarks: str | None = None
    dates_in_text: list[str] = field(default_factory=list)


@dataclass
class Draft:
    """A plan file to be: each value with its `Source`, or None where it could not be read."""

    source: str
    notes: list[str]
    title: tuple[str, Source] | None = None
    document_number: tuple[str, Source] | None = None
    issuer: tuple[str, Source] | None = None
    issued: tuple[dt.date, Source] | None = None
    units: list[DraftUnit] = field(default_factory=list)
    groups: list[tuple[str, list[str], Source]] = field(default_factory=list)
    meeting: DraftMeeting | None = None
    phases: list[DraftPhase] = field(default_factory=list)
    tasks: list[DraftTask] = field(default_factory=list)
    left_out: list[tuple[int, str]] = field(default_factory=list)

    @property
    def code(self) -> str:
        """An ASCII code for the plan, from its document number where there is one."""
        if self.document_number:
            year, number = re.findall(r"\d+", self.document_number[0])[:2]
            return f"plan-{year}-{number}"
        return "draft-plan"


def read_clause(task: DraftTask, clause: str, line: int, roll: UnitRoll, carry: bool) -> bool:
    """Read the clause with the rule carried from earlier ones; returns the rule to carry."""
    try:
        who = read_responsibility(clause, first_listed_leads=carry)
    except ResponsibilityError as exc:
        task.responsibility_source = Source(line, short(clause, 30), "低", str(exc))
        return carry
    task.responsibility = clause
    for name in (*who.lead, *who.co, *who.participants, *who.pilots):
        roll.add(name, line)
    task.reading = reading_of(who)
    sure = "中" if who.note else "高"
    task.responsibility_source = Source(line, short(clause, 30), sure, who.note or "")
    return who.first_listed_leads


def reading_of(who: Responsibility) -> str:
    parts = [("牵头", who.lead), ("配合", who.co), ("参与", who.participants)]
    return "；".join(f"{label}：{'、'.join(names)}" for label, names in parts if names)


def phase_kinds(phases: list[DraftPhase]) -> None:
    """Each stage mapped to one of the four kinds, by its name, else by its place."""
    for i, phase in enumerate(phases):
        name = phase.name
        if re.search(r"中期", name):
            phase.kind = "midterm_review"
        elif re.search(r"启动|动员|部署|准备|宣传发动", name):
            phase.kind = "launch"
        elif re.search(r"总结|评估|验收|巩固|提高|提升", name):
            phase.kind = "final_evaluation"
        elif re.search(r"实施|推进|执行|整改|攻坚", name) and 0 < i:
            phase.kind = "implementation"
        elif i == 0 and len(phases) > 1:
            phase.kind = "launch"
        elif i == len(phases) - 1 and len(phases) > 2:
            phase.kind = "final_evaluation"
        else:
            phase.kind = "implementation"


def set_deadline(task: DraftTask, line: int, text: str, year: int | None) -> None:
    """The 完成时限 as written, if the deadline reader reads it; else none, and the words
    kept in the source for the clerk (an import would refuse them)."""
    text = text.strip()
    if parses(text, year):
        task.deadline = text
        task.deadline_source = Source(line, text, "高")
    else:
        task.deadline_source = Source(line, text, "低", "完成时限读不出")


def parses(text: str, year: int | None) -> bool:
    try:
        parse_deadline(text, year=year)
    except DeadlineError:
        return False
    return True


def title_of(text: str) -> str:
    first = re.split(r"[。；，]", text, maxsplit=1)[0]
    return short(first, 24)


def short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
