"""Letters: the subject, plain-text and HTML parts of a notice letter, in Chinese or English.

A letter lists its notices by level, then the decisions on the recipient's work (办理情况),
then what waits for the office's decision (待审核事项); a letter may hold any of the three.

All wording lives in `render.letter_words.TEMPLATES`, one dict per language; the code below
picks and fills it, and templates/letters/letter.txt and letter.html lay it out (the HTML
escaping every value).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from calendars.clock import long_date
from render.environment import render
from render.letter_words import TEMPLATES, ZH
from schemas.vocabulary import FollowUpEvent, Level, RecipientRole, Waiting
from tasks.sweep.notices import (
    BLOCKS_SHOWN,
    ORDER,
    FollowUpItem,
    Letter,
    NoticeItem,
    RenderedMail,
    WaitingItem,
    one_line,
)

Content = NoticeItem | FollowUpItem | WaitingItem  # anything a letter lists, of some plan
MOVED = (FollowUpEvent.REASSIGNED_AWAY, FollowUpEvent.REASSIGNED_TO)

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
    level: str  # a Level, or "followup" (办理情况), or "waiting" (待审核事项)
    heading: str
    blocks: tuple[_Block, ...]
    more: str | None = None  # a line after the blocks: what the section leaves out
    more_link: str | None = None  # and where to see it


def render_letter(letter: Letter) -> RenderedMail:
    """The subject, plain-text and HTML parts of one letter."""
    if letter.empty:
        raise ValueError(f"the letter to {letter.recipient_name} has no items")
    w = TEMPLATES[letter.language]
    subject = _subject(letter, w)
    context = {
        "w": w,
        "subject": subject,
        "salutation": w["salutation"].format(recipient=one_line(letter.recipient_name)),
        "opening": _opening(letter, w),
        "receipt": _letter_receipt(letter, w),
        "ack": letter.ack,
        "sections": _sections(letter, w),
        "closing": _closing(letter, w),
        "sender": one_line(letter.sender_name),
        "contact": _contact(letter, w),
        "date": _date(letter.as_of, w),
    }
    return RenderedMail(
        subject=subject,
        text=render("letters/letter.txt", **context),
        html=render("letters/letter.html", **context),
    )


# -- content


TASK_TEXT_LIMIT = 150  # characters of the plan's task text a letter quotes before "…"


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _date(day: date, w: dict[str, str]) -> str:
    return long_date(day, w["language"])


def _plans(items: Iterable[Content]) -> list[Content]:
    """One item per plan, in the order the plans first appear."""
    seen: dict[str, Content] = {}
    for item in items:
        seen.setdefault(item.plan_code, item)
    return list(seen.values())


def _contents(letter: Letter) -> list[Content]:
    return [*letter.items, *letter.followups, *letter.waiting]


def _groups(items: Iterable[NoticeItem]) -> list[tuple[Level, list[NoticeItem]]]:
    grouped: dict[Level, list[NoticeItem]] = {level: [] for level in ORDER}
    for item in items:
        grouped[item.level].append(item)
    return [(level, found) for level, found in grouped.items() if found]


def _subject(letter: Letter, w: dict[str, str]) -> str:
    plans = _plans(_contents(letter))
    plan = (
        _shorten(one_line(plans[0].plan_title), int(w["subject_plan_limit"]))
        if len(plans) == 1
        else w["several_plans"]
    )
    groups = _groups(letter.items)  # the most severe first: it titles the subject
    counts = [count for level, found in groups for count in _counts(level, found, w)]
    decided = Counter(f.event for f in letter.followups)
    counts += [
        w[f"count.{event}"].format(n=decided[event]) for event in FollowUpEvent if event in decided
    ]
    if letter.waiting:
        counts.append(w["count.waiting"].format(n=len(letter.waiting) + letter.waiting_more))
    # titled by the most severe item the recipient must act on; copies only if that is all
    titling = _groups(i for i in letter.items if not i.in_copy) or groups
    kind = _worded(w, f"kind.{titling[0][0]}", titling[0][1]) if titling else ""
    return one_line(
        w[_subject_kind(letter)].format(
            kind=kind, plan=plan, counts=w["list_sep"].join(counts), date=_date(letter.as_of, w)
        )
    )


def _worded(w: dict[str, str], key: str, items: list[NoticeItem]) -> str:
    """The wording for `items`; its ongoing variant if every one of them is ongoing work, which
    has a report day, not a deadline (no "今日到期" for 持续开展)."""
    if items and all(i.ongoing for i in items) and f"{key}.ongoing" in w:
        return w[f"{key}.ongoing"]
    return w[key]


def _counts(level: Level, items: list[NoticeItem], w: dict[str, str]) -> list[str]:
    """A level's count for the subject: one-off deadlines and ongoing reports counted apart."""
    if f"count.{level}.ongoing" not in w:
        return [w[f"count.{level}"].format(n=len(items))]
    ongoing = sum(i.ongoing for i in items)
    apart = ((f"count.{level}", len(items) - ongoing), (f"count.{level}.ongoing", ongoing))
    return [w[key].format(n=n) for key, n in apart if n]


