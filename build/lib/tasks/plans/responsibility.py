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
    "Responsibility",
    "ResponsibilityError",
    "UnitDirectory",
    "UnknownUnitName",
    "normalize_name",
    "read_pilots",
    "read_responsibility",
]

_EDGE = "、，,；;。.：:！!？?“”\"'‘’「」『』《》〈〉【】[]"
_OPEN, _CLOSE = "（(", "）)"
_MARKER = re.compile(r"责任(?:单位|部门|主体)[：:]")
_PILOTS = re.compile(r"[（(]试点[^：:（）()，,。、]{0,8}[：:]([^（）()]*)[）)]")
# "排在第一的部门为牵头单位": the usual way a plan says that the first listed unit leads.
_RULE = re.compile(
    r"(?:排在|排名|列|位列)?第一(?:位|个)?的?(?:部门|单位)?"
    r"(?:为|是)牵头(?:部门|单位)?"
)
_CARRY = "下同"
# A segment ends with what its units do; "负责" alone says nothing about who leads.
_ROLE = re.compile(
    r"(?:按职责(?:分工)?)?(?P<each>分别|共同|具体)?为?"
    r"(?P<verb>牵头|配合|协助|协同|参与|参加|负责)(?:负责|落实|单位|部门)?$"
)
_VERBS = {
    "牵头": "lead",
    "配合": "co",
    "协助": "co",
    "协同": "co",
    "参与": "participants",
    "参加": "participants",
    "负责": None,
}
_TAGGED = re.compile(r"[（(](?P<verb>牵头|配合|协助|参与)(?:单位|部门)?[）)]$")
_STRENGTH = ("lead", "co", "participants")
_MAX_NAME = 30


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

    With no lead marked and no rule in force, the first listed unit is taken to lead and the
    rest to share the work, which is how such lists are conventionally read; the result's
    `note` says so, since the plan did not.
    """
    text = re.sub(r"\s+", "", clause)
    if not text:
        raise _unreadable(clause, "the clause is empty")
    shown = text
    pilots = read_pilots(text)
    text = _PILOTS.sub("", text)
    marker = _MARKER.search(text)
    if marker:
        body = text[marker.end() : _closing(text, marker.end(), depth=1)]
        if not body.strip(_EDGE + _OPEN + _CLOSE):
            raise _unreadable(shown, f'nothing follows "{marker.group()}"')
    else:
        body = text
    stated = _RULE.search(body) is not None
    carried = first_listed_leads or (stated and _CARRY in body)
    body = _RULE.sub("", body).replace(_CARRY, "")
    picked: list[tuple[str, str | None]] = []
    for segment in re.split(r"[，,；;。]", body):
        picked += _read_segment(segment, shown)
    if not picked and not pilots and not stated:
        raise _unreadable(shown, "no unit is named")
    roles: dict[str, str] = {}
    notes: list[str] = []
    neutral = [name for name, role in picked if role is None]
    has_lead = any(role == "lead" for _, role in picked)
    for name, role in picked:
        if role is None:
            role = "lead" if not has_lead and name == neutral[0] else "co"
        if name in roles:
            notes.append(f"{name} is listed twice")
        if name not in roles or _STRENGTH.index(role) < _STRENGTH.index(roles[name]):
            roles[name] = role
    if not has_lead and len(set(neutral)) > 1 and not (stated or first_listed_leads):
        notes.append(
            "no lead is marked: the first listed unit is taken to lead "
            "and the others to share the work"
        )
    elif picked and "lead" not in roles.values():
        notes.append("no lead unit is named")
    by_role = {role: tuple(n for n, r in roles.items() if r == role) for role in _STRENGTH}
    return Responsibility(
        by_role["lead"],
        by_role["co"],
        by_role["participants"],
        pilots,
        first_listed_leads=carried,
        note="; ".join(notes) or None,
    )


def _read_segment(segment: str, shown: str) -> list[tuple[str, str | None]]:
    """Names in one comma-separated part with the role its closing verb gives them."""
    segment = segment.strip(_EDGE).removeprefix("由")
    if not segment.strip(_EDGE + _OPEN + _CLOSE):
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
    for raw in part.split("、"):
        tagged = _TAGGED.search(raw)
        name = normalize_name(raw[: tagged.start()] if tagged else raw)
        if not name:
            continue
        if len(name) > _MAX_NAME or any(c in name for c in "：:"):
            raise _unreadable(shown, f'"{name}" does not read as a unit name')
        found.append((name, _VERBS[tagged.group("verb")] if tagged else role))
    return found


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
        known = [n for n in self._names if not n.isascii()]
        affixed = [n for n in known if key and (n.endswith(key) or key.endswith(n))]
        alike = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        return list(dict.fromkeys(sorted(affixed, key=len) + alike))[:3]


def _label(names: dict[str, tuple[str, str]], titles: dict[str, str], code: str) -> str:
    return f'{names[normalize_name(code)][0]} "{titles[code]}" ({code})'
