"""The sweep's commands as a user runs them: sweep, outbox, deliver, ack, receipts."""

from __future__ import annotations

import json

from schemas.db import session_scope
from schemas.tables import MessageBody, OutboxMessage
from tasks.sweep.outbox import BATCH

from .conftest import PLANS


def imported(duban) -> None:  # type: ignore[no-untyped-def]
    assert duban("import", str(PLANS / "chongqing-2019-pilot.yaml")).exit_code == 0


def test_sweep_json_has_the_promised_shape_and_delivers_to_eml_files(duban, tmp_path):
    imported(duban)
    result = duban("sweep", "--as-of", "2019-08-01", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == {
        "as_of",
        "calendar_warnings",
        "notices",
        "followups",
        "escalations_opened",
        "escalations_closed",
        "delivered",
        "failed",
    }
    assert summary["as_of"] == "2019-08-01" and (summary["delivered"], summary["failed"]) == (7, 0)
    assert summary["calendar_warnings"] == []  # the plan ends long before the calendar data
    first = summary["notices"][0]
    assert set(first) == {"recipient", "level", "plan", "task", "unit", "due"}
    assert {n["level"] for n in summary["notices"]} == {"urge"}
    assert len(list((tmp_path / "home" / "outbox").glob("*.eml"))) == 7
    again = json.loads(duban("sweep", "--as-of", "2019-08-01", "--json").stdout)
    assert again["notices"] == [] and again["delivered"] == 0


def test_dry_run_writes_nothing(duban):
    imported(duban)
    dry = json.loads(duban("sweep", "--as-of", "2019-08-01", "--dry-run", "--json").stdout)
    assert len(dry["notices"]) == 14
    assert json.loads(duban("outbox", "--json").stdout) == []
    assert "would send 14 notice(s)" in duban("sweep", "--as-of", "2019-08-01", "--dry-run").stdout


def test_receipts_are_listed_until_acknowledged(duban):
    imported(duban)
    duban("sweep", "--as-of", "2019-08-07")
    waiting = json.loads(duban("receipts", "--json").stdout)
    # 7 通报 and 督办单, and the 督办单 of the six reported units (the ladder is not skipped)
    assert len(waiting) == 13 and {r["level"] for r in waiting} == {"report", "supervise"}
    code = next(r["receipt"] for r in waiting if r["task"] == "t02")
    acked = duban("ack", code.lower(), "--as", "市卫生健康委", "--as-of", "2019-08-08")
    assert acked.exit_code == 0 and f"acknowledged {code}" in acked.stdout
    assert "already acknowledged" in duban("ack", code, "--as", "市卫生健康委").stdout
    # the commission's letter: one code for its 督办单 on t01 and t02
    assert len(json.loads(duban("receipts", "--json").stdout)) == 11
    unknown = duban("ack", "DB0000000000", "--as", "x")
    assert unknown.exit_code == 4 and "DB0000000000" in unknown.stderr
    other = next(r["receipt"] for r in waiting if r["task"] == "t06" and r["level"] == "report")
    stranger = duban("ack", other, "--as", "南岸区")
    assert stranger.exit_code == 5 and "only its recipient" in stranger.stderr


def test_outbox_lists_messages_by_status_and_deliver_retries(duban):
    imported(duban)
    duban("sweep", "--as-of", "2019-08-01", "--dry-run")
    assert duban("outbox", "--pending", "--failed").exit_code == 2
    duban("sweep", "--as-of", "2019-08-01")
    sent = json.loads(duban("outbox", "--json").stdout)
    assert len(sent) == 7 and {m["status"] for m in sent} == {"sent"}
    assert json.loads(duban("outbox", "--pending", "--json").stdout) == []
    assert "delivered 0, failed 0" in duban("deliver").stdout


def test_deliver_empties_an_outbox_larger_than_one_batch(duban, database_url, tmp_path):
    """A big sweep writes more messages than one delivery batch holds; the command goes on
    batch after batch until nothing is due, as the flow does."""
    imported(duban)
    waiting = BATCH + 7
    with session_scope(database_url) as session:
        session.add_all(
            OutboxMessage(
                recipient_code=f"u{n}",
                sender="office@example.org",
                to_addrs=[f"u{n}@example.org"],
                subject=f"notice {n}",
                body=MessageBody(text="text", html="<p>text</p>"),
                message_id_header=f"<batch.{n}@example.org>",
            )
            for n in range(waiting)
        )
    result = duban("deliver")
    assert result.exit_code == 0 and f"delivered {waiting}, failed 0" in result.stdout
    assert len(list((tmp_path / "home" / "outbox").glob("*.eml"))) == waiting
    assert json.loads(duban("outbox", "--pending", "--json").stdout) == []


def test_an_unknown_plan_is_one_line(duban):
    imported(duban)
    result = duban("sweep", "--plan", "nope", "--as-of", "2019-08-01")
    assert result.exit_code == 4 and 'no plan "nope"' in result.stderr


def test_escalations_are_listed_and_each_prints_as_a_supervision_sheet(duban, tmp_path):
    imported(duban)
    duban("sweep", "--as-of", "2019-08-07")
    rows = json.loads(duban("escalations", "cq-2019-pilot", "--open", "--json").stdout)
    assert len(rows) == 7 and all(r["receipt"] for r in rows)
    t02 = next(r for r in rows if r["task"] == "t02")
    page = tmp_path / "sheet.html"
    result = duban("sheet", "cq-2019-pilot", str(t02["id"]), "--out", str(page))
    assert result.exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert "督办" in html and t02["receipt"] in html and "理顺内部监管职责" in html
    assert duban("sheet", "cq-2019-pilot", "999", "--out", str(page)).exit_code == 4


def test_a_supervision_sheet_says_what_it_said_when_issued(duban, tmp_path):
    imported(duban)
    duban("sweep", "--as-of", "2019-08-07")  # t02 five working days late: its 督办单
    rows = json.loads(duban("escalations", "cq-2019-pilot", "--json").stdout)
    t02 = next(r for r in rows if r["task"] == "t02")
    issued, later = tmp_path / "issued.html", tmp_path / "later.html"
    duban("sheet", "cq-2019-pilot", str(t02["id"]), "--out", str(issued))
    duban("sweep", "--as-of", "2019-09-20")  # the escalation counts on: 36 working days late
    rows = json.loads(duban("escalations", "cq-2019-pilot", "--json").stdout)
    assert next(r for r in rows if r["task"] == "t02")["overdue_workdays"] > 5
    duban("sheet", "cq-2019-pilot", str(t02["id"]), "--out", str(later))
    page = issued.read_text(encoding="utf-8")
    assert later.read_text(encoding="utf-8") == page
    assert "5个工作日" in page and "2019年8月7日" in page


def test_a_plan_imported_from_a_day_is_supervised_from_that_day(duban):
    plan = str(PLANS / "chongqing-2019-pilot.yaml")
    assert duban("import", plan, "--from", "2019-09-31").exit_code == 2
    assert duban("import", plan, "--from", "2019-09-02").exit_code == 0
    before = json.loads(duban("sweep", "--as-of", "2019-08-21", "--json").stdout)
    assert before["notices"] == []
    first = json.loads(duban("sweep", "--as-of", "2019-09-02", "--json").stdout)
    assert {n["level"] for n in first["notices"] if n["task"] == "t02"} == {"urge"}


def test_a_day_beyond_the_calendar_data_is_one_line_naming_the_year(duban):
    imported(duban)
    result = duban("sweep", "--as-of", "2031-01-06")
    assert result.exit_code == 6 and "2031" in result.stderr


def test_sweep_status_shows_the_last_swept_day_and_the_days_not_swept_since(duban):
    imported(duban)
    assert duban("sweep", "--status", "--as-of", "2019-08-01").stdout == (
        "cq-2019-pilot: never swept; 1 working day(s) not swept through 2019-08-01: "
        "2019-08-01; the next sweep sweeps it\n"
    )
    duban("sweep", "--as-of", "2019-08-01")
    status = duban("sweep", "--status", "--as-of", "2019-08-07")
    assert status.stdout == (
        "cq-2019-pilot: last swept 2019-08-01; 4 working day(s) not swept through 2019-08-07: "
        "2019-08-02, 2019-08-05, 2019-08-06, 2019-08-07; the next sweep catches them up\n"
    )
    shown = json.loads(duban("sweep", "--status", "--as-of", "2019-09-30", "--json").stdout)
    assert shown["through"] == "2019-09-30" and shown["limit"] == 20
    [plan] = shown["plans"]
    assert (plan["last_swept"], plan["missed"], plan["catches_up"]) == ("2019-08-01", 41, False)
    assert plan["not_swept"][:2] == ["2019-08-02", "2019-08-05"]
    assert "more than 20 missed" in duban("sweep", "--status", "--as-of", "2019-09-30").stdout
    refused = duban("sweep", "--status", "--dry-run")
    assert refused.exit_code == 2 and "--status sweeps nothing" in refused.stderr


def test_a_day_given_is_swept_alone_unless_told_to_catch_up(duban):
    imported(duban)
    duban("sweep", "--as-of", "2019-08-01")
    alone = json.loads(duban("sweep", "--as-of", "2019-08-06", "--json").stdout)
    assert "caught_up" not in alone
    caught = duban("sweep", "--as-of", "2019-08-09", "--catch-up")
    assert caught.exit_code == 0, caught.stderr
    assert caught.stdout.splitlines()[:2] == [
        "2019-08-07 (missed, swept first): wrote 0 notice(s) in 0 message(s)",
        "2019-08-08 (missed, swept first): wrote 0 notice(s) in 0 message(s)",
    ]
    assert "2019-08-09: wrote 26 notice(s)" in caught.stdout
    assert "nothing to sweep" in duban("sweep", "--status", "--as-of", "2019-08-09").stdout
