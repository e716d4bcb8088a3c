"""Notices: what a sweep's letter says, in Chinese and in English, as text and as HTML."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from markupsafe import escape

from render.letter_words import EN, TEMPLATES, ZH
from render.letters import render_letter
from schemas.plan_file import EscalationPolicy
from schemas.vocabulary import Level
from tasks.sweep.escalation import Rung, why
from tasks.sweep.notices import FollowUpItem, Letter, NoticeItem, NoticeLink, WaitingItem

PLAN = "重庆市医疗卫生行业综合监管制度试点工作方案"
OFFICE = "重庆市医疗卫生行业综合监管联席会议办公室"
AS_OF = date(2019, 9, 25)

REMINDER = NoticeItem(
    plan_code="cq-2019-pilot",
    plan_title=PLAN,
    document_number="渝卫发〔2019〕32号",
    task_code="t03",
    task_title="制定综合监管责任清单",
    unit_name="南岸区",
    role="lead",
    level="reminder",
    rung="5wd-before",
    why="距完成时限还有5个工作日",
    due=date(2019, 9, 30),
    original_due=None,
    deadline_text="2019年9月前",
    deadline_reading=None,
    workdays_left=5,
    overdue_workdays=0,
    in_copy=False,
    recipient_role="responsible",
    receipt_code=None,
)
DUE = REMINDER._replace(
    task_code="t04",
    task_title="建立信用记录",
    level="due",
    rung="due-day",
    why="今日为完成时限",
    due=AS_OF,
    workdays_left=0,
    deadline_text="2019年9月25日",
)
URGE = REMINDER._replace(
    task_code="t05",
    task_title="开展专项检查",
    level="urge",
    rung="1wd-overdue",
    why="逾期3个工作日，予以催办，抄送联席会议办公室",
    workdays_left=0,
    overdue_workdays=3,
    due=date(2019, 9, 20),
)
SUPERVISE = REMINDER._replace(
    task_code="t07",
    task_title="建立综合监管结果协同运用机制",
    level="supervise",
    rung="5wd-overdue",
    why="逾期15个工作日（满5个工作日），列入督办",
    due=date(2019, 8, 30),
    original_due=date(2019, 7, 31),
    deadline_text="2019年7月前",
    deadline_reading="'前' read as by the end of the month",
    workdays_left=0,
    overdue_workdays=15,
    receipt_code="DB1A2B3C4D5E",
    blocks=("t11 建设智慧卫监平台", "t12 开展试点评估"),
)
REPORT = SUPERVISE._replace(
    task_code="t08",
    task_title="完善举报投诉制度",
    level="report",
    rung="15wd-overdue",
    why="逾期20个工作日（满15个工作日），报领导通报",
    overdue_workdays=20,
    recipient_role="leadership",
    receipt_code="DB99AA00BB11",
)
UNACKNOWLEDGED = SUPERVISE._replace(
    task_code="t09",
    task_title="建立第三方评估机制",
    level="unacknowledged",
    rung="ack-2wd",
    why="督办单（签收编码 DB77CC88DD99）发出后2个工作日内未签收",
    recipient_role="office",
    receipt_code="DB77CC88DD99",
    blocks=(),
)
ALL = (REMINDER, DUE, URGE, SUPERVISE, REPORT, UNACKNOWLEDGED)

# The decisions on a unit's work since its last letter (办理情况), each with its page.
RETURNED = FollowUpItem(
    plan_code="cq-2019-pilot",
    plan_title=PLAN,
    document_number="渝卫发〔2019〕32号",
    task_code="t05",
    task_title="开展专项检查",
    unit_name="南岸区",
    role="lead",
    event="returned",  # type: ignore[arg-type]
    decided_on=date(2019, 9, 24),
    reason="缺少检查记录，请补充",
    assignment_id=7,
    links=(NoticeLink("open", "http://duban.test/a/7"),),
)
ACCEPTED = replace(
    RETURNED, task_code="t04", task_title="建立信用记录", event="accepted", reason=None
)
APPROVED = replace(
    RETURNED, event="extension_approved", reason="同意", due=date(2019, 10, 31), task_code="t03"
)
DENIED = replace(
    RETURNED, event="extension_denied", reason="不符合延期条件", due=date(2019, 12, 31)
)
MOVED_AWAY = replace(
    RETURNED, event="reassigned_away", reason="职能调整", other_unit="沙坪坝区", task_code="t08"
)
MOVED_TO = replace(MOVED_AWAY, event="reassigned_to", other_unit="永川区", task_code="t09")
DECISIONS = (RETURNED, ACCEPTED, APPROVED, DENIED, MOVED_AWAY, MOVED_TO)

# What waits for the office's decision (待审核事项), oldest first.
ASKED = WaitingItem(
    plan_code="cq-2019-pilot",
    plan_title=PLAN,
    document_number="渝卫发〔2019〕32号",
    task_code="t06",
    task_title="建立联席会议制度",
    unit_name="忠县",
    role="lead",
    kind="extension",  # type: ignore[arg-type]
    since=date(2019, 9, 20),
    waited_workdays=3,
    note="区县机构改革，人员未到位",
    due=date(2019, 9, 30),
    requested_due=date(2019, 10, 31),
    assignment_id=12,
    links=(NoticeLink("open", "http://duban.test/a/12"),),
)
SUBMITTED = replace(
    ASKED,
    kind="submission",
    unit_name="南岸区",
    since=AS_OF,
    waited_workdays=0,
    note="已印发联席会议制度",
    requested_due=None,
    assignment_id=13,
    links=(NoticeLink("open", "http://duban.test/a/13"),),
)


def letter(
    *items: NoticeItem,
    language: str = "zh",
    recipient: str = "南岸区",
    followups: tuple[FollowUpItem, ...] = (),
    waiting: tuple[WaitingItem, ...] = (),
    more: int = 0,
) -> Letter:
    return Letter(
        recipient_name=recipient,
        to=("nanan@cq.example.org",),
        sender_name=OFFICE,
        as_of=AS_OF,
        items=items,
        language=language,  # type: ignore[arg-type]
        followups=followups,
        waiting=waiting,
        waiting_more=more,
        desk="http://duban.test/office" if more else None,
    )


def lines(text: str) -> list[str]:
    return [line.strip("\u3000 ") for line in text.splitlines()]


def html_has_row(page: str, line: str) -> bool:
    """The "label：value" line of the text part is a label/value row of the HTML part."""
    label, value = re.split("：|: ", line, maxsplit=1)
    return (
        re.search(
            rf"<th [^>]*>{re.escape(str(escape(label)))}</th>"
            rf"<td [^>]*>{re.escape(str(escape(value)))}</td>",
            page,
        )
        is not None
    )


@pytest.mark.parametrize(
    ("items", "language", "subject"),
    [
        (
            (URGE, URGE._replace(task_code="t06"), REMINDER),
            "zh",
            f"【催办通知】{PLAN}：2项逾期催办、1项即将到期（2019年9月25日）",
        ),
        (
            (URGE, URGE._replace(task_code="t06"), REMINDER),
            "en",
            f"[Overdue notice] {PLAN}: 2 overdue, 1 due soon (25 September 2019)",
        ),
        (
            ALL,
            "zh",
            f"【通报】{PLAN}：1项通报、1项督办、1项逾期催办、1项今日到期、1项即将到期、"
            "1项未签收（2019年9月25日）",
        ),
        (
            ALL,
            "en",
            f"[Reported to leadership] {PLAN}: 1 reported to leadership, 1 under supervision, "
            "1 overdue, 1 due today, 1 due soon, 1 unacknowledged (25 September 2019)",
        ),
        (
            (REMINDER, DUE._replace(plan_code="other", plan_title="另一方案")),
            "zh",
            "【到期提醒】多项工作方案：1项今日到期、1项即将到期（2019年9月25日）",
        ),
        (
            (REMINDER, DUE._replace(plan_code="other", plan_title="另一方案")),
            "en",
            "[Due today] several work plans: 1 due today, 1 due soon (25 September 2019)",
        ),
        (
            (URGE._replace(in_copy=True, recipient_role="office"),),
            "zh",
            f"【催办通知（抄送）】{PLAN}：1项逾期催办（2019年9月25日）",
        ),
        (
            (URGE._replace(in_copy=True, recipient_role="office"),),
            "en",
            f"[Overdue notice, copy] {PLAN}: 1 overdue (25 September 2019)",
        ),
    ],
)
def test_the_subject_counts_the_items_by_level(items, language, subject):
    assert render_letter(letter(*items, language=language)).subject == subject


@pytest.mark.parametrize(
    ("item", "title"),
    [
        (REMINDER, "【工作提醒】"),
        (DUE, "【到期提醒】"),
        (URGE, "【催办通知】"),
        (SUPERVISE, "【督办通知】"),
        (REPORT, "【通报】"),
    ],
)
def test_a_letter_is_titled_by_the_most_severe_item_it_holds(item, title):
    # a friendly reminder five days ahead is not a 督办通知
    assert render_letter(letter(item, REMINDER)).subject.startswith(title)


def test_a_copy_does_not_title_a_letter_that_asks_the_recipient_to_act():
    report_copy = REPORT._replace(in_copy=True, recipient_role="responsible")
    subject = render_letter(letter(report_copy, SUPERVISE)).subject
    assert subject.startswith("【督办通知】") and "1项通报、1项督办" in subject


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_subject_is_one_short_line_whatever_the_data_holds(language):
    title = "重庆市\r\nBcc: evil@example.org\x00" + "很长的方案名称" * 30
    mail = render_letter(letter(URGE._replace(plan_title=title), language=language))
    assert not re.search(r"[\x00-\x1f\x7f\u2028\u2029]", mail.subject)
    assert "…" in mail.subject and len(mail.subject) <= 110
    assert mail.subject.startswith(
        (
            "【催办通知】重庆市 Bcc: evil@example.org 很长",
            "[Overdue notice] 重庆市 Bcc: evil@example.org 很长",
        )
    )


@pytest.mark.parametrize(
    ("item", "zh", "en"),
    [
        (REPORT, "一、通报（1项）", "1. Reported to leadership (1)"),
        (SUPERVISE, "一、督办（1项）", "1. Formal supervision (1)"),
        (URGE, "一、催办（1项）", "1. Urged: overdue (1)"),
        (DUE, "一、到期提醒（1项）", "1. Due today (1)"),
        (REMINDER, "一、提醒（1项）", "1. Reminders (1)"),
        (UNACKNOWLEDGED, "一、未签收提醒（1项）", "1. Receipts not acknowledged (1)"),
    ],
)
def test_each_level_has_its_heading_in_both_languages(item, zh, en):
    for language, heading in (("zh", zh), ("en", en)):
        mail = render_letter(letter(item, language=language))
        assert heading in lines(mail.text)
        assert f">{heading}</h2>" in mail.html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh",
            [
                "一、督办（1项）",
                "（一）督办单",
                "督办事项：建立综合监管结果协同运用机制",
                "责任单位：南岸区（牵头单位）",
                "原定完成时限：2019年7月前（即2019年7月31日；“前”按该月末计）",
                "现完成时限：2019年8月30日",
                "逾期工作日：15个工作日",
                "影响的后续任务：t11 建设智慧卫监平台、t12 开展试点评估",
                "说明：逾期15个工作日（满5个工作日），列入督办",
                "发送原因：你单位为牵头单位",
            ],
        ),
        (
            "en",
            [
                "1. Formal supervision (1)",
                "1.1 Supervision order",
                "Matter: 建立综合监管结果协同运用机制",
                "Responsible unit: 南岸区 (lead unit)",
                "Original due date: 2019年7月前 (read as 31 July 2019; '前' read as by the end of "
                "the month)",
                "Current due date: 30 August 2019",
                "Working days overdue: 15",
                "Downstream tasks affected: t11 建设智慧卫监平台, t12 开展试点评估",
                "Why you receive this: your unit is the lead unit",
            ],
        ),
    ],
)
def test_a_supervise_item_is_a_formal_supervision_order(language, expected):
    mail = render_letter(letter(SUPERVISE, language=language))
    text = lines(mail.text)
    for line in expected:
        assert line in text
    assert text.index(expected[2]) < text.index(expected[3]) < text.index(expected[7])
    caption = "督办单" if language == "zh" else "Supervision order"
    assert re.search(rf'<th colspan="2" style="[^"]*#b00[^"]*">[^<]*{caption}</th>', mail.html)
    assert all(html_has_row(mail.html, line) for line in expected[2:])


@pytest.mark.parametrize(
    ("item", "language", "instruction"),
    [
        (SUPERVISE, "zh", "本函签收编码：DB1A2B3C4D5E（本函所列督办单、通报凭此编码一并签收）"),
        (REPORT, "zh", "本函签收编码：DB99AA00BB11（本函所列督办单、通报凭此编码一并签收）"),
        (
            REPORT,
            "en",
            "Receipt code of this letter: DB99AA00BB11 (one acknowledgement covers every "
            "supervision order and report in it)",
        ),
    ],
)
def test_the_letters_receipt_code_comes_at_its_head_with_how_to_acknowledge(
    item, language, instruction
):
    mail = render_letter(letter(item, language=language))
    text = lines(mail.text)
    assert text.index(instruction) == 3  # after the salutation and the opening
    how = {"zh": "督办系统工作台", "en": "duban workplace"}[language]
    assert any(how in line for line in text[4:])  # the closing says how: no command to run
    assert f">{instruction}" in mail.html


@pytest.mark.parametrize(
    ("item", "language", "instruction"),
    [
        (UNACKNOWLEDGED, "zh", "签收编码：DB77CC88DD99（尚未签收）"),
        (UNACKNOWLEDGED, "en", "Receipt code: DB77CC88DD99 (not yet acknowledged)"),
    ],
)
def test_a_receipt_still_awaited_is_named_in_its_item(item, language, instruction):
    mail = render_letter(letter(item, language=language))
    assert instruction in lines(mail.text)
    assert html_has_row(mail.html, instruction)


def test_a_letters_receipt_code_and_its_link_are_printed_once_whatever_it_holds():
    """Its 督办单 and 通报 share one code: a block each does not repeat it (#11)."""
    shared = "DB1A2B3C4D5E"
    items = (SUPERVISE, SUPERVISE._replace(task_code="t10"), REPORT._replace(receipt_code=shared))
    mail = render_letter(replace(letter(*items), ack="http://duban.test/l/ACK"))
    assert mail.text.count(shared) == 1 and mail.html.count(shared) == 1
    assert mail.text.count("http://duban.test/l/ACK") == 1
    assert mail.html.count('data-action="ack"') == 1
    assert "一键签收 http://duban.test/l/ACK" in mail.text


def test_the_closing_points_at_the_one_click_link_only_when_the_letter_has_one():
    linked = lines(render_letter(replace(letter(SUPERVISE), ack="http://duban.test/l/ACK")).text)
    assert (
        "督办单、通报须签收：请点击本函开头的“一键签收”，或在督办系统工作台凭本函签收编码签收。"
        in linked
    )
    plain = lines(render_letter(letter(SUPERVISE)).text)
    assert ACKNOWLEDGE in plain and not any("一键签收" in line for line in plain)


@pytest.mark.parametrize("item", [REMINDER, DUE, URGE])
def test_items_without_a_receipt_code_ask_for_no_acknowledgement(item):
    mail = render_letter(letter(item))
    assert "duban ack" not in mail.text and "签收" not in mail.text


@pytest.mark.parametrize(
    ("item", "language", "expected"),
    [
        (REMINDER, "zh", "完成时限：2019年9月前（即2019年9月30日）"),
        (REMINDER, "en", "Deadline: 2019年9月前 (read as 30 September 2019)"),
        (
            REMINDER._replace(deadline_reading="'前' read as by the end of the month"),
            "zh",
            "完成时限：2019年9月前（即2019年9月30日；“前”按该月末计）",
        ),
        (
            REMINDER._replace(deadline_reading="'前' read as before the quarter starts"),
            "zh",
            "完成时限：2019年9月前（即2019年9月30日；“前”按该季度开始之前计）",
        ),
        (
            REMINDER._replace(
                deadline_text="2019年",
                deadline_reading="a year alone read as its last day",
                due=date(2019, 12, 31),
            ),
            "zh",
            "完成时限：2019年（即2019年12月31日；仅写年份的，按该年最后一天计）",
        ),
        (
            REMINDER._replace(deadline_reading="read by the office's own rule"),
            "zh",
            "完成时限：2019年9月前（即2019年9月30日；read by the office's own rule）",
        ),
        (
            REMINDER._replace(deadline_reading="'前' read as by the end of the month"),
            "en",
            "Deadline: 2019年9月前 (read as 30 September 2019; '前' read as by the end of the "
            "month)",
        ),
        (REMINDER._replace(deadline_text=None), "zh", "完成时限：2019年9月30日"),
        (
            REMINDER._replace(original_due=date(2019, 9, 30), due=date(2019, 10, 31)),
            "zh",
            "现完成时限：2019年10月31日（经批准延期）",
        ),
        (
            REMINDER._replace(original_due=date(2019, 9, 30), due=date(2019, 10, 31)),
            "en",
            "Current due date: 31 October 2019 (extension approved)",
        ),
        (
            REMINDER._replace(occurrence=date(2019, 9, 20), deadline_text="9月20日、12月20日"),
            "zh",
            "本次报送：2019年9月20日",
        ),
    ],
)
def test_the_deadline_shows_the_plans_words_and_how_they_were_read(item, language, expected):
    mail = render_letter(letter(item, language=language))
    assert expected in lines(mail.text)
    assert html_has_row(mail.html, expected)


@pytest.mark.parametrize(
    ("item", "zh", "en"),
    [
        (REMINDER, "办理进度：距完成时限还有5个工作日", "Status: 5 working day(s) left"),
        (DUE, "办理进度：今日到期", "Status: due today"),
        (URGE, "办理进度：已逾期3个工作日", "Status: 3 working day(s) overdue"),
    ],
)
def test_the_status_counts_working_days(item, zh, en):
    assert zh in lines(render_letter(letter(item)).text)
    assert en in lines(render_letter(letter(item, language="en")).text)


def test_a_reason_that_only_repeats_the_status_is_not_printed_twice():
    reminder = lines(render_letter(letter(REMINDER)).text)
    assert "办理进度：距完成时限还有5个工作日" in reminder
    assert not any(line.startswith("说明：") for line in reminder)
    urge = lines(render_letter(letter(URGE)).text)
    assert "说明：逾期3个工作日，予以催办，抄送联席会议办公室" in urge


@pytest.mark.parametrize(
    ("item", "zh", "en"),
    [
        (REMINDER, "你单位为牵头单位", "your unit is the lead unit"),
        (REMINDER._replace(role="co"), "你单位为配合单位", "your unit is a co-responsible unit"),
        (
            REMINDER._replace(role="participant"),
            "你单位为参与单位",
            "your unit is a participating unit",
        ),
        (
            URGE._replace(in_copy=True, recipient_role="office"),
            "抄送联席会议办公室，供掌握情况",
            "copied to the joint meeting office for information",
        ),
        (
            URGE._replace(in_copy=True),
            "抄送你单位，供掌握情况",
            "copied to your unit for information",
        ),
        (
            REPORT,
            "逾期事项按规定报领导通报",
            "overdue items are reported to leadership as the rules require",
        ),
        (
            UNACKNOWLEDGED,
            "联席会议办公室跟踪督办单、通报的签收",
            "the joint meeting office follows up unacknowledged receipts",
        ),
    ],
)
def test_each_item_says_why_this_recipient_gets_it(item, zh, en):
    assert f"发送原因：{zh}" in lines(render_letter(letter(item)).text)
    assert f"Why you receive this: {en}" in lines(render_letter(letter(item, language="en")).text)


def test_a_copy_names_the_unit_responsible():
    copy = URGE._replace(unit_name="江北区", in_copy=True, recipient_role="office")
    text = render_letter(letter(copy, recipient="联席会议办公室")).text
    assert "责任单位：江北区（牵头单位）" in lines(text)
    assert "请你单位高度重视" not in text


ACT = "请你单位高度重视，对照完成时限抓紧推进，按要求报送办理情况。"
ACKNOWLEDGE = "督办单、通报须签收：请在督办系统工作台凭本函签收编码签收。"


@pytest.mark.parametrize(
    ("items", "asks"),
    [
        ((URGE,), [ACT, "特此通知。"]),
        ((SUPERVISE, REMINDER), [ACT, ACKNOWLEDGE, "特此通知。"]),
        (
            (REPORT,),
            ["以上事项逾期未完成，现予通报，请督促责任单位限期办结。", ACKNOWLEDGE, "特此通知。"],
        ),
        ((UNACKNOWLEDGED,), ["请及时跟进上述督办单、通报的签收。", "特此通知。"]),
        (
            (URGE._replace(in_copy=True, recipient_role="office"),),
            ["以上事项抄送你单位，供掌握情况。", "特此通知。"],
        ),
        ((URGE, URGE._replace(task_code="t06", in_copy=True)), [ACT, "特此通知。"]),
    ],
)
def test_the_closing_asks_each_kind_of_recipient_for_what_is_theirs_to_do(items, asks):
    text = lines(render_letter(letter(*items)).text)
    closing = text[text.index(asks[0]) : text.index(asks[-1]) + 1]
    assert closing == asks


@pytest.mark.parametrize(
    ("count", "zh", "en"),
    [
        (
            5,
            "影响的后续任务：t11、t12、t13、t14、t15",
            "Downstream tasks affected: t11, t12, t13, t14, t15",
        ),
        (
            15,
            "影响的后续任务：t11、t12、t13、t14、t15等15项",
            "Downstream tasks affected: t11, t12, t13, t14, t15 and 10 more",
        ),
    ],
)
def test_a_long_list_of_downstream_tasks_names_the_first_five(count, zh, en):
    item = SUPERVISE._replace(blocks=tuple(f"t{n}" for n in range(11, 11 + count)))
    assert zh in lines(render_letter(letter(item)).text)
    assert en in lines(render_letter(letter(item, language="en")).text)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_levels_come_in_descending_severity(language):
    mail = render_letter(letter(*reversed(ALL), language=language))
    w = TEMPLATES[language]
    order = ("report", "supervise", "urge", "due", "reminder", "unacknowledged")
    sections = "一二三四五六" if language == "zh" else "123456"
    headings = [
        w["heading"].format(section=section, level=w[f"level.{level}"], n=1)
        for section, level in zip(sections, order, strict=True)
    ]
    text = lines(mail.text)
    assert [text.index(h) for h in headings] == sorted(text.index(h) for h in headings)
    in_html = [mail.html.index(f">{h}</h2>") for h in headings]
    assert in_html == sorted(in_html)
    assert re.findall(r'data-level="(\w+)"', mail.html) == list(order)


def test_a_letter_with_six_items_is_one_mail_listing_all_six():
    six = tuple(URGE._replace(task_code=f"t{n:02d}", task_title=f"任务{n}") for n in range(1, 7))
    mail = render_letter(letter(*six))
    assert "1项" not in mail.subject and "6项逾期催办" in mail.subject
    for n in range(1, 7):
        assert f"任务{n}" in mail.text and f"任务{n}" in mail.html
    items = [line for line in lines(mail.text) if line.startswith("（")]
    assert items == [f"（{c}）任务{n}" for n, c in enumerate("一二三四五六", start=1)]


def test_items_from_several_plans_name_their_plan():
    other = DUE._replace(plan_code="yn", plan_title="楚雄州试点方案", document_number=None)
    text = lines(render_letter(letter(REMINDER, other)).text)
    assert f"工作方案：《{PLAN}》（渝卫发〔2019〕32号）" in text
    assert "工作方案：《楚雄州试点方案》" in text
    opening = next(line for line in text if line.startswith("现将"))
    assert opening == (
        f"现将截至2019年9月25日《{PLAN}》（渝卫发〔2019〕32号）、《楚雄州试点方案》"
        "中需要你单位办理或知悉的工作任务通知如下。"
    )


@pytest.mark.parametrize(
    ("language", "first", "last", "day"),
    [
        (
            "zh",
            [
                "南岸区：",
                "",
                f"现将截至2019年9月25日《{PLAN}》（渝卫发〔2019〕32号）"
                "中需要你单位办理或知悉的工作任务通知如下。",
            ],
            [
                "特此通知。",
                "",
                OFFICE,
                "2019年9月25日",
                "",
                "本通知由 duban 督办系统按工作方案和工作日历自动生成。",
                "",
            ],
            "2019年9月25日",
        ),
        (
            "en",
            [
                "To 南岸区:",
                "",
                f"As of 25 September 2019, the following tasks under “{PLAN}” "
                "(渝卫发〔2019〕32号) need action or attention from your unit.",
            ],
            [
                "",
                OFFICE,
                "25 September 2019",
                "",
                "This notice was generated by duban from the work plan and the working calendar.",
                "",
            ],
            "25 September 2019",
        ),
    ],
)
def test_a_letter_opens_with_the_recipient_and_closes_with_the_office_and_date(
    language, first, last, day
):
    mail = render_letter(letter(URGE, language=language))
    text = lines(mail.text + "\n")
    assert text[:3] == first
    assert text[-len(last) :] == last
    assert f"{OFFICE}<br>{day}</p>" in mail.html


def test_the_html_escapes_everything_from_the_data():
    hostile = SUPERVISE._replace(
        task_title="<script>alert('x')</script>",
        unit_name='A&B "区"',
        blocks=("<img src=x onerror=alert(1)>",),
    )
    mail = render_letter(letter(hostile, recipient="<b>南岸区</b>"))
    assert (
        "<script>" not in mail.html
        and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in mail.html
    )
    assert "<img" not in mail.html and "&lt;img src=x onerror=alert(1)&gt;" in mail.html
    assert "A&amp;B &#34;区&#34;（牵头单位）" in mail.html
    assert "&lt;b&gt;南岸区&lt;/b&gt;：" in mail.html
    assert "<script>alert('x')</script>" in mail.text  # plain text shows the title as it is


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_html_part_is_self_contained(language):
    page = render_letter(letter(*ALL, language=language)).html
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert f'<html lang="{"zh-CN" if language == "zh" else "en"}">' in page
    assert '<meta charset="utf-8">' in page
    for external in ("<link", "<style", "<script", "src=", "url(", "http:", "https:"):
        assert external not in page
    assert page.count("<table") == 6 and page.count("</table>") == 6


def test_a_letter_needs_items():
    with pytest.raises(ValueError, match="南岸区"):
        render_letter(letter())


def test_both_languages_have_every_wording():
    assert ZH.keys() == EN.keys()
    assert TEMPLATES == {"zh": ZH, "en": EN}


# -- the decisions on the recipient's work (办理情况) and the office's queue (待审核事项)


@pytest.mark.parametrize(
    ("content", "language", "subject"),
    [
        (
            {"items": (REMINDER,), "followups": (RETURNED, ACCEPTED)},
            "zh",
            f"【工作提醒】{PLAN}：1项即将到期、1项退回、1项验收办结（2019年9月25日）",
        ),
        (
            {"followups": (RETURNED, replace(RETURNED, task_code="t06"), APPROVED)},
            "zh",
            f"【办理情况】{PLAN}：2项退回、1项同意延期（2019年9月25日）",
        ),
        (
            {"followups": (MOVED_TO,)},
            "en",
            f"[Decisions on your work] {PLAN}: 1 reassigned to your unit (25 September 2019)",
        ),
        (
            {"waiting": (ASKED, SUBMITTED), "more": 3},
            "zh",
            f"【待审核事项】{PLAN}：5项待审核（2019年9月25日）",
        ),
        (
            {"items": (URGE._replace(in_copy=True),), "waiting": (SUBMITTED,)},
            "en",
            f"[Waiting for your decision] {PLAN}: 1 overdue, 1 waiting (25 September 2019)",
        ),
    ],
)
def test_the_subject_counts_the_decisions_and_the_queue_too(content, language, subject):
    items = content.pop("items", ())
    assert render_letter(letter(*items, language=language, **content)).subject == subject


@pytest.mark.parametrize(
    ("decision", "zh", "en"),
    [
        (
            RETURNED,
            ["办理结果：退回", "理由：缺少检查记录，请补充", "办理时间：2019年9月24日"],
            ["Decision: returned", "Reason: 缺少检查记录，请补充", "Decided on: 24 September 2019"],
        ),
        (ACCEPTED, ["办理结果：验收通过，予以办结"], ["Decision: accepted as done"]),
        (
            APPROVED,
            ["办理结果：同意延期", "现完成时限：2019年10月31日（经批准延期）"],
            [
                "Decision: extension approved",
                "Current due date: 31 October 2019 (extension approved)",
            ],
        ),
        (
            DENIED,
            ["办理结果：不同意延期", "申请延期至：2019年12月31日", "理由：不符合延期条件"],
            ["Decision: extension denied", "Extension asked for: 31 December 2019"],
        ),
        (
            MOVED_AWAY,
            ["办理结果：改派他单位办理", "改派情况：改由沙坪坝区办理", "理由：职能调整"],
            ["Decision: reassigned to another unit", "Reassignment: now with 沙坪坝区"],
        ),
        (
            MOVED_TO,
            ["办理结果：改派你单位办理", "改派情况：原由永川区办理"],
            ["Decision: reassigned to your unit", "Reassignment: previously with 永川区"],
        ),
    ],
)
def test_each_decision_says_what_was_decided_why_and_where_to_act(decision, zh, en):
    for language, expected in (("zh", zh), ("en", en)):
        mail = render_letter(letter(followups=(decision,), language=language))
        text = lines(mail.text)
        link = "在线办理：查看并办理" if language == "zh" else "Act online: Open the page"
        for line in [*expected, f"{link} http://duban.test/a/7"]:
            assert line in text, line
        for line in expected:
            assert html_has_row(mail.html, line), line
        assert '<a href="http://duban.test/a/7" data-action="open">' in mail.html


def test_the_decisions_come_after_the_notices_in_a_section_of_their_own():
    text = lines(render_letter(letter(URGE, REMINDER, followups=DECISIONS)).text)
    headings = [line for line in text if re.match(r"^[一二三四]、", line)]
    assert headings == ["一、催办（1项）", "二、提醒（1项）", "三、办理情况（6项）"]
    assert text.index("（一）开展专项检查") < text.index("三、办理情况（6项）")


def test_a_letter_of_decisions_alone_opens_with_them():
    text = lines(render_letter(letter(followups=(ACCEPTED,))).text)
    assert text[2] == f"现将《{PLAN}》（渝卫发〔2019〕32号）中你单位工作任务的办理情况通知如下。"


def test_the_office_queue_lists_what_waits_oldest_first_and_for_how_long():
    mail = render_letter(letter(waiting=(ASKED, SUBMITTED), recipient="综合监督处"))
    text = lines(mail.text)
    assert (
        text[2] == f"截至2019年9月25日，《{PLAN}》（渝卫发〔2019〕32号）中以下事项等待你单位审核。"
    )
    assert text.index("待办事项：申请延期，待审批") < text.index("待办事项：报送办结，待验收")
    for line in (
        "责任单位：忠县（牵头单位）",
        "现完成时限：2019年9月30日",
        "申请延期至：2019年10月31日",
        "申请理由：区县机构改革，人员未到位",
        "提交时间：2019年9月20日（已等待3个工作日）",
        "报送说明：已印发联席会议制度",
        "提交时间：2019年9月25日",  # handed in today: no wait to speak of
        "在线办理：查看并办理 http://duban.test/a/12",
    ):
        assert line in text, line
    assert "请及时审核上述事项，作出验收或延期决定。" in text


def test_what_the_office_queue_leaves_out_is_counted_with_the_desk_link():
    mail = render_letter(letter(waiting=(ASKED,), more=60, language="en"))
    text = lines(mail.text)
    assert "60 more are not listed here: see the office's desk." in text
    assert "The office's desk: http://duban.test/office" in text
    assert '<a href="http://duban.test/office" data-action="desk">' in mail.html


@pytest.mark.parametrize(
    ("followups", "asks"),
    [
        ((RETURNED, ACCEPTED), ["退回的事项，请按意见修改完善后重新报送。"]),
        ((MOVED_TO,), ["改派你单位的事项，请抓紧启动办理。"]),
        ((ACCEPTED, APPROVED, MOVED_AWAY), ["以上情况，请知悉。"]),
    ],
)
def test_the_closing_asks_for_what_the_decisions_need(followups, asks):
    text = lines(render_letter(letter(followups=followups)).text)
    closing = text[text.index("特此通知。") - len(asks) : text.index("特此通知。")]
    assert closing == asks
    assert ACT not in text  # no notice, so nothing to push on


# Ongoing work (持续开展, a recurring report) has report days, not a deadline (#11).
ONGOING = DUE._replace(
    task_code="t04",
    task_title="加强信用制度建设",
    why="今日为本次进展报送日",
    deadline_text="持续开展",
    occurrence=AS_OF,
    ongoing=True,
)


@pytest.mark.parametrize(
    ("item", "language", "said", "never"),
    [
        (
            ONGOING,
            "zh",
            [
                "完成时限：持续开展（持续性工作，按期报送进展）",
                "本次报送：2019年9月25日",
                "办理进度：本次进展今日报送",
            ],
            ["今日到期", "到期提醒", "（即"],
        ),
        (
            ONGOING._replace(level="reminder", workdays_left=3),
            "zh",
            ["办理进度：距本次报送还有3个工作日"],
            ["即将到期", "距完成时限"],
        ),
        (
            ONGOING._replace(level="urge", workdays_left=0, overdue_workdays=2),
            "zh",
            ["办理进度：本次报送已逾期2个工作日"],
            ["今日到期"],
        ),
        (
            ONGOING,
            "en",
            [
                "Deadline: 持续开展 (ongoing work, progress reported periodically)",
                "Status: this progress report is due today",
            ],
            ["Due today", "due today,", "read as"],
        ),
    ],
)
def test_ongoing_work_is_worded_by_its_report_day_never_as_a_deadline_due(
    item, language, said, never
):
    mail = render_letter(letter(item, language=language))
    text = lines(mail.text)
    for line in said:
        assert line in text
    for words in never:
        assert words not in mail.subject and words not in mail.text and words not in mail.html


def test_a_letter_counts_ongoing_reports_apart_from_deadlines_due():
    mail = render_letter(letter(DUE, ONGOING))
    assert "1项今日到期、1项今日报送进展" in mail.subject
    assert render_letter(letter(ONGOING)).subject.startswith("【报送提醒】")


def test_the_why_of_ongoing_work_names_its_report_day():
    policy = EscalationPolicy()
    due = Rung(Level.DUE, "due-day", AS_OF)
    assert why(due, "lead", policy, critical=False, ongoing=True) == "今日为本次进展报送日"
    assert why(due, "lead", policy, critical=False) == "今日为完成时限"


TASK_TEXT = "加强医疗卫生行业信用制度建设，制定《重庆市医疗卫生信用信息管理办法》。"


@pytest.mark.parametrize("item", [REMINDER, DUE, URGE, SUPERVISE, REPORT, UNACKNOWLEDGED])
@pytest.mark.parametrize(("language", "label"), [("zh", "工作任务"), ("en", "Task")])
def test_every_item_says_what_the_plan_asks_to_be_done(item, language, label):
    mail = render_letter(letter(item._replace(task_text=TASK_TEXT), language=language))
    line = f"{label}：{TASK_TEXT}" if language == "zh" else f"{label}: {TASK_TEXT}"
    assert line in lines(mail.text)
    assert html_has_row(mail.html, line)


def test_a_long_task_text_is_shortened_on_one_line():
    long = "第一条\n" + "加强监管" * 100
    mail = render_letter(letter(URGE._replace(task_text=long)))
    row = next(line for line in lines(mail.text) if line.startswith("工作任务："))
    assert row.endswith("…") and len(row) == len("工作任务：") + 150
    assert row.startswith("工作任务：第一条 加强监管")


def test_the_unit_responsible_is_told_how_and_where_to_report():
    form = NoticeLink("report", "http://duban.test/l/FORM")
    mail = render_letter(letter(URGE._replace(assignment_id=7, links=(form,))))
    text = lines(mail.text)
    assert (
        "报送方式：点击“报送进展 / 提交办结”，在督办系统工作台报送办理进展或提交办结材料。" in text
    )
    assert "在线办理：报送进展 / 提交办结 http://duban.test/l/FORM" in text
    unlinked = lines(render_letter(letter(URGE)).text)
    assert "报送方式：请登录督办系统工作台，报送办理进展或提交办结材料。" in unlinked
    leadership = lines(render_letter(letter(REPORT)).text)
    assert not any(line.startswith("报送方式") for line in leadership)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh", "2019年8月底前（即原定2019年8月31日（星期六），顺延至2019年9月2日）"),
        ("en", "2019年8月底前 (read as 31 August 2019 (Saturday), moved to 2 September 2019)"),
    ],
)
def test_a_due_date_moved_past_a_month_end_by_the_rest_day_rule_says_so(language, words):
    item = REMINDER._replace(
        deadline_text="2019年8月底前",
        due=date(2019, 9, 2),
        moved_from=date(2019, 8, 31),
    )
    mail = render_letter(letter(item, language=language))
    assert words in mail.text


def test_only_a_move_into_the_next_month_is_told():
    from tasks.sweep.notices import moved_from

    assert moved_from(date(2019, 8, 31), date(2019, 9, 2)) == date(2019, 8, 31)
    assert moved_from(date(2019, 9, 14), date(2019, 9, 16)) is None  # same month: the date says it
    assert moved_from(date(2019, 9, 30), date(2019, 9, 30)) is None