def _subject_kind(letter: Letter) -> str:
    """A notice to act on comes first; then decisions, the office's queue, and copies."""
    if any(not i.in_copy for i in letter.items):
        return "subject"
    if letter.followups:
        return "subject_followup"
    if letter.waiting:
        return "subject_waiting"
    return "subject_copy"


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
    several = len(_plans(_contents(letter))) > 1
    groups: list[tuple[str, Iterable[Content]]] = list(_groups(letter.items))
    if letter.followups:
        groups.append(("followup", letter.followups))
    if letter.waiting:
        groups.append(("waiting", letter.waiting))
    sections = []
    for index, (level, listed) in enumerate(groups, start=1):
        items = list(listed)
        section = _numeral(index, letter.language)
        blocks = tuple(
            _block(item, w, section, _numeral(n, letter.language), several)
            for n, item in enumerate(items, start=1)
        )
        said = _worded(w, f"level.{level}", [i for i in items if isinstance(i, NoticeItem)])
        heading = w["heading"].format(section=section, level=said, n=len(blocks))
        sections.append(_Section(level, heading, blocks))
    if letter.waiting_more:
        more = w["waiting_more"].format(n=letter.waiting_more)
        sections[-1] = dataclasses.replace(sections[-1], more=more, more_link=letter.desk)
    return sections


def _block(
    item: Content, w: dict[str, str], section: str, number: str, several_plans: bool
) -> _Block:
    """One item as a titled block of rows: a notice, a decision or a waiting item."""
    rows: list[tuple[str, str]] = [("label.plan", _plan_ref(item, w))] if several_plans else []
    if isinstance(item, FollowUpItem):
        rows += _decision_rows(item, w)
    elif isinstance(item, WaitingItem):
        rows += _waiting_rows(item, w)
    else:
        return _notice_block(item, w, section, number, rows)
    title = w["item"].format(section=section, number=number, title=one_line(item.task_title))
    return _Block(title, tuple((w[k], v) for k, v in rows), False, _links(item, w))


def _decision_rows(item: FollowUpItem, w: dict[str, str]) -> list[tuple[str, str]]:
    rows = [("label.decision", w[f"event.{item.event}"]), ("label.unit", _unit(item, w))]
    rows += _occurrence(item, w)
    if item.due is not None and item.event == FollowUpEvent.EXTENSION_APPROVED:
        rows.append(("label.current_due", w["extended"].format(date=_date(item.due, w))))
    if item.due is not None and item.event == FollowUpEvent.EXTENSION_DENIED:
        rows.append(("label.requested_due", _date(item.due, w)))
    if item.other_unit and item.event in MOVED:
        moved = w[f"reassigned.{item.event}"].format(unit=one_line(item.other_unit))
        rows.append(("label.reassigned", moved))
    if item.reason:
        rows.append(("label.reason", one_line(item.reason)))
    rows.append(("label.decided_on", _date(item.decided_on, w)))
    return rows


