"""`duban draft`: a plan file drafted from the plan document's text, for a clerk to correct.

Measured on the source texts of the bundled plans (tests/data/sources), each draft against the
plan a person wrote from the same text; on the State Council documents of the clause corpus
(tests/data/sources/corpus), each drafted clause against the clerk's reading in the corpus; and
on a Word file made here with the parts the seeds
lack (a 联席会议制度 with its liaison table, a 任务分解表 as a real table, one department written
two ways).
"""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
import yaml
from typer.testing import CliRunner

from bench.draft import corpus_documents, measure_corpus
from duban.cli import app
from tasks.plans.draft_check import score_draft
from tasks.plans.draft_units import name_key
from tasks.plans.importer import load_plan

from .conftest import DATA, PLANS

SOURCES = DATA / "sources"
CHONGQING, RONGCHANG, SHANGHAI = (
    "000_321ef95c29761d99.txt",
    "002_84275c571218f700.txt",
    "003_370a16f74d41ca83.txt",
)
# source text, the plan written from it, and the floors: share of its tasks found, of their
# clauses read to the same units, of their deadlines read to the same dates (measured: Chongqing
# 16/16, 15/16, 16/16; Rongchang 29/29, 23/26, 29/29; Shanghai 27/28, 0/1, 27/27).
SEEDS = [
    (CHONGQING, "chongqing-2019-pilot.yaml", 1.0, 0.9, 1.0),
    (RONGCHANG, "rongchang-2019.yaml", 1.0, 0.85, 1.0),
    (SHANGHAI, "shanghai-2020.yaml", 0.95, 0.0, 1.0),
]


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def drafted(source: Path, folder: Path) -> Path:
    out = folder / f"{source.stem}.yaml"
    result = run("draft", str(source), "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize(("source", "plan", "found", "clauses", "deadlines"), SEEDS)
def test_each_seed_text_drafts_a_plan_close_to_the_one_written_by_hand(
    here, source, plan, found, clauses, deadlines
):
    draft = load_plan(drafted(SOURCES / source, here))
    score = score_draft(draft, load_plan(PLANS / plan))
    assert score.found_share >= found
    assert score.clause_share >= clauses
    assert score.deadline_share >= deadlines
    assert score.extra == 0


def test_the_chongqing_draft_reads_the_head_and_the_four_phase_windows(here):
    out = drafted(SOURCES / CHONGQING, here)
    plan = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert plan["plan"]["title"] == "重庆市医疗卫生行业多元化综合监管试点工作方案"
    assert plan["plan"]["document_number"] == "渝卫发〔2019〕32号"
    assert plan["plan"]["issuer"] == "重庆市卫生健康委员会"
    assert str(plan["plan"]["issued"]) == "2019-07-11"
    assert [(p["name"], p["kind"], p["window"]) for p in plan["phases"]] == [
        ("启动阶段", "launch", "2019年7月"),
        ("实施阶段", "implementation", "2019年8月至2020年8月"),
        ("中期总结评估阶段", "midterm_review", "2019年12月"),
        ("全面总结评估阶段", "final_evaluation", "2020年9月"),
    ]
    resolved = load_plan(out)
    assert [(p.start.isoformat(), p.due.isoformat()) for p in resolved.phases] == [
        ("2019-07-01", "2019-07-31"),
        ("2019-08-01", "2020-08-31"),
        ("2019-12-01", "2019-12-31"),
        ("2020-09-01", "2020-09-30"),
    ]


def test_every_value_read_says_where_from_and_how_sure(here):
    text = drafted(SOURCES / CHONGQING, here).read_text(encoding="utf-8")
    assert (
        'document_number: "渝卫发〔2019〕32号"  # 读自第1行「渝卫发〔2019〕32号」；把握：高' in text
    )
    assert 'responsibility: "试点区县"  # 读自第89行「试点区县」' in text
    assert 'deadline: "持续开展"  # 读自第' in text
    # the reports' dates in a phase's text are pointed out, not silently dropped
    assert "「2019年9月20日、12月20日，2020年3月20日、6月20日」" in text


def test_a_rongchang_clause_is_read_with_the_rule_it_carries_and_spellings_merge(here):
    plan = yaml.safe_load(drafted(SOURCES / RONGCHANG, here).read_text(encoding="utf-8"))
    assert plan["plan"]["document_number"] == "荣昌府办发〔2019〕72号"
    assert plan["plan"]["title"] == "荣昌区改革完善医疗卫生行业综合监管制度实施方案"
    units = {u["name"]: u.get("aliases", []) for u in plan["units"]}
    assert units["永川银保监局"] == ["永川银保监分局"]
    assert units["区委网信办"] == ["区网信办"]
    stages = [(p["name"], p["window"]) for p in plan["phases"]]
    assert stages[0] == ("工作推进阶段", "2019年9月")  # from its tasks' deadlines
    a6 = next(t for t in plan["tasks"] if t["text"].startswith("启动第一轮"))
    assert a6["deadline"] == "2020年 6月前"


def test_the_shanghai_draft_is_in_simplified_characters_without_pinyin(here):
    text = drafted(SOURCES / SHANGHAI, here).read_text(encoding="utf-8")
    plan = yaml.safe_load(text)
    assert plan["plan"]["document_number"] == "沪府办规〔2020〕5号"
    assert (
        plan["plan"]["title"]
        == "上海市人民政府办公厅关于改革完善医疗卫生行业综合监管制度的实施意见"
    )
    assert "原文为繁体字" in text and "删去了字后括注的拼音" in text
    pinyin = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔù]+\)")
    assert not any(pinyin.search(t["text"]) or "規" in t["text"] for t in plan["tasks"])
    assert [t["deadline"] for t in plan["tasks"][:2]] == ["到2022年", "到2030年"]


