"""Plans of every shape (issue 12 §3): a set of measures with goals and no phases, an office
with no joint meeting (the `office` block), and a joint meeting whose convener and members are
people holding posts in units."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlmodel import col, select

from schemas.db import create_schema, session_scope
from schemas.tables import Escalation, JointMeetingSeat, OutboxMessage, Plan, Unit
from tasks.plans.importer import import_plan, load_plan
from tasks.plans.reader import PlanInvalid
from tasks.review.compute import review_plan

from .conftest import ROOT, sweep_once

OFFICE_PLAN = ROOT / "tests" / "data" / "plans" / "office-2021.yaml"
EXAMPLE = (ROOT / "docs" / "example-plan.yaml").read_text(encoding="utf-8")
IMPORTED = dt.datetime(2021, 3, 1, tzinfo=dt.UTC)


def seats_of(url: str, plan: str) -> dict[str, dict[str, str | None]]:
    """Each seat's role → its unit's code and the people named in it."""
    with session_scope(url) as session:
        rows = session.exec(
            select(JointMeetingSeat, Unit)
            .join(Unit, col(Unit.id) == col(JointMeetingSeat.unit_id))
            .join(Plan, col(Plan.id) == col(JointMeetingSeat.plan_id))
            .where(Plan.code == plan)
        ).all()
        return {
            seat.role: {
                "unit": unit.code,
                **{
                    k: v
                    for k, v in seat.model_dump().items()
                    if k.startswith(("person_", "liaison_")) and v
                },
            }
            for seat, unit in rows
        }


def test_a_plan_with_no_joint_meeting_names_its_office_and_leadership_in_an_office_block(
    sqlite_url: str,
) -> None:
    create_schema(sqlite_url)
    with session_scope(sqlite_url) as session:
        import_plan(session, OFFICE_PLAN, at=IMPORTED)
    assert seats_of(sqlite_url, "office-2021") == {
        "office": {
            "unit": "zhk",
            "liaison_name": "刘敏",
            "liaison_title": "科长",
            "liaison_email": "liumin@county.example.org",
            "liaison_phone": "023-12345678",
        },
        "leadership": {"unit": "gov"},
    }


def test_the_office_of_the_block_receives_the_escalations_and_is_the_letters_contact(
    sqlite_url: str,
) -> None:
    """m1 was due 2021-04-30; on 2021-05-20 it is 督办 (an escalation at the office), and every
    letter names the office's contact."""
    create_schema(sqlite_url)
    with session_scope(sqlite_url) as session:
        import_plan(session, OFFICE_PLAN, at=IMPORTED)
    sweep_once(sqlite_url, as_of=dt.date(2021, 5, 20))
    with session_scope(sqlite_url) as session:
        escalated = session.exec(select(Escalation.task_code)).all()
        letters = session.exec(select(OutboxMessage)).all()
    assert "m1" in escalated
    to_the_office = [m for m in letters if "zhk@county.example.org" in m.to_addrs]
    to_the_unit = [m for m in letters if "wjj@county.example.org" in m.to_addrs]
    assert to_the_office and to_the_unit
    assert "刘敏" in to_the_unit[0].body.text and "023-12345678" in to_the_unit[0].body.text


def test_an_office_block_naming_another_office_than_the_joint_meeting_is_one_clear_error(
    tmp_path: Path,
) -> None:
    text = EXAMPLE.replace(
        "phases:\n", "office:\n  unit: 区财政局\n  contact: {name: 刘敏}\n\nphases:\n", 1
    )
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    with pytest.raises(PlanInvalid) as raised:
        load_plan(plan)
    (problem,) = raised.value.problems
    line = text.splitlines().index("  unit: 区财政局") + 1
    assert str(problem).startswith(f"{plan}:{line}: office.unit: ")
    assert "联席会议办公室" in str(problem) and "has one office" in str(problem)


