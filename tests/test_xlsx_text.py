"""XLSX cells never hold formulas from data (#11 §5): a task title or unit name that starts
with = + - @ is stored as text, as written, in the review workbook and the office's export."""

from __future__ import annotations

import io
import re
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from sqlmodel import select

from schemas.db import session_scope
from schemas.tables import Task, Unit

from .conftest import PLANS
from .webworld import PLAN, build_world, logged_in

TITLES = [
    '=HYPERLINK("http://evil.example","点这里")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
]


def formulas(book: Workbook) -> list[str]:
    return [
        f"{sheet.title}!{cell.coordinate}"
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def texts(book: Workbook) -> set[str]:
    return {
        str(cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }


def test_the_review_workbook_holds_formula_like_titles_as_text(duban, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = (PLANS / "chongqing-2019-pilot.yaml").read_text(encoding="utf-8")
    titles = iter(TITLES)
    hostile = re.sub(
        r"(?m)^    title: .*$", lambda _: "    title: " + repr(next(titles, "普通任务")), source
    )
    plan = tmp_path / "plan.yaml"
    plan.write_text(hostile, encoding="utf-8")
    assert duban("import", str(plan)).exit_code == 0
    out = tmp_path / "review.xlsx"
    written = duban("review", PLAN, "--as-of", "2020-12-31", "--format", "xlsx", "--out", str(out))
    assert written.exit_code == 0, written.output
    book = load_workbook(out)
    assert formulas(book) == []
    assert set(TITLES) <= texts(book)


def test_the_office_export_holds_formula_like_names_as_text(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    with session_scope(world.url) as session:
        for task, title in zip(session.exec(select(Task)).all(), TITLES, strict=False):
            task.title = title
            session.add(task)
        for unit, name in zip(session.exec(select(Unit)).all(), TITLES, strict=False):
            unit.name = name
            session.add(unit)
    export = logged_in(world, "office").get(f"/office/export.xlsx?plan={PLAN}")
    book = load_workbook(io.BytesIO(export.content))
    assert formulas(book) == []
    assert any(value.endswith(TITLES[0]) for value in texts(book))
    assert set(TITLES) & texts(book)