def test_lint_lists_exactly_what_the_clerk_must_still_decide(here):
    source = here / "bare.txt"
    source.write_text(
        "关于做好某项工作的方案\n一、主要任务\n（一）开展调查。摸清底数。\n", encoding="utf-8"
    )
    out = drafted(source, here)
    text = out.read_text(encoding="utf-8")
    assert 'document_number: "TODO: 请填写"  # TODO: 请填写（文号）' in text
    assert "issued: null  # TODO: 请填写（成文日期）" in text
    lint = run("lint", str(out))
    assert lint.exit_code == 0
    warnings = [w.split(": ", 2)[1:] for w in lint.stdout.splitlines()[:-1]]
    assert ["document_number", "placeholder left to fill in: TODO: 请填写"] in [
        [w[0].rsplit(".", 1)[-1], w[1]] for w in warnings if len(w) == 2
    ]
    said = lint.stdout
    assert "plan.issuer: placeholder left to fill in" in said
    assert "no issue date (plan.issued)" in said
    assert "units[0].name: placeholder left to fill in" in said
    assert "m1-1: no responsible unit" in said


@pytest.mark.parametrize("document", corpus_documents(), ids=lambda p: p.stem)
def test_every_clause_a_corpus_document_prints_closes_a_drafted_task_read_as_the_clerk_reads_it(
    here, document
):
    score = measure_corpus(document, here)
    assert score.printed > 0
    assert score.taken == score.printed
    assert score.right == score.taken


def test_a_clause_inside_a_measure_closes_the_part_before_it_and_the_rest_is_a_measure_too(here):
    source = here / "plan.txt"
    source.write_text(
        "一、主要任务\n"
        "（一）发展赛事。支持职业联赛。（体育总局负责）规范赛事管理。（市场监管总局负责）\n"
        "（二）培育市场。2019年6月底前，出台扶持办法。（体育总局、财政部负责）\n",
        encoding="utf-8",
    )
    plan = load_plan(drafted(source, here))
    names = {u.code: u.name for u in plan.spec.units}
    assert [(t.code, [(names[a.unit], a.role) for a in t.assignments]) for t in plan.tasks] == [
        ("m1-1-1", [("体育总局", "lead")]),
        ("m1-1-2", [("市场监管总局", "lead")]),
        ("m1-2", [("体育总局", "co"), ("财政部", "co")]),
    ]
    assert [t.title for t in plan.tasks][:2] == ["发展赛事", "规范赛事管理"]
    assert plan.tasks[2].deadline is not None
    assert plan.tasks[2].deadline.text == "2019年6月底前"