def _waiting_rows(item: WaitingItem, w: dict[str, str]) -> list[tuple[str, str]]:
    rows = [("label.waiting", w[f"waiting.{item.kind}"]), ("label.unit", _unit(item, w))]
    rows += _occurrence(item, w)
    if item.due is not None:
        rows.append(("label.current_due", _date(item.due, w)))
    if item.requested_due is not None:
        rows.append(("label.requested_due", _date(item.requested_due, w)))
    said = "label.note" if item.kind == Waiting.SUBMISSION else "label.request_reason"
    rows.append((said, one_line(item.note)))
    since = _date(item.since, w)
    if item.waited_workdays > 0:
        since = w["since"].format(date=since, n=item.waited_workdays)
    rows.append(("label.since", since))
    return rows


def _unit(item: Content, w: dict[str, str]) -> str:
    role = w.get(f"role.{item.role}", one_line(item.role))
    return w["unit"].format(unit=one_line(item.unit_name), role=role)


def _notice_block(
    item: NoticeItem, w: dict[str, str], section: str, number: str, rows: list[tuple[str, str]]
) -> _Block:
    title = one_line(item.task_title)
    unit = _unit(item, w)
    if item.level == Level.SUPERVISE:
        rows += [("label.matter", title), *_task(item, w), ("label.unit", unit)]
        if item.ongoing:  # no end date to be late against: this report's day is the date
            rows.append(("label.deadline", _deadline(item, w)))
        else:
            rows += [
                ("label.original_due", _deadline(item, w)),
                ("label.current_due", _date(item.due, w)),
            ]
        rows += [
            ("label.overdue", w["overdue_days"].format(n=item.overdue_workdays)),
            ("label.blocks", _blocks(item, w) or w["none"]),
        ]
        if not item.receipted:  # the letter's own code is printed once, at its head
            rows.append(("label.receipt", _receipt(item, w)))
        rows += _occurrence(item, w)
        rows += [("label.why", one_line(item.why)), ("label.recipient", _recipient(item, w))]
        rows += _how(item, w)
        heading = w["item_supervise"].format(section=section, number=number)
        return _Block(heading, tuple((w[k], v) for k, v in rows), True, _links(item, w))
    rows += [*_task(item, w), ("label.unit", unit), ("label.deadline", _deadline(item, w))]
    if item.original_due is not None and item.original_due != item.due:
        rows.append(("label.current_due", w["extended"].format(date=_date(item.due, w))))
    rows += _occurrence(item, w)
    progress, why = _progress(item, w), one_line(item.why)
    rows.append(("label.progress", progress))
    if why != progress:  # a reminder's reason is its progress: the letter says it once
        rows.append(("label.why", why))
    rows.append(("label.recipient", _recipient(item, w)))
    if item.blocks:
        rows.append(("label.blocks", _blocks(item, w)))
    if item.receipt_code and not item.receipted:
        rows.append(("label.receipt", _receipt(item, w)))
    rows += _how(item, w)
    heading = w["item"].format(section=section, number=number, title=title)
    return _Block(heading, tuple((w[k], v) for k, v in rows), False, _links(item, w))


def _task(item: NoticeItem, w: dict[str, str]) -> list[tuple[str, str]]:
    """What the plan asks to be done, in its own words, shortened if long."""
    text = one_line(item.task_text or "")
    return [("label.task", _shorten(text, TASK_TEXT_LIMIT))] if text else []


def _how(item: NoticeItem, w: dict[str, str]) -> list[tuple[str, str]]:
    """How and where the unit responsible reports: its page in the workplace (the link)."""
    if item.in_copy or item.recipient_role != RecipientRole.RESPONSIBLE:
        return []
    linked = any(link.action == "report" for link in item.links)
    return [("label.how", w["how.link" if linked else "how"])]


def _letter_receipt(letter: Letter, w: dict[str, str]) -> str | None:
    """The letter's one receipt code, said once at its head: its 督办单 and 通报 share it."""
    code = letter.receipt_code
    return w["receipt_letter"].format(code=one_line(code)) if code else None


