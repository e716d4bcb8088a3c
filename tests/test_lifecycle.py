"""The lifecycle rules: every move allowed and forbidden, every permission given and refused,
extensions, evidence, recurring reports; a refused call changes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from sqlmodel import select

from schemas.db import create_schema, session_scope
from schemas.tables import Assignment, AuditEvent, Evidence, Occurrence, Task, Unit
from tasks.plans.importer import import_plan
from tasks.work import lifecycle
from tasks.work.actors import Actor, Forbidden, check_allowed
from tasks.work.evidence import EvidenceRefused
from tasks.work.states import MOVES, OCCURRENCE_MOVES, TransitionError, next_state

from .conftest import ROOT

AT = dt.datetime(2019, 8, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PLAN = "example-2019"
OFFICE = Actor("office", "office", "联席会议办公室(office)")
LEADERSHIP = Actor("leadership", "lead-group")
NA = Actor("unit", "na", "南岸区(na)")
FIN = Actor("unit", "fin", "区财政局(fin)")
WHC = Actor("unit", "whc", "区卫生健康委(whc)")
MKT = Actor("unit", "mkt", "区市场监管局(mkt)")


@pytest.fixture
def url(sqlite_url: str) -> str:
    create_schema(sqlite_url)
    with session_scope(sqlite_url) as session:
        import_plan(session, ROOT / "docs" / "example-plan.yaml", at=AT)
    return sqlite_url


def state_of(url: str, task: str, unit: str) -> str:
    with session_scope(url) as session:
        return session.exec(
            select(Assignment.state)
            .join(Task)
            .join(Unit)
            .where(Task.code == task, Unit.code == unit, Assignment.active)
        ).one()


def events(url: str) -> int:
    with session_scope(url) as session:
        return len(session.exec(select(AuditEvent)).all())


def act(url: str, move: str, actor: Actor = NA, task: str = "t3", unit: str = "na") -> None:
    with session_scope(url) as session:
        if move == "progress":
            lifecycle.report_progress(
                session, actor=actor, plan=PLAN, task=task, unit=unit, note="进展", at=AT
            )
        elif move == "submit":
            lifecycle.submit(
                session, actor=actor, plan=PLAN, task=task, unit=unit, note="完成", at=AT
            )
        elif move == "accept":
            lifecycle.accept(session, actor=actor, plan=PLAN, task=task, unit=unit, at=AT)
        elif move == "return":
            lifecycle.return_submission(
                session, actor=actor, plan=PLAN, task=task, unit=unit, reason="材料不全", at=AT
            )
        else:
            lifecycle.close(
                session,
                actor=actor,
                plan=PLAN,
                task=task,
                unit=unit,
                how=move,
                reason="不再需要",
                at=AT,
            )


# The shortest way to bring t3 (南岸区) into each state, with the right actors.
ROUTES = {
    "not_started": [],
    "in_progress": [("progress", NA)],
    "submitted": [("submit", NA)],
    "returned": [("submit", NA), ("return", OFFICE)],
    "accepted": [("submit", NA), ("accept", OFFICE)],
    "waived": [("waive", OFFICE)],
    "cancelled": [("cancel", OFFICE)],
}
WHO_MAY = {
    "progress": NA,
    "submit": NA,
    "accept": OFFICE,
    "return": OFFICE,
    "waive": OFFICE,
    "cancel": OFFICE,
}

# The moves of an assignment as the docs describe them, written out cell by cell so that the
# table in tasks.work.states is checked rather than copied: a unit reports progress and submits
# (again after a return, which counts as in progress: docs/review.md); submitted work waits for
# the office, which accepts or returns it (docs/sweep.md, docs/cli.md); the office may waive or
# cancel any open work; accepted, waived and cancelled work is closed (docs/sweep.md).
MOVE_NAMES = ("progress", "submit", "accept", "return", "waive", "cancel")
# fmt: off
EXPECTED = {
    #              progress       submit       accept      return      waive     cancel
    "not_started": ("in_progress", "submitted", None,       None,       "waived", "cancelled"),
    "in_progress": ("in_progress", "submitted", None,       None,       "waived", "cancelled"),
    "submitted":   (None,          None,        "accepted", "returned", "waived", "cancelled"),
    "returned":    ("in_progress", "submitted", None,       None,       "waived", "cancelled"),
    "accepted":    (None,          None,        None,       None,       None,     None),
    "waived":      (None,          None,        None,       None,       None,     None),
    "cancelled":   (None,          None,        None,       None,       None,     None),
}
# One dated report (an occurrence of a recurring task) is only submitted, accepted or returned.
EXPECTED_FOR_AN_OCCURRENCE = {
    #              submit       accept      return
    "not_started": ("submitted", None,       None),
    "submitted":   (None,        "accepted", "returned"),
    "returned":    ("submitted", None,       None),
    "accepted":    (None,        None,       None),
}
# fmt: on
TABLE = [
    (state, move, after)
    for state, row in EXPECTED.items()
    for move, after in zip(MOVE_NAMES, row, strict=True)
]
OCCURRENCE_TABLE = [
    (state, move, after)
    for state, row in EXPECTED_FOR_AN_OCCURRENCE.items()
    for move, after in zip(("submit", "accept", "return"), row, strict=True)
]


def as_moves(table: list[tuple[str, str, str | None]]) -> dict[str, dict[str, str]]:
    moves: dict[str, dict[str, str]] = {state: {} for state, _, _ in table}
    for state, move, after in table:
        if after is not None:
            moves[state][move] = after
    return moves


def test_the_move_tables_are_the_documented_ones():
    assert MOVES == as_moves(TABLE), "a move was added to or removed from MOVES"
    assert OCCURRENCE_MOVES == as_moves(OCCURRENCE_TABLE)


@pytest.mark.parametrize(
    ("moves", "table", "what"),
    [(MOVES, TABLE, "assignment"), (OCCURRENCE_MOVES, OCCURRENCE_TABLE, "report occurrence")],
)
def test_next_state_follows_the_table_and_a_refusal_lists_what_is_allowed(moves, table, what):
    for state, move, after in table:
        if after is not None:
            assert next_state(state, move, moves=moves, what=what) == after
            continue
        with pytest.raises(TransitionError) as caught:
            next_state(state, move, moves=moves, what=what)
        allowed = [f"{m} → {a}" for s, m, a in table if s == state and a is not None]
        assert str(caught.value) == (
            f"cannot {move} a {what} that is {state}; allowed: "
            + (", ".join(allowed) or "none: it is closed")
        )


def test_next_state_defaults_to_the_assignment_table():
    assert next_state("submitted", "return") == "returned"
    with pytest.raises(TransitionError, match="^cannot submit a assignment that is submitted;"):
        next_state("submitted", "submit")


# Who may do what (docs/cli.md: accept, return, decide, waive, reassign are "Office only"; a
# unit acts on its own assignments; leadership reads; the system changes no assignment).
UNIT_ONLY = ("progress", "submit", "request_extension")
OFFICE_ONLY = ("accept", "return", "decide_extension", "waive", "cancel", "reassign")
KINDS = {
    "the unit itself": Actor("unit", "na"),
    "another unit": Actor("unit", "fin"),
    "the office": Actor("office"),
    "leadership": Actor("leadership"),
    "the system": Actor("system"),
}
PERMISSIONS = [
    (action, who, who == ("the unit itself" if action in UNIT_ONLY else "the office"))
    for action in UNIT_ONLY + OFFICE_ONLY
    for who in KINDS
]


@pytest.mark.parametrize(
    ("action", "who", "may"), PERMISSIONS, ids=[f"{a}-by-{w}" for a, w, _ in PERMISSIONS]
)
def test_each_kind_of_actor_may_do_exactly_what_the_docs_say(action, who, may):
    actor = KINDS[who]
    if may:
        check_allowed(actor, action, unit="na")
        return
    with pytest.raises(Forbidden) as caught:
        check_allowed(actor, action, unit="na")
    spoken = action.replace("_", " ")
    assert str(caught.value) == (
        f"{actor} may not {spoken} for na: only the responsible unit itself may"
        if action in UNIT_ONLY
        else f"{actor} may not {spoken}: only the joint meeting office (联席会议办公室) may"
    )


def test_an_unknown_action_is_refused_even_to_the_office():
    with pytest.raises(Forbidden, match="^unknown action delete$"):
        check_allowed(Actor("office"), "delete", unit="na")


def test_an_actor_is_named_by_its_label_its_unit_or_its_kind():
    assert [str(NA), str(Actor("unit", "na")), str(Actor("office"))] == [
        "南岸区(na)",
        "unit:na",
        "office",
    ]


@pytest.mark.parametrize(("state", "move", "becomes"), TABLE, ids=[f"{s}-{m}" for s, m, _ in TABLE])
def test_every_move_from_every_state(url, state, move, becomes):
    for step, actor in ROUTES[state]:
        act(url, step, actor)
    assert state_of(url, "t3", "na") == state
    before = events(url)
    if becomes is None:
        with pytest.raises(TransitionError) as caught:
            act(url, move, WHO_MAY[move])
        assert f"that is {state}" in str(caught.value) and "allowed:" in str(caught.value)
        assert state_of(url, "t3", "na") == state and events(url) == before
    else:
        act(url, move, WHO_MAY[move])
        assert state_of(url, "t3", "na") == becomes and events(url) == before + 1


REFUSED = [
    ("progress", FIN, "only the responsible unit itself"),
    ("progress", OFFICE, "only the responsible unit itself"),
    ("submit", FIN, "only the responsible unit itself"),
    ("submit", LEADERSHIP, "only the responsible unit itself"),
    ("accept", NA, "only the joint meeting office"),
    ("accept", LEADERSHIP, "only the joint meeting office"),
    ("return", NA, "only the joint meeting office"),
    ("waive", NA, "only the joint meeting office"),
    ("cancel", Actor("system"), "only the joint meeting office"),
]


@pytest.mark.parametrize(
    ("move", "actor", "words"), REFUSED, ids=[f"{m}-by-{a}" for m, a, _ in REFUSED]
)
def test_a_refused_actor_is_told_who_may_and_nothing_changes(url, move, actor, words):
    if move in ("accept", "return"):
        act(url, "submit", NA)
    state, before = state_of(url, "t3", "na"), events(url)
    with pytest.raises(Forbidden) as caught:
        act(url, move, actor)
    assert words in str(caught.value)
    assert state_of(url, "t3", "na") == state and events(url) == before


def test_only_the_lead_unit_may_report_on_the_task_as_a_whole(url):
    with session_scope(url) as session:
        lifecycle.report_progress(
            session, actor=WHC, plan=PLAN, task="t2", note="总体进展", at=AT, task_wide=True
        )
    with pytest.raises(Forbidden, match="only the lead unit"), session_scope(url) as session:
        lifecycle.report_progress(
            session, actor=FIN, plan=PLAN, task="t2", note="x", at=AT, task_wide=True
        )


def test_an_actor_is_resolved_from_the_plan_seats(url):
    with session_scope(url) as session:
        assert lifecycle.resolve_actor(session, PLAN, "联席会议办公室").kind == "office"
        assert lifecycle.resolve_actor(session, PLAN, "领导小组").kind == "leadership"
        assert lifecycle.resolve_actor(session, PLAN, "卫生健康委") == WHC
        assert lifecycle.resolve_actor(session, PLAN, "office") == Actor("office", label="office")


def test_an_approved_extension_moves_the_due_date_and_keeps_the_original(url):
    with session_scope(url) as session:
        request = lifecycle.request_extension(
            session,
            actor=NA,
            plan=PLAN,
            task="t3",
            new_due=dt.date(2020, 8, 31),
            reason="疫情影响",
            at=AT,
        )
    with (
        pytest.raises(lifecycle.InvalidRequest, match="still waiting"),
        session_scope(url) as session,
    ):
        lifecycle.request_extension(
            session,
            actor=NA,
            plan=PLAN,
            task="t3",
            new_due=dt.date(2020, 9, 30),
            reason="again",
            at=AT,
        )
    with session_scope(url) as session:
        lifecycle.decide_extension(
            session,
            plan=PLAN,
            actor=OFFICE,
            request_id=request.id,
            approve=True,
            reason="同意",
            at=AT,
        )
        row = session.exec(select(Assignment).join(Task).where(Task.code == "t3")).one()
        assert (row.original_due, row.due) == (dt.date(2020, 6, 30), dt.date(2020, 8, 31))


def test_a_denied_extension_needs_a_reason_and_changes_no_date(url):
    with session_scope(url) as session:
        request = lifecycle.request_extension(
            session,
            actor=NA,
            plan=PLAN,
            task="t3",
            new_due=dt.date(2020, 8, 31),
            reason="人手不足",
            at=AT,
        )
    with pytest.raises(lifecycle.InvalidRequest, match="reason"), session_scope(url) as session:
        lifecycle.decide_extension(
            session, plan=PLAN, actor=OFFICE, request_id=request.id, approve=False, reason="", at=AT
        )
    with pytest.raises(Forbidden), session_scope(url) as session:
        lifecycle.decide_extension(
            session, plan=PLAN, actor=NA, request_id=request.id, approve=True, reason="", at=AT
        )
    with session_scope(url) as session:
        denied = lifecycle.decide_extension(
            session,
            plan=PLAN,
            actor=OFFICE,
            request_id=request.id,
            approve=False,
            reason="理由不充分",
            at=AT,
        )
        assert denied.state == "denied"
        row = session.exec(select(Assignment).join(Task).where(Task.code == "t3")).one()
        assert row.due == row.original_due == dt.date(2020, 6, 30)


def test_an_extension_must_be_later_than_the_current_due_date(url):
    with (
        pytest.raises(lifecycle.InvalidRequest, match="must be later"),
        session_scope(url) as session,
    ):
        lifecycle.request_extension(
            session, actor=NA, plan=PLAN, task="t3", new_due=dt.date(2020, 6, 1), reason="x", at=AT
        )


def test_evidence_is_stored_once_by_its_sha256(url, tmp_path: Path):
    proof = tmp_path / "会议纪要.pdf"
    proof.write_bytes(b"%PDF-1.4 minutes")
    digest = hashlib.sha256(proof.read_bytes()).hexdigest()
    folder = tmp_path / "evidence"
    with session_scope(url) as session:
        lifecycle.report_progress(
            session,
            actor=NA,
            plan=PLAN,
            task="t3",
            note="附纪要",
            at=AT,
            evidence=[proof],
            evidence_dir=folder,
        )
        lifecycle.submit(
            session,
            actor=NA,
            plan=PLAN,
            task="t3",
            note="附纪要",
            at=AT,
            evidence=[proof],
            evidence_dir=folder,
        )
        rows = session.exec(select(Evidence)).all()
    assert [(e.name, e.size, e.sha256) for e in rows] == [("会议纪要.pdf", 16, digest)] * 2
    assert (folder / digest[:2] / digest).read_bytes() == proof.read_bytes()
    assert len(list(folder.rglob("*"))) == 2  # one folder, one file


def test_each_dated_report_is_its_own_submission_and_all_accepted_closes_it(url):
    with session_scope(url) as session:
        dues = session.exec(
            select(Occurrence.due)
            .join(Assignment)
            .join(Task)
            .join(Unit)
            .where(Task.code == "r1", Unit.code == "na")
            .order_by(Occurrence.due)
        ).all()
    assert len(dues) == 4
    for due in dues:
        with session_scope(url) as session:
            lifecycle.submit(session, actor=NA, plan=PLAN, task="r1", note=f"{due} 阶段总结", at=AT)
            lifecycle.accept(
                session, actor=OFFICE, plan=PLAN, task="r1", unit="南岸区", at=AT, occurrence=due
            )
        expected = "accepted" if due == dues[-1] else "in_progress"
        assert state_of(url, "r1", "na") == expected
    with (
        pytest.raises(lifecycle.InvalidRequest, match="no occurrence"),
        session_scope(url) as session,
    ):
        lifecycle.submit(session, actor=NA, plan=PLAN, task="r1", note="again", at=AT)


def test_a_returned_report_occurrence_can_be_submitted_again(url):
    first = dt.date(2019, 9, 20)
    with session_scope(url) as session:
        lifecycle.submit(
            session, actor=NA, plan=PLAN, task="r1", note="v1", at=AT, occurrence=first
        )
        lifecycle.return_submission(
            session,
            actor=OFFICE,
            plan=PLAN,
            task="r1",
            unit="na",
            reason="缺数据",
            at=AT,
            occurrence=first,
        )
        lifecycle.submit(session, actor=NA, plan=PLAN, task="r1", note="v2", at=AT)
        occurrence = session.exec(
            select(Occurrence)
            .where(Occurrence.due == first)
            .join(Assignment)
            .join(Unit)
            .where(Unit.code == "na")
        ).one()
        assert occurrence.state == "submitted"


def test_waiving_a_task_closes_every_open_assignment_with_the_reason(url):
    with session_scope(url) as session:
        closed = lifecycle.close(
            session,
            actor=OFFICE,
            plan=PLAN,
            task="t2",
            unit=None,
            how="waive",
            reason="并入t1",
            at=AT,
        )
    assert len(closed) == 3 and {a.state for a in closed} == {"waived"}
    assert {a.closed_reason for a in closed} == {"并入t1"}


def test_waiving_a_task_closes_open_work_in_every_open_state_and_leaves_closed_work(url):
    act(url, "progress", WHC, task="t2", unit="whc")
    act(url, "submit", FIN, task="t2", unit="fin")
    act(url, "submit", MKT, task="t2", unit="mkt")
    act(url, "return", OFFICE, task="t2", unit="mkt")
    with session_scope(url) as session:
        closed = lifecycle.close(
            session,
            actor=OFFICE,
            plan=PLAN,
            task="t2",
            unit=None,
            how="waive",
            reason="并入t1",
            at=AT,
        )
    assert sorted(a.state for a in closed) == ["waived"] * 3
    assert [state_of(url, "t2", u) for u in ("whc", "fin", "mkt")] == ["waived"] * 3


def test_reassigning_cancels_the_old_assignment_and_creates_a_new_one(url):
    with session_scope(url) as session:
        new = lifecycle.reassign(
            session,
            actor=OFFICE,
            plan=PLAN,
            task="t3",
            from_unit="南岸区",
            to_unit="永川区",
            reason="职能调整",
            at=AT,
        )
        assert new.state == "not_started" and new.due == dt.date(2020, 6, 30)
    assert state_of(url, "t3", "yc") == "not_started"
    with session_scope(url) as session:
        old = session.exec(
            select(Assignment).join(Unit).join(Task).where(Unit.code == "na", Task.code == "t3")
        ).one()
        assert old.state == "cancelled" and "永川区" in (old.closed_reason or "")


def test_a_stale_version_is_a_conflict_and_changes_nothing(url):
    with session_scope(url) as session:
        version = session.exec(select(Assignment.version).join(Task).where(Task.code == "t3")).one()
    act(url, "progress")
    with pytest.raises(lifecycle.ConflictError, match="reload"), session_scope(url) as session:
        lifecycle.submit(
            session, actor=NA, plan=PLAN, task="t3", note="x", at=AT, expected_version=version
        )
    assert state_of(url, "t3", "na") == "in_progress"


def test_an_extension_cannot_be_approved_once_the_work_is_closed_or_in_another_plan(url):
    with session_scope(url) as session:
        request = lifecycle.request_extension(
            session, actor=NA, plan=PLAN, task="t3", new_due=dt.date(2020, 8, 31), reason="x", at=AT
        )
    act(url, "submit")
    act(url, "accept", OFFICE)
    with (
        pytest.raises(lifecycle.InvalidRequest, match="already accepted"),
        session_scope(url) as session,
    ):
        lifecycle.decide_extension(
            session, plan=PLAN, actor=OFFICE, request_id=request.id, approve=True, reason="", at=AT
        )
    with pytest.raises(lifecycle.NotFound, match="in plan other"), session_scope(url) as session:
        lifecycle.decide_extension(
            session,
            plan="other",
            actor=OFFICE,
            request_id=request.id,
            approve=False,
            reason="no",
            at=AT,
        )


def test_an_extension_beyond_the_calendar_data_is_refused(url):
    with pytest.raises(lifecycle.InvalidRequest, match="2031"), session_scope(url) as session:
        lifecycle.request_extension(
            session, actor=NA, plan=PLAN, task="t3", new_due=dt.date(2031, 1, 6), reason="x", at=AT
        )


def test_refused_evidence_copies_nothing(url, tmp_path: Path):
    proof = tmp_path / "a.pdf"
    proof.write_bytes(b"a")
    folder = tmp_path / "evidence"
    with (
        pytest.raises(EvidenceRefused, match="missing.pdf"),
        session_scope(url) as session,
    ):
        lifecycle.report_progress(
            session,
            actor=NA,
            plan=PLAN,
            task="t3",
            note="x",
            at=AT,
            evidence=[proof, tmp_path / "missing.pdf"],
            evidence_dir=folder,
        )
    assert not folder.exists()


def test_a_task_can_be_handed_back_and_dated_reports_follow_it(url):
    with session_scope(url) as session:
        lifecycle.reassign(
            session,
            actor=OFFICE,
            plan=PLAN,
            task="r1",
            from_unit="南岸区",
            to_unit="区财政局",
            reason="试点调整",
            at=AT,
        )
        dues = session.exec(
            select(Occurrence.due).join(Assignment).join(Unit).where(Unit.code == "fin")
        ).all()
        assert len(dues) == 4
        back = lifecycle.reassign(
            session,
            actor=OFFICE,
            plan=PLAN,
            task="r1",
            from_unit="区财政局",
            to_unit="南岸区",
            reason="恢复",
            at=AT,
        )
        assert back.state == "not_started" and back.active
    assert state_of(url, "r1", "na") == "not_started"