def test_numbered_paragraphs_under_a_heading_each_with_a_clause_are_the_measures(here):
    source = here / "plan.txt"
    source.write_text(
        "一、指导思想\n（一）坚持改革。深化改革。\n"
        "二、主要任务\n（一）打造先进制造业基地。\n"
        "1.拓展市场。积极开展业务。（海关总署、财政部负责，排在第一位的部门为牵头部门，下同）\n"
        "2.释放产能。允许企业承接委托。（商务部、海关总署负责）\n"
        "三、对成效明显的地方给予激励。在安排资金时予以倾斜。（财政部负责）\n",
        encoding="utf-8",
    )
    out = drafted(source, here)
    plan = load_plan(out)
    names = {u.code: u.name for u in plan.spec.units}
    assert [(t.code, [(names[a.unit], a.role) for a in t.assignments]) for t in plan.tasks] == [
        ("m2-1", [("海关总署", "lead"), ("财政部", "co")]),
        ("m2-2", [("商务部", "lead"), ("海关总署", "co")]),
        ("m3-1", [("财政部", "lead")]),
    ]
    assert "坚持改革" in out.read_text(encoding="utf-8")  # listed as left out, not a task


def test_items_numbered_1_2_are_measures_and_a_clause_rule_carries_to_the_next(here):
    source = here / "plan.txt"
    source.write_text(
        "某县某某工作方案\n一、重点任务\n"
        "1.开展调查。摸清底数。（责任单位：县卫健委、县财政局。排在第一的部门为牵头单位，下同）\n"
        "2.建立台账。（责任单位：县财政局、县卫健委）\n",
        encoding="utf-8",
    )
    out = drafted(source, here)
    assert "# 读作：牵头：县财政局；配合：县卫健委" in out.read_text(encoding="utf-8")
    plan = load_plan(out)
    names = {u.code: u.name for u in plan.spec.units}
    assert [(t.code, [(names[a.unit], a.role) for a in t.assignments]) for t in plan.tasks] == [
        ("m1-1", [("县卫健委", "lead"), ("县财政局", "co")]),
        ("m1-2", [("县财政局", "lead"), ("县卫健委", "co")]),
    ]


def test_an_unreadable_deadline_is_left_to_the_clerk_with_its_words(here):
    source = here / "plan.txt"
    source.write_text(
        "一、主要任务\n附件\n\t责任单位\t工作任务\t完成时限\n\tX局\t1.做事。\t尽快\n",
        encoding="utf-8",
    )
    out = drafted(source, here)
    assert "deadline: null  # TODO: 请填写（完成时限）；第4行「尽快」读不出" in out.read_text(
        encoding="utf-8"
    )
    assert "t01: no deadline" in run("lint", str(out)).stdout


def test_an_empty_document_still_drafts_a_file_lint_reads(here):
    source = here / "empty.txt"
    source.write_text("", encoding="utf-8")
    lint = run("lint", str(drafted(source, here)))
    assert lint.exit_code == 0
    assert "plan.title: placeholder left to fill in" in lint.stdout


def test_one_department_written_two_ways_is_one_unit():
    assert name_key("县发展和改革委员会") == name_key("县发改局")
    assert name_key("区委网信办") == name_key("区网信办")
    assert name_key("区卫生健康委") != name_key("市卫生健康委")


