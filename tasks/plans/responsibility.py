"""Who answers for a task, read from the plan's own words, and the names resolved to units.

Plans say who is responsible in a trailing clause ("（责任单位：A、B按职责分别牵头负责，C参与）"),
in a table cell ("市卫生健康委"), or in prose ("A牵头，B配合"). The text usually comes out of a
PDF, so names are broken across lines, and one clause can set a rule for the ones after it
("排在第一的部门为牵头单位，下同"). Reading is kept apart from resolving: `duban who` reads a
clause with no plan at hand, and the importer resolves every name against the plan's directory
so that all unknown names are reported together, with suggestions.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from duban.errors import BadInput

__all__ = [
    "NO_LEAD",
    "Responsibility",
    "ResponsibilityError",
    "UnitDirectory",
    "UnknownUnitName",
    "normalize_name",
    "read_pilots",
    "read_responsibility",
]

_EDGE = "、，,；;。.：:！!？?“”\"'‘’「」『』《》"
# Printed brackets: full-width, ASCII, the 〔〕 of provincial plans, the [] and <> of web copies.
_OPEN, _CLOSE = "（(〔[【<〈", "）)〕]】>〉"
# Labelled forms: "牵头单位：…；配合单位：…", one label per role, in any order.
_LABEL = re.compile(
    r"(?P<label>牵头责任单位|牵头单位|牵头部门|主办单位|主责单位|责任单位|责任部门|责任主体"
    r"|主要协作单位|协作单位|配合单位|配合部门|协办单位|协助单位|参与单位|参与部门)[：:]"
)
_LABEL_ROLES = (("协", "co"), ("配", "co"), ("参", "participants"), ("牵", "lead"), ("主", "lead"))
_PILOTS = re.compile(r"[（(]试点[^：:（）()，,。、]{0,8}[：:]([^（）()]*)[）)]")
# "排在第一的部门为牵头单位", "列在首位的为牵头单位", "排名第一位为牵头单位",
# "列第一位者为牵头单位": first listed leads.
_RULE = re.compile(
    r"(?:排在|排名|列在|位列|列)?(?:第一|首)(?:位|个)?(?:的|者)?(?:部门|单位)?"
    r"(?:为|是)牵头(?:部门|单位)?"
)
_CARRY = "下同"
# Asides printed among the units: "其他单位按职责分工负责" (the rule's other half),
# "以下均需各县（市、区）…落实，不再列出".
_ASIDE = re.compile(r"^(?:其他|其余)(?:单位|部门)|^以下|^不再")
# A segment ends with what its units do; "负责" alone says nothing about who leads.
# "By their duties" is printed 按职责 / 按照职责 / 根据职责 / 依职责, with 分工 or not.
_ROLE = re.compile(
    r"(?:(?:按照?|根据|依据?)职责(?:分工)?|结合实际)?(?P<each>分别|共同|具体)?为?"
    r"(?P<verb>牵头|指导|统筹|配合|协助|协同|参与|参加|负责|落实)(?:负责|落实|单位|部门)?$"
)
# What a labelled section may end with without changing the role its label gives.
_DUTIES = re.compile(
    r"(?:(?:按照?|根据|依据?)职责(?:分工|分别)?|结合实际)?(?:负责|落实|配合|参与)$"
)
_VERBS = {
    "牵头": "lead",
    "指导": "lead",
    "统筹": "lead",
    "配合": "co",
    "协助": "co",
    "协同": "co",
    "参与": "participants",
    "参加": "participants",
    "负责": None,
    "落实": None,
}
_TAGGED = re.compile(r"[（(](?P<verb>牵头|配合|协助|参与)(?:单位|部门)?[）)]$")
# Bodies that are no definite unit ("成员单位", "有关部门", "相关单位"): never taken to lead just
# because they are the only ones named. "各县" and "3个乡镇" name each of a definite set, and each
# answers for its own share, so they may.
_VAGUE = re.compile(r"成员单位$|(?:有关|相关)(?:部门|单位)")
# Where a list joins a collective body: "商务部等和各有关省级人民政府", "教育部等有关部门和单位",
# "各县市区政府及各乡镇".
_TOGETHER_WITH = re.compile(r"等?(?:和|及)(?=各)|等(?=(?:有关|相关)(?:部门|单位))")
# "各区、县级市": the words after "各" that continue one collective body.
_AREA = re.compile(r"县级市|县市|县|市|区|乡|镇|乡镇|街道|镇街|州|旗")
# Traditional-character copies: only the words the reader looks for are mapped.
_TRADITIONAL = {
    "牽頭": "牵头",
    "職責": "职责",
    "負責": "负责",
    "牽頭單位": "牵头单位",
    "責任單位": "责任单位",
    "配合單位": "配合单位",
    "參與": "参与",
    "協助": "协助",
    "落實": "落实",
    "分別": "分别",
}
_STRENGTH = ("lead", "co", "participants")
_MAX_NAME = 30
NO_LEAD = "牵头单位未明确"


class ResponsibilityError(BadInput):
    """A clause or a unit directory that cannot be read; the message says which part."""


class UnknownUnitName(ResponsibilityError):
    """A name that is neither a unit nor a group of the plan, with the closest known names."""

    def __init__(self, name: str, suggestions: Sequence[str], where: str) -> None:
        self.name, self.suggestions = name, tuple(suggestions)
        hint = f"; did you mean {'、'.join(self.suggestions)}?" if suggestions else ""
        super().__init__(f'unknown unit or group "{name}"{where}{hint}')


@dataclass(frozen=True)
class Responsibility:
    """What one clause says; `first_listed_leads` is the rule to hand to the next clause."""

    lead: tuple[str, ...]
    co: tuple[str, ...]
    participants: tuple[str, ...]
    pilots: tuple[str, ...]
    first_listed_leads: bool
    note: str | None = None

    def as_json(self) -> dict[str, list[str]]:
        return {
            "lead": list(self.lead),
            "co": list(self.co),
            "participants": list(self.participants),
            "pilots": list(self.pilots),
        }


def normalize_name(name: str) -> str:
    """One spelling per unit: PDF extraction breaks names across lines, and lists end in "等"."""
    name = re.sub(r"\s+", "", name).strip(_EDGE)
    if name[:1] in _OPEN and _closing(name, 0) == len(name) - 1:
        name = name[1:-1]
    elif name[-1:] in _CLOSE and not any(c in name for c in _OPEN):
        name = name[:-1]
    elif name[:1] in _OPEN and not any(c in name for c in _CLOSE):
        name = name[1:]
    return name.strip(_EDGE).removesuffix("等").strip(_EDGE)


def read_pilots(text: str) -> tuple[str, ...]:
    """Units named in "（试点区县：A、B）" or "（试点单位：…）", which narrow a task to them."""
    names: list[str] = []
    for found in _PILOTS.finditer(re.sub(r"\s+", "", text)):
        names += [n for n in map(normalize_name, re.split(r"[、，,；;]", found.group(1))) if n]
    return tuple(dict.fromkeys(names))


def read_responsibility(clause: str, *, first_listed_leads: bool = False) -> Responsibility:
    """Read one clause; `first_listed_leads` is the rule carried from earlier clauses ("下同").

    A lead is never invented: with no lead marked, no rule in force and more than one unit
    (or only an indefinite body such as "成员单位") named, the units share the work with no
    lead and the result's `note` is "牵头单位未明确", for the office to settle.
    """
    text = _simplified(re.sub(r"\s+", "", clause))
    if not text:
        raise _unreadable(clause, "the clause is empty")
    shown = text
    pilots = read_pilots(text)
    text = _PILOTS.sub("", text)
    label = _LABEL.search(text)
    if label:
        body = text[label.start() : _closing(text, label.start(), depth=1)]
    else:
        body = _unwrapped(text)
    stated = _RULE.search(body) is not None
    carried = first_listed_leads or (stated and _CARRY in body)
    body = _RULE.sub("", body).replace(_CARRY, "")
    picked = _read_sections(body, shown) if label else _read_body(body, shown)
    if not picked and not pilots and not stated:
        raise _unreadable(shown, "no unit is named")
    return _settle(picked, pilots, stated or first_listed_leads, carried)


def _settle(
    picked: list[tuple[str, str | None]], pilots: tuple[str, ...], rule: bool, carried: bool
) -> Responsibility:
    """Give the units that no verb placed their role, and keep each unit's strongest role."""
    neutral = list(dict.fromkeys(name for name, role in picked if role is None))
    has_lead = any(role == "lead" for _, role in picked)
    if has_lead:
        leader = None
    elif rule and neutral and not _VAGUE.search(neutral[0]):
        leader = neutral[0]
    elif len(neutral) == 1 and not _VAGUE.search(neutral[0]):
        leader = neutral[0]
    else:
        leader = None
    roles: dict[str, str] = {}
    notes: list[str] = []
    for name, role in picked:
        role = role or ("lead" if name == leader else "co")
        if name in roles:
            notes.append(f"{name} is listed twice")
        if name not in roles or _STRENGTH.index(role) < _STRENGTH.index(roles[name]):
            roles[name] = role
    if roles and "lead" not in roles.values():
        notes.append(NO_LEAD)
    by_role = {role: tuple(n for n, r in roles.items() if r == role) for role in _STRENGTH}
    return Responsibility(
        by_role["lead"],
        by_role["co"],
        by_role["participants"],
        pilots,
        first_listed_leads=carried,
        note="; ".join(dict.fromkeys(notes)) or None,
    )