def _links(item: Content, w: dict[str, str]) -> tuple[tuple[str, str, str], ...]:
    return tuple((link.action, w[f"link.{link.action}"], link.url) for link in item.links)


def _plan_ref(item: Content, w: dict[str, str]) -> str:
    title = one_line(item.plan_title)
    if item.document_number:
        return w["plan_numbered"].format(title=title, number=one_line(item.document_number))
    return w["plan"].format(title=title)


def _deadline(item: NoticeItem, w: dict[str, str]) -> str:
    """The plan's date, with the plan's own words and how they were read."""
    if item.ongoing:  # 持续开展, 每季度: no date of its own to read the words as
        return w["deadline_ongoing"].format(text=one_line(item.deadline_text or w["ongoing"]))
    planned = _date(item.original_due or item.due, w)
    if item.moved_from is not None:
        weekday = w["weekdays"].split(",")[item.moved_from.weekday()]
        moved = _date(item.moved_from, w)
        planned = w["moved"].format(written=moved, weekday=weekday, date=planned)
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


def _occurrence(item: Content, w: dict[str, str]) -> list[tuple[str, str]]:
    return [("label.occurrence", _date(item.occurrence, w))] if item.occurrence else []


def _progress(item: NoticeItem, w: dict[str, str]) -> str:
    """Working days left or overdue; for ongoing work, to or past this report's day."""
    kind = ".ongoing" if item.ongoing else ""
    if item.overdue_workdays > 0:
        return w[f"overdue{kind}"].format(n=item.overdue_workdays)
    if item.workdays_left > 0:
        return w[f"left{kind}"].format(n=item.workdays_left)
    return w[f"today{kind}"]


def _blocks(item: NoticeItem, w: dict[str, str]) -> str:
    """The tasks held up, the first few by name: a late early task can hold up the whole plan."""
    shown = w["list_sep"].join(one_line(b) for b in item.blocks[:BLOCKS_SHOWN])
    if len(item.blocks) <= BLOCKS_SHOWN:
        return shown
    return w["blocks_more"].format(
        shown=shown, n=len(item.blocks), more=len(item.blocks) - BLOCKS_SHOWN
    )


def _receipt(item: NoticeItem, w: dict[str, str]) -> str:
    """An item's receipt other than the letter's own: one still awaited, or none for a copy."""
    if item.receipt_code and item.level == Level.UNACKNOWLEDGED:
        return w["receipt_waiting"].format(code=one_line(item.receipt_code))
    return w["receipt_copy"] if item.in_copy else w["none"]


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
    plans = w["list_sep"].join(_plan_ref(i, w) for i in _plans(_contents(letter)))
    kind = (
        "opening" if letter.items else "opening_followup" if letter.followups else "opening_waiting"
    )
    return w[kind].format(date=_date(letter.as_of, w), plans=plans)


def _contact(letter: Letter, w: dict[str, str]) -> str | None:
    """Whom to call at the office: its liaison's name and telephone, as the plan gives them."""
    parts = [
        w[key].format(**{field: one_line(value)})
        for key, field, value in (
            ("contact_name", "name", letter.contact_name),
            ("contact_phone", "phone", letter.contact_phone),
        )
        if value
    ]
    return w["contact_sep"].join(parts) or None


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
    }
    if letter.items and not asks:
        asks.add("closing_copy")
    if letter.receipt_code:
        asks.add("closing_receipt_link" if letter.ack else "closing_receipt")
    decided = {f.event for f in letter.followups}
    if FollowUpEvent.RETURNED in decided:
        asks.add("closing_returned")
    if FollowUpEvent.REASSIGNED_TO in decided:
        asks.add("closing_reassigned")
    if letter.waiting:
        asks.add("closing_waiting")
    if not asks:
        asks.add("closing_noted")
    order = (
        "closing_action",
        "closing_leadership",
        "closing_receipt",
        "closing_receipt_link",
        "closing_office",
        "closing_returned",
        "closing_reassigned",
        "closing_waiting",
        "closing_copy",
        "closing_noted",
        "closing",
    )
    return [w[key] for key in order if key in asks or (key == "closing" and w[key])]
