"""Drafting a plan file from a plan document's text (`duban draft`).

A clerk who types a plan file from a published plan copies the same things every time: the
title, document number, issuer and date from the head; the stages of 实施步骤 with their date
windows; the numbered measures with their responsibility clauses; the rows of an attached
任务分解表; a joint meeting's roster. This module reads the document's structure from its
numbered lines (`draft_text`): the head, the body's sections and measures, the stages, the
groups; the annexed tables are `draft_tables`' and the roster `draft_meeting`'s. Every value
of the `Draft` (`draft_model`) says where it was read; what cannot be read stays empty and is
written as a placeholder that `duban lint` lists.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from calendars.deadlines import DeadlineError, parse_deadline
from tasks.plans.draft_meeting import read_meeting
from tasks.plans.draft_model import (
    LEVEL3,
    Draft,
    DraftPhase,
    DraftTask,
    Source,
    parses,
    phase_kinds,
    read_clause,
    short,
)
from tasks.plans.draft_tables import read_annex
from tasks.plans.draft_text import Document, Line
from tasks.plans.draft_units import UnitRoll
from tasks.plans.responsibility import normalize_name, read_pilots

__all__ = ["Draft", "draft_plan"]

_NUM = "一二三四五六七八九十"
_LEVEL1 = re.compile(rf"^[{_NUM}]+、\s*")
_LEVEL2 = re.compile(rf"^[（(][{_NUM}]+[）)]\s*")
_LEVEL4 = re.compile(r"^[（(]\d{1,2}[）)]\s*")
_ANNEX = re.compile(rf"^附\s*件\s*[\d{_NUM}]*\s*$")
_DOC_NUMBER = re.compile(
    r"([\u4e00-\u9fff]{2,12})\s*[〔\[［【(（]\s*(\d{4})\s*[〕\]］】)）]\s*(\d+)\s*号"
)
_DATE_LINE = re.compile(
    r"^\s*(\d{4}|[〇零一二三四五六七八九]{4})\s*年[\d\s一二三四五六七八九十]+月[\d\s一二三四五六七八九十]+日\s*$"
)
_KIND_WORD = re.compile(r"(?:方案|意见|办法|规划|计划|细则|规定|要点|措施|通知|制度)$")
_ISSUER_WORD = re.compile(r"(?:委员会|办公室|办公厅|人民政府|政府|委|局|厅|部|中心)$")
_PHASES = re.compile(r"实施步骤|时间安排|工作步骤|步骤安排|进度安排|实施阶段|工作安排")
_PHASE = re.compile(
    r"^(?P<name>[^（(。，,]{2,16}?阶段)\s*[（(](?P<window>[^）)]{4,40})[）)][。.：:]?\s*(?P<text>.*)$"
)
# A measure's closing bracket naming who does it: labelled ("（责任单位：…）") or ending in what
# the units do ("（海关总署、商务部负责）", "（…负责。列第一位者为牵头单位，下同）").
_CLAUSE = re.compile(
    r"[（(]((?:责任(?:单位|部门|主体|分工)|牵头(?:责任)?单位)[：:][^（()）]*"
    r"|[^（()）。]{2,}?(?:负责|牵头|配合|参与|落实|协助)(?:[，,。；;][^（()）]*下同)?)[）)][。.]?\s*$"
)
# A clause inside a measure's text, closing the sentences before it.
_INNER_CLAUSE = re.compile(r"[（(]([^（()）。]{2,}?(?:负责|牵头|配合|参与|落实|协助))[）)][。.]?")
_SENTENCE_END = "。！？；：:;"
_IN_TEXT_DATE = re.compile(
    r"(?:到|于|在|截至)?(?:\d{4}年)?\d{1,2}月(?:\d{1,2}日)?"
    r"(?:[、，,](?:\d{4}年)?\d{1,2}月(?:\d{1,2}日)?)*(?:底|末)?(?:前|以前|之前)?"
    r"|到\d{4}年(?:底|末)?|\d{4}年(?:底|末)(?:前)?|每(?:两|\d)?(?:年|季度|半年|月)(?:左右)?"
    r"|持续开展|长期坚持"
)
_SCOPE = re.compile(
    r"(?P<members>[\u4e00-\u9fff]{2,12}(?:、[\u4e00-\u9fff]{2,12})+)等?为(?:综合监管)?"
    r"(?P<name>试点[\u4e00-\u9fff]{2,8}?)[。；，]"
)


@dataclass
class _Paragraph:
    line: int
    text: str


def draft_plan(document: Document) -> Draft:
    """Read a plan document into a draft; see the module docstring."""
    lines = document.lines
    draft = Draft(document.source, list(document.notes))
    body = next((i for i, ln in enumerate(lines) if _LEVEL1.match(ln.text.strip())), len(lines))
    annexes = [i for i, ln in enumerate(lines) if i > body and _ANNEX.match(ln.text.strip())]
    end = next(
        (i for i, ln in enumerate(lines) if i > body and ln.text.strip().startswith("附件")),
        len(lines),
    )
    _read_head(draft, lines[:body], lines)
    year = draft.issued[0].year if draft.issued else None
    paragraphs = _paragraphs(lines[body:end])
    roll = UnitRoll()
    _read_body(draft, paragraphs, roll, year)
    bounds = [*annexes, len(lines)]
    measures = list(draft.tasks)
    for start, stop in zip(bounds, bounds[1:], strict=False):
        read_annex(draft, lines[start:stop], roll, year)
    if any(t.id.startswith("t") for t in draft.tasks) and not any(
        t.responsibility for t in measures
    ):  # a 任务分解表 is the plan's own list of tasks: the body's measures explain it
        draft.left_out += [(t.source.line or 0, f"{t.id} {t.title}") for t in measures]
        draft.tasks = [t for t in draft.tasks if t not in measures]
    draft.meeting = read_meeting(lines, roll)
    _groups(draft, paragraphs, roll)
    _phases_of_tasks(draft, year)
    for number, unit in enumerate(roll.units, start=1):
        unit.code = f"u{number:02d}"
    draft.units = roll.units
    return draft


# ---------------------------------------------------------------- the head


def _read_head(draft: Draft, head: list[Line], lines: list[Line]) -> None:
    for line in head:
        if m := _DOC_NUMBER.search(line.text):
            number = f"{m[1]}〔{m[2]}〕{m[3]}号"
            draft.document_number = (number, Source(line.number, m[0].strip(), "高"))
            break
    dated = next((ln for ln in head if _DATE_LINE.match(ln.text)), None)
    if dated is None:  # a notice without its covering letter signs at the end
        dated = next((ln for ln in reversed(lines) if _DATE_LINE.match(ln.text)), None)
    if dated is not None:
        try:
            day = parse_deadline(dated.text).due
        except DeadlineError:
            day = None
        if day is not None:
            draft.issued = (day, Source(dated.number, dated.text.strip(), "高"))
        above = [ln for ln in lines[: dated.number - 1] if ln.text.strip()]
        if above and _ISSUER_WORD.search(above[-1].text.strip()):
            signed = above[-1].text.strip()
            draft.issuer = (signed, Source(above[-1].number, signed, "高"))
    blocks = _title_blocks(head)
    notice = next((b for b in blocks if "关于印发" in b[1] and b[1].endswith("通知")), None)
    own = next((b for b in blocks if _KIND_WORD.search(b[1]) and not b[1].endswith("通知")), None)
    if own is not None:
        sure = "高" if notice and own[1] in notice[1] else "中"
        draft.title = (own[1], Source(own[0], own[1], sure, "文件自身的标题"))
    elif notice is not None:
        title = re.sub(r"^.*?关于印发《?|》?的通知$", "", notice[1])
        draft.title = (title, Source(notice[0], notice[1], "中", "读自印发通知的标题"))
    if draft.issuer is None and draft.title:
        if m := re.match(r"^(.{4,20}?(?:办公厅|办公室|人民政府|委员会))关于", draft.title[0]):
            draft.issuer = (
                m[1],
                Source(draft.title[1].line, draft.title[0], "中", "标题中的发文机关"),
            )


def _title_blocks(head: list[Line]) -> list[tuple[int, str]]:
    """Runs of lines with no sentence punctuation, number or date: the head's titles."""
    blocks: list[tuple[int, str]] = []
    run: list[Line] = []
    for line in [*head, Line(0, "。")]:
        text = line.text.strip()
        if not text:
            continue
        if re.search(r"[。，,：:；;〔《]", text) or _DATE_LINE.match(text) or text[0] in "（(":
            if run:
                blocks.append((run[0].number, "".join(ln.text.strip() for ln in run)))
            run = []
            continue
        run.append(line)
        if _KIND_WORD.search("".join(ln.text.strip() for ln in run)):
            blocks.append((run[0].number, "".join(ln.text.strip() for ln in run)))
            run = []
    return blocks


