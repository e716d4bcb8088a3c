"""Drafting a plan file from a plan document's text (`duban draft`).

A clerk who types a plan file from a published plan copies the same things every time: the
title, document number, issuer and date from the head; the stages of 实施步骤 with their date
windows; the numbered measures with their responsibility clauses; the rows of an attached
任务分解表; a joint meeting's roster. This module reads those from the document's numbered
lines (`draft_text`) into a `Draft`, and every value carries a `Source`: the line it was read
from, a short quote, and how sure the reading is, so the clerk checks the draft against the
document instead of retyping it. What cannot be read stays empty (`None`) and is written as a
placeholder that `duban lint` lists. Clauses are read by `responsibility.read_responsibility`,
dates by `calendars.deadlines.parse_deadline`; nothing here reads them a second way.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from calendars.deadlines import DeadlineError, parse_deadline
from tasks.plans.draft_meeting import DraftMeeting, read_meeting
from tasks.plans.draft_text import Document, Line
from tasks.plans.draft_units import DraftUnit, UnitRoll
from tasks.plans.responsibility import (
    Responsibility,
    ResponsibilityError,
    normalize_name,
    read_pilots,
    read_responsibility,
)

__all__ = ["Draft", "DraftPhase", "DraftTask", "Source", "draft_plan"]

_NUM = "一二三四五六七八九十"
_LEVEL1 = re.compile(rf"^[{_NUM}]+、\s*")
_LEVEL2 = re.compile(rf"^[（(][{_NUM}]+[）)]\s*")
_LEVEL3 = re.compile(r"^\d{1,2}\s*[.．、](?!\d)\s*")
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
_CLAUSE = re.compile(r"[（(](责任(?:单位|部门|主体|分工)[：:][^（()）]*)[）)][。.]?\s*$")
_LED_BY = re.compile(r"^由([^，,。]{2,24}?)牵头")
_SUBJECT = re.compile(
    r"^([市区县][^，,。]{1,14}?(?:部门和单位|有关部门|有关单位))(?:按照|要|对|根据)"
)
_SENTENCE_END = "。！？；：:;"
_IN_TEXT_DATE = re.compile(
    r"(?:到|于|在|截至)?(?:\d{4}年)?\d{1,2}月(?:\d{1,2}日)?"
    r"(?:[、，,](?:\d{4}年)?\d{1,2}月(?:\d{1,2}日)?)*(?:底|末)?(?:前|以前|之前)?"
    r"|到\d{4}年(?:底|末)?|\d{4}年(?:底|末)(?:前)?|每(?:两|\d)?(?:年|季度|半年|月)(?:左右)?"
    r"|持续开展|长期坚持"
)
_TABLE_HEADS = {
    "responsibility": re.compile(r"责任|牵头"),
    "deadline": re.compile(r"时限|时间|进度"),
    "remarks": re.compile(r"备注"),
    "phase": re.compile(r"阶段"),
    "text": re.compile(r"任务|工作|内容|措施|事项"),
}
_SCOPE = re.compile(
    r"(?P<members>[\u4e00-\u9fff]{2,12}(?:、[\u4e00-\u9fff]{2,12})+)等?为(?:综合监管)?"
    r"(?P<name>试点[\u4e00-\u9fff]{2,8}?)[。；，]"
)
_LOOSE_TABLE = re.compile(r"进度安排|任务分解|工作安排|任务清单|重点任务|重点工作")


@dataclass(frozen=True)
class Source:
    """Where a value was read: its line, a short quote, how sure the reading is (高/中/低)."""

    line: int | None
    quote: str
    sure: str
    why: str = ""


@dataclass
class DraftPhase:
    code: str
    kind: str
    name: str
    window: str | None
    text: str
    source: Source
    dates_in_text: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class DraftTask:
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
        _read_annex(draft, lines[start:stop], roll, year)
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
        starts = any(p.match(text) for p in (_LEVEL1, _LEVEL2, _LEVEL3, _LEVEL4))
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
    more: list[_Paragraph] = field(default_factory=list)

    @property
    def text(self) -> str:
        first = _LEVEL2.sub("", self.paragraph.text)
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


def _read_body(
    draft: Draft, paragraphs: list[_Paragraph], roll: UnitRoll, year: int | None
) -> None:
    sections: list[tuple[_Paragraph, list[_Item], list[_Paragraph]]] = []
    for p in paragraphs:
        if _LEVEL1.match(p.text):
            sections.append((p, [], []))
        elif not sections:
            continue
        elif _LEVEL2.match(p.text):
            items = sections[-1][1]
            items.append(_Item(len(sections), len(items) + 1, p))
        elif sections[-1][1]:
            sections[-1][1][-1].more.append(p)
        else:
            sections[-1][2].append(p)
    measures: list[tuple[_Item, str | None]] = []
    for head, items, _ in sections:
        if _PHASES.search(head.text) and not draft.phases:
            _read_phases(draft, items, year)
            continue
        for item in items:
            measures.append((item, item.take_clause()))
    with_clause = any(clause for _, clause in measures)
    goals = not with_clause
    carry = False
    for item, clause in measures:
        if with_clause and clause is None:
            draft.left_out.append((item.paragraph.line, _short(item.paragraph.text, 30)))
            continue
        task = _measure(item, clause)
        if clause is not None:
            carry = _read_clause(task, clause, item.paragraph.line, roll, carry)
        draft.tasks.append(task)
    if goals:
        for head, _, prose in sections:
            if "目标" in head.text:
                draft.tasks[0:0] = _goals(prose, year)
    draft.tasks = [t for t in draft.tasks if t.text]


def _measure(item: _Item, clause: str | None) -> DraftTask:
    text = item.text
    if clause is not None:
        text = _CLAUSE.sub("", text).rstrip()
    title = re.split(r"[。；]", text, maxsplit=1)[0]
    quote = _short(item.paragraph.text, 24)
    task = DraftTask(
        f"m{item.section}-{item.number}",
        title if len(title) <= 30 else _short(title, 24),
        text,
        "measure",
        Source(item.paragraph.line, quote, "高" if len(title) <= 30 else "中"),
    )
    task.dates_in_text = _dates_in(text)
    return task


def _read_clause(task: DraftTask, clause: str, line: int, roll: UnitRoll, carry: bool) -> bool:
    """Read the clause with the rule carried from earlier ones; returns the rule to carry."""
    try:
        who = read_responsibility(clause, first_listed_leads=carry)
    except ResponsibilityError as exc:
        task.responsibility_source = Source(line, _short(clause, 30), "低", str(exc))
        return carry
    task.responsibility = clause
    for name in (*who.lead, *who.co, *who.participants, *who.pilots):
        roll.add(name, line)
    task.reading = _reading(who)
    sure = "中" if who.note else "高"
    task.responsibility_source = Source(line, _short(clause, 30), sure, who.note or "")
    return who.first_listed_leads


def _reading(who: Responsibility) -> str:
    parts = [("牵头", who.lead), ("配合", who.co), ("参与", who.participants)]
    return "；".join(f"{label}：{'、'.join(names)}" for label, names in parts if names)


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
                    Source(p.line, _short(piece, 20), "中", "目标段落中的年份"),
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
        sure = "高" if _parses(window, year) else "低"
        draft.phases.append(
            DraftPhase(
                f"p{len(draft.phases) + 1}",
                "",
                m["name"].strip(),
                window if sure == "高" else None,
                m["text"].strip(),
                Source(item.paragraph.line, _short(item.paragraph.text, 24), sure),
                [(item.paragraph.line, d) for d in _dates_in(m["text"])],
            )
        )
    _phase_kinds(draft.phases)


def _phase_kinds(phases: list[DraftPhase]) -> None:
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


# ---------------------------------------------------------------- annexes


def _read_annex(draft: Draft, lines: list[Line], roll: UnitRoll, year: int | None) -> None:
    rows = _table_rows(lines)
    if rows:
        _read_table(draft, rows, roll, year)
        return
    content = [ln for ln in lines[1:] if ln.text.strip()]
    title = next((ln for ln in content[:3] if _LOOSE_TABLE.search(ln.text)), None)
    if title is not None:
        _read_loose_table(draft, content[content.index(title) + 1 :], roll, year)


def _table_rows(lines: list[Line]) -> list[list[tuple[int, str]]]:
    """Rows of a table: a line of tab-separated cells, or (pasted from a web page) one cell
    per tab-led line with a blank line between rows."""
    rows: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for line in lines:
        if line.text.count("\t") >= 2:
            rows.append([(line.number, c) for c in line.cells[1:]])
        elif line.text.startswith("\t"):
            current.append((line.number, line.text.strip()))
        elif current:
            rows.append(current)
            current = []
    if current:
        rows.append(current)
    return rows


def _read_table(
    draft: Draft, rows: list[list[tuple[int, str]]], roll: UnitRoll, year: int | None
) -> None:
    header = next((r for r in rows if sum(_role(c) is not None for _, c in r) >= 2), None)
    if header is None:
        return
    roles = [_role(c) for _, c in header]
    carried: dict[str, tuple[int, str]] = {}
    for row in rows[rows.index(header) + 1 :]:
        cells: dict[str, tuple[int, str]] = {}
        for (number, cell), role in zip(row, roles, strict=False):
            if role is None:
                continue
            if cell:
                cells[role] = (number, cell)
                if role in ("responsibility", "phase"):
                    carried[role] = (number, cell)
            elif role in carried:
                cells[role] = carried[role]
        if "text" not in cells:
            continue
        line, text = cells["text"]
        text = _LEVEL3.sub("", text).strip()
        task = DraftTask(
            f"t{sum(t.id.startswith('t') for t in draft.tasks) + 1:02d}",
            _title_of(text),
            text,
            "task",
            Source(line, _short(text, 24), "中", "任务分解表的一行；标题取首句，请改短"),
        )
        if "responsibility" in cells:
            r_line, clause = cells["responsibility"]
            _read_clause(task, clause, r_line, roll, False)
        for name in read_pilots(text):
            roll.add(name, line)
        if "deadline" in cells:
            _set_deadline(task, *cells["deadline"], year)
        if "remarks" in cells and cells["remarks"][1]:
            task.remarks = cells["remarks"][1]
        if "phase" in cells:
            task.phase = cells["phase"][1]
        draft.tasks.append(task)


def _role(cell: str) -> str | None:
    if len(cell) > 12:
        return None
    return next((role for role, p in _TABLE_HEADS.items() if p.search(cell)), None)


def _read_loose_table(draft: Draft, lines: list[Line], roll: UnitRoll, year: int | None) -> None:
    """A table whose layout was lost (PDF to text): stage names broken into short lines,
    numbered tasks, each followed by its 完成时限."""
    fragments: list[str] = []
    stage: tuple[int, str] | None = None
    task: DraftTask | None = None
    pending: tuple[int, str] | None = None  # a deadline still being read across lines
    count = 0
    for line in lines:
        text = line.text.strip()
        if "时限" in text:
            fragments = []
            continue
        if pending is not None:
            joined = (pending[0], pending[1] + text)
            if _parses(joined[1], year) or re.search(r"[至—\-~\d]$", joined[1]):
                pending = joined
                if task is not None and _parses(joined[1], year):
                    _set_deadline(task, *joined, year)
                continue
            pending = None
        if m := _LEVEL3.match(text):
            if fragments and "".join(fragments).endswith("阶段"):
                stage = (line.number, "".join(fragments))
                _add_stage(draft, stage)
            fragments = []
            count += 1
            body, _, tail = _split_deadline(text[m.end() :])
            task = DraftTask(
                f"a{count}",
                _title_of(body),
                body,
                "task",
                Source(line.number, _short(text, 24), "中", "附件表格的一行；标题取首句，请改短"),
                phase=stage[1] if stage else None,
            )
            _responsibility_in_prose(task, line.number, roll)
            draft.tasks.append(task)
            if tail:
                pending = (line.number, tail)
                if _parses(tail, year):
                    _set_deadline(task, line.number, tail, year)
            continue
        if task is not None and task.deadline is None and re.match(r"^\d{4}\s*年", text):
            pending = (line.number, text)
            if _parses(text, year):
                _set_deadline(task, line.number, text, year)
            continue
        if task is not None and task.deadline is None and pending is None:
            task.text += text
            task.title = _title_of(task.text)
            _responsibility_in_prose(task, task.source.line or line.number, roll)
            continue
        if len(text) <= 4 and not re.search(r"\d", text):
            fragments.append(text)


def _add_stage(draft: Draft, stage: tuple[int, str]) -> None:
    if any(p.name == stage[1] for p in draft.phases):
        return
    draft.phases.append(
        DraftPhase(
            f"p{len(draft.phases) + 1}", "", stage[1], None, "", Source(stage[0], stage[1], "中")
        )
    )
    _phase_kinds(draft.phases)


def _split_deadline(text: str) -> tuple[str, str, str]:
    """ "启动第一轮督查。 2020年 6月前": the task and a deadline on the same line."""
    m = re.match(r"^(.*[。；])\s*(\d{4}\s*年.*)$", text)
    return (m[1], "", m[2]) if m else (text, "", "")


def _responsibility_in_prose(task: DraftTask, line: int, roll: UnitRoll) -> None:
    """ "由区卫生健康委牵头，…" or "区级有关部门和单位按照职责…": who the row itself names."""
    if task.responsibility is not None:
        return
    if m := _LED_BY.match(task.text):
        _read_clause(task, f"{m[1]}牵头", line, roll, False)
        if task.responsibility_source:
            task.responsibility_source = Source(line, m[0], "中", "正文中的「由…牵头」")
    elif m := _SUBJECT.match(task.text):
        _read_clause(task, f"{m[1]}牵头", line, roll, False)
        if task.responsibility_source:
            task.responsibility_source = Source(line, m[0], "低", "句子主语，可能是一组单位")


def _set_deadline(task: DraftTask, line: int, text: str, year: int | None) -> None:
    text = text.strip()
    task.deadline = text
    sure = "高" if _parses(text, year) else "低"
    task.deadline_source = Source(line, text, sure, "" if sure == "高" else "完成时限读不出")


# ---------------------------------------------------------------- after reading


def _groups(draft: Draft, paragraphs: list[_Paragraph], roll: UnitRoll) -> None:
    """Groups the text defines: "A、B等为综合监管试点区县" in the pilot scope, and the labels of
    "（试点区县：南岸区、永川区）" in tasks, whose group holds every pilot named under it."""
    found: dict[str, tuple[list[str], Source]] = {}
    for p in paragraphs:
        for m in _SCOPE.finditer(p.text):
            name = m["name"]
            members, _ = found.setdefault(name, ([], Source(p.line, _short(m[0], 30), "中")))
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


def _parses(text: str, year: int | None) -> bool:
    try:
        parse_deadline(text, year=year)
    except DeadlineError:
        return False
    return True


def _dates_in(text: str) -> list[str]:
    """Date expressions in prose that the deadline reader can read."""
    found = []
    for m in _IN_TEXT_DATE.finditer(text.replace(" ", "")):
        phrase = re.sub(r"^(?:于|在)", "", m[0])
        if len(phrase) >= 4 and _parses(phrase, 2000) and phrase not in found:
            found.append(phrase)
    return found


def _title_of(text: str) -> str:
    first = re.split(r"[。；，]", text, maxsplit=1)[0]
    return _short(first, 24)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
