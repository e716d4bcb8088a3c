"""The joint meeting (联席会议) roster of a drafted plan, from an annexed 联席会议制度.

Such an annex says who convenes (召集人), who deputises (副召集人), which units are members
(成员单位) and where its office sits (办公室设在…), and often lists each member's liaison
officer (联络员) in a table. The convener is usually written as a post ("市卫生健康委主要负责
同志"): the unit is kept and the post dropped, since duban holds units, not people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tasks.plans.draft_text import Line
from tasks.plans.draft_units import UnitRoll
from tasks.plans.responsibility import normalize_name

__all__ = ["DraftLiaison", "DraftMeeting", "read_meeting"]

_TITLE = re.compile(r"^(?:[^，。：]{0,30}?)(联席会议|会商机制|协调机制)制度$")
_POST = (
    r"(?:主要负责同志|分管负责同志|主要负责人|分管负责人|负责同志|负责人|"
    r"主任|副主任|局长|副局长|书记|部长|厅长|同志)"
)
_CONVENER = re.compile(
    rf"(?<!副)召集人[：:由为]?\s*([^，,。；;（(]+?){_POST}?\s*(?:担任)?[，,。；;（(]"
)
_VICE = re.compile(r"副召集人[：:由为]?\s*([^。；;（(]+?)\s*(?:担任)?[。；;（(]")
_MEMBERS = re.compile(
    r"成员(?:单位)?(?:包括|为|由|：|:)\s*([^。；;]+?)(?:等(?:部门|单位)?)?(?:组成)?[。；;]"
)
_OFFICE = re.compile(r"办公室设在\s*([^，,。；;（(]+)")
_LIAISON_HEADS = ("单位", "姓名")


@dataclass(frozen=True)
class DraftLiaison:
    unit: str
    name: str | None = None
    title: str | None = None
    phone: str | None = None
    line: int | None = None


@dataclass
class DraftMeeting:
    """The roster as read; names are unit names (their units are in the draft's roll)."""

    name: str
    line: int
    convener: tuple[str, int] | None = None
    vice_conveners: list[tuple[str, int]] = field(default_factory=list)
    members: list[DraftLiaison] = field(default_factory=list)
    office: tuple[str, int] | None = None


def read_meeting(lines: list[Line], roll: UnitRoll) -> DraftMeeting | None:
    """The first 联席会议制度 section of the document, or None if it has none."""
    start = next((ln for ln in lines if _TITLE.match(ln.text.strip())), None)
    if start is None:
        return None
    name = _TITLE.match(start.text.strip())[0].removesuffix("制度")  # type: ignore[index]
    meeting = DraftMeeting(name, start.number)
    section = [ln for ln in lines if ln.number > start.number]
    for line in section:
        text = line.text.strip()
        if meeting.convener is None and (m := _CONVENER.search(text + "。")):
            meeting.convener = (_unit(m[1]), line.number)
        if not meeting.vice_conveners and (m := _VICE.search(text + "。")):
            meeting.vice_conveners = [
                (_unit(n), line.number) for n in re.split(r"[、，,和]", m[1]) if _unit(n)
            ]
        if not meeting.members and (m := _MEMBERS.search(text + "。")):
            meeting.members = [
                DraftLiaison(_unit(n), line=line.number)
                for n in re.split(r"[、，,]", m[1])
                if _unit(n)
            ]
        if meeting.office is None and (m := _OFFICE.search(text)):
            meeting.office = (_unit(m[1]), line.number)
    liaisons = _liaison_table(section)
    if liaisons:
        known = {m.unit for m in meeting.members}
        meeting.members = [
            *[next((x for x in liaisons if x.unit == m.unit), m) for m in meeting.members],
            *[x for x in liaisons if x.unit not in known],
        ]
    for unit, number in [
        *([meeting.convener] if meeting.convener else []),
        *meeting.vice_conveners,
        *[(m.unit, m.line) for m in meeting.members],
        *([meeting.office] if meeting.office else []),
    ]:
        roll.add(unit, number)
    meeting.convener = _named(meeting.convener, roll)
    meeting.vice_conveners = [v for v in (_named(v, roll) for v in meeting.vice_conveners) if v]
    meeting.office = _named(meeting.office, roll)
    meeting.members = [
        DraftLiaison(roll.add(m.unit, m.line).name, m.name, m.title, m.phone, m.line)
        for m in meeting.members
    ]
    return meeting


def _named(found: tuple[str, int] | None, roll: UnitRoll) -> tuple[str, int] | None:
    """The roll's name for a unit, so a merged spelling is written as the unit's name."""
    return (roll.add(found[0], found[1]).name, found[1]) if found else None


def _unit(text: str) -> str:
    name = normalize_name(re.sub(_POST + "$", "", normalize_name(text)))
    return name.removeprefix("由")


def _liaison_table(lines: list[Line]) -> list[DraftLiaison]:
    """A 联络员 table: a header row naming 单位 and 姓名, then one row per member unit."""
    rows = [ln for ln in lines if ln.text.count("\t") >= 1 and ln.text.strip()]
    header = next((r for r in rows if all(h in r.text for h in _LIAISON_HEADS)), None)
    if header is None:
        return []
    heads = header.text.strip("\t").split("\t")
    column = {
        key: next((i for i, h in enumerate(heads) if word in h), None)
        for key, word in (("unit", "单位"), ("name", "姓名"), ("title", "职务"), ("phone", "电话"))
    }
    found = []
    for row in rows[rows.index(header) + 1 :]:
        cells = [c.strip() for c in row.text.strip("\t").split("\t")]

        def cell(key: str, cells: list[str] = cells) -> str | None:
            i = column[key]
            return cells[i] or None if i is not None and i < len(cells) else None

        unit = cell("unit")
        if unit:
            found.append(
                DraftLiaison(_unit(unit), cell("name"), cell("title"), cell("phone"), row.number)
            )
    return found