# ---------------------------------------------------------------- the body


def _paragraphs(lines: list[Line]) -> list[_Paragraph]:
    """Lines broken by a PDF's layout joined back into paragraphs."""
    found: list[_Paragraph] = []
    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        last = found[-1] if found else None
        starts = any(p.match(text) for p in (_LEVEL1, _LEVEL2, LEVEL3, _LEVEL4))
        if (
            last is None
            or starts
            or last.text[-1] in _SENTENCE_END
            or _CLAUSE.search(last.text)
            or _DATE_LINE.match(text)
            or (_LEVEL1.match(last.text) and "。" not in last.text)
        ):
            found.append(_Paragraph(line.number, text))
        else:
            last.text += text
    return found


@dataclass
class _Item:
    section: int
    number: int
    paragraph: _Paragraph
    marker: re.Pattern[str]
    more: list[_Paragraph] = field(default_factory=list)

    @property
    def text(self) -> str:
        first = self.marker.sub("", self.paragraph.text)
        return "\n".join([first, *(p.text for p in self.more)])

    def take_clause(self) -> str | None:
        """The responsibility clause closing one of the item's paragraphs; what follows it
        (a signature, a date) is not the item's and is dropped."""
        paragraphs = [self.paragraph, *self.more]
        for k in range(len(paragraphs) - 1, -1, -1):
            if m := _CLAUSE.search("".join(p.text for p in paragraphs[: k + 1])):
                self.more = self.more[:k]
                return m[1]
        return None


