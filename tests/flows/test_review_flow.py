"""The `phase_review` and `office_digest` flows on a real Prefect server: review mails go
through the outbox once, and the review is published as an artifact."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from flows.review import office_digest, phase_review
from schemas.db import session_scope
from schemas.tables import OutboxMessage

from .test_sweep_flow import run

D = dt.date
pytestmark = pytest.mark.usefixtures("prefect_api")


def messages(home) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with session_scope(f"sqlite:///{home / 'duban.db'}") as session:
        return list(session.exec(select(OutboxMessage)))


def test_each_phase_that_has_ended_is_reviewed_for_leadership_once(duban_home):
    result, _ = run(phase_review, as_of=D(2019, 12, 31), plan="cq-2019-pilot")
    # the launch (2019-07) and the midterm review (2019-12) have ended by the last day of 2019
    assert len(result["queued"]) == 2 and result["delivered"] == 2
    assert all("阶段评估" in subject for subject in result["queued"])
    again, _ = run(phase_review, as_of=D(2020, 1, 2), plan="cq-2019-pilot")
    assert again["queued"] == []
    sent = messages(duban_home)
    assert {m.kind for m in sent} == {"review"} and {m.status for m in sent} == {"sent"}
    assert sent[0].to_addrs == ["ldxz@cq.example.org"]


def test_the_office_digest_goes_once_a_week(duban_home):
    first, _ = run(office_digest, as_of=D(2019, 8, 5), plan="cq-2019-pilot")
    same_week, _ = run(office_digest, as_of=D(2019, 8, 7), plan="cq-2019-pilot")
    assert len(first["queued"]) == 1 and same_week["queued"] == []
    [digest] = messages(duban_home)
    assert digest.to_addrs == ["zhjdc@cq.example.org"] and "督办周报" in digest.subject