def _read_sections(body: str, shown: str) -> list[tuple[str, str | None]]:
    """A labelled clause: each label gives its role to the units after it.

    Units under "责任单位" share the work when a lead is labelled; with no lead label their
    own words decide ("责任单位：A、B按职责分别牵头负责，C参与").
    """
    marks = list(_LABEL.finditer(body))
    sections = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        part = body[mark.end() : following.start() if following else len(body)]
        if not part.strip(_EDGE + _OPEN + _CLOSE):
            raise _unreadable(shown, f'nothing follows "{mark.group()}"')
        label = mark.group("label")
        role = next((role for word, role in _LABEL_ROLES if word in label), None)
        sections.append((role, part))
    has_lead = any(role == "lead" for role, _ in sections)
    picked: list[tuple[str, str | None]] = []
    for role, part in sections:
        if role is None and not has_lead:
            picked += _read_body(part, shown)
            continue
        for segment in _split(part, "，,；;。"):
            picked += _names(_DUTIES.sub("", segment.strip(_EDGE)), role or "co", shown)
    return picked


def _read_body(body: str, shown: str) -> list[tuple[str, str | None]]:
    picked: list[tuple[str, str | None]] = []
    for segment in _split(body, "，,；;。"):
        picked += _read_segment(segment, shown)
    return picked


