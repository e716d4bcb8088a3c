"""Reading a plan file: YAML in, a validated `PlanFile` out, or every problem with its line.

An office fixes a plan file in an editor, so each problem names the file, the line and the
field (`plans/x.yaml:42: tasks[3].deadline: …`), and all problems are reported at once.

Every YAML file duban reads (plans, demo stories) goes through `read_yaml`, which refuses a
hostile file before anything expands it: a file larger than `YAML_LIMIT_BYTES` is not parsed,
and the composed node graph is checked for more than `MAX_ALIASES` alias references, an alias
inside its own block, nesting deeper than `MAX_DEPTH` or more than `MAX_NODES` values once
expanded, before it is constructed or walked (a 370-byte "billion laughs" file otherwise took
2.3 GB and 40 s to index).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from duban.errors import BadInput
from schemas.plan_file import PlanFile

FieldPath = tuple[str | int, ...]
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: several× faster
YAML_LIMIT_BYTES = 2 * 1024 * 1024  # the largest plan in use is ~30 kB
MAX_ALIASES = 1000  # `*anchor` references in one file; real plans use a handful
MAX_DEPTH = 64  # nested blocks; real plans nest five deep
MAX_NODES = 200_000  # values once aliases are expanded; the largest plan has ~5,000


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


class YamlRefused(PlanInvalid):
    """A YAML file too large, or with too many aliases or too deep, to be read safely."""


def read_yaml(path: Path) -> tuple[yaml.Node | None, Any]:
    """The file's node graph and its data, or PlanInvalid naming the file (and the line).

    The size is checked before the file is read, aliases and depth before the graph is
    constructed: nothing expands a hostile file."""
    name = str(path)
    try:
        if path.stat().st_size > YAML_LIMIT_BYTES:
            raise YamlRefused(
                [Problem(name, None, "", f"larger than {YAML_LIMIT_BYTES // 1024} kB; not read")]
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanInvalid([Problem(name, None, "", "no such file")]) from None
    except OSError as exc:
        raise PlanInvalid([Problem(name, None, "", f"cannot be read ({exc.strerror})")]) from None
    except UnicodeDecodeError as exc:
        raise PlanInvalid([Problem(name, None, "", f"not UTF-8 text ({exc.reason})")]) from None
    loader = LOADER(text)
    try:
        root = loader.get_single_node()
        _check_shape(name, root)
        return root, loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise PlanInvalid([Problem(name, line, "", f"not valid YAML: {exc}")]) from None
    except ValueError as exc:  # a date that does not exist: 2019-02-30
        line, value = _bad_date(root)
        raise PlanInvalid([Problem(name, line, "", f"{value}: not a date ({exc})")]) from None
    finally:
        loader.dispose()


def _bad_date(root: yaml.Node | None) -> tuple[int | None, str]:
    """The first date-looking value in the graph that is no date, with its line."""
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":timestamp"):
            try:
                yaml.SafeLoader("").construct_yaml_timestamp(node)
            except ValueError:
                return node.start_mark.line + 1, node.value
        stack.extend(reversed(_children(node)))
    return None, "a value"


def _check_shape(name: str, root: yaml.Node | None) -> None:
    """Refuse a graph with too many alias references, too deep, or that would expand to more
    than `MAX_NODES` nodes; each node is visited once, its expanded size remembered.

    A plain tree (no alias, not too deep, not too large: every plan in use) is recognised in
    one quick walk; only a graph that is not one is walked again to weigh its aliases."""
    if root is None or _plain_tree(root):
        return
    size: dict[int, int] = {}
    pending: set[int] = set()  # nodes whose children are still being walked
    aliases = 0
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, children_done = stack.pop()
        line = node.start_mark.line + 1
        children = _children(node)
        if children_done:
            pending.discard(id(node))
            size[id(node)] = 1 + sum(size[id(child)] for child in children)
            if size[id(node)] > MAX_NODES:
                _refuse(name, line, f"expands to more than {MAX_NODES} values")
            continue
        if id(node) in pending:
            _refuse(name, line, "an alias refers to a block that holds it")
        if id(node) in size:  # the same node reached again: an alias
            aliases += 1
            if aliases > MAX_ALIASES:
                _refuse(name, line, f"more than {MAX_ALIASES} aliases")
            continue
        if depth > MAX_DEPTH:
            _refuse(name, line, f"nested deeper than {MAX_DEPTH} levels")
        size[id(node)] = 0  # seen; its size is set once its children are
        pending.add(id(node))
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in reversed(children))


def _plain_tree(root: yaml.Node) -> bool:
    """True when no node is reached twice (no alias), none is nested deeper than `MAX_DEPTH`
    and there are at most `MAX_NODES`: what the whole check would pass without a word."""
    seen: set[int] = set()
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen or depth > MAX_DEPTH or len(seen) >= MAX_NODES:
            return False
        seen.add(id(node))
        stack.extend((child, depth + 1) for child in _children(node))
    return True


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _refuse(name: str, line: int, why: str) -> None:
    raise YamlRefused([Problem(name, line, "", f"{why}; not read")])


def read_plan_file(path: Path) -> tuple[PlanFile, Locator]:
    """Parse and validate a plan file; raise PlanInvalid naming every problem found."""
    name = str(path)
    locator = Locator(name)
    root, locator.data = read_yaml(path)
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
