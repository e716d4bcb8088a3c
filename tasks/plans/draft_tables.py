"""Tables attached to a plan document: a 任务分解表 or 进度安排, read into drafted tasks.

A table reaches the drafter in one of three shapes: a Word table (one line of tab-separated
cells per row, from `draft_text`), a table pasted from a web page (one cell per tab-led line, a
blank line between rows), or a table whose layout a PDF lost (stage names broken into short
lines, numbered tasks, each followed by its 完成时限). The columns are found by their headings;
a responsible body or a stage written once for several rows is carried down.
"""

from __future__ import annotations

import re

from tasks.plans.draft_model import (
    LEVEL3,
    Draft,
    DraftPhase,
    DraftTask,
    Source,
    parses,
    phase_kinds,
    read_clause,
    set_deadline,
    short,
    title_of,
)
from tasks.plans.draft_text import Line
from tasks.plans.draft_units import UnitRoll
from tasks.plans.responsibility import read_pilots

__all__ = ["read_annex"]

_TABLE_HEADS = {
    "responsibility": re.compile(r"责任|牵头"),
    "deadline": re.compile(r"时限|时间|进度"),
    "remarks": re.compile(r"备注"),
    "phase": re.compile(r"阶段"),
    "text": re.compile(r"任务|工作|内容|措施|事项"),
}
_LOOSE_TABLE = re.compile(r"进度安排|任务分解|工作安排|任务清单|重点任务|重点工作")
_LED_BY = re.compile(r"^由([^，,。]{2,24}?)牵头")
_SUBJECT = re.compile(
    r"^([市区县][^，,。]{1,14}?(?:部门和单位|有关部门|有关单位))(?:按照|要|对|根据)"
)


def read_annex(draft: Draft, lines: list[Line], roll: UnitRoll, year: int | None) -> None:
    """The tasks (and stages) of one annex, if it holds a table of them."""
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
        text = LEVEL3.sub("", text).strip()
        task = DraftTask(
            f"t{sum(t.id.startswith('t') for t in draft.tasks) + 1:02d}",
            title_of(text),
            text,
            "task",
            Source(line, short(text, 24), "中", "任务分解表的一行；标题取首句，请改短"),
        )
        if "responsibility" in cells:
            r_line, clause = cells["responsibility"]
            read_clause(task, clause, r_line, roll, False)
        for name in read_pilots(text):
            roll.add(name, line)
        if "deadline" in cells:
            set_deadline(task, *cells["deadline"], year)
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
            if parses(joined[1], year) or re.search(r"[至—\-~\d]$", joined[1]):
                pending = joined
                if task is not None and parses(joined[1], year):
                    set_deadline(task, *joined, year)
                continue
            pending = None
        if m := LEVEL3.match(text):
            if fragments and "".join(fragments).endswith("阶段"):
                stage = (line.number, "".join(fragments))
                _add_stage(draft, stage)
            fragments = []
            count += 1
            body, _, tail = _split_deadline(text[m.end() :])
            task = DraftTask(
                f"a{count}",
                title_of(body),
                body,
                "task",
                Source(line.number, short(text, 24), "中", "附件表格的一行；标题取首句，请改短"),
                phase=stage[1] if stage else None,
            )
            _responsibility_in_prose(task, line.number, roll)
            draft.tasks.append(task)
            if tail:
                pending = (line.number, tail)
                if parses(tail, year):
                    set_deadline(task, line.number, tail, year)
            continue
        if task is not None and task.deadline is None and re.match(r"^\d{4}\s*年", text):
            pending = (line.number, text)
            if parses(text, year):
                set_deadline(task, line.number, text, year)
            continue
        if task is not None and task.deadline is None and pending is None:
            task.text += text
            task.title = title_of(task.text)
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
    phase_kinds(draft.phases)


def _split_deadline(text: str) -> tuple[str, str, str]:
    """ "启动第一轮督查。 2020年 6月前": the task and a deadline on the same line."""
    m = re.match(r"^(.*[。；])\s*(\d{4}\s*年.*)$", text)
    return (m[1], "", m[2]) if m else (text, "", "")


def _responsibility_in_prose(task: DraftTask, line: int, roll: UnitRoll) -> None:
    """ "由区卫生健康委牵头，…" or "区级有关部门和单位按照职责…": who the row itself names."""
    if task.responsibility is not None:
        return
    if m := _LED_BY.match(task.text):
        read_clause(task, f"{m[1]}牵头", line, roll, False)
        if task.responsibility_source:
            task.responsibility_source = Source(line, m[0], "中", "正文中的「由…牵头」")
    elif m := _SUBJECT.match(task.text):
        read_clause(task, f"{m[1]}牵头", line, roll, False)
        if task.responsibility_source:
            task.responsibility_source = Source(line, m[0], "低", "句子主语，可能是一组单位")
