"""The units a drafted plan names, with the spellings of one body merged into one unit.

A plan writes the same department several ways: 县发展和改革委员会 in one clause, 县发改局 in
another; 永川银保监局 and 永川银保监分局; 区委网信办 and 区网信办. The drafter merges names
whose *key* is the same: the level prefix kept (区 and 市 bodies of one name are different
units), long forms shortened to the usual abbreviation, and the closing word (委员会, 委, 局,
办, 分局…) dropped. The first spelling met is the unit's name, the others its aliases, and the
draft says which were merged so the clerk can undo a wrong merge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tasks.plans.responsibility import normalize_name

__all__ = ["DraftUnit", "UnitRoll", "name_key", "unit_kind"]

_SHORT = (
    ("发展和改革", "发改"),
    ("发展改革", "发改"),
    ("人力资源和社会保障", "人社"),
    ("人力资源社会保障", "人社"),
    ("人力社保", "人社"),
    ("市场监督管理", "市场监管"),
    ("卫生和计划生育", "卫计"),
    ("卫生计生", "卫计"),
    ("卫生健康", "卫健"),
    ("住房和城乡建设", "住建"),
    ("住房城乡建设", "住建"),
    ("住房城乡建", "住建"),
    ("经济和信息化", "经信"),
    ("经济信息化", "经信"),
    ("经济信息", "经信"),
    ("文化和旅游", "文旅"),
    ("文化旅游", "文旅"),
    ("教育", "教"),
    ("科学技术", "科技"),
    ("国有资产监督管理", "国资"),
    ("医疗保障", "医保"),
    ("网络安全和信息化", "网信"),
    ("机构编制", "编"),
)
_CLOSING = re.compile(r"(?:委员会|办公室|办公厅|分局|委|局|办|厅)$")
_PARTY = re.compile(r"^([市区县])委(?=网信|编|宣传|政法)")  # 区委网信办 is the 区网信办


def name_key(name: str) -> str:
    """What two spellings of one body share; see the module docstring."""
    key = normalize_name(name)
    key = _PARTY.sub(r"\1", key)
    for long, short in _SHORT:
        key = key.replace(long, short)
    stem = _CLOSING.sub("", key)
    return stem if len(stem) >= 2 else key


def unit_kind(name: str) -> str:
    """A first guess of the unit's kind from the word its name ends with."""
    if re.search(r"(?:区|县|自治县|新区)$", name):
        return "district"
    if re.search(r"(?:协会|学会|商会)$", name):
        return "association"
    if re.search(r"(?:医院|医疗机构|中心|学校|机构)$", name):
        return "institution"
    if re.search(r"(?:办公室|办)$", name) and "网信" not in name and "编" not in name:
        return "office"
    if re.search(r"(?:领导小组|政府)$", name):
        return "leadership"
    if re.search(r"(?:分局|支行|监管局|税务局)$", name):
        return "agency"
    if re.search(r"(?:委|局|厅|部|委员会)$", name):
        return "department"
    return "other"


@dataclass
class DraftUnit:
    """One unit of the draft: its name as first met, other spellings, and where each was read."""

    code: str
    name: str
    line: int | None
    aliases: list[str] = field(default_factory=list)
    alias_lines: list[int | None] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return unit_kind(self.name)


class UnitRoll:
    """Units in the order the document names them, merged by `name_key`."""

    def __init__(self) -> None:
        self.units: list[DraftUnit] = []
        self._by_key: dict[str, DraftUnit] = {}

    def add(self, name: str, line: int | None) -> DraftUnit:
        name = normalize_name(name)
        key = name_key(name)
        unit = self._by_key.get(key)
        if unit is None:
            unit = DraftUnit(f"u{len(self.units) + 1:02d}", name, line)
            self.units.append(unit)
            self._by_key[key] = unit
        elif name != unit.name and name not in unit.aliases:
            unit.aliases.append(name)
            unit.alias_lines.append(line)
        return unit

    def knows(self, name: str) -> bool:
        return name_key(name) in self._by_key
