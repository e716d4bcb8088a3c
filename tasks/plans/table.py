"""Reading a task table (任务分工表) from Excel or CSV into the same `PlanFile` a YAML plan gives.

Offices pass their plans around as spreadsheets: a title row or two, then a header row whose
words vary from office to office (牵头单位 or 牵头部门, 完成时限 or 时间要求), a 重点任务 cell
merged down over its 具体措施 rows, numbering such as 1、 or （1） typed into the cells. This
module reads such a sheet (and, when present, the 单位 / 分组 / 阶段 / 方案 sheets `duban
template xlsx` and `duban export` write) into the plain dict a YAML file would have parsed to,
and hands it to the same pydantic models and, through `tasks.plans.importer`, to the same
resolution, responsibility reading, deadline reading and lint as a YAML plan.

Each problem names the file, the sheet and cell and the column (`x.xlsx 任务分工表!D7: 完成时限
(tasks[3] (t2-1).deadline): …`), and nothing is written.

The column words are in `tasks.plans.table_columns`, which `render.plan_table` writes from.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.plan_file import PlanFile
from tasks.plans.reader import FieldPath, Locator, PlanInvalid, Problem, _say
from tasks.plans.responsibility import read_responsibility
from tasks.plans.table_columns import (
    GROUP_COLUMNS,
    GROUP_SHEET,
    JSON_FIELDS,
    PHASE_COLUMNS,
    PHASE_KINDS,
    PHASE_SHEET,
    PLAN_BLOCKS,
    PLAN_FIELDS,
    PLAN_SHEET,
    RESPONSIBLE,
    TASK_COLUMNS,
    TASK_KINDS,
    TASK_SHEET,
    UNIT_COLUMNS,
    UNIT_KINDS,
    UNIT_SHEET,
    Column,
)

TABLE_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".xls", ".et")
HEADER_SCAN = 12  # title rows an office puts above the header row, at most

LISTS = {"aliases", "emails", "members", "depends_on", "pilots", "lead", "co", "participants"}
SEPARATORS = re.compile(r"[、，,；;\n]+")
NUMBERING = re.compile(
    r"^\s*(?:[（(]\s*[0-9一二三四五六七八九十]+\s*[)）]|[0-9一二三四五六七八九十]+\s*[、．]"
    r"|[0-9]+\.(?![0-9])|[0-9]+(?:\.[0-9]+)+(?![0-9]))\s*"
)
SPACES = re.compile(r"[\s\u3000]+")
BRACKETED = re.compile(r"[（(][^）)]*[）)]$")
ATTACHMENT = re.compile(r"^附件\s*[0-9一二三四五六七八九十]*[:：]?$")
FORMULA_QUOTE = re.compile(r"^'(?=[=+\-@])")


def is_table(path: Path) -> bool:
    return path.suffix.lower() in TABLE_SUFFIXES


@dataclass
class Grid:
    """One sheet's cells as values (a merged range's value in each of its cells), 0-based."""

    name: str
    rows: list[list[object]]
    spans: dict[tuple[int, int], tuple[int, int, int, int]] = field(default_factory=dict)

    def ref(self, row: int, col: int) -> str:
        from openpyxl.utils import get_column_letter  # openpyxl only when a table is read

        cell = f"{get_column_letter(col + 1)}{row + 1}"
        return f"{self.name}!{cell}" if self.name else cell

    def text(self, row: int, col: int) -> str:
        cells = self.rows[row]
        return cell_text(cells[col]) if col < len(cells) else ""


@dataclass
class TableLocator(Locator):
    """Maps a field path to the cell it was read from, for problems that name the cell."""

    cells: dict[FieldPath, tuple[str, str]] = field(default_factory=dict)

    def problem(self, path: FieldPath, message: str) -> Problem:
        at = path
        while at and at not in self.cells:
            at = at[:-1]
        if at not in self.cells:
            return Problem(self.file, None, self.label(path), message)
        ref, header = self.cells[at]
        label = self.label(path)
        return Problem(
            f"{self.file} {ref}", None, f"{header} ({label})" if header else label, message
        )


def cell_text(value: object) -> str:
    """What a cell says, as the plan's text would: dates as 2019年9月30日, 3.0 as 3."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return FORMULA_QUOTE.sub("", str(value)).strip()