@dataclass
class _Section:
    """A "一、" section: its heading, its numbered items, the prose before them."""

    head: _Paragraph
    items: list[_Item] = field(default_factory=list)
    prose: list[_Paragraph] = field(default_factory=list)
    marker: re.Pattern[str] | None = None  # how its items are numbered: （一） or 1.


def _sections(paragraphs: list[_Paragraph]) -> list[_Section]:
    """The body's sections; a section's items are numbered as its first item is."""
    sections: list[_Section] = []
    for p in paragraphs:
        if _LEVEL1.match(p.text):
            sections.append(_Section(p))
            continue
        if not sections:
            continue
        section = sections[-1]
        if section.marker is None:
            section.marker = next((m for m in (_LEVEL2, LEVEL3) if m.match(p.text)), None)
        if section.marker is not None and section.marker.match(p.text):
            number = len(section.items) + 1
            section.items.append(_Item(len(sections), number, p, section.marker))
        elif section.items:
            section.items[-1].more.append(p)
        else:
            section.prose.append(p)
    for number, section in enumerate(sections, start=1):
        section.items = [piece for item in section.items for piece in _finest(item)]
        for k, item in enumerate(section.items, start=1):
            item.number = k
        if not section.items and _CLAUSE.search(section.head.text):
            # "一、对…给予激励。…（财政部负责）": a section that is itself one measure
            section.items = [_Item(number, 1, section.head, _LEVEL1)]
    return sections


def _finest(item: _Item) -> list[_Item]:
    """A "（一）" item whose "1." paragraphs each close with a clause is a heading over them:
    the numbered paragraphs are the measures, as a clerk would list them."""
    subs = [p for p in item.more if LEVEL3.match(p.text)]
    if item.marker is not _LEVEL2 or not any(_CLAUSE.search(p.text) for p in subs):
        return [item]
    pieces: list[_Item] = []
    for p in item.more:
        if LEVEL3.match(p.text):
            pieces.append(_Item(item.section, 0, p, LEVEL3))
        elif pieces:
            pieces[-1].more.append(p)
    return pieces


