"""The formal documents the office prints: the 督办单 (supervision order) for one escalated item,
and the 通报 (circular) announcing the unit ranking.

Both are single self-contained HTML pages laid out like the paper forms (a titled form with its
number line, or a red-headed circular with title, body, table, issuer and date), printable on A4,
from the templates in templates/documents/, which escape every value; this module words what
they say. Dates are written the Chinese way (2020年3月16日, as GB/T 9704 has
them); the issue date is always given, never read from the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from calendars.clock import long_date
from render.environment import render
from render.review import labels
from render.review_rows import late_days, not_yet_due, unit_cells
from tasks.review.model import Review

SHEET_WORDS = {
    "zh": {
        "title": "督 办 单",
        "number": "督办〔{year}〕第{n}号",
        "issued": "签发日期：{date}",
        "matter": "督办事项",
        "plan": "工作方案",
        "unit": "责任单位",
        "original_due": "原定完成时限",
        "current_due": "现完成时限",
        "overdue": "逾期工作日",
        "overdue_value": "{n}个工作日",
        "blocks": "影响的后续任务",
        "none": "无",
        "demand": "督办要求",
        "receipt": "签收编码",
        "signed": "签收人及日期",
        "result": "办理情况",
        "sep": "、",
        "demand_text": "请你单位高度重视，收到本督办单后及时签收，抓紧办理，并将办理情况"
        "（逾期原因、整改措施和预计完成时间）书面报送{issuer}。",
    },
    "en": {
        "title": "Supervision order",
        "number": "Supervision No. {n} ({year})",
        "issued": "Issued {date}",
        "matter": "Matter",
        "plan": "Work plan",
        "unit": "Responsible unit",
        "original_due": "Original due date",
        "current_due": "Current due date",
        "overdue": "Working days overdue",
        "overdue_value": "{n} working days",
        "blocks": "Downstream tasks affected",
        "none": "none",
        "demand": "Required action",
        "receipt": "Receipt code",
        "signed": "Received by, date",
        "result": "Progress report",
        "sep": ", ",
        "demand_text": "Acknowledge this order on receipt, complete the work without delay "
        "and report to {issuer} in writing: the cause of the delay, the "
        "remedy and the expected completion date.",
    },
}


def _org_size(issuer: str) -> int:
    """The issuing body's size in pt: smaller for a long name, so it keeps one line."""
    return max(16, min(30, int(400 / (1.1 * max(len(issuer), 1)))))


def _plan(title: str, number: str | None, language: str) -> str:
    if language == "zh":
        return f"《{title}》" + (f"（{number}）" if number else "")
    return f"“{title}”" + (f" ({number})" if number else "")


def supervision_sheet_html(
    *,
    plan_title: str,
    document_number: str | None,
    task_code: str,
    task_title: str,
    unit_name: str,
    original_due: dt.date | None,
    current_due: dt.date | None,
    overdue_workdays: int,
    blocks: Sequence[str],
    receipt_code: str,
    issuer: str,
    issue_date: dt.date,
    sheet_number: int,
    language: str = "zh",
) -> str:
    """The 督办单 for one escalated item, numbered 督办〔year〕第N号 by its issue date's year.

    `document_number` is the plan's own (渝卫发〔2019〕32号); `blocks` the downstream tasks.
    """
    w = SHEET_WORDS.get(language, SHEET_WORDS["zh"])
    return render(
        "documents/supervision_sheet.html",
        lang="zh-CN" if language == "zh" else "en",
        w=w,
        number=w["number"].format(year=issue_date.year, n=sheet_number),
        day=long_date(issue_date, language),
        plan=_plan(plan_title, document_number, language),
        org_size=_org_size(issuer),
        task_code=task_code,
        task_title=task_title,
        unit_name=unit_name,
        original_due=original_due,
        current_due=current_due,
        overdue_workdays=overdue_workdays,
        blocks=blocks,
        receipt_code=receipt_code,
        issuer=issuer,
        language=language,
    )


