"""The plan file: what an office writes (YAML) to put a work plan under supervision.

These pydantic models are the single source of the format. `schemas/plan.schema.json` is generated
from them (`duban schema --write`) so editors can validate plan files as they are typed, and
docs/plan-format.md explains each block with a complete example.

Units are referred to everywhere by code, name or alias, because plan authors copy names from the
plan's own text; the importer resolves them and reports the ones it cannot.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from calendars.clock import OFFICE_ZONE, zone_of

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
UnitRef = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
PhaseKind = Literal["launch", "implementation", "midterm_review", "final_evaluation"]
UnitKind = Literal[
    "department",
    "district",
    "agency",
    "institution",
    "association",
    "office",
    "leadership",
    "other",
]
TaskKind = Literal["task", "measure", "goal", "report"]


def _known_zone(name: str) -> str:
    """A zone is read when a date or time is shown, so an unknown one is refused at import."""
    zone_of(name)
    return name


Zone = Annotated[str, AfterValidator(_known_zone)]  # an IANA name: Asia/Shanghai, Asia/Urumqi


class Strict(BaseModel):
    """Unknown keys are mistakes in a hand-written file, so they are rejected, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CalendarChoice(Strict):
    """Which working calendar the plan's deadlines are counted on."""

    region: str = "cn"
    overlays: list[str] = Field(default_factory=list, description="Regional calendars laid over it")
    weekend_fallback: bool = Field(
        False, description="Count years without calendar data as weekends-only (explicit opt-in)"
    )


class DeadlineReading(Strict):
    """Overrides for the readings of genuinely ambiguous deadline forms (see docs/deadlines.md)."""

    day_before: Literal["by", "before"] = Field(
        "by", description='"9月15日前": by that day (inclusive), or before it'
    )
    month_before: Literal["by", "before"] = Field(
        "by", description='"2019年9月前": by the end of September, or before September starts'
    )
    year_before: Literal["by", "before"] = Field(
        "by", description='"2022年前": by the end of 2022, or before 2022 starts'
    )
    approximate: Literal["accept", "reject"] = Field(
        "accept", description='"每两年左右": accept the approximation (with a note) or reject it'
    )
    non_workday: Literal["next_workday", "keep"] = Field(
        "next_workday",
        description="A due date on a rest day moves to the next working day (民法典 第二百零三条)"
        " or is kept as written",
    )


class PlanMeta(Strict):
    """The document itself: who issued it, when, and how its dates are read."""

    code: Code
    title: str
    document_number: str | None = Field(None, description="e.g. 渝卫发〔2019〕32号")
    issuer: str | None = None
    issued: dt.date | None = None
    timezone: Zone = OFFICE_ZONE
    calendar: CalendarChoice = Field(default_factory=CalendarChoice)
    deadline_reading: DeadlineReading = Field(default_factory=DeadlineReading)
    span: tuple[dt.date, dt.date] | None = Field(
        None, description="First and last day the plan runs; defaults to the phases' extent"
    )
    supervise_from: dt.date | None = Field(
        None,
        description="The day supervision begins, for a plan adopted under way: nothing is sent "
        "before it, and items already overdue then start the ladder at 催办 that day",
    )
    ongoing_report_every: Literal["monthly", "quarterly", "half-yearly", "yearly"] = Field(
        "quarterly", description="How often units report progress on ongoing (持续开展) items"
    )
    source: str | None = Field(None, description="Where the plan's text came from")


class UnitSpec(Strict):
    """A body that can be held responsible: a department, a district, an agency, an office."""

    code: Code
    name: str = Field(description="The short name the plan's text uses, e.g. 区卫生健康委")
    full_name: str | None = None
    aliases: list[str] = Field(default_factory=list)
    kind: UnitKind = "department"
    parent: UnitRef | None = None
    emails: list[EmailStr] = Field(default_factory=list)
    contact_role: str | None = Field(None, description="Who reads the mail, e.g. 综合监督处")


class GroupSpec(Strict):
    """A named set of units the plan refers to as one, e.g. 试点区县; may contain groups."""

    code: Code
    name: str
    aliases: list[str] = Field(default_factory=list)
    members: list[UnitRef] = Field(min_length=1)


class Person(Strict):
    """Somebody the plan names: a 成员 sent to the meeting, a 联络员, the office's contact."""

    name: str | None = None
    title: str | None = Field(None, description="Post or title, e.g. 副主任, 科长")
    email: EmailStr | None = None
    phone: str | None = None


class PostHolder(Strict):
    """A person holding a post in a unit, e.g. the convener: 副市长 张三 of the city government."""

    unit: UnitRef
    name: str | None = None
    post: str | None = Field(None, description="The post held, e.g. 市政府副市长")


class Liaison(Strict):
    """A member unit's seat: its liaison officer (联络员: name, title, email, phone, as
    before) and, optionally, the member (成员) it sends to the meeting."""

    unit: UnitRef
    name: str | None = None
    title: str | None = None
    email: EmailStr | None = None
    phone: str | None = None
    member: Person | None = Field(None, description="成员: who sits in the meeting for the unit")