def read_plan_table(path: Path) -> tuple[PlanFile, TableLocator]:
    """Read a task table (XLSX or CSV) into a validated plan; raise PlanInvalid naming cells."""
    name = str(path)
    if not path.is_file():
        raise PlanInvalid([Problem(name, None, "", "no such file")])
    if path.suffix.lower() in (".xls", ".et"):
        raise PlanInvalid(
            [Problem(name, None, "", "an old-format workbook: save it as .xlsx (or .csv) first")]
        )
    grids = _read_csv(path) if path.suffix.lower() == ".csv" else _read_workbook(path)
    locator = TableLocator(name)
    problems: list[Problem] = []
    data = _plan_data(grids, path, locator, problems)
    locator.data = data
    if problems:
        raise PlanInvalid(problems)
    try:
        plan = PlanFile.model_validate(data)
    except ValidationError as exc:
        raise PlanInvalid(
            [locator.problem(tuple(err["loc"]), _say(err)) for err in exc.errors()]
        ) from None
    return plan, locator


def _read_workbook(path: Path) -> dict[str, Grid]:
    from openpyxl import load_workbook  # 50 ms of imports a YAML plan does not need

    try:
        book = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException…
        raise PlanInvalid(
            [Problem(str(path), None, "", f"not an Excel workbook ({exc})")]
        ) from None
    grids: dict[str, Grid] = {}
    for sheet in book.worksheets:
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        grid = Grid(sheet.title, rows)
        for merged in sheet.merged_cells.ranges:
            top, left = merged.min_row - 1, merged.min_col - 1
            box = (top, left, merged.max_row - 1, merged.max_col - 1)
            value = rows[top][left] if top < len(rows) and left < len(rows[top]) else None
            for r in range(top, min(merged.max_row, len(rows))):
                for c in range(left, merged.max_col):
                    while len(rows[r]) <= c:
                        rows[r].append(None)
                    rows[r][c] = value
                    grid.spans[(r, c)] = box
        grids[sheet.title] = grid
    book.close()
    return grids


def _read_csv(path: Path) -> dict[str, Grid]:
    """UTF-8 with or without BOM, or GBK (GB 18030) as Excel on Chinese Windows saves it."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly every byte string
        raise PlanInvalid([Problem(str(path), None, "", "neither UTF-8 nor GBK text")])
    rows: list[list[object]] = [list(row) for row in csv.reader(io.StringIO(text))]
    return {TASK_SHEET: Grid("", rows)}  # a CSV has one sheet, and no name for it


def _header_row(grid: Grid, columns: Sequence[Column]) -> tuple[int, dict[str, int]] | None:
    """The first row (of the first few) where at least two cells are known headers."""
    for row in range(min(HEADER_SCAN, len(grid.rows))):
        found: dict[str, int] = {}
        for col in range(len(grid.rows[row])):
            key = _column_key(grid.text(row, col), columns)
            if key and key not in found:
                found[key] = col
        if len(found) >= 2:
            return row, found
    return None


def _column_key(text: str, columns: Sequence[Column]) -> str | None:
    text = SPACES.sub("", text)
    for candidate in (text, BRACKETED.sub("", text)):
        for column in columns:
            if column.matches(candidate):
                return column.key
        if candidate in RESPONSIBLE and columns is TASK_COLUMNS:
            return "responsible"
    return None


def _plan_data(
    grids: dict[str, Grid], path: Path, locator: TableLocator, problems: list[Problem]
) -> dict[str, Any]:
    tasks_grid = grids.get(TASK_SHEET) or next(iter(grids.values()), None)
    if tasks_grid is None or _header_row(tasks_grid, TASK_COLUMNS) is None:
        where = tasks_grid.name if tasks_grid else TASK_SHEET
        problems.append(
            Problem(
                str(path),
                None,
                where,
                "no header row found in its first rows (expected 重点任务, 牵头单位, 完成时限…)",
            )
        )
        return {}
    data: dict[str, Any] = {"tasks": [], "reports": []}
    title = _task_rows(tasks_grid, data, locator, problems)
    data["plan"] = _plan_meta(grids.get(PLAN_SHEET), path, title, locator, problems, data)
    for sheet, key, columns in (
        (UNIT_SHEET, "units", UNIT_COLUMNS),
        (GROUP_SHEET, "groups", GROUP_COLUMNS),
        (PHASE_SHEET, "phases", PHASE_COLUMNS),
    ):
        grid = grids.get(sheet)
        if grid is not None:
            data[key] = _records(grid, key, columns, locator, problems)
    if not data.get("units"):
        data["units"] = _units_named_in(data)
    return data


def _records(
    grid: Grid,
    key: str,
    columns: Sequence[Column],
    locator: TableLocator,
    problems: list[Problem],
) -> list[dict[str, Any]]:
    """The rows of a 单位 / 分组 / 阶段 sheet as the plan file's list of blocks."""
    found = _header_row(grid, columns)
    if found is None:
        problems.append(Problem(locator.file, None, grid.name, "no header row found"))
        return []
    header_row, where = found
    headers = {c.key: c.header for c in columns}
    out: list[dict[str, Any]] = []
    for row in range(header_row + 1, len(grid.rows)):
        values = {k: grid.text(row, col) for k, col in where.items()}
        if not any(values.values()):
            continue
        path: FieldPath = (key, len(out))
        record: dict[str, Any] = {}
        locator.cells[path] = (grid.ref(row, 0), "")
        for k, value in values.items():
            locator.cells[(*path, k)] = (grid.ref(row, where[k]), headers[k])
            if not value:
                continue
            if k == "kind":
                kinds = UNIT_KINDS if key == "units" else PHASE_KINDS
                value = kinds.get(value, value)
            record[k] = _split(value) if k in LISTS else value
        out.append(record)
    return out