CIRCULAR_WORDS = {
    "zh": {
        "title": "关于{subject}工作进展情况的通报",
        "to": "各责任单位：",
        "opening": "为推动{plan}各项任务落实，现将截至{date}的工作进展情况通报如下。",
        "h_progress": "一、总体进展",
        "h_rule": "二、排名规则",
        "h_ranking": "三、排名情况",
        "h_problems": "四、存在的问题",
        "h_demands": "五、工作要求",
        "progress": "方案共分解任务{tasks}项、责任事项{assignments}项。截至{date}，已办结"
        "{accepted}项，其中按时办结{accepted_on_time}项；已报送待审核{submitted}"
        "项，推进中{in_progress}项，未启动{not_started}项；当前逾期{overdue}项，"
        "经批准延期{extended}项。完成率{completion}，按时办结率{on_time}。",
        "own": "存在自身延误的单位：{units}。",
        "own_unit": "{name}（自身延误{n}项）",
        "no_own": "各责任单位均无自身原因造成的延误。",
        "overdue": "当前逾期事项：{items}。",
        "overdue_item": "{task} {title}（{unit}，逾期{n}个工作日）",
        "demands": "请各责任单位对照工作方案和完成时限，抓紧推进未完成事项；存在逾期事项的单位要"
        "认真分析原因，落实整改措施，尽快办结，并将整改情况书面报送{issuer}。",
        "sep": "、",
        "list_sep": "；",
    },
    "en": {
        "title": "Circular on the progress of {subject}",
        "to": "To all responsible units:",
        "opening": "To keep {plan} on course, this circular reports progress as of {date}.",
        "h_progress": "1. Progress",
        "h_rule": "2. Ranking rule",
        "h_ranking": "3. Ranking",
        "h_problems": "4. Problems",
        "h_demands": "5. Requirements",
        "progress": "The plan has {tasks} tasks and {assignments} assignments. As of {date}, "
        "{accepted} are accepted ({accepted_on_time} on time), {submitted} await "
        "acceptance, {in_progress} are in progress and {not_started} not started; "
        "{overdue} are overdue and {extended} extended. Completion {completion}, "
        "on time {on_time}.",
        "own": "Units with own delays: {units}.",
        "own_unit": "{name} ({n} own delays)",
        "no_own": "No unit has delays of its own.",
        "overdue": "Overdue now: {items}.",
        "overdue_item": "{task} {title} ({unit}, {n} working days overdue)",
        "demands": "Every responsible unit is to press on with its open work against the "
        "plan's deadlines; units with overdue items are to find the cause, remedy "
        "it, finish the work and report to {issuer} in writing.",
        "sep": ", ",
        "list_sep": "; ",
    },
}
SUFFIXES = ("工作方案", "实施方案", "行动方案", "方案")
RANKING_COLUMNS = (
    "rank",
    "name",
    "due_items",
    "on_time_items",
    "rate",
    "overdue_now",
    "own_delays",
    "excused",
    "open_escalations",
)  # the review's label keys; the 通报 leaves out the workload, lateness and reports


def _subject(title: str, language: str) -> str:
    """重庆市…试点工作方案 → 重庆市…试点 (the title then adds 工作进展情况)."""
    if language != "zh":
        return title
    for suffix in SUFFIXES:
        if title.endswith(suffix) and len(title) > len(suffix):
            title = title[: -len(suffix)]
            break
    return title.removesuffix("工作")


def ranking_circular_html(
    review: Review, *, issuer: str, number: str | None = None, issued: dt.date | None = None
) -> str:
    """The 通报 circulating the unit ranking: rule, figures, table, problems, requirements.

    `number` is the circular's own document number if it has one; `issued` defaults to the
    review's day.
    """
    language = review.language if review.language in CIRCULAR_WORDS else "zh"
    w, t = CIRCULAR_WORDS[language], labels(review)
    day = long_date(issued or review.as_of, language)
    as_of = long_date(review.as_of, language)
    counts = review.counts
    title = w["title"].format(subject=_subject(review.title, language))
    figures = {
        key: getattr(counts, key)
        for key in (
            "tasks",
            "assignments",
            "accepted",
            "accepted_on_time",
            "submitted",
            "in_progress",
            "not_started",
            "overdue",
            "extended",
        )
    }
    progress = w["progress"].format(
        **figures,
        date=as_of,
        completion=f"{counts.completion_pct:.1f}%",
        on_time=f"{counts.on_time_pct:.1f}%" if counts.accepted else "—",
    )
    laggards = [
        w["own_unit"].format(name=u.name, n=u.own_delays) for u in review.units if u.own_delays
    ]
    overdue = [
        w["overdue_item"].format(task=i.task, title=i.task_title, unit=i.unit_name, n=late_days(i))
        for i in sorted(review.items, key=lambda i: (-i.overdue_workdays, i.task))
        if i.overdue_workdays > 0
    ]
    problems = [w["own"].format(units=w["sep"].join(laggards)) if laggards else w["no_own"]]
    if overdue:
        problems.append(w["overdue"].format(items=w["list_sep"].join(overdue)))
    rule = review.ranking_rule.removeprefix("排名规则：").removeprefix("Ranking rule: ")
    return render(
        "documents/ranking_circular.html",
        lang="zh-CN" if language == "zh" else "en",
        w=w,
        t=t,
        issuer=issuer,
        number=number,
        title=title,
        plan=_plan(review.title, review.document_number, language),
        as_of=as_of,
        day=day,
        progress=progress,
        rule=rule,
        problems=problems,
        columns=RANKING_COLUMNS,
        rows=[unit_cells(u, review, t, RANKING_COLUMNS) for u in review.units],
        apart=not_yet_due(review, t),
        org_size=_org_size(issuer),
    )