class JointMeetingSpec(Strict):
    """The joint meeting (联席会议) that supervises the plan and receives escalations."""

    name: str
    convener: UnitRef | PostHolder | None = Field(
        None, description="召集人: a unit, or a person holding a post in one"
    )
    vice_conveners: list[UnitRef | PostHolder] = Field(default_factory=list)
    members: list[Liaison] = Field(default_factory=list)
    office: UnitRef = Field(description="The office (办公室) that collects progress and escalates")
    leadership: UnitRef | None = Field(
        None, description="Who receives 通报 reports; the convener when not given"
    )
    plenary: Literal["yearly", "half-yearly", "quarterly"] = "yearly"
    liaison_meetings: Literal["monthly", "quarterly", "half-yearly"] = "quarterly"


class OfficeSpec(Strict):
    """Who collects progress and receives escalations (办公室, 牵头处室), for a plan with no joint
    meeting, or to name the office's contact where there is one."""

    unit: UnitRef
    contact: Person | None = Field(None, description="联系人: named in every letter")
    leadership: UnitRef | None = Field(
        None, description="Who receives 通报 reports (with no joint meeting; else its leadership)"
    )


class PhaseSpec(Strict):
    """A stage of the plan with its window, written as the plan writes it."""

    code: Code
    kind: PhaseKind
    name: str
    window: str = Field(description='As written, e.g. "2019年8月至2020年8月"')
    start: dt.date | None = Field(None, description="Overrides the start read from the window")
    due: dt.date | None = Field(None, description="Overrides the due date read from the window")
    text: str | None = None


class ExplicitResponsibility(Strict):
    """Responsibility given as lists rather than as the plan's own clause."""

    lead: list[UnitRef] = Field(default_factory=list)
    co: list[UnitRef] = Field(default_factory=list)
    participants: list[UnitRef] = Field(default_factory=list)


class TaskSpec(Strict):
    """One line of the decomposition table (任务分解表), a measure, a goal or a recurring duty."""

    id: Code
    title: str
    text: str | None = Field(None, description="The full text as the plan states it")
    kind: TaskKind = "task"
    phase: Code | None = None
    responsibility: str | ExplicitResponsibility | None = Field(
        None,
        description="The plan's clause, e.g. 责任单位：A、B按职责分别牵头负责，C参与; "
        "or explicit lists; empty means unassigned (shown to the office as such)",
    )
    pilots: list[UnitRef] | None = Field(
        None, description="Restricts assignment to these units; read from （试点区县：…） if absent"
    )
    deadline: str | None = Field(None, description='完成时限 as written, e.g. "2019年9月前"')
    depends_on: list[Code] = Field(default_factory=list)
    remarks: str | None = None


class ReportSpec(Strict):
    """A report every named unit submits on fixed dates (阶段总结, 全面总结, 年度评估报告)."""

    id: Code
    title: str
    text: str | None = None
    phase: Code | None = None
    submitters: list[UnitRef] = Field(min_length=1, description="Units or groups; each reports")
    deadline: str = Field(description='e.g. "2019年9月20日、12月20日，2020年3月20日、6月20日"')
    depends_on: list[Code] = Field(default_factory=list)
    remarks: str | None = None


class EscalationPolicy(Strict):
    """The escalation ladder (see docs/sweep.md); every number is in working days."""

    remind_before: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: [5, 1], description="Reminders this many working days before due"
    )
    remind_on_due: bool = Field(True, description="A reminder on the due date itself")
    urge_after: int = Field(1, ge=1, description="催办 to the lead unit, office in copy")
    supervise_after: int = Field(5, ge=1, description="督办: an escalation opened at the office")
    report_after: int = Field(15, ge=1, description="通报 to leadership")
    report_after_critical: int = Field(5, ge=1, description="通报 for items on the critical path")
    co_lead_time: int = Field(
        0,
        ge=0,
        description="Co-responsible units' internal deadline, this many working days "
        "before the lead's, so the lead can consolidate their input",
    )
    co_units: Literal["not_counted", "chased"] = Field(
        "not_counted",
        description="Co-responsible and participating units. not_counted: they get reminders "
        "only and the review does not count their lateness against them (the lead unit "
        "answers for the task). chased: they are also urged (催办) once past their internal "
        "deadline, and the review counts their lateness",
    )
    phase_order_upstream: bool = Field(
        False,
        description="The plan makes each phase's work wait on the earlier phases, so a late "
        "earlier phase excuses later work as upstream (the review's rule says so); otherwise "
        "only depends_on edges do",
    )
    acknowledge_within: int = Field(
        2,
        ge=1,
        description="A 督办单 not acknowledged (签收) "
        "within this many working days is flagged to the office",
    )
    yellow_within: int = Field(
        5,
        ge=0,
        description="Traffic light: yellow when due within this "
        "many working days with nothing submitted",
    )
    language: Literal["zh", "en"] = "zh"


class PlanFile(Strict):
    """A whole plan file."""

    plan: PlanMeta
    units: list[UnitSpec] = Field(min_length=1)
    groups: list[GroupSpec] = Field(default_factory=list)
    joint_meeting: JointMeetingSpec | None = None
    office: OfficeSpec | None = None
    phases: list[PhaseSpec] = Field(default_factory=list)
    tasks: list[TaskSpec] = Field(default_factory=list)
    reports: list[ReportSpec] = Field(default_factory=list)
    escalation: EscalationPolicy = Field(default_factory=EscalationPolicy)