def _task_rows(
    grid: Grid, data: dict[str, Any], locator: TableLocator, problems: list[Problem]
) -> str | None:
    """Fill data's tasks and reports from the task sheet; return the title row's text, if any."""
    header_row, where = _header_row(grid, TASK_COLUMNS) or (0, {})
    if "responsible" in where:
        where["co" if "lead" in where else "clause"] = where.pop("responsible")
    headers = {c.key: c.header for c in TASK_COLUMNS}
    headers.update({k: grid.text(header_row, col) or headers.get(k, k) for k, col in where.items()})
    title = next(
        (
            grid.text(r, c)
            for r in range(header_row)
            for c in range(len(grid.rows[r]))
            if grid.text(r, c) and not ATTACHMENT.match(grid.text(r, c))
        ),
        None,
    )
    width = len(grid.rows[header_row])
    rows = [
        (row, {k: grid.text(row, col) for k, col in where.items()})
        for row in range(header_row + 1, len(grid.rows))
        if not _is_heading(grid, row, width)
    ]
    rows = [(row, values) for row, values in rows if any(values.values())]
    titles = [values.get("title", "") for _, values in rows]
    key_task, key_count, measure_count = "", 0, 0
    used: set[str] = set()
    for index, (row, values) in enumerate(rows):
        if values.get("title") and values["title"] != key_task:
            key_task, key_count, measure_count = values["title"], key_count + 1, 0
        measure_count += 1
        # a 重点任务 over several 具体措施: merged down, or typed again on each row
        neighbours = {*titles[max(index - 1, 0) : index], *titles[index + 1 : index + 2]}
        shared = bool(values.get("title")) and (
            _spans_rows(grid, row, where["title"]) or values["title"] in neighbours
        )
        spec = _task_spec(values, shared)
        if not spec.get("title"):
            problems.append(
                Problem(
                    f"{locator.file} {grid.ref(row, where.get('title', where.get('text', 0)))}",
                    None,
                    headers.get("title", "重点任务"),
                    "a task row needs 重点任务 or 具体措施",
                )
            )
            continue
        kind = spec.get("kind", "task")
        spec.setdefault(
            "id", f"t{key_count}-{measure_count}" if "text" in where else f"t{key_count}"
        )
        if spec["id"] in used:
            spec["id"] = f"r{row + 1}"
        used.add(spec["id"])
        block = "reports" if kind == "report" else "tasks"
        if kind == "report":
            spec.pop("kind")
            given = spec.pop("responsibility", {})
            spec["submitters"] = _split(given) if isinstance(given, str) else given.get("lead", [])
            spec.pop("pilots", None)
        path: FieldPath = (block, len(data[block]))
        locator.cells[path] = (grid.ref(row, 0), "")
        for k, col in where.items():
            target = {
                "lead": "responsibility",
                "co": "responsibility",
                "participants": "responsibility",
                "clause": "responsibility",
                "number": "",
                "title": "title",
            }.get(k, k)
            if k == "lead" and kind == "report":
                target = "submitters"
            if target:
                locator.cells.setdefault((*path, target), (grid.ref(row, col), headers[k]))
        data[block].append(spec)
    return title