def test_the_office_block_beside_a_joint_meeting_names_its_contact(sqlite_url: str, tmp_path: Path):
    text = EXAMPLE.replace(
        "phases:\n",
        "office:\n  unit: 联席会议办公室\n  contact: {name: 刘敏, phone: '123'}\n\nphases:\n",
    )
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    create_schema(sqlite_url)
    with session_scope(sqlite_url) as session:
        import_plan(session, plan, at=IMPORTED)
    office = seats_of(sqlite_url, "example-2019")["office"]
    assert (office["liaison_name"], office["liaison_phone"]) == ("刘敏", "123")


PEOPLE = """joint_meeting:
  name: 综合监管联席会议
  convener: {unit: 区政府, name: 张三, post: 副区长}
  vice_conveners:
    - {unit: 区卫生健康委, name: 李四, post: 主任}
    - 区市场监管局
  members:
    - unit: 区财政局
      member: {name: 赵六, title: 副局长}
      name: 王敏
      title: 科长
      email: wangmin@example.org
      phone: 023-6666
    - {unit: 区市场监管局}
  office: 联席会议办公室
  leadership: 领导小组
"""


def persons_plan(tmp_path: Path) -> Path:
    start = EXAMPLE.index("joint_meeting:")
    text = EXAMPLE[:start] + PEOPLE + EXAMPLE[EXAMPLE.index("\nphases:") :]
    text = text.replace(
        "units:\n", "units:\n  - {code: qzf, name: 区政府, emails: [qzf@example.org]}\n", 1
    )
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    return plan


def test_the_convener_and_members_are_people_holding_posts_in_units(
    sqlite_url: str, tmp_path: Path
) -> None:
    create_schema(sqlite_url)
    with session_scope(sqlite_url) as session:
        import_plan(session, persons_plan(tmp_path), at=IMPORTED)
    seats = seats_of(sqlite_url, "example-2019")
    assert seats["convener"] == {"unit": "qzf", "person_name": "张三", "person_title": "副区长"}
    assert seats["member"]["unit"] in {"fin", "mkt"}  # one seat a role here; both were written
    with session_scope(sqlite_url) as session:
        finance = session.exec(
            select(JointMeetingSeat)
            .join(Unit, col(Unit.id) == col(JointMeetingSeat.unit_id))
            .where(Unit.name == "区财政局", JointMeetingSeat.role == "member")
        ).one()
    assert (finance.person_name, finance.person_title) == ("赵六", "副局长")
    assert (finance.liaison_name, finance.liaison_title, finance.liaison_phone) == (
        "王敏",
        "科长",
        "023-6666",
    )


def test_show_prints_the_roster(sqlite_url: str, tmp_path: Path, duban) -> None:  # type: ignore[no-untyped-def]
    assert duban("import", str(persons_plan(tmp_path))).exit_code == 0
    shown = duban("show", "example-2019")
    roster = shown.stdout[: shown.stdout.index("phases")]
    assert "召集人" in roster and "副区长 张三" in roster
    assert "副召集人" in roster and "主任 李四" in roster
    assert "副局长 赵六" in roster and "科长 王敏 023-6666 wangmin@example.org" in roster
    seats = json.loads(duban("show", "example-2019", "--json").stdout)["joint_meeting"]
    assert {"role": "convener", "unit": "区政府", "person_name": "张三"}.items() <= seats[0].items()


def test_a_plan_of_measures_and_goals_reviews_without_phases(sqlite_url: str) -> None:
    create_schema(sqlite_url)
    with session_scope(sqlite_url) as session:
        import_plan(session, OFFICE_PLAN, at=IMPORTED)
    with session_scope(sqlite_url) as session:
        found = review_plan(session, "office-2021", dt.date(2023, 3, 1))
    lights = {t.code: t.light for t in found.tasks}
    assert lights["g2022"] is None and lights["g2025"] is None  # goals, not green or red
    assert {lights["m1"], lights["m2"], lights["m3"]} == {"red"}  # nobody has done them
    assert found.phases == () and found.counts.tasks == 3
