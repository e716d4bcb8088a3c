"""Reading who is responsible from a plan's own words, and resolving names to the plan's units.

The clauses are copied from seed 002 (荣昌府办发〔2019〕72号) with the line breaks PDF
extraction left in them, so normalisation is exercised on real text.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tasks.plans.responsibility import (
    NO_LEAD,
    Responsibility,
    ResponsibilityError,
    UnitDirectory,
    UnknownUnitName,
    normalize_name,
    read_pilots,
    read_responsibility,
)

from .conftest import DATA, ROOT

SEED_002 = DATA / "002_84275c571218f700.txt"

LEADS_AND_PARTICIPANTS = (
    "（责任单位：区卫生健康委、区发展\n\n改革委、区科技局、区民政局、区市场监管局按职责分别牵头负\n\n"
    "责，区大数据发展局、区人力社保局、区商务委参与。）"
)
SINGLE_WITH_FULL_STOP = "（责任单\n\n位：区卫生健康委。）"
FIRST_LEADS_FROM_NOW_ON = (
    "（责任单位：区卫生健康委、区教委、区民政局、区司法局、区\n\n"
    "国资委。排在第一的部门为牵头单位，下同）"
)
PLAIN_LIST = "（责任单位：区卫生健康委、区教委、区国资委、\n\n区医保局、区市场监管局）"
SINGLE_RESPONSIBLE = "（责任单位：区卫生健\n\n康委负责）"
SEVERAL_RESPONSIBLE = "（责任单位：区\n\n卫生健康委、区委政法委、区城管局负责）"
OTHER_LEADS_FIRST = (
    "（责\n\n任单位：区医保局、永川银保监局按职责分别牵头负责，区发展\n\n"
    "改革委、区财政局、区卫生健康委参与）"
)
TRAILING_DENG = (
    "（责任单位：区卫生健康\n\n委、区发展改革委、区教委、区公安局、区民政局、区司法局、\n\n"
    "区财政局、区人力社保局、区生态环境局、区住房城乡建委、区\n\n"
    "城管局、区水利局、区商务委、人行永川中心支行、区审计局、\n\n"
    "区国资委、区税务局、区市场监管局、区医保局、永川银保监分\n\n局等按职责分别牵头负责）"
)
LISTED_TWICE = (
    "（责任单位：区卫生健康委、\n\n区市场监管局、区委网信办、区发展改革委、区教委、区财政局、\n\n"
    "区人力社保局、区国资委、区税务局、区市场监管局、区医保局\n\n按职责分别牵头负责）"
)
SEED_CLAUSES = [
    LEADS_AND_PARTICIPANTS,
    SINGLE_WITH_FULL_STOP,
    FIRST_LEADS_FROM_NOW_ON,
    PLAIN_LIST,
    SINGLE_RESPONSIBLE,
    SEVERAL_RESPONSIBLE,
    OTHER_LEADS_FIRST,
    TRAILING_DENG,
    LISTED_TWICE,
]
PILOT_TASK = (
    "8.重点探索智能化监管方式，发挥智能监管事前预警、事中告诫、事后惩戒等优势，"
    "依托健康医疗大数据，推动日常管理、执法监督与信息化、大数据应用深度融合。"
    "（试点区县：南岸区、永川区）"
)


def roles(found: Responsibility) -> tuple[list[str], list[str], list[str], list[str]]:
    as_json = found.as_json()
    return as_json["lead"], as_json["co"], as_json["participants"], as_json["pilots"]


def test_the_clauses_under_test_are_copied_verbatim_from_seed_002():
    text = SEED_002.read_text(encoding="utf-8")
    assert [clause for clause in SEED_CLAUSES if clause not in text] == []


@pytest.mark.parametrize(
    ("clause", "rule_in_force", "lead", "co", "participants"),
    [
        pytest.param(
            LEADS_AND_PARTICIPANTS,
            False,
            ["区卫生健康委", "区发展改革委", "区科技局", "区民政局", "区市场监管局"],
            [],
            ["区大数据发展局", "区人力社保局", "区商务委"],
            id="leads-by-duty-and-participants",
        ),
        pytest.param(SINGLE_WITH_FULL_STOP, False, ["区卫生健康委"], [], [], id="single-unit"),
        pytest.param(
            FIRST_LEADS_FROM_NOW_ON,
            False,
            ["区卫生健康委"],
            ["区教委", "区民政局", "区司法局", "区国资委"],
            [],
            id="first-listed-leads-rule",
        ),
        pytest.param(
            PLAIN_LIST,
            True,
            ["区卫生健康委"],
            ["区教委", "区国资委", "区医保局", "区市场监管局"],
            [],
            id="plain-list-under-rule",
        ),
        pytest.param(SINGLE_RESPONSIBLE, True, ["区卫生健康委"], [], [], id="single-responsible"),
        pytest.param(
            SEVERAL_RESPONSIBLE,
            True,
            ["区卫生健康委"],
            ["区委政法委", "区城管局"],
            [],
            id="several-responsible-under-rule",
        ),
        pytest.param(
            OTHER_LEADS_FIRST,
            True,
            ["区医保局", "永川银保监局"],
            [],
            ["区发展改革委", "区财政局", "区卫生健康委"],
            id="marked-leads-beat-the-rule",
        ),
        pytest.param(
            TRAILING_DENG,
            True,
            [
                "区卫生健康委",
                "区发展改革委",
                "区教委",
                "区公安局",
                "区民政局",
                "区司法局",
                "区财政局",
                "区人力社保局",
                "区生态环境局",
                "区住房城乡建委",
                "区城管局",
                "区水利局",
                "区商务委",
                "人行永川中心支行",
                "区审计局",
                "区国资委",
                "区税务局",
                "区市场监管局",
                "区医保局",
                "永川银保监分局",
            ],
            [],
            [],
            id="trailing-deng",
        ),
        pytest.param(
            LISTED_TWICE,
            True,
            [
                "区卫生健康委",
                "区市场监管局",
                "区委网信办",
                "区发展改革委",
                "区教委",
                "区财政局",
                "区人力社保局",
                "区国资委",
                "区税务局",
                "区医保局",
            ],
            [],
            [],
            id="unit-listed-twice-counts-once",
        ),
    ],
)
def test_seed_clauses_read_as_the_plan_means_them(clause, rule_in_force, lead, co, participants):
    found = read_responsibility(clause, first_listed_leads=rule_in_force)
    assert roles(found) == (lead, co, participants, [])


@pytest.mark.parametrize(
    ("clause", "lead", "co", "participants"),
    [
        ("区卫生健康委牵头，区财政局参与", ["区卫生健康委"], [], ["区财政局"]),
        ("区卫生健康委牵头，区财政局、区教委配合", ["区卫生健康委"], ["区财政局", "区教委"], []),
        ("由区卫生健康委牵头，区财政局协助", ["区卫生健康委"], ["区财政局"], []),
        ("区发展改革委统筹，区财政局、区教委配合", ["区发展改革委"], ["区财政局", "区教委"], []),
        ("区商务委指导，区供销社参与", ["区商务委"], [], ["区供销社"]),
        (
            "区发展改革委会同中国人民银行永川中心支行负责",
            ["区发展改革委"],
            ["中国人民银行永川中心支行"],
            [],
        ),
        ("区财政局会同区卫生健康委、区审计局", ["区财政局"], ["区卫生健康委", "区审计局"], []),
        ("区卫生健康委、区医保局等按职责分别牵头负责", ["区卫生健康委", "区医保局"], [], []),
        ("区卫生健康委、区医保局按职责分别负责", ["区卫生健康委", "区医保局"], [], []),
        ("区卫生健康委为牵头单位，区教委为配合单位", ["区卫生健康委"], ["区教委"], []),
        ("区财政局、区卫生健康委（牵头）", ["区卫生健康委"], ["区财政局"], []),
        ("市卫生健康委", ["市卫生健康委"], [], []),
        ("试点区县", ["试点区县"], [], []),
        ("  市卫生健康委综合监督处\n", ["市卫生健康委综合监督处"], [], []),
    ],
)
def test_prose_and_table_cells_name_who_leads_and_who_helps(clause, lead, co, participants):
    found = read_responsibility(clause)
    assert roles(found) == (lead, co, participants, [])
    assert found.note is None


@pytest.mark.parametrize(
    ("text", "pilots"),
    [
        (PILOT_TASK, ("南岸区", "永川区")),
        ("建立医疗机构信用记录档案，实施联合惩戒措施。（试点区县：忠县）", ("忠县",)),
        ("开展依法执业自查（试点单位：市医师协会，市输血协会等）", ("市医师协会", "市输血协会")),
        ("在试点区县（单位）中推进医疗卫生行业综合监管制度的具体实施", ()),
        ("（试点区县：南岸\n区、永川区）（试点区县：永川区）", ("南岸区", "永川区")),
    ],
)
def test_pilots_are_read_from_the_parenthesis_in_the_task_text(text, pilots):
    assert read_pilots(text) == pilots


def test_a_clause_can_carry_both_the_responsible_units_and_the_pilots():
    found = read_responsibility("试点区县（试点区县：南岸区、永川区）")
    assert roles(found) == (["试点区县"], [], [], ["南岸区", "永川区"])
    only_pilots = read_responsibility("（试点区县：南岸区、永川区）")
    assert roles(only_pilots) == ([], [], [], ["南岸区", "永川区"])


def test_a_responsibility_clause_is_found_at_the_end_of_its_measure():
    measure = f"严厉打击欺诈骗保行为，保障医保基金安全。{OTHER_LEADS_FIRST}\n\n（九）加强秩序监管。"
    assert roles(read_responsibility(measure)) == (
        ["区医保局", "永川银保监局"],
        [],
        ["区发展改革委", "区财政局", "区卫生健康委"],
        [],
    )


def test_an_unmarked_list_with_no_rule_in_force_names_no_lead_and_says_so():
    found = read_responsibility("区卫生健康委、区教委")
    assert roles(found) == ([], ["区卫生健康委", "区教委"], [], [])
    assert found.note == NO_LEAD == "牵头单位未明确"
    assert found.first_listed_leads is False


def test_the_xiatong_rule_carries_to_later_clauses_in_file_order():
    rule, notes, leads = False, [], []
    for clause in [
        LEADS_AND_PARTICIPANTS,
        FIRST_LEADS_FROM_NOW_ON,
        PLAIN_LIST,
        OTHER_LEADS_FIRST,
        SEVERAL_RESPONSIBLE,
    ]:
        found = read_responsibility(clause, first_listed_leads=rule)
        rule = found.first_listed_leads
        notes.append(found.note)
        leads.append(found.lead)
    assert rule is True
    assert notes == [None] * 5
    assert leads[2:] == [("区卫生健康委",), ("区医保局", "永川银保监局"), ("区卫生健康委",)]


def test_the_rule_without_xiatong_holds_only_for_its_own_clause():
    found = read_responsibility("区卫生健康委、区教委。排在第一的部门为牵头单位")
    assert roles(found) == (["区卫生健康委"], ["区教委"], [], [])
    assert (found.first_listed_leads, found.note) == (False, None)


def test_a_carried_rule_is_never_dropped_by_a_later_clause():
    assert read_responsibility("区卫生健康委牵头", first_listed_leads=True).first_listed_leads


def test_units_listed_twice_are_kept_once_with_a_note():
    found = read_responsibility(LISTED_TWICE, first_listed_leads=True)
    assert found.note == "区市场监管局 is listed twice"


def test_a_clause_with_participants_but_no_lead_says_so():
    found = read_responsibility("区财政局参与")
    assert roles(found) == ([], [], ["区财政局"], [])
    assert found.note == NO_LEAD


@pytest.mark.parametrize(
    ("clause", "part"),
    [
        ("", "the clause is empty"),
        ("\n\n", "the clause is empty"),
        ("责任单位：", 'nothing follows "责任单位："'),
        ("（责任单\n位：。）", 'nothing follows "责任单位："'),
        ("按职责分别牵头负责", 'no unit is named before "按职责分别牵头负责"'),
        ("区卫生健康委牵头，参与", 'no unit is named before "参与"'),
        ("会同区财政局", 'no unit is named before "会同"'),
        ("区财政局会同", 'no unit is named after "会同"'),
        ("。，、", "no unit is named"),
        ("牵头单位：", 'nothing follows "牵头单位："'),
        ("牵头单位：区卫生健康委；配合单位：", 'nothing follows "配合单位："'),
        ("区卫生健康委：区教委", '"区卫生健康委：区教委" does not read as a unit name'),
    ],
)
def test_an_unreadable_clause_names_itself_and_the_part_that_failed(clause, part):
    with pytest.raises(ResponsibilityError) as caught:
        read_responsibility(clause)
    message = str(caught.value)
    assert part in message
    assert "cannot read the responsibility clause" in message


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("区发展\n\n改革委", "区发展改革委"),
        (" 区卫生健康委。", "区卫生健康委"),
        ("“区教委”、", "区教委"),
        ("（区医保局）", "区医保局"),
        ("永川银保监分\n局等", "永川银保监分局"),
        ("区委编办（区编委办）", "区委编办（区编委办）"),
    ],
)
def test_names_are_normalised_to_one_spelling(raw, name):
    assert normalize_name(raw) == name


def test_as_json_has_the_four_roles_the_cli_prints():
    assert read_responsibility(LEADS_AND_PARTICIPANTS).as_json() == {
        "lead": ["区卫生健康委", "区发展改革委", "区科技局", "区民政局", "区市场监管局"],
        "co": [],
        "participants": ["区大数据发展局", "区人力社保局", "区商务委"],
        "pilots": [],
    }


UNITS = [
    ("wjw", "区卫生健康委", ["区卫生健康委员会"]),
    ("czj", "区财政局", []),
    ("sjw", "市卫生健康委", []),
    ("nan", "南岸区", []),
    ("yc", "永川区", []),
    ("zx", "忠县", []),
    ("ys", "市医师协会", []),
]
GROUPS = [
    ("districts", "试点区县", ["综合监管试点区县"], ["南岸区", "yc", "zx"]),
    ("bodies", "试点行业组织", [], ["ys"]),
    ("pilots", "试点单位", [], ["试点区县", "试点行业组织", "nan", "sjw"]),
]


@pytest.fixture(scope="module")
def directory() -> UnitDirectory:
    return UnitDirectory.build(UNITS, GROUPS)


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("区卫生健康委", ("wjw",)),
        ("区卫生健康委员会", ("wjw",)),
        ("区卫生\n\n健康委", ("wjw",)),
        ("czj", ("czj",)),
        ("试点区县", ("nan", "yc", "zx")),
        ("综合监管试点区县", ("nan", "yc", "zx")),
        ("试点单位", ("nan", "yc", "zx", "ys", "sjw")),
    ],
)
def test_names_aliases_codes_and_nested_groups_resolve_to_unit_codes(directory, name, codes):
    assert directory.resolve(name) == codes


def test_name_of_gives_the_name_the_plan_uses(directory):
    assert directory.name_of("wjw") == "区卫生健康委"
    assert directory.name_of("districts") == "试点区县"
    with pytest.raises(KeyError):
        directory.name_of("nope")


@pytest.mark.parametrize(
    ("name", "suggestions"),
    [
        ("卫生健康委", ("区卫生健康委", "市卫生健康委", "区卫生健康委员会")),
        ("区卫生健康局", ("区卫生健康委",)),
        ("区教委", ()),
    ],
)
def test_an_unknown_name_is_reported_with_the_clause_and_the_closest_names(
    directory, name, suggestions
):
    with pytest.raises(UnknownUnitName) as caught:
        directory.resolve(name, clause="（责任单位：卫生\n健康委负责）")
    assert caught.value.suggestions[: len(suggestions)] == suggestions
    assert len(caught.value.suggestions) <= 3
    message = str(caught.value)
    assert f'"{name}"' in message and "（责任单位：卫生健康委负责）" in message
    assert all(s in message for s in suggestions)


def test_an_unprefixed_name_resolves_only_through_an_explicit_alias():
    directory = UnitDirectory.build([("wjw", "区卫生健康委", ["卫生健康委"])])
    assert directory.resolve("卫生健康委") == ("wjw",)


def test_a_group_member_that_is_no_unit_fails_the_build_naming_the_group():
    with pytest.raises(UnknownUnitName, match='"区教委" among the members of group "试点区县"'):
        UnitDirectory.build(UNITS, [("districts", "试点区县", [], ["南岸区", "区教委"])])


@pytest.mark.parametrize(
    ("groups", "cycle"),
    [
        (
            [
                ("a", "甲组", [], ["乙组"]),
                ("b", "乙组", [], ["丙组"]),
                ("c", "丙组", [], ["a", "czj"]),
            ],
            "甲组 → 乙组 → 丙组 → 甲组",
        ),
        ([("a", "甲组", [], ["czj", "甲组"])], "甲组 → 甲组"),
    ],
)
def test_groups_that_contain_each_other_are_refused_naming_the_cycle(groups, cycle):
    with pytest.raises(ResponsibilityError, match=cycle):
        UnitDirectory.build(UNITS, groups)


@pytest.mark.parametrize(
    ("units", "groups", "first", "second"),
    [
        ([*UNITS, ("cz2", "区财政局", [])], [], 'unit "区财政局" (czj)', 'unit "区财政局" (cz2)'),
        ([*UNITS, ("jw", "区教委", ["区卫生健康委员会"])], [], "(wjw)", "(jw)"),
        (UNITS, [("g", "忠县", [], ["zx"])], 'unit "忠县" (zx)', 'group "忠县" (g)'),
        ([*UNITS, ("wjw", "区教委", [])], [], 'unit "区卫生健康委" (wjw)', 'unit "区教委" (wjw)'),
    ],
)
def test_a_name_or_code_used_twice_is_refused_naming_both_owners(units, groups, first, second):
    with pytest.raises(ResponsibilityError) as caught:
        UnitDirectory.build(units, groups)
    assert first in str(caught.value) and second in str(caught.value)


def test_importing_the_module_does_not_load_prefect_or_the_database():
    probe = (
        "import sys, tasks.plans.responsibility; "
        "print(sorted(m for m in ('prefect', 'sqlmodel', 'sqlalchemy') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("clause", "lead", "co", "participants"),
    [
        pytest.param(
            "（区卫生健康委、区医保局按职责分别牵头负责）",
            ["区卫生健康委", "区医保局"],
            [],
            [],
            id="full-width-brackets-keep-the-verb-out-of-the-last-name",
        ),
        pytest.param(
            "(区卫生健康委牵头,区财政局配合)",
            ["区卫生健康委"],
            ["区财政局"],
            [],
            id="ascii-brackets",
        ),
        pytest.param(
            "〔责任单位:省市场监管局〕", ["省市场监管局"], [], [], id="hexagonal-brackets"
        ),
        pytest.param(
            "区卫生健康委牵头，区财政局、区教委按照职责分工负责",
            ["区卫生健康委"],
            ["区财政局", "区教委"],
            [],
            id="anzhao-zhize-fengong-fuze",
        ),
        pytest.param(
            "区卫生健康委牵头，区财政局根据职责分工落实",
            ["区卫生健康委"],
            ["区财政局"],
            [],
            id="genju-zhize-luoshi",
        ),
        pytest.param(
            "区卫生健康委牵头，区财政局依职责配合，区教委按职责参与",
            ["区卫生健康委"],
            ["区财政局"],
            ["区教委"],
            id="yi-zhize-peihe-and-an-zhize-canyu",
        ),
        pytest.param(
            "（牵头单位：区卫生健康委，责任单位：区财政局、区教委）",
            ["区卫生健康委"],
            ["区财政局", "区教委"],
            [],
            id="labelled-lead-then-responsible",
        ),
        pytest.param(
            "牵头单位:区发改局\n\n责任单位:立山经济开发区,各街道、区直各部门",
            ["区发改局"],
            ["立山经济开发区", "各街道", "区直各部门"],
            [],
            id="labels-on-separate-lines",
        ),
        pytest.param(
            "（牵头单位：区民政局；配合单位：区财政局；参与单位：各街道）",
            ["区民政局"],
            ["区财政局"],
            ["各街道"],
            id="three-labels-with-semicolons",
        ),
        pytest.param(
            "（区卫生健康委负责）", ["区卫生健康委"], [], [], id="one-unit-responsible-alone"
        ),
        pytest.param(
            "（牵头单位：市发展改革委，配合单位：市委组织部，各区、县级市）",
            ["市发展改革委"],
            ["市委组织部", "各区、县级市"],
            [],
            id="each-district-and-county-level-city-is-one-collective",
        ),
        pytest.param(
            "（市卫生健康委牵头，各县(市、区)卫生健康局按职责分工负责）",
            ["市卫生健康委"],
            ["各县(市、区)卫生健康局"],
            [],
            id="enumeration-comma-inside-brackets-does-not-split",
        ),
        pytest.param(
            "(市政府辦公室牽頭,市級各有關部門及各縣市區政府按職責分工負責)",
            ["市政府辦公室"],
            ["市級各有關部門", "各縣市區政府"],
            [],
            id="traditional-characters",
        ),
    ],
)
def test_printed_clause_forms_read_as_a_clerk_reads_them(clause, lead, co, participants):
    found = read_responsibility(clause)
    assert roles(found) == (lead, co, participants, [])
    assert found.note is None


@pytest.mark.parametrize(
    ("clause", "co"),
    [
        ("（区卫生健康委、区财政局按职责分工负责）", ["区卫生健康委", "区财政局"]),
        ("（责任单位：区卫生健康委、区财政局）", ["区卫生健康委", "区财政局"]),
        ("区疫情防控指挥部成员单位按职责分工负责", ["区疫情防控指挥部成员单位"]),
        ("省有关部门按职责分工负责", ["省有关部门"]),
        ("（责任单位：区相关部门）", ["区相关部门"]),
    ],
)
def test_a_clause_that_names_no_lead_is_never_given_one(clause, co):
    found = read_responsibility(clause)
    assert roles(found) == ([], co, [], [])
    assert found.note == NO_LEAD


@pytest.mark.parametrize(
    ("clause", "lead", "co", "carries"),
    [
        (
            "(市卫生计生委、市人力社保局负责,排在第一位的为牵头部门,下同)",
            ["市卫生计生委"],
            ["市人力社保局"],
            True,
        ),
        (
            "(市教育局,市委农办,各县<市、区>人民政府,排名第一位为牵头单位,下同)",
            ["市教育局"],
            ["市委农办", "各县<市、区>人民政府"],
            True,
        ),
        (
            "市卫健委、发改委。列在首位的为牵头单位，其他单位按职责分工负责，下同；以下均需各县（市、区）党委和人民政府落实，不再列出。",
            ["市卫健委"],
            ["发改委"],
            True,
        ),
    ],
)
def test_every_printed_first_listed_rule_names_the_lead_and_carries(clause, lead, co, carries):
    found = read_responsibility(clause)
    assert roles(found) == (lead, co, [], [])
    assert found.first_listed_leads is carries


@pytest.mark.parametrize("clause", ["（各街道负责）", "（3个乡镇人民政府负责）", "各县"])
def test_each_of_a_definite_set_named_alone_answers_for_its_own_share(clause):
    found = read_responsibility(clause)
    assert found.lead == (normalize_name(clause).removesuffix("负责"),)
    assert found.note is None


def test_a_suggestion_is_never_the_text_that_was_typed():
    directory = UnitDirectory.build([("wjw", "区卫生健康委", []), ("sjw", "市卫生健康委", [])])
    with pytest.raises(UnknownUnitName) as caught:
        directory.resolve("卫生健康委")
    assert "卫生健康委" not in caught.value.suggestions
    assert caught.value.suggestions == ("区卫生健康委", "市卫生健康委")


def test_duban_who_shows_that_no_lead_is_named(duban):
    shown = duban("who", "（区卫生健康委、区财政局按职责分工负责）")
    assert shown.exit_code == 0
    assert shown.stdout.splitlines() == [
        "        lead: -",
        "          co: 区卫生健康委、区财政局",
        "participants: -",
        "      pilots: -",
        "        note: 牵头单位未明确",
    ]
