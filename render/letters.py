"""Letters: the subject, plain-text and HTML parts of a notice letter, in Chinese or English.

All wording lives in `TEMPLATES`, one dict per language; the code below picks and fills it, and
templates/letters/letter.txt and letter.html lay it out (the HTML escaping every value). The
subject is one line of wording, so it stays a format string here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from calendars.clock import long_date
from render.environment import render
from schemas.vocabulary import RECEIPTED, Level, RecipientRole
from tasks.sweep.notices import (
    BLOCKS_SHOWN,
    ORDER,
    Letter,
    NoticeItem,
    RenderedMail,
    one_line,
)

ZH: dict[str, str] = {
    "html_lang": "zh-CN",
    "subject": "【督办通知】{plan}：{counts}（{date}）",
    "subject_copy": "【督办通知（抄送）】{plan}：{counts}（{date}）",
    "subject_plan_limit": "30",
    "several_plans": "多项工作方案",
    "list_sep": "、",
    "language": "zh",
    "salutation": "{recipient}：",
    "opening": "现将截至{date}{plans}中需要你单位办理或知悉的工作任务通知如下。",
    "plan": "《{title}》",
    "plan_numbered": "《{title}》（{number}）",
    "heading": "{section}、{level}（{n}项）",
    "item": "（{number}）{code} {title}",
    "item_supervise": "（{number}）督办单",
    "row": "{label}：{value}",
    "indent": "\u3000\u3000",
    "level.report": "通报",
    "level.supervise": "督办",
    "level.urge": "催办",
    "level.due": "到期提醒",
    "level.reminder": "提醒",
    "level.unacknowledged": "未签收提醒",
    "count.report": "{n}项通报",
    "count.supervise": "{n}项督办",
    "count.urge": "{n}项逾期催办",
    "count.due": "{n}项今日到期",
    "count.reminder": "{n}项即将到期",
    "count.unacknowledged": "{n}项未签收",
    "label.plan": "工作方案",
    "label.matter": "督办事项",
    "label.unit": "责任单位",
    "label.deadline": "完成时限",
    "label.original_due": "原定完成时限",
    "label.current_due": "现完成时限",
    "label.occurrence": "本次报送",
    "label.progress": "办理进度",
    "label.overdue": "逾期工作日",
    "label.blocks": "影响的后续任务",
    "label.receipt": "签收编码",
    "label.why": "触发规则",
    "label.recipient": "发送原因",
    "label.links": "在线办理",
    "link.ack": "一键签收",
    "link.report": "报送进展 / 提交办结",
    "link.open": "查看并办理",
    "role.lead": "牵头单位",
    "role.co": "配合单位",
    "role.participant": "参与单位",
    "unit": "{unit}（{role}）",
    "deadline_read": "{text}（读作{date}）",
    "deadline_read_note": "{text}（读作{date}；{note}）",
    "extended": "{date}（经批准延期）",
    "left": "距完成时限还有{n}个工作日",
    "today": "今日到期",
    "overdue": "已逾期{n}个工作日",
    "overdue_days": "{n}个工作日",
    "none": "无",
    "receipt": "{code}（收到后请执行 duban ack {code} 签收）",
    "receipt_waiting": "{code}（尚未签收）",
    "receipt_copy": "抄送件，无需签收",
    "recipient.lead": "你单位为牵头单位",
    "recipient.co": "你单位为配合单位",
    "recipient.participant": "你单位为参与单位",
    "recipient.responsible": "你单位为责任单位",
    "recipient.leadership": "逾期事项按规定报领导通报",
    "recipient.office": "联席会议办公室跟踪督办单、通报的签收",
    "recipient.copy_office": "抄送联席会议办公室，供掌握情况",
    "recipient.copy": "抄送你单位，供掌握情况",
    "blocks_more": "{shown}等{n}项",
    "closing_action": "请你单位高度重视，对照完成时限抓紧推进，按要求报送办理情况。",
    "closing_leadership": "以上事项逾期未完成，现予通报，请督促责任单位限期办结。",
    "closing_office": "请及时跟进上述督办单、通报的签收。",
    "closing_receipt": "督办单、通报须签收：收到后请执行 duban ack 签收编码。",
    "closing_copy": "以上事项抄送你单位，供掌握情况。",
    "closing": "特此通知。",
    "footer": "本通知由 duban 督办系统按工作方案和工作日历自动生成。",
}

EN: dict[str, str] = {
    "html_lang": "en",
    "subject": "[Supervision notice] {plan}: {counts} ({date})",
    "subject_copy": "[Supervision notice, copy] {plan}: {counts} ({date})",
    "subject_plan_limit": "50",
    "several_plans": "several work plans",
    "list_sep": ", ",
    "language": "en",
    "salutation": "To {recipient}:",
    "opening": "As of {date}, the following tasks under {plans} need action or attention "
    "from your unit.",
    "plan": "\u201c{title}\u201d",
    "plan_numbered": "\u201c{title}\u201d ({number})",
    "heading": "{section}. {level} ({n})",
    "item": "{section}.{number} {code} {title}",
    "item_supervise": "{section}.{number} Supervision order",
    "row": "{label}: {value}",
    "indent": "    ",
    "level.report": "Reported to leadership",
    "level.supervise": "Formal supervision",
    "level.urge": "Urged: overdue",
    "level.due": "Due today",
    "level.reminder": "Reminders",
    "level.unacknowledged": "Receipts not acknowledged",
    "count.report": "{n} reported to leadership",
    "count.supervise": "{n} under supervision",
    "count.urge": "{n} overdue",
    "count.due": "{n} due today",
    "count.reminder": "{n} due soon",
    "count.unacknowledged": "{n} unacknowledged",
    "label.plan": "Work plan",
    "label.matter": "Matter",
    "label.unit": "Responsible unit",
    "label.deadline": "Deadline",
    "label.original_due": "Original due date",
    "label.current_due": "Current due date",
    "label.occurrence": "This submission",
    "label.progress": "Status",
    "label.overdue": "Working days overdue",
    "label.blocks": "Downstream tasks affected",
    "label.receipt": "Receipt code",
    "label.why": "Rule",
    "label.recipient": "Why you receive this",
    "label.links": "Act online",
    "link.ack": "Acknowledge with one click",
    "link.report": "Report progress / submit as done",
    "link.open": "Open the page",
    "role.lead": "lead unit",
    "role.co": "co-responsible unit",
    "role.participant": "participating unit",
    "unit": "{unit} ({role})",
    "deadline_read": "{text} (read as {date})",
    "deadline_read_note": "{text} (read as {date}; {note})",
    "extended": "{date} (extension approved)",
    "left": "{n} working day(s) left",
    "today": "due today",
    "overdue": "{n} working day(s) overdue",
    "overdue_days": "{n}",
    "none": "none",
    "receipt": "{code} (acknowledge on receipt: run duban ack {code})",
    "receipt_waiting": "{code} (not yet acknowledged)",
    "receipt_copy": "copy for information, no acknowledgement needed",
    "recipient.lead": "your unit is the lead unit",
    "recipient.co": "your unit is a co-responsible unit",
    "recipient.participant": "your unit is a participating unit",
    "recipient.responsible": "your unit is responsible",
    "recipient.leadership": "overdue items are reported to leadership as the rules require",
    "recipient.office": "the joint meeting office follows up unacknowledged receipts",
    "recipient.copy_office": "copied to the joint meeting office for information",
    "recipient.copy": "copied to your unit for information",
    "blocks_more": "{shown} and {more} more",
    "closing_action": "Please give these tasks priority, keep to the due dates and report "
    "progress as required.",
    "closing_leadership": "The items above are overdue and are hereby reported; please see "
    "that the responsible units complete them without further delay.",
    "closing_office": "Please follow up the acknowledgement of these supervision orders and "
    "reports.",
    "closing_receipt": "Supervision orders and reports must be acknowledged: run duban ack "
    "with the receipt code.",
    "closing_copy": "The items above are copied to you for information.",
    "closing": "",
    "footer": "This notice was generated by duban from the work plan and the working calendar.",
}

TEMPLATES: dict[str, dict[str, str]] = {"zh": ZH, "en": EN}

# Deadline readings come from calendars/deadlines.py in English; Chinese letters say them in
# Chinese where the wording is known, and quote anything else as it is.
_ZH_UNITS = {"day": "日", "month": "月", "quarter": "季度", "half-year": "半年", "year": "年"}
_ZH_RULES = {"monthly": "每月", "quarterly": "每季度", "half-yearly": "每半年", "yearly": "每年"}
_ZH_READINGS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"'前' read as by the end of the ([\w-]+)"),
        lambda m: f"“前”按该{_ZH_UNITS.get(m[1], m[1])}末计",
    ),
    (
        re.compile(r"'前' read as before the ([\w-]+) starts"),
        lambda m: f"“前”按该{_ZH_UNITS.get(m[1], m[1])}开始之前计",
    ),
    (re.compile(r"a year alone read as its last day"), lambda m: "仅写年份的，按该年最后一天计"),
    (
        re.compile(r"'左右' \(about\) dropped: read as ([\w-]+)"),
        lambda m: f"“左右”不计，按{_ZH_RULES.get(m[1], m[1])}计",
    ),
)


@dataclass(frozen=True)
class _Block:
    """One item as the letter shows it: a title and label/value rows."""

    title: str
    rows: tuple[tuple[str, str], ...]
    formal: bool  # a 督办单
    links: tuple[tuple[str, str, str], ...] = ()  # (action, what it does in words, address)


@dataclass(frozen=True)
class _Section:
    level: Level
    heading: str
    blocks: tuple[_Block, ...]


def render_letter(letter: Letter) -> RenderedMail:
    """The subject, plain-text and HTML parts of one letter."""
    if not letter.items:
        raise ValueError(f"the letter to {letter.recipient_name} has no items")
    w = TEMPLATES[letter.language]
    subject = _subject(letter, w)
    context = {
        "w": w,
        "subject": subject,
        "salutation": w["salutation"].format(recipient=one_line(letter.recipient_name)),
        "opening": _opening(letter, w),
        "sections": _sections(letter, w),
        "closing": _closing(letter, w),
        "sender": one_line(letter.sender_name),
        "date": _date(letter.as_of, w),
    }
    return RenderedMail(
        subject=subject,
        text=render("letters/letter.txt", **context),
        html=render("letters/letter.html", **context),
    )


# -- content


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _date(day: date, w: dict[str, str]) -> str:
    return long_date(day, w["language"])


def _plans(items: Iterable[NoticeItem]) -> list[NoticeItem]:
    """One item per plan, in the order the plans first appear."""
    seen: dict[str, NoticeItem] = {}
    for item in items:
        seen.setdefault(item.plan_code, item)
    return list(seen.values())


def _groups(items: Iterable[NoticeItem]) -> list[tuple[Level, list[NoticeItem]]]:
    grouped: dict[Level, list[NoticeItem]] = {level: [] for level in ORDER}
    for item in items:
        grouped[item.level].append(item)
    return [(level, found) for level, found in grouped.items() if found]


def _subject(letter: Letter, w: dict[str, str]) -> str:
    plans = _plans(letter.items)
    plan = (
        _shorten(one_line(plans[0].plan_title), int(w["subject_plan_limit"]))
        if len(plans) == 1
        else w["several_plans"]
    )
    counts = w["list_sep"].join(
        w[f"count.{level}"].format(n=len(found)) for level, found in _groups(letter.items)
    )
    template = "subject_copy" if all(i.in_copy for i in letter.items) else "subject"
    return one_line(w[template].format(plan=plan, counts=counts, date=_date(letter.as_of, w)))


def _numeral(n: int, language: str) -> str:
    if language != "zh":
        return str(n)
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return (digits[tens] if tens > 1 else "") + "十" + (digits[ones] if ones else "")
    return str(n)


def _sections(letter: Letter, w: dict[str, str]) -> list[_Section]:
    several = len(_plans(letter.items)) > 1
    sections = []
    for index, (level, items) in enumerate(_groups(letter.items), start=1):
        section = _numeral(index, letter.language)
        heading = w["heading"].format(section=section, level=w[f"level.{level}"], n=len(items))
        blocks = tuple(
            _block(item, w, section, _numeral(n, letter.language), several)
            for n, item in enumerate(items, start=1)
        )
        sections.append(_Section(level, heading, blocks))
    return sections


def _block(
    item: NoticeItem, w: dict[str, str], section: str, number: str, several_plans: bool
) -> _Block:
    code, title = one_line(item.task_code), one_line(item.task_title)
    role = w.get(f"role.{item.role}", one_line(item.role))
    unit = w["unit"].format(unit=one_line(item.unit_name), role=role)
    rows: list[tuple[str, str]] = []
    if several_plans:
        rows.append(("label.plan", _plan_ref(item, w)))
    if item.level == Level.SUPERVISE:
        rows += [
            ("label.matter", f"{code} {title}"),
            ("label.unit", unit),
            ("label.original_due", _deadline(item, w)),
            ("label.current_due", _date(item.due, w)),
            ("label.overdue", w["overdue_days"].format(n=item.overdue_workdays)),
            ("label.blocks", _blocks(item, w) or w["none"]),
            ("label.receipt", _receipt(item, w)),
        ]
        rows += _occurrence(item, w)
        rows += [("label.why", one_line(item.why)), ("label.recipient", _recipient(item, w))]
        heading = w["item_supervise"].format(section=section, number=number)
        return _Block(heading, tuple((w[k], v) for k, v in rows), True, _links(item, w))
    rows += [("label.unit", unit), ("label.deadline", _deadline(item, w))]
    if item.original_due is not None and item.original_due != item.due:
        rows.append(("label.current_due", w["extended"].format(date=_date(item.due, w))))
    rows += _occurrence(item, w)
    rows += [
        ("label.progress", _progress(item, w)),
        ("label.why", one_line(item.why)),
        ("label.recipient", _recipient(item, w)),
    ]
    if item.blocks:
        rows.append(("label.blocks", _blocks(item, w)))
    if item.receipt_code:
        rows.append(("label.receipt", _receipt(item, w)))
    heading = w["item"].format(section=section, number=number, code=code, title=title)
    return _Block(heading, tuple((w[k], v) for k, v in rows), False, _links(item, w))


def _links(item: NoticeItem, w: dict[str, str]) -> tuple[tuple[str, str, str], ...]:
    return tuple((link.action, w[f"link.{link.action}"], link.url) for link in item.links)


def _plan_ref(item: NoticeItem, w: dict[str, str]) -> str:
    title = one_line(item.plan_title)
    if item.document_number:
        return w["plan_numbered"].format(title=title, number=one_line(item.document_number))
    return w["plan"].format(title=title)


def _deadline(item: NoticeItem, w: dict[str, str]) -> str:
    """The plan's date, with the plan's own words and how they were read."""
    planned = _date(item.original_due or item.due, w)
    if not item.deadline_text:
        return planned
    text = one_line(item.deadline_text)
    if item.deadline_reading:
        note = _reading(item.deadline_reading, w is ZH)
        return w["deadline_read_note"].format(text=text, date=planned, note=note)
    return w["deadline_read"].format(text=text, date=planned)


def _reading(note: str, chinese: bool) -> str:
    parts = [one_line(p) for p in note.split(";") if p.strip()]
    if chinese:
        parts = [_zh_reading(p) for p in parts]
    return ("；" if chinese else "; ").join(parts)


def _zh_reading(part: str) -> str:
    for pattern, say in _ZH_READINGS:
        match = pattern.fullmatch(part)
        if match:
            return say(match)
    return part


def _occurrence(item: NoticeItem, w: dict[str, str]) -> list[tuple[str, str]]:
    return [("label.occurrence", _date(item.occurrence, w))] if item.occurrence else []


def _progress(item: NoticeItem, w: dict[str, str]) -> str:
    if item.overdue_workdays > 0:
        return w["overdue"].format(n=item.overdue_workdays)
    if item.workdays_left > 0:
        return w["left"].format(n=item.workdays_left)
    return w["today"]


def _blocks(item: NoticeItem, w: dict[str, str]) -> str:
    """The tasks held up, the first few by name: a late early task can hold up the whole plan."""
    shown = w["list_sep"].join(one_line(b) for b in item.blocks[:BLOCKS_SHOWN])
    if len(item.blocks) <= BLOCKS_SHOWN:
        return shown
    return w["blocks_more"].format(
        shown=shown, n=len(item.blocks), more=len(item.blocks) - BLOCKS_SHOWN
    )


def _receipt(item: NoticeItem, w: dict[str, str]) -> str:
    if not item.receipt_code:
        return w["receipt_copy"] if item.in_copy else w["none"]
    code = one_line(item.receipt_code)
    return w["receipt_waiting" if item.level == Level.UNACKNOWLEDGED else "receipt"].format(
        code=code
    )


def _recipient(item: NoticeItem, w: dict[str, str]) -> str:
    """Why this recipient gets this item."""
    if item.in_copy:
        return w[
            "recipient.copy_office"
            if item.recipient_role == RecipientRole.OFFICE
            else "recipient.copy"
        ]
    if item.recipient_role in (RecipientRole.OFFICE, RecipientRole.LEADERSHIP):
        return w[f"recipient.{item.recipient_role}"]
    return w.get(f"recipient.{item.role}", w["recipient.responsible"])


def _opening(letter: Letter, w: dict[str, str]) -> str:
    plans = w["list_sep"].join(_plan_ref(i, w) for i in _plans(letter.items))
    return w["opening"].format(date=_date(letter.as_of, w), plans=plans)


def _closing(letter: Letter, w: dict[str, str]) -> list[str]:
    """What the recipient is asked to do, for each kind of item the letter holds."""
    asks = {
        "closing_office"
        if i.level == Level.UNACKNOWLEDGED
        else "closing_leadership"
        if i.recipient_role == RecipientRole.LEADERSHIP
        else "closing_action"
        for i in letter.items
        if not i.in_copy
    } or {"closing_copy"}
    if any(i.receipt_code and i.level in RECEIPTED for i in letter.items):
        asks.add("closing_receipt")
    order = (
        "closing_action",
        "closing_leadership",
        "closing_receipt",
        "closing_office",
        "closing_copy",
        "closing",
    )
    return [w[key] for key in order if key in asks or (key == "closing" and w[key])]