def word_plan(path: Path) -> Path:
    """A small county plan as a Word file: head, phases, measures with clauses, an annexed
    任务分解表 and 联席会议制度 with a liaison table."""
    document = docx.Document()
    for line in (
        "某县卫生健康委员会文件",
        "某卫发〔2021〕7号",
        "关于印发某县综合监管工作方案的通知",
        "某县综合监管工作方案",
        "一、实施步骤",
        "（一）启动阶段（2021年3月）。制定方案，召开启动会。",
        "（二）实施阶段（2021年4月至2021年11月）。全面推进各项工作。",
        "二、重点任务",
        "（一）完善协同机制。建立部门协同监管机制。"
        "（责任单位：县卫生健康委、县发展和改革委员会按职责分别牵头负责，县财政局参与）",
        "（二）加强价格监管。开展医疗服务价格检查。（责任单位：县发改局）",
        "某县卫生健康委员会",
        "2021年3月1日",
        "附件",
        "某县综合监管工作任务分解表",
    ):
        document.add_paragraph(line)
    table = document.add_table(rows=3, cols=3)
    for row, cells in zip(
        table.rows,
        [
            ("责任单位", "工作任务", "完成时限"),
            ("县卫生健康委", "1.制定联合检查计划：每季度一次。", "2021年4月底前"),
            ("县财政局", "2.保障经费。", "2021年6月"),
        ],
        strict=True,
    ):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    for line in (
        "附件",
        "某县综合监管联席会议制度",
        "联席会议召集人由县卫生健康委主要负责同志担任，副召集人由县发改局分管负责同志担任。",
        "成员单位：县卫生健康委、县发改局、县财政局。",
        "联席会议办公室设在县卫生健康委。",
    ):
        document.add_paragraph(line)
    roster = document.add_table(rows=2, cols=4)
    for cell, value in zip(roster.rows[0].cells, ("单位", "姓名", "职务", "电话"), strict=True):
        cell.text = value
    for cell, value in zip(
        roster.rows[1].cells, ("县财政局", "王五", "科长", "12345678"), strict=True
    ):
        cell.text = value
    document.save(str(path))
    return path


def test_a_word_file_drafts_tasks_from_its_table_and_the_joint_meeting_roster(here):
    out = drafted(word_plan(here / "plan.docx"), here)
    plan = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert plan["plan"]["document_number"] == "某卫发〔2021〕7号"
    assert plan["plan"]["title"] == "某县综合监管工作方案"
    assert str(plan["plan"]["issued"]) == "2021-03-01"
    units = {u["name"]: u.get("aliases", []) for u in plan["units"]}
    assert units["县发展和改革委员会"] == ["县发改局"]
    assert [t["deadline"] for t in plan["tasks"] if t["id"].startswith("t")] == [
        "2021年4月底前",
        "2021年6月",
    ]
    tasks = {t["id"]: t for t in plan["tasks"]}
    assert tasks["t01"]["text"] == "制定联合检查计划：每季度一次。"
    assert tasks["t01"]["phase"] == "p2"  # its due date falls in the implementation window
    assert tasks["m2-2"]["responsibility"] == "责任单位：县发改局"
    meeting = plan["joint_meeting"]
    assert meeting["name"] == "某县综合监管联席会议"
    assert meeting["convener"] == "县卫生健康委"
    assert meeting["vice_conveners"] == ["县发展和改革委员会"]
    assert meeting["office"] == "县卫生健康委"
    assert {m["unit"]: m.get("name") for m in meeting["members"]} == {
        "县卫生健康委": None,
        "县发展和改革委员会": None,
        "县财政局": "王五",
    }
    resolved = load_plan(out)  # the draft imports as it stands
    assert [s.role for s in resolved.seats][:1] == ["convener"]


def test_a_file_that_is_not_a_word_document_is_one_line_and_writes_nothing(here):
    fake = here / "plan.docx"
    fake.write_text("not a zip", encoding="utf-8")
    result = run("draft", str(fake), "--out", str(here / "out.yaml"))
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "not a Word (.docx) document" in result.stderr
    assert not (here / "out.yaml").exists()