def _read_body(
    draft: Draft, paragraphs: list[_Paragraph], roll: UnitRoll, year: int | None
) -> None:
    sections = _sections(paragraphs)
    measures: list[tuple[_Item, str | None]] = []
    for section in sections:
        if _PHASES.search(section.head.text) and not draft.phases:
            _read_phases(draft, section.items, year)
            continue
        for item in section.items:
            measures.append((item, item.take_clause()))
    with_clause = any(clause for _, clause in measures)
    goals = not with_clause
    # Where measures carry clauses, a section none of whose items does (总体要求: 指导思想,
    # 基本原则) holds no work; an item without a clause among items with one is work nobody
    # was named for, kept for the clerk.
    working = {item.section for item, clause in measures if clause}
    carry = False
    for item, clause in measures:
        if with_clause and item.section not in working:
            draft.left_out.append((item.paragraph.line, short(item.paragraph.text, 30)))
            continue
        for task, said in _measures(item, clause):
            if said is not None:
                carry = read_clause(task, said, item.paragraph.line, roll, carry)
            draft.tasks.append(task)
    if goals:
        for section in sections:
            if "目标" in section.head.text:
                draft.tasks[0:0] = _goals(section.prose, year)
    draft.tasks = [t for t in draft.tasks if t.text]


def _measures(item: _Item, clause: str | None) -> list[tuple[DraftTask, str | None]]:
    """The item as one measure, or as several where clauses inside it each close a part:
    "…赛事。（体育总局负责）加强…。（市场监管总局负责）" names who does each part."""
    text = item.text
    if clause is not None:
        text = _CLAUSE.sub("", text).rstrip()
    cuts = [m for m in _INNER_CLAUSE.finditer(text) if text[m.end() :].strip("。. \n")]
    if not cuts:
        return [(_measure(item, item.number, text), clause)]
    parts, start = [], 0
    for m in cuts:
        parts.append((text[start : m.start()].rstrip(), m[1]))
        start = m.end()
    parts.append((text[start:].strip(), clause))
    return [
        (_measure(item, f"{item.number}-{k}", part), said)
        for k, (part, said) in enumerate(parts, start=1)
    ]


def _measure(item: _Item, number: int | str, text: str) -> DraftTask:
    title = re.split(r"[。；]", text, maxsplit=1)[0]
    quote = short(item.paragraph.text, 24)
    task = DraftTask(
        f"m{item.section}-{number}",
        title if len(title) <= 30 else short(title, 24),
        text,
        "measure",
        Source(item.paragraph.line, quote, "高" if len(title) <= 30 else "中"),
    )
    task.dates_in_text = _dates_in(text)
    closing = [d for d in task.dates_in_text if re.search(r"(?:前|以前|之前)$", d)]
    if len(closing) == 1 and len(task.dates_in_text) == 1:
        # "2019年6月底前，研究制定…": the one "by" date of the measure is its deadline
        task.deadline = closing[0]
        task.deadline_source = Source(item.paragraph.line, closing[0], "中", "文中唯一的期限")
    return task


def _goals(prose: list[_Paragraph], year: int | None) -> list[DraftTask]:
    """ "到2022年，…": each target year of a goals section as a goal with that deadline."""
    found = []
    for p in prose:
        pieces = re.split(r"(?=到\d{4}年)", p.text)
        for piece in pieces:
            if m := re.match(r"到(\d{4})年(?:底)?", piece):
                task = DraftTask(
                    f"g{m[1]}",
                    f"{m[1]}年工作目标",
                    piece.strip(),
                    "goal",
                    Source(p.line, short(piece, 20), "中", "目标段落中的年份"),
                    deadline=m[0],
                    deadline_source=Source(p.line, m[0], "高"),
                )
                found.append(task)
    return found