def _task_spec(values: dict[str, str], shared: bool) -> dict[str, Any]:
    """One row as a task block. A 重点任务 merged over several rows titles none of them alone:
    each row's task is titled by its measure's first sentence."""
    title = NUMBERING.sub("", values.get("title", ""))
    text = NUMBERING.sub("", values.get("text", ""))
    spec: dict[str, Any] = {}
    if values.get("id"):
        spec["id"] = values["id"]
    if shared and text:
        spec["title"] = re.split(r"[。；;]", text, maxsplit=1)[0][:60]
    else:
        spec["title"] = title or text
    if text and (title or shared):
        spec["text"] = text
    kind = values.get("kind", "")
    if kind:
        spec["kind"] = TASK_KINDS.get(kind, kind)
    lists = {k: _split(values.get(k, "")) for k in ("lead", "co", "participants")}
    if values.get("clause") and not any(lists.values()):
        spec["responsibility"] = values["clause"]
    elif any(lists.values()) or spec.get("kind") == "report":
        spec["responsibility"] = {k: v for k, v in lists.items() if v}
    for k in ("deadline", "phase", "remarks"):
        if values.get(k):
            spec[k] = values[k]
    for k in ("pilots", "depends_on"):
        if values.get(k):
            spec[k] = _split(values[k])
    return spec


def _is_heading(grid: Grid, row: int, width: int) -> bool:
    """A section row (一、…) merged across the table's width heads the rows under it."""
    box = grid.spans.get((row, 0))
    return box is not None and box[0] == box[2] and box[3] - box[1] + 1 >= max(3, width // 2)


def _spans_rows(grid: Grid, row: int, col: int) -> bool:
    box = grid.spans.get((row, col))
    return box is not None and box[2] > box[0]


def _split(text: str) -> list[str]:
    return [part.strip() for part in SEPARATORS.split(text) if part.strip()]


def _plan_meta(
    grid: Grid | None,
    path: Path,
    title: str | None,
    locator: TableLocator,
    problems: list[Problem],
    data: dict[str, Any],
) -> dict[str, Any]:
    """The 方案 sheet, or a plan named for the file and titled by the title row."""
    meta: dict[str, Any] = {}
    if grid is not None:
        labels = {label: key for key, label in (*PLAN_FIELDS, *PLAN_BLOCKS)}
        labels.update({key: key for key, _ in (*PLAN_FIELDS, *PLAN_BLOCKS)})
        blocks = {key for key, _ in PLAN_BLOCKS}
        for row in range(len(grid.rows)):
            key = labels.get(SPACES.sub("", grid.text(row, 0)))
            if key is None:
                continue
            cell = grid.rows[row][1] if len(grid.rows[row]) > 1 else None
            target: FieldPath = (key,) if key in blocks else ("plan", key)
            locator.cells[target] = (grid.ref(row, 1), grid.text(row, 0))
            value = _plan_value(key, cell)
            if value is None:
                continue
            if isinstance(value, Problem):
                problems.append(
                    Problem(
                        f"{locator.file} {grid.ref(row, 1)}", None, grid.text(row, 0), value.message
                    )
                )
                continue
            if key in blocks:
                data[key] = value
            else:
                meta[key] = value
    meta.setdefault("title", title or path.stem)
    meta.setdefault("code", _code_for(path))
    return meta


def _plan_value(key: str, cell: object) -> object:
    if cell is None or cell == "":
        return None
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    text = cell_text(cell)
    if key in JSON_FIELDS:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            return Problem("", None, "", f"not JSON ({exc.msg} at column {exc.colno})")
    if key == "span":
        return _split(text.replace("至", ","))
    return text


def _code_for(path: Path) -> str:
    """A table with no 方案 sheet is named for its file, or for a digest of a Chinese name."""
    stem = path.stem
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", stem):
        return stem
    return "table-" + hashlib.sha1(stem.encode()).hexdigest()[:8]  # noqa: S324 (a name)


def _units_named_in(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Without a 单位 sheet, every unit the lead / co / participant / submitter cells name."""
    names: list[str] = []
    for spec in data["tasks"]:
        names.extend(_names(spec.get("responsibility")))
        names.extend(spec.get("pilots") or ())
    for spec in data["reports"]:
        names.extend(spec.get("submitters") or ())
    if any(isinstance(spec.get("responsibility"), str) for spec in data["tasks"]):
        for spec in data["tasks"]:
            if isinstance(spec.get("responsibility"), str):
                names.extend(_names(read_responsibility(spec["responsibility"]).as_json()))
    unique = list(dict.fromkeys(names))
    return [{"code": f"u{n:02d}", "name": name} for n, name in enumerate(unique, 1)]


def _names(responsibility: object) -> Iterable[str]:
    if isinstance(responsibility, dict):
        for key in ("lead", "co", "participants"):
            yield from responsibility.get(key) or ()