def _read_segment(segment: str, shown: str) -> list[tuple[str, str | None]]:
    """Names in one comma-separated part with the role its closing verb gives them."""
    segment = segment.strip(_EDGE).removeprefix("由")
    if not segment.strip(_EDGE + _OPEN + _CLOSE) or _ASIDE.search(segment):
        return []
    role: str | None = None
    verb = _ROLE.search(segment)
    if verb:
        role = _VERBS[verb.group("verb")]
        if verb.group("verb") == "负责" and verb.group("each") == "分别":
            role = "lead"
        segment = segment[: verb.start()]
        if not segment.strip(_EDGE):
            raise _unreadable(shown, f'no unit is named before "{verb.group()}"')
    head, together, tail = segment.partition("会同")
    if together and not (head.strip(_EDGE) and tail.strip(_EDGE)):
        side = "before" if not head.strip(_EDGE) else "after"
        raise _unreadable(shown, f'no unit is named {side} "会同"')
    if together and role in (None, "lead"):
        return _names(head, "lead", shown) + _names(tail, "co", shown)
    return _names(segment.replace("会同", "、"), role, shown)


def _names(part: str, role: str | None, shown: str) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for raw in _units(part):
        tagged = _TAGGED.search(raw)
        raw = raw[: tagged.start()] if tagged else raw
        name = normalize_name(re.sub(r"等(?:单位|部门)$", "", raw))
        if not name:
            continue
        if len(name) > _MAX_NAME or any(c in name for c in "：:"):
            raise _unreadable(shown, f'"{name}" does not read as a unit name')
        found.append((name, _VERBS[tagged.group("verb")] if tagged else role))
    return found


def _units(part: str) -> list[str]:
    """Split a list on "、" outside brackets, keeping "各区、县级市" as one collective body."""
    pieces: list[str] = []
    for piece in _split(part, "、"):
        for name in _TOGETHER_WITH.split(piece):
            area = _AREA.fullmatch(name.strip(_EDGE))
            if area and pieces and pieces[-1].startswith("各"):
                pieces[-1] += "、" + name
            else:
                pieces.append(name)
    return pieces


