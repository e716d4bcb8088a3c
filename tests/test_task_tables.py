"""Task tables (任务分工表), both ways: a plan exported as XLSX or CSV imports back as the same
plan, and a table made the way offices make them (title rows, merged cells, header variants,
numbering typed into the cells, GBK CSV) imports through the same model, reader and lint."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import select

from render.plan_table import write_plan_table
from schemas.db import create_schema, session_scope
from schemas.tables import Plan
from tasks.plans.importer import import_plan, load_plan
from tasks.plans.lint import lint_plan
from tasks.plans.reader import PlanInvalid, read_plan_file
from tasks.plans.table import read_plan_table
from tasks.plans.table_columns import TASK_COLUMNS

from .conftest import ROOT

BUNDLED = sorted((ROOT / "plans").glob("*.yaml"))
FIXTURE = ROOT / "tests" / "data" / "tables" / "rongchang-office-table.xlsx"
HEADER = ["序号", "重点任务", "具体措施", "牵头单位", "责任单位", "完成时限", "备注"]


def office_workbook(path: Path, *, deadline: object = "2019年12月底前") -> Path:
    """A table as an office makes it: a title row, the header on row 2, a 重点任务 merged over
    its three 具体措施 rows and a 牵头单位 merged over two, numbering typed into the text."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "任务分工表"
    sheet.append(["南岸区综合监管重点任务分工表"])
    sheet.merge_cells("A1:G1")
    sheet.append(["序号", "工作任务", "具体措施", "牵头部门", "责任单位", "完成时间", "备注"])
    sheet.append(
        [1, "1、健全监管体系", "（1）建立监管清单。", "区卫生健康委", "区财政局", deadline]
    )
    sheet.append(
        [None, None, "（2）推进信息公开；每季度更新。", None, "区市场监管局", "2020年6月前"]
    )
    sheet.append([None, None, "（3）开展专项检查。", "区市场监管局", None, "持续开展", "按季报送"])
    sheet.append([2, "2、强化结果运用", None, "区医保局", "区卫生健康委", "2020年12月31日前"])
    sheet.merge_cells("A3:A5")
    sheet.merge_cells("B3:B5")
    sheet.merge_cells("D3:D4")
    book.save(path)
    return path


def canonical(path: Path) -> dict[str, object]:
    """What a plan is, whatever it was written in: its validated model as JSON."""
    spec = read_plan_table(path)[0] if path.suffix != ".yaml" else read_plan_file(path)[0]
    return spec.model_dump(mode="json")


@pytest.mark.parametrize("plan", BUNDLED, ids=lambda p: p.stem)
def test_every_bundled_plan_survives_export_and_import_as_xlsx(plan, tmp_path):
    table = tmp_path / f"{plan.stem}.xlsx"
    write_plan_table(read_plan_file(plan)[0], table, fmt="xlsx")
    assert canonical(table) == canonical(plan)
    as_yaml, as_table = load_plan(plan), load_plan(table)
    assert [str(w) for w in lint_plan(as_table)] == [str(w) for w in lint_plan(as_yaml)]
    # the same tasks, units, roles, due dates, occurrences and dependencies
    assert as_table.tasks == as_yaml.tasks and as_table.phases == as_yaml.phases


@pytest.mark.parametrize("plan", BUNDLED, ids=lambda p: p.stem)
def test_a_csv_carries_the_task_sheet_alone(plan, tmp_path):
    table = tmp_path / f"{plan.stem}.csv"
    spec = read_plan_file(plan)[0]
    write_plan_table(spec, table, fmt="csv")
    assert table.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, as Excel wants
    back = read_plan_table(table)[0]
    assert back.tasks == spec.tasks and back.reports == spec.reports


def test_an_office_table_imports_with_merged_cells_title_row_and_header_variants(tmp_path):
    spec, _ = read_plan_table(office_workbook(tmp_path / "nanan.xlsx"))
    assert spec.plan.title == "南岸区综合监管重点任务分工表"
    assert [(t.id, t.title, t.deadline) for t in spec.tasks] == [
        ("t1-1", "建立监管清单", "2019年12月底前"),
        ("t1-2", "推进信息公开", "2020年6月前"),
        ("t1-3", "开展专项检查", "持续开展"),
        ("t2-1", "强化结果运用", "2020年12月31日前"),
    ]
    plan = load_plan(tmp_path / "nanan.xlsx")
    roles = {
        t.code: [(plan.directory.name_of(a.unit), a.role) for a in t.assignments]
        for t in plan.tasks
    }
    # the merged 牵头部门 leads both rows under it; 责任单位 beside a lead column is 配合
    assert roles["t1-1"] == [("区卫生健康委", "lead"), ("区财政局", "co")]
    assert roles["t1-2"] == [("区卫生健康委", "lead"), ("区市场监管局", "co")]
    assert roles["t1-3"] == [("区市场监管局", "lead")]
    assert [t.due for t in plan.tasks][:2] == [dt.date(2019, 12, 31), dt.date(2020, 6, 30)]
    assert spec.tasks[1].text == "推进信息公开；每季度更新。"


