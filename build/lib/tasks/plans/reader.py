"""Reading a plan file: YAML in, a validated `PlanFile` out, or every problem with its line.

An office fixes a plan file in an editor, so each problem names the file, the line and the
field (`plans/x.yaml:42: tasks[3].deadline: …`), and all problems are reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from duban.errors import BadInput
from schemas.plan_file import PlanFile

FieldPath = tuple[str | int, ...]
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: several× faster


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a plan file, located as precisely as the file allows."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class PlanInvalid(BadInput):
    """The plan file cannot be imported; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Locator:
    """Maps a field path in the parsed document to the line it was written on."""

    file: str
    lines: dict[FieldPath, int] = field(default_factory=dict)
    data: object = None

    def line_of(self, path: FieldPath) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def label(self, path: FieldPath) -> str:
        """`tasks[3] (t04).deadline`: the index a parser sees and the id a person wrote."""
        out = ""
        node = self.data
        for part in path:
            if isinstance(part, int):
                out += f"[{part}]"
                node = node[part] if isinstance(node, list) and part < len(node) else None
                if isinstance(node, dict) and isinstance(node.get("id") or node.get("code"), str):
                    out += f" ({node.get('id') or node.get('code')})"
            else:
                out += f".{part}" if out else str(part)
                node = node.get(part) if isinstance(node, dict) else None
        return out

    def problem(self, path: FieldPath, message: str) -> Problem:
        return Problem(self.file, self.line_of(path), self.label(path), message)


def read_plan_file(path: Path) -> tuple[PlanFile, Locator]:
    """Parse and validate a plan file; raise PlanInvalid naming every problem found."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanInvalid([Problem(name, None, "", "no such file")]) from None
    except OSError as exc:
        raise PlanInvalid([Problem(name, None, "", f"cannot be read ({exc.strerror})")]) from None
    except UnicodeDecodeError as exc:
        raise PlanInvalid([Problem(name, None, "", f"not UTF-8 text ({exc.reason})")]) from None
    locator = Locator(name)
    try:
        root = yaml.compose(text, Loader=LOADER)
        locator.data = yaml.load(text, Loader=LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise PlanInvalid([Problem(name, line, "", f"not valid YAML: {exc}")]) from None
    duplicates = list(_index_lines(root, (), locator))
    if duplicates:
        raise PlanInvalid(duplicates)
    if not isinstance(locator.data, dict):
        raise PlanInvalid([Problem(name, 1, "", "a plan file is a mapping with plan: and units:")])
    try:
        plan = PlanFile.model_validate(locator.data)
    except ValidationError as exc:
        raise PlanInvalid(
            [locator.problem(tuple(err["loc"]), _say(err)) for err in exc.errors()]
        ) from None
    return plan, locator


def _index_lines(node: yaml.Node | None, path: FieldPath, locator: Locator) -> Iterable[Problem]:
    if node is None:
        return
    locator.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            child = (*path, key.value)
            if key.value in seen:
                yield Problem(
                    locator.file,
                    key.start_mark.line + 1,
                    locator.label(child),
                    "appears twice in the same block",
                )
            seen.add(key.value)
            locator.lines[child] = key.start_mark.line + 1
            yield from _index_lines(value, child, locator)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _index_lines(item, (*path, index), locator)


def _say(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field (check its spelling against docs/plan-format.md)"
    if error["type"] == "missing":
        return "required field is missing"
    return str(error["msg"])