def _read_phases(draft: Draft, items: list[_Item], year: int | None) -> None:
    for item in items:
        text = item.text.replace("\n", "")
        m = _PHASE.match(text)
        if not m:
            continue
        window = m["window"].strip()
        sure = "高" if parses(window, year) else "低"
        draft.phases.append(
            DraftPhase(
                f"p{len(draft.phases) + 1}",
                "",
                m["name"].strip(),
                window if sure == "高" else None,
                m["text"].strip(),
                Source(item.paragraph.line, short(item.paragraph.text, 24), sure),
                [(item.paragraph.line, d) for d in _dates_in(m["text"])],
            )
        )
    phase_kinds(draft.phases)


# ---------------------------------------------------------------- annexes


# ---------------------------------------------------------------- after reading


def _groups(draft: Draft, paragraphs: list[_Paragraph], roll: UnitRoll) -> None:
    """Groups the text defines: "A、B等为综合监管试点区县" in the pilot scope, and the labels of
    "（试点区县：南岸区、永川区）" in tasks, whose group holds every pilot named under it."""
    found: dict[str, tuple[list[str], Source]] = {}
    for p in paragraphs:
        for m in _SCOPE.finditer(p.text):
            name = m["name"]
            members, _ = found.setdefault(name, ([], Source(p.line, short(m[0], 30), "中")))
            members += [n for n in re.split(r"[、，,]", m["members"]) if n and n not in members]
    for task in draft.tasks:
        for m in re.finditer(r"[（(](试点[^：:（）()，,。、]{0,8})[：:]", task.text):
            quote = Source(task.source.line, f"（{m[1]}：…）", "中", "各任务所列试点之和")
            members, _ = found.setdefault(m[1], ([], quote))
            members += [n for n in read_pilots(task.text) if n not in members]
    for name, (members, source) in found.items():
        names = list(dict.fromkeys(n for n in map(normalize_name, members) if n))
        if not names:
            continue
        for member in names:
            roll.add(member, source.line)
        unit = next((u for u in roll.units if u.name == name), None)
        if unit is not None:
            roll.units.remove(unit)
        draft.groups.append((name, names, source))


def _phases_of_tasks(draft: Draft, year: int | None) -> None:
    """A task's stage: the one its table row names, else the stage whose window holds its due
    date; a stage with no window of its own gets the span of its tasks' deadlines."""
    windows = {p.code: _window(p.window, year) for p in draft.phases}
    by_name = {p.name: p.code for p in draft.phases}
    for task in draft.tasks:
        if task.phase in by_name:
            task.phase = by_name[task.phase]
            continue
        task.phase = None
        due = _window(task.deadline, year)
        for code, span in windows.items():
            if due and span and span[0] <= due[1] <= span[1]:
                task.phase = code
                break
    for phase in draft.phases:
        if phase.window is not None:
            continue
        spans = [
            s for t in draft.tasks if t.phase == phase.code if (s := _window(t.deadline, year))
        ]
        if spans:
            first, last = min(s[0] for s in spans), max(s[1] for s in spans)
            phase.window = f"{first.year}年{first.month}月至{last.year}年{last.month}月"
            if (first.year, first.month) == (last.year, last.month):
                phase.window = f"{first.year}年{first.month}月"
            phase.source = Source(
                phase.source.line, phase.source.quote, "低", "由本阶段各任务的完成时限推出"
            )


def _window(text: str | None, year: int | None) -> tuple[dt.date, dt.date] | None:
    if not text:
        return None
    try:
        read = parse_deadline(text, year=year)
    except DeadlineError:
        return None
    if read.due is None:
        return None
    start = read.start or read.due.replace(day=1)
    if read.kind == "date" and read.start is None and read.dates == ():
        start = read.due.replace(day=1) if read.due.day > 1 else read.due
    return start, read.due


def _dates_in(text: str) -> list[str]:
    """Date expressions in prose that the deadline reader can read."""
    found = []
    for m in _IN_TEXT_DATE.finditer(text.replace(" ", "")):
        phrase = re.sub(r"^(?:于|在)", "", m[0])
        if len(phrase) >= 4 and parses(phrase, 2000) and phrase not in found:
            found.append(phrase)
    return found