def test_a_date_typed_as_an_excel_date_is_read_as_that_day(tmp_path):
    spec, _ = read_plan_table(office_workbook(tmp_path / "t.xlsx", deadline=dt.date(2019, 9, 30)))
    assert spec.tasks[0].deadline == "2019年9月30日"
    assert load_plan(tmp_path / "t.xlsx").tasks[0].due == dt.date(2019, 9, 30)


def test_the_realistic_fixture_imports_into_the_database(database_url):
    create_schema(database_url)
    with session_scope(database_url) as session:
        report = import_plan(session, FIXTURE, at=dt.datetime(2019, 9, 6, tzinfo=dt.UTC))
    assert report.created and report.tasks == 5
    spec = read_plan_table(FIXTURE)[0]
    assert spec.plan.title == "荣昌区改革完善医疗卫生行业综合监管制度重点任务分工表"
    # the heading rows 一、… and 二、… (merged across) are not tasks; 进展情况 is not read
    assert [t.id for t in spec.tasks] == ["t1-1", "t1-2", "t1-3", "t2-1", "t3-1"]
    assert spec.tasks[3].title == "加强医疗卫生从业人员监管"
    assert spec.tasks[3].deadline == "2019年11月29日"


def test_a_bad_cell_is_named_by_sheet_cell_and_column_and_nothing_is_written(
    database_url, tmp_path
):
    table = office_workbook(tmp_path / "bad.xlsx", deadline="明年某时")
    create_schema(database_url)
    with pytest.raises(PlanInvalid) as caught, session_scope(database_url) as session:
        import_plan(session, table, at=dt.datetime(2019, 9, 6, tzinfo=dt.UTC))
    assert f"{table} 任务分工表!F3: 完成时间" in str(caught.value)
    with session_scope(database_url) as session:
        assert session.exec(select(Plan)).all() == []


def test_an_unknown_unit_names_its_cell(tmp_path):
    table = tmp_path / "x.xlsx"
    spec = read_plan_file(ROOT / "plans" / "shanghai-2020.yaml")[0]
    write_plan_table(spec, table, fmt="xlsx")
    book = load_workbook(table)
    sheet = book["任务分工表"]
    row = next(r for r in sheet.iter_rows(min_row=3) if r[4].value)  # a 牵头单位 cell
    row[4].value = "不存在的局"
    book.save(table)
    with pytest.raises(PlanInvalid) as caught:
        load_plan(table)
    assert f"任务分工表!E{row[4].row}: 牵头单位" in str(caught.value)
    assert "不存在的局" in str(caught.value)


def test_a_sheet_without_a_header_row_is_refused_in_one_line(tmp_path):
    book = Workbook()
    assert book.active is not None
    book.active.append(["随便写的", "一行字"])
    book.save(tmp_path / "x.xlsx")
    with pytest.raises(PlanInvalid, match="no header row found"):
        read_plan_table(tmp_path / "x.xlsx")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_a_csv_is_read_as_utf8_with_or_without_bom_or_gbk(tmp_path, encoding):
    text = (
        "南岸区任务分工表\n"
        + ",".join(HEADER)
        + "\n1,健全监管体系,建立监管清单。,区卫生健康委,区财政局,2019年12月底前,\n"
    )
    table = tmp_path / "x.csv"
    table.write_bytes(text.encode(encoding))
    spec = read_plan_table(table)[0]
    assert spec.plan.title == "南岸区任务分工表"
    assert [(t.title, t.deadline) for t in spec.tasks] == [("健全监管体系", "2019年12月底前")]
    assert [u.name for u in spec.units] == ["区卫生健康委", "区财政局"]


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    spec = read_plan_file(ROOT / "plans" / "shanghai-2020.yaml")[0]
    spec.tasks[0].title = '=HYPERLINK("http://x")'
    spec.tasks[0].remarks = "-5%"
    for fmt in ("xlsx", "csv"):
        table = tmp_path / f"x.{fmt}"
        write_plan_table(spec, table, fmt=fmt)
        back = read_plan_table(table)[0]
        assert (back.tasks[0].title, back.tasks[0].remarks) == (spec.tasks[0].title, "-5%")
    cell = load_workbook(tmp_path / "x.xlsx")["任务分工表"]["C3"]
    assert cell.data_type == "s"


