"""How close a drafted plan comes to the plan a clerk finished: the drafter's measure.

Both plans are resolved the way an import resolves them, then compared task by task. Tasks
are paired by their text (the draft keeps the document's words; a clerk shortens titles but
seldom rewrites the text), units by their names and aliases (a draft's 永川银保监局 is the
finished plan's unit if that name or an alias of it is the same, or the same body by
`draft_units.name_key`), dates by what the deadline reader makes of them, not by their spelling.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from tasks.plans.draft_units import name_key
from tasks.plans.resolution import ResolvedPlan, ResolvedTask
from tasks.plans.responsibility import normalize_name

__all__ = ["DraftScore", "score_draft"]

_SAME_TEXT = 0.6


@dataclass(frozen=True)
class DraftScore:
    """Counts behind the three shares: tasks found, clauses read right, deadlines right."""

    tasks: int  # tasks (not reports) in the finished plan
    found: int  # of them, paired with a drafted task
    extra: int  # drafted tasks paired with none
    clauses: int  # paired tasks whose finished responsibility names a unit
    clauses_right: int  # of them, same lead and same other units after name resolution
    deadlines_right: int  # paired tasks whose deadline reads the same (or both have none)

    @property
    def found_share(self) -> float:
        return self.found / self.tasks if self.tasks else 1.0

    @property
    def clause_share(self) -> float:
        return self.clauses_right / self.clauses if self.clauses else 1.0

    @property
    def deadline_share(self) -> float:
        return self.deadlines_right / self.found if self.found else 1.0


def score_draft(draft: ResolvedPlan, finished: ResolvedPlan) -> DraftScore:
    """Compare a resolved draft with the resolved plan a clerk finished from it."""
    wanted = [t for t in finished.tasks if t.kind != "report"]
    pairs = _pairs(wanted, [t for t in draft.tasks if t.kind != "report"])
    units = _unit_map(draft, finished)
    clauses = [(f, d) for f, d in pairs if f.assignments]
    right = sum(_roles(f, lambda c: c) == _roles(d, lambda c: units.get(c, c)) for f, d in clauses)
    dated = sum(_reading(f) == _reading(d) for f, d in pairs)
    drafted = sum(t.kind != "report" for t in draft.tasks)
    return DraftScore(len(wanted), len(pairs), drafted - len(pairs), len(clauses), right, dated)


def _plain(text: str | None) -> str:
    return re.sub(r"[\W_]+", "", text or "")


def _pairs(
    finished: list[ResolvedTask], drafted: list[ResolvedTask]
) -> list[tuple[ResolvedTask, ResolvedTask]]:
    """Each finished task with the drafted task whose text is most like its own, best first."""
    scored = []
    for f in finished:
        for d in drafted:
            a, b = _plain(f.text or f.title), _plain(d.text or d.title)
            matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
            if matcher.real_quick_ratio() >= _SAME_TEXT and matcher.quick_ratio() >= _SAME_TEXT:
                ratio = matcher.ratio()
                if ratio >= _SAME_TEXT:
                    scored.append((ratio, f.code, d.code, f, d))
    taken_f: set[str] = set()
    taken_d: set[str] = set()
    pairs = []
    for _, fc, dc, f, d in sorted(scored, key=lambda s: -s[0]):
        if fc not in taken_f and dc not in taken_d:
            taken_f.add(fc)
            taken_d.add(dc)
            pairs.append((f, d))
    return pairs


def _unit_map(draft: ResolvedPlan, finished: ResolvedPlan) -> dict[str, str]:
    """Draft unit code → finished unit code, by a shared name, alias or name key."""
    by_name: dict[str, str] = {}
    by_key: dict[str, str] = {}
    for unit in finished.spec.units:
        for name in (unit.name, unit.full_name, *unit.aliases):
            if name:
                by_name.setdefault(normalize_name(name), unit.code)
                by_key.setdefault(name_key(name), unit.code)
    found = {}
    for unit in draft.spec.units:
        names = [normalize_name(n) for n in (unit.name, *unit.aliases)]
        code = next((by_name[n] for n in names if n in by_name), None)
        code = code or next((by_key[name_key(n)] for n in names if name_key(n) in by_key), None)
        if code:
            found[unit.code] = code
    return found


def _roles(task: ResolvedTask, to: Callable[[str], str]) -> tuple[frozenset[str], frozenset[str]]:
    """The lead units and the other units of a task, as the finished plan's codes."""
    lead = frozenset(to(a.unit) for a in task.assignments if a.role == "lead")
    others = frozenset(to(a.unit) for a in task.assignments if a.role != "lead")
    return lead, others - lead


def _reading(task: ResolvedTask) -> tuple[object, ...] | None:
    d = task.deadline
    return None if d is None else (d.kind, d.start, d.due, d.dates, d.rule)
