"""The audit trail and a scripted story on the bundled Chongqing plan, through the CLI.

Districts report, one submits, the office returns it, it is resubmitted and accepted; an
extension is requested and approved; the history shows all of it; tampering is caught.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from schemas.db import engine_for

from .conftest import PLANS

PLAN = "cq-2019-pilot"


def story(duban) -> None:  # type: ignore[no-untyped-def]
    assert duban("import", str(PLANS / "chongqing-2019-pilot.yaml")).exit_code == 0
    steps = [
        (
            "progress",
            PLAN,
            "t08",
            "--note",
            "智能监管平台已立项",
            "--as",
            "南岸区",
            "--as-of",
            "2019-09-10",
        ),
        (
            "progress",
            PLAN,
            "t08",
            "--note",
            "完成数据对接方案",
            "--as",
            "永川区",
            "--as-of",
            "2019-09-12",
        ),
        (
            "submit",
            PLAN,
            "t08",
            "--note",
            "智能化监管试点完成",
            "--as",
            "南岸区",
            "--as-of",
            "2020-06-15",
        ),
        (
            "return",
            PLAN,
            "t08",
            "--unit",
            "南岸区",
            "--reason",
            "缺少成效数据",
            "--as",
            "综合监督处",
            "--as-of",
            "2020-06-18",
        ),
        (
            "submit",
            PLAN,
            "t08",
            "--note",
            "补充成效数据",
            "--as",
            "南岸区",
            "--as-of",
            "2020-06-24",
        ),
        ("accept", PLAN, "t08", "--unit", "南岸区", "--as", "综合监督处", "--as-of", "2020-06-28"),
        (
            "extend",
            PLAN,
            "t08",
            "--to",
            "2020-08-31",
            "--reason",
            "疫情影响数据采集",
            "--as",
            "永川区",
            "--as-of",
            "2020-06-20",
        ),
    ]
    for step in steps:
        result = duban(*step)
        assert result.exit_code == 0, (step, result.stderr)
    pending = json.loads(duban("extensions", PLAN, "--pending", "--json").stdout)
    assert [(p["task"], p["unit"], p["requested_due"]) for p in pending] == [
        ("t08", "永川区", "2020-08-31")
    ]
    decided = duban(
        "decide",
        PLAN,
        str(pending[0]["id"]),
        "--approve",
        "--reason",
        "同意延期",
        "--as",
        "综合监督处",
        "--as-of",
        "2020-06-22",
    )
    assert decided.exit_code == 0 and "approved" in decided.stdout


def test_the_chongqing_story_is_told_by_the_history(duban):
    story(duban)
    events = json.loads(duban("history", PLAN, "t08", "--json").stdout)
    assert [(e["action"], e["unit"]) for e in events] == [
        ("progress", "na"),
        ("progress", "yc"),
        ("submit", "na"),
        ("return", "na"),
        ("submit", "na"),
        ("accept", "na"),
        ("request_extension", "yc"),
        ("approve_extension", "yc"),
    ]
    assert events[3]["after"]["state"] == "returned"
    assert events[-1]["before"]["due"] == "2020-06-30"
    assert events[-1]["after"] == {
        "state": "in_progress",
        "due": "2020-08-31",
        "original_due": "2020-06-30",
        "role": "lead",
    }
    only_yc = json.loads(duban("history", PLAN, "t08", "--unit", "永川区", "--json").stdout)
    assert [e["action"] for e in only_yc] == ["progress", "request_extension", "approve_extension"]
    shown = duban("history", PLAN, "t08")
    assert "returned" in shown.stdout and "综合监督处" in shown.stdout
    tasks = json.loads(duban("tasks", "--unit", "南岸区", "--plan", PLAN, "--json").stdout)
    assert next(t for t in tasks if t["task"] == "t08")["state"] == "accepted"


def test_refusals_are_one_line_and_change_nothing(duban):
    story(duban)
    before = duban("history", PLAN, "t08", "--json").stdout
    refused = duban("accept", PLAN, "t09", "--unit", "沙坪坝区", "--as", "沙坪坝区")
    assert refused.exit_code == 5
    assert refused.stderr.count("\n") == 1 and "only the joint meeting office" in refused.stderr
    wrong = duban("submit", PLAN, "t08", "--note", "again", "--as", "南岸区")
    assert wrong.exit_code == 3 and "that is accepted" in wrong.stderr
    nobody = duban("progress", PLAN, "t08", "--note", "x")
    assert nobody.exit_code == 2 and "--as" in nobody.stderr
    assert duban("history", PLAN, "t08", "--json").stdout == before


def test_audit_verify_passes_on_an_untouched_trail(duban):
    story(duban)
    result = duban("audit", "verify")
    assert result.exit_code == 0 and "intact: 9 event(s)" in result.stdout  # the import, 8 moves


def test_audit_verify_names_an_edited_row(duban, database_url):
    story(duban)
    with engine_for(database_url).begin() as conn:
        conn.execute(text("UPDATE auditevent SET actor = '市卫生健康委' WHERE id = 4"))
    result = duban("audit", "verify")
    assert result.exit_code == 1
    assert "audit event 4: its content was changed" in result.stderr


def test_audit_verify_names_a_rehashed_edit_by_the_link_after_it(duban, database_url):
    story(duban)
    from sqlmodel import Session, select

    from schemas.tables import AuditEvent
    from tasks.work.audit import event_hash

    with Session(engine_for(database_url)) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.id == 3)).one()
        event.actor = "someone else"
        event.hash = event_hash(event)
        session.add(event)
        session.commit()
    result = duban("audit", "verify")
    assert "audit event 4: does not follow event 3" in result.stderr


def test_audit_verify_names_a_removed_row(duban, database_url):
    story(duban)
    with engine_for(database_url).begin() as conn:
        conn.execute(text("DELETE FROM auditevent WHERE id = 5"))
    result = duban("audit", "verify")
    assert result.exit_code == 1 and "audit event 6: events 5..5 are missing" in result.stderr


def test_history_of_an_unknown_task_is_an_error(duban):
    story(duban)
    result = duban("history", PLAN, "t99")
    assert result.exit_code == 4 and 'no task "t99"' in result.stderr