def test_template_export_and_import_on_the_command_line(duban, tmp_path):
    result = duban("template", "xlsx", "--out", "blank.xlsx")
    assert result.exit_code == 0, result.output
    book = load_workbook(tmp_path / "blank.xlsx")
    assert book.sheetnames == ["任务分工表", "单位", "分组", "阶段", "方案"]
    assert [c.value for c in book["任务分工表"][2]] == [c.header for c in TASK_COLUMNS]
    assert [c.value for c in book["单位"][1]][:4] == ["代码", "单位名称", "全称", "简称/别名"]
    plan = str(ROOT / "plans" / "rongchang-2019.yaml")
    result = duban("export", plan, "--format", "xlsx", "--out", "rc.xlsx")
    assert result.exit_code == 0, result.output
    assert duban("lint", "rc.xlsx").output == duban("lint", plan).output
    result = duban("import", "rc.xlsx")
    assert result.exit_code == 0, result.output
    assert "imported rongchang-2019: 29 tasks" in result.output
    result = duban("export", "rongchang-2019", "--format", "csv", "--out", "rc.csv")
    assert result.exit_code == 0 and (tmp_path / "rc.csv").is_file()
    assert duban("export", plan, "--format", "pdf").exit_code == 2


def test_a_key_task_typed_again_on_each_row_titles_none_of_them_alone(tmp_path):
    rows = [
        ",".join(HEADER),
        "1,健全监管体系,（1）建立监管清单。,区卫生健康委,,2019年12月底前,",
        "2,健全监管体系,（2）开展专项检查。,区卫生健康委,,2020年6月前,",
        "3,强化结果运用,,区医保局,,2020年12月31日前,",
    ]
    table = tmp_path / "x.csv"
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec = read_plan_table(table)[0]
    assert [(t.id, t.title) for t in spec.tasks] == [
        ("t1-1", "建立监管清单"),
        ("t1-2", "开展专项检查"),
        ("t2-1", "强化结果运用"),
    ]


def test_a_csv_cell_is_named_by_column_and_row(tmp_path):
    table = tmp_path / "x.csv"
    table.write_text(
        ",".join(HEADER) + "\n1,健全监管体系,,区卫生健康委,,明年某时,\n", encoding="utf-8"
    )
    with pytest.raises(PlanInvalid) as caught:
        load_plan(table)
    assert f"{table} F2: 完成时限" in str(caught.value)


def test_an_old_format_workbook_is_refused_with_what_to_do(tmp_path):
    (tmp_path / "x.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(PlanInvalid, match=r"save it as \.xlsx"):
        read_plan_table(tmp_path / "x.xls")


def test_the_blank_template_filled_in_imports(tmp_path):
    write_plan_table(None, tmp_path / "blank.xlsx", fmt="xlsx")
    book = load_workbook(tmp_path / "blank.xlsx")
    book["任务分工表"].append([1, None, "建立监管清单", "建立监管清单。", "区卫生健康委"])
    book["任务分工表"]["J3"] = "2019年12月底前"
    book["单位"].append(["whc", "区卫生健康委", None, "卫健委", "部门", None, "whc@example.org"])
    book["方案"]["B1"] = "nanan-2019"
    book["方案"]["B2"] = "南岸区综合监管实施方案"
    book["方案"]["B5"] = "2019-09-01"  # 印发日期: lint asks for it
    book.save(tmp_path / "filled.xlsx")
    plan = load_plan(tmp_path / "filled.xlsx")
    assert (plan.code, plan.spec.plan.title) == ("nanan-2019", "南岸区综合监管实施方案")
    assert [(t.code, t.due, [a.unit for a in t.assignments]) for t in plan.tasks] == [
        ("t1-1", dt.date(2019, 12, 31), ["whc"])
    ]
    assert lint_plan(plan) == []


def test_a_responsibility_column_alone_is_read_as_the_plans_clause(tmp_path):
    table = tmp_path / "x.csv"
    table.write_text(
        "序号,工作任务,责任单位,完成时限\n"
        "1,健全监管体系,区卫生健康委牵头，区财政局、区医保局配合,2019年12月底前\n",
        encoding="utf-8",
    )
    spec = read_plan_table(table)[0]
    assert spec.tasks[0].responsibility == "区卫生健康委牵头，区财政局、区医保局配合"
    plan = load_plan(table)
    assert [(plan.directory.name_of(a.unit), a.role) for a in plan.tasks[0].assignments] == [
        ("区卫生健康委", "lead"),
        ("区财政局", "co"),
        ("区医保局", "co"),
    ]