def _split(text: str, separators: str) -> list[str]:
    """Split on separators outside brackets, so "各县（市、区）卫生健康局" stays whole."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in _OPEN) - (char in _CLOSE)
        if depth <= 0 and char in separators:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _unwrapped(text: str) -> str:
    """The clause without the brackets printed round it: "（A牵头，B配合）"."""
    while text[:1] in _OPEN and _closing(text, 0) == len(text) - 1:
        text = text[1:-1]
    return text


def _simplified(text: str) -> str:
    for traditional, simplified in _TRADITIONAL.items():
        text = text.replace(traditional, simplified)
    return text


def _closing(text: str, start: int, depth: int = 0) -> int:
    """Index of the bracket that brings `depth` back to 0 (len(text) if none does)."""
    for i in range(start, len(text)):
        depth += (text[i] in _OPEN) - (text[i] in _CLOSE)
        if depth == 0 and text[i] in _CLOSE:
            return i
    return len(text)


def _unreadable(clause: str, why: str) -> ResponsibilityError:
    return ResponsibilityError(f'cannot read the responsibility clause "{clause}": {why}')


class UnitDirectory:
    """Resolves the names a plan uses (unit names, aliases, group names, codes) to unit codes.

    Shortened names ("卫生健康委" for "区卫生健康委") resolve only through aliases the plan
    states, never by guessing, since "区" and "市" bodies of the same name are different units;
    they are offered as suggestions instead.
    """

    def __init__(self, names: dict[str, tuple[str, str]], titles: dict[str, str]) -> None:
        self._names, self._titles = names, titles
        self._expanded: dict[str, tuple[str, ...]] = {}

    @classmethod
    def build(
        cls,
        units: Iterable[tuple[str, str, Sequence[str]]],
        groups: Iterable[tuple[str, str, Sequence[str], Sequence[str]]] = (),
    ) -> UnitDirectory:
        """Check the whole directory at once, so a plan's mistakes surface before any task."""
        names: dict[str, tuple[str, str]] = {}
        titles: dict[str, str] = {}
        members: dict[str, list[str]] = {}
        entries: list[tuple[str, str, str, Sequence[str], Sequence[str]]] = [
            ("unit", c, n, a, ()) for c, n, a in units
        ]
        entries += [("group", c, n, a, m) for c, n, a, m in groups]
        for kind, code, name, aliases, refs in entries:
            label = f'{kind} "{normalize_name(name)}" ({code})'
            if code in titles:
                raise ResponsibilityError(
                    f'the code "{code}" is used twice: by '
                    f"{_label(names, titles, code)} and by {label}"
                )
            titles[code] = normalize_name(name)
            if kind == "group":
                members[code] = list(refs)
            for key in map(normalize_name, (code, name, *aliases)):
                if not key:
                    raise ResponsibilityError(f"{label} has an empty name or alias")
                other = names.setdefault(key, (kind, code))
                if other[1] != code:
                    raise ResponsibilityError(
                        f'the name "{key}" is used by both '
                        f"{_label(names, titles, other[1])} and {label}"
                    )
        directory = cls(names, titles)
        for code in members:
            directory._expand(code, members, ())
        return directory

    def _expand(
        self, code: str, members: dict[str, list[str]], path: tuple[str, ...]
    ) -> tuple[str, ...]:
        if code in self._expanded:
            return self._expanded[code]
        if code in path:
            cycle = [*path[path.index(code) :], code]
            raise ResponsibilityError(
                "groups contain each other: " + " → ".join(self.name_of(c) for c in cycle)
            )
        units: dict[str, None] = {}
        for ref in members[code]:
            where = f" among the members of {_label(self._names, self._titles, code)}"
            kind, target = self._lookup(ref, where)
            found = (target,) if kind == "unit" else self._expand(target, members, (*path, code))
            units.update(dict.fromkeys(found))
        self._expanded[code] = tuple(units)
        return self._expanded[code]

    def resolve(self, name: str, *, clause: str | None = None) -> tuple[str, ...]:
        """Unit codes for a name; a group gives its members, nested groups included, in order."""
        where = f' in "{"".join(clause.split())}"' if clause else ""
        kind, code = self._lookup(name, where)
        return (code,) if kind == "unit" else self._expanded[code]

    def name_of(self, code: str) -> str:
        if code not in self._titles:
            raise KeyError(f'no unit or group has the code "{code}"')
        return self._titles[code]

    def _lookup(self, name: str, where: str) -> tuple[str, str]:
        key = normalize_name(name)
        if key in self._names:
            return self._names[key]
        raise UnknownUnitName(key or name, self._closest(key), where)

    def _closest(self, key: str) -> list[str]:
        """Prefixed or unprefixed forms first (区卫生健康委 for 卫生健康委), then lookalikes."""
        known = [n for n in self._names if not n.isascii() and n != key]
        affixed = [n for n in known if key and (n.endswith(key) or key.endswith(n))]
        alike = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        return list(dict.fromkeys(sorted(affixed, key=len) + alike))[:3]


def _label(names: dict[str, tuple[str, str]], titles: dict[str, str], code: str) -> str:
    return f'{names[normalize_name(code)][0]} "{titles[code]}" ({code})'
