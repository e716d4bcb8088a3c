"""The words of a task table (任务分工表): its sheets, its columns with the headers offices
write for them, and the Chinese names of the plan format's kinds.

Defined once: `tasks.plans.table` reads them and `render.plan_table` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

TASK_SHEET = "任务分工表"
UNIT_SHEET = "单位"
GROUP_SHEET = "分组"
PHASE_SHEET = "阶段"
PLAN_SHEET = "方案"


@dataclass(frozen=True)
class Column:
    """One column of a sheet: the field it fills, the header written, the headers accepted."""

    key: str
    header: str
    variants: tuple[str, ...] = ()

    def matches(self, text: str) -> bool:
        return text == self.header or text in self.variants


# 责任单位 / 责任部门 is read as the clause when the sheet has no lead column, and as the
# co-responsible units (配合) when it has one: offices write both layouts.
RESPONSIBLE = ("责任单位", "责任部门", "责任主体")
TASK_COLUMNS = (
    Column("number", "序号", ("编号",)),
    Column("id", "任务代码", ("代码", "任务编码")),
    Column(
        "title", "重点任务", ("工作任务", "主要任务", "任务", "任务名称", "重点工作", "工作内容")
    ),
    Column(
        "text", "具体措施", ("工作措施", "主要措施", "具体工作", "工作举措", "措施", "具体内容")
    ),
    Column("lead", "牵头单位", ("牵头部门", "主办单位", "牵头责任单位")),
    Column("co", "配合单位", ("配合部门", "协办单位", "协办部门", "协同单位")),
    Column("participants", "参与单位", ("参与部门",)),
    Column("clause", "责任条款", ("责任分工",)),
    Column("pilots", "试点单位", ("试点区县",)),
    Column(
        "deadline",
        "完成时限",
        ("完成时间", "时间要求", "进度安排", "时限要求", "完成期限", "时限", "时间节点"),
    ),
    Column("phase", "阶段", ("所属阶段",)),
    Column("kind", "类型", ("事项类型",)),
    Column("depends_on", "前置任务", ("前置事项", "依赖任务")),
    Column("remarks", "备注", ("说明",)),
)
UNIT_COLUMNS = (
    Column("code", "代码", ("单位代码", "编码")),
    Column("name", "单位名称", ("单位", "名称")),
    Column("full_name", "全称", ("单位全称",)),
    Column("aliases", "简称/别名", ("别名", "简称", "其他名称")),
    Column("kind", "类别", ("单位类别", "类型")),
    Column("parent", "上级单位", ("上级",)),
    Column("emails", "邮箱", ("电子邮箱", "邮件地址", "Email", "email")),
    Column("contact_role", "联系人", ("联系处室", "收件处室")),
)
GROUP_COLUMNS = (
    Column("code", "代码", ("编码",)),
    Column("name", "名称", ("分组名称",)),
    Column("aliases", "别名", ("简称/别名", "简称")),
    Column("members", "成员", ("成员单位",)),
)
PHASE_COLUMNS = (
    Column("code", "代码", ("编码",)),
    Column("kind", "类型", ("阶段类型",)),
    Column("name", "名称", ("阶段名称",)),
    Column("window", "时间安排", ("时间窗口", "时间")),
    Column("start", "开始日期", ("开始",)),
    Column("due", "截止日期", ("截止",)),
    Column("text", "工作内容", ("说明",)),
)
# The 方案 sheet: one field a row, its label in column A and its value in column B. The
# blocks a table has no columns for are written as JSON in their cell.
PLAN_FIELDS = (
    ("code", "代码"),
    ("title", "标题"),
    ("document_number", "文号"),
    ("issuer", "发文单位"),
    ("issued", "印发日期"),
    ("timezone", "时区"),
    ("span", "起止日期"),
    ("supervise_from", "督办起始日"),
    ("ongoing_report_every", "持续事项报告周期"),
    ("source", "来源"),
    ("calendar", "日历"),
    ("deadline_reading", "期限读法"),
)
PLAN_BLOCKS = (("joint_meeting", "联席会议"), ("office", "办公室"), ("escalation", "督办规则"))
JSON_FIELDS = {"calendar", "deadline_reading", "joint_meeting", "office", "escalation"}

TASK_KINDS = {"任务": "task", "措施": "measure", "目标": "goal", "报告": "report"}
UNIT_KINDS = {
    "部门": "department",
    "区县": "district",
    "机构": "agency",
    "事业单位": "institution",
    "协会": "association",
    "办公室": "office",
    "领导": "leadership",
    "其他": "other",
}
PHASE_KINDS = {
    "启动": "launch",
    "实施": "implementation",
    "中期评估": "midterm_review",
    "总结评估": "final_evaluation",
}
