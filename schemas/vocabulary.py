"""The one vocabulary: every closed set of words duban stores, compares or prints.

Each set is a `StrEnum` whose values are the words stored in the database and written in JSON,
so a member compares equal to the plain string read back from a row. The tables' CHECK
constraints are built from these enums (schemas.tables, migration 0002), and the groupings the
rules need (OPEN, CLOSED, SEVERITY …) are defined here once, not re-spelled where they are used.
Nothing here imports anything of duban's: every layer may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class AssignmentState(StrEnum):
    """Where an assignment stands (办理状态); the moves between them are in tasks.work.states."""

    NOT_STARTED = "not_started"  # 未启动
    IN_PROGRESS = "in_progress"  # 推进中
    SUBMITTED = "submitted"  # 已报送待审核
    RETURNED = "returned"  # 已退回
    ACCEPTED = "accepted"  # 已办结
    WAIVED = "waived"  # 免除
    CANCELLED = "cancelled"  # 取消


class OccurrenceState(StrEnum):
    """Where one dated submission of a recurring report stands (阶段报送): the same words, fewer."""

    NOT_STARTED = "not_started"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"


# Open: not finished, whoever holds it. Closed: finished, one way or another.
OPEN: Final = (
    AssignmentState.NOT_STARTED,
    AssignmentState.IN_PROGRESS,
    AssignmentState.SUBMITTED,
    AssignmentState.RETURNED,
)
CLOSED: Final = (AssignmentState.ACCEPTED, AssignmentState.WAIVED, AssignmentState.CANCELLED)
# Open and the next move is the unit's: what the sweep chases and the review calls open
# (a submitted item waits on the office, not on the unit).
WITH_UNIT: Final = (
    AssignmentState.NOT_STARTED,
    AssignmentState.IN_PROGRESS,
    AssignmentState.RETURNED,
)
OCCURRENCE_WITH_UNIT: Final = (OccurrenceState.NOT_STARTED, OccurrenceState.RETURNED)
HANDED_IN: Final = (AssignmentState.SUBMITTED, AssignmentState.ACCEPTED)  # the unit has delivered
SET_ASIDE: Final = (AssignmentState.WAIVED, AssignmentState.CANCELLED)  # 免除或取消: no work owed


class Action(StrEnum):
    """What an actor does to an assignment (办理动作): the moves, and the steps around them;
    and the changes to accounts that the audit trail records beside them."""

    PROGRESS = "progress"  # 进展反馈
    SUBMIT = "submit"  # 报送
    ACCEPT = "accept"  # 审核通过
    RETURN = "return"  # 退回
    WAIVE = "waive"  # 免除
    CANCEL = "cancel"  # 取消
    REQUEST_EXTENSION = "request_extension"  # 延期申请
    DECIDE_EXTENSION = "decide_extension"  # 延期审批 (the permission; recorded as approve/deny)
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    REASSIGN = "reassign"  # 调整责任单位
    ACKNOWLEDGE = "acknowledge"  # 签收 of a 督办单 or 通报 on the web (audited, not a move)
    RESET_PASSWORD = "reset_password"  # 重置密码: by the office (web) or at the server (cli)
    CHANGE_PASSWORD = "change_password"  # 修改密码: a person's own, given the current one


class Operation(StrEnum):
    """What else the audit trail records: work on a whole plan or on the mail, never on one
    assignment (so no assignment's history shows it), by the office's operator or the sweep."""

    IMPORT = "import"  # 导入方案: an import or re-import, with every change it made
    RECALC = "recalc"  # 重算时限: stored due dates moved to new calendar data
    SWEEP = "sweep"  # 每日巡查: notices written, escalations opened and closed
    RETRY_MAIL = "retry_mail"  # 重新投递: mail given up on put back in the outbox


class Role(StrEnum):
    """A unit's part in a task (责任分工): 牵头 lead, 配合 co, 参与 participant."""

    LEAD = "lead"
    CO = "co"
    PARTICIPANT = "participant"


class ActorKind(StrEnum):
    """Who is acting (操作主体): a unit, the joint meeting office, leadership, or the sweep."""

    UNIT = "unit"  # 责任单位
    OFFICE = "office"  # 联席会议办公室
    LEADERSHIP = "leadership"  # 领导
    SYSTEM = "system"  # the sweep


class SeatRole(StrEnum):
    """A unit's seat in the joint meeting (联席会议)."""

    CONVENER = "convener"  # 召集人
    VICE_CONVENER = "vice_convener"  # 副召集人
    MEMBER = "member"  # 成员单位
    OFFICE = "office"  # 联席会议办公室
    LEADERSHIP = "leadership"  # 领导


class ExtensionState(StrEnum):
    """Where a request for a later due date stands (延期申请)."""

    REQUESTED = "requested"  # 待审批
    APPROVED = "approved"  # 批准
    DENIED = "denied"  # 不予批准


class Decision(StrEnum):
    """The office's decision on a submission (审核结论)."""

    ACCEPTED = "accepted"  # 通过
    RETURNED = "returned"  # 退回


class Level(StrEnum):
    """A rung of the escalation ladder (督办层级), declared from the least to the most severe."""

    REMINDER = "reminder"  # 提醒
    DUE = "due"  # 到期提醒
    URGE = "urge"  # 催办
    SUPERVISE = "supervise"  # 督办
    REPORT = "report"  # 通报
    UNACKNOWLEDGED = "unacknowledged"  # 未签收提醒


# Most severe highest, for every user: sort descending to put the most severe first.
SEVERITY: Final[Mapping[Level, int]] = MappingProxyType({v: i for i, v in enumerate(Level)})
RECEIPTED: Final = (Level.SUPERVISE, Level.REPORT)  # 督办单 and 通报 carry a receipt code


class RecipientRole(StrEnum):
    """Why a recipient is told of an item: it is theirs, or they oversee it."""

    RESPONSIBLE = "responsible"  # 责任单位
    OFFICE = "office"  # 联席会议办公室 (抄送)
    LEADERSHIP = "leadership"  # 领导 (通报)


class MessageKind(StrEnum):
    """What an outbox mail carries: sweep notices, follow-ups, the weekly digest, or a review."""

    NOTICE = "notice"  # 督办通知
    DIGEST = "digest"  # 周报
    REVIEW = "review"  # 阶段评估
    FOLLOWUP = "followup"  # 办理情况: a letter of decisions or the office's queue, no notices
    UNDELIVERED = "undelivered"  # 通知未能送达: to the office, a letter that did not arrive


class FollowUpEvent(StrEnum):
    """A decision on a unit's work that the unit is told of in its next letter (办理情况)."""

    RETURNED = "returned"  # 退回
    ACCEPTED = "accepted"  # 验收办结
    EXTENSION_APPROVED = "extension_approved"  # 同意延期
    EXTENSION_DENIED = "extension_denied"  # 不同意延期
    REASSIGNED_AWAY = "reassigned_away"  # 改派他单位: the unit no longer holds the work
    REASSIGNED_TO = "reassigned_to"  # 改派至你单位: the unit now holds it


class Waiting(StrEnum):
    """What waits for the joint meeting office's decision (待审核事项), listed in its letter."""

    SUBMISSION = "submission"  # 报送办结，待验收
    EXTENSION = "extension"  # 申请延期，待审批


class MessageStatus(StrEnum):
    """Where an outbox mail stands, the delivery outcome included."""

    PENDING = "pending"  # 待发送
    SENDING = "sending"  # 发送中 (claimed by a worker)
    SENT = "sent"  # 已发送
    FAILED = "failed"  # 发送失败 (given up; `duban outbox retry` requeues)


class Channel(StrEnum):
    """Through which door a person acted (办理渠道), as the audit trail records it."""

    WEB = "web"  # logged in to the web workplace
    LINK = "link"  # a one-click link in a notice (签收)
    CLI = "cli"  # the command line, as the operating system's user


class ScheduledJob(StrEnum):
    """The jobs a scheduler runs (`duban serve`, the Prefect deployments), by the names
    `duban serve --run-now` takes."""

    SWEEP = "sweep"  # the daily deadline sweep
    DELIVER = "deliver"  # the outbox retry
    REVIEW = "review"  # phase reviews to leadership
    DIGEST = "digest"  # the office's weekly digest


class AccountRole(StrEnum):
    """What a person who logs in to the web workplace is (账号角色)."""

    LIAISON = "liaison"  # 联络员: acts for one unit
    OFFICE = "office"  # 联席会议办公室 staff
    LEADERSHIP = "leadership"  # 领导: reads


class LinkState(StrEnum):
    """What happened to a one-click link that has a record: used once, or revoked."""

    USED = "used"
    REVOKED = "revoked"


class Light(StrEnum):
    """A review's traffic light (红黄绿灯), declared from the least to the most severe."""

    GREEN = "green"  # 绿灯
    YELLOW = "yellow"  # 黄灯
    RED = "red"  # 红灯


LIGHT_SEVERITY: Final[Mapping[Light, int]] = MappingProxyType({v: i for i, v in enumerate(Light)})


class Cause(StrEnum):
    """Why a reviewed item stands where it does: on time, its own delay, another's, extended."""

    ON_TIME = "on_time"  # 按时
    OWN = "own"  # 自身原因
    UPSTREAM = "upstream"  # 上游延误
    EXTENSION = "extension"  # 经批准延期
    OPEN = "open"  # 未办结
    SUPPORTING = "supporting"  # 配合单位逾期: a role the sweep does not chase, so not counted
