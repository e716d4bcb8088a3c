"""The office's desk: red and yellow items as of a day, the queues (submissions waiting for
acceptance, extension requests, open escalations, unacknowledged 督办单), filters, the XLSX of
the view, and the decisions: accept, return, decide an extension, reassign, waive, bulk accept.

A decision that concerns a unit is recorded by the lifecycle as a follow-up, which the next
sweep mails to the unit in its letter of the day (tasks.sweep.followups).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlmodel import Session

from duban.errors import NotFound
from duban.web.access import check_visible
from duban.web.app import back_to, database, need, posted, remembered, text_field, web
from duban.web.templating import fragment, language, page
from duban.web.words import WORDS
from render.xlsx import Book
from schemas.tables import ExtensionRequest
from schemas.vocabulary import AccountRole, Channel, Light
from tasks.review.compute import review_plan
from tasks.review.model import ItemReview, Review
from tasks.work import lifecycle
from tasks.work.accounts import actor_of
from tasks.work.desk import (
    WorkRow,
    assignment_ids,
    count_rows,
    plans,
    unacknowledged_notices,
    waiting_work,
    work_rows,
)

router = APIRouter()
SHOWN = 200  # rows of the filtered list on the page; the export has them all
FILTERS = ("plan", "unit", "phase", "state")


@dataclass(frozen=True)
class Snapshot:
    """A plan's review as of a day, the assignment ids its items link to, and its red and
    yellow items, the reddest and longest overdue first: computed once per change to the
    data, then served from memory."""

    plan: str
    as_of: dt.date
    review: Review
    ids: dict[tuple[str, str], int]
    flagged: list[ItemReview]


def snapshot(request: Request, session: Session, plan: str, as_of: dt.date) -> Snapshot:
    def compute() -> Snapshot:
        review = review_plan(session, plan, as_of)
        flagged = sorted(
            (i for i in review.items if i.light != Light.GREEN),
            key=lambda i: (i.light != Light.RED, -i.overdue_workdays, i.task),
        )
        return Snapshot(plan, as_of, review, assignment_ids(session, plan), flagged)

    return remembered(request, session, web(request).reviews, ("review", as_of), compute, plan=plan)


def chosen_day(request: Request, text: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(text) if text else web(request).today()
    except ValueError:
        raise lifecycle.InvalidRequest(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _filters(request: Request) -> dict[str, Any]:
    return {name: request.query_params.get(name) or None for name in FILTERS}


@router.get("/office")
def desk(request: Request, as_of: str | None = None, done: str | None = None) -> Response:
    with database(request) as session:
        account = need(request, AccountRole.OFFICE)
        day = chosen_day(request, as_of)
        choices = remembered(
            request, session, web(request).parts, "plans", lambda: plans(session), plan=None
        )
        filters = _filters(request)
        plan = account.plan_code or filters["plan"] or (choices[0][0] if choices else None)
        filters["plan"] = plan
        seen = snapshot(request, session, plan, day) if plan else None
        waiting = remembered(
            request,
            session,
            web(request).parts,
            "queues",
            lambda: waiting_work(session, plan=plan),
            plan=plan,
        )
        # 签收 is not always in the audit trail (`duban ack`): asked for on every request
        queues = replace(waiting, unacknowledged=unacknowledged_notices(session, plan=plan))
        filtered = any(filters[name] for name in ("unit", "phase", "state"))
        rows = work_rows(session, **filters, limit=SHOWN) if filtered else []
        return page(
            request,
            "office.html",
            as_of=day,
            plans=choices,
            filters=filters,
            review=seen.review if seen else None,
            lights=_lights(request, session, seen) if seen else None,
            ids=seen.ids if seen else {},
            queues=queues,
            rows=rows,
            more=count_rows(session, **filters) - len(rows) if len(rows) == SHOWN else 0,
            done=done,
        )


@dataclass(frozen=True)
class Lights:
    """The desk's red and yellow counts and its list of them, rendered once per change."""

    red: int
    yellow: int
    table: Markup


def _lights(request: Request, session: Session, seen: Snapshot) -> Lights:
    lang = language(request)

    def compute() -> Lights:
        table = fragment("office_lights.html", lang, flagged=seen.flagged[:SHOWN], ids=seen.ids)
        red = sum(1 for i in seen.flagged if i.light == Light.RED)
        return Lights(red, len(seen.flagged) - red, table)

    key = ("lights", seen.as_of, lang)
    return remembered(request, session, web(request).parts, key, compute, plan=seen.plan)


@router.get("/office/export.xlsx")
def export(request: Request) -> Response:
    with database(request) as session:
        account = need(request, AccountRole.OFFICE)
        filters = _filters(request)
        if account.plan_code:
            filters["plan"] = account.plan_code
        rows = work_rows(session, **filters)
    words = WORDS["zh" if request.cookies.get("lang") != "en" else "en"]
    buffer = io.BytesIO()
    book = Book(buffer, styles={})
    sheet = book.sheet("duban")
    heads = ("plan", "task", "unit", "role", "state", "original_due", "approved_due")
    book.put_row(sheet, 0, [words[k] for k in heads])
    for number, r in enumerate(rows, 1):
        book.put_row(
            sheet,
            number,
            [
                r.plan,
                f"{r.task} {r.task_title}",
                r.unit_name,
                words.get(f"role.{r.role}", r.role),
                words.get(f"state.{r.state}", r.state),
                r.original_due,
                r.due,
            ],
        )
    book.close()
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="duban.xlsx"'},
    )


def _row(request: Request, session: Session, assignment_id: int) -> tuple[Any, WorkRow]:
    account = need(request, AccountRole.OFFICE)
    rows = work_rows(session, ids=[assignment_id])
    if not rows:
        raise NotFound(f"no assignment {assignment_id}")
    check_visible(account, rows[0])
    return account, rows[0]


def _version(form: Any) -> int | None:
    text = text_field(form, "version")
    return int(text) if text.isdigit() else None


@router.post("/a/{assignment_id}/accept")
async def accept(assignment_id: int, request: Request) -> Response:
    form = await posted(request)
    with database(request) as session:
        account, row = _row(request, session, assignment_id)
        lifecycle.accept(
            session,
            actor=actor_of(account, Channel.WEB),
            plan=row.plan,
            task=row.task,
            unit=row.unit,
            at=web(request).now(),
            expected_version=_version(form),
        )
    return back_to(f"/a/{assignment_id}", "accept")


@router.post("/a/{assignment_id}/return")
async def return_submission(assignment_id: int, request: Request) -> Response:
    form = await posted(request)
    reason = text_field(form, "reason")
    with database(request) as session:
        account, row = _row(request, session, assignment_id)
        lifecycle.return_submission(
            session,
            actor=actor_of(account, Channel.WEB),
            plan=row.plan,
            task=row.task,
            unit=row.unit,
            reason=reason,
            at=web(request).now(),
            expected_version=_version(form),
        )
    return back_to(f"/a/{assignment_id}", "return")


@router.post("/a/{assignment_id}/waive")
async def waive(assignment_id: int, request: Request) -> Response:
    form = await posted(request)
    with database(request) as session:
        account, row = _row(request, session, assignment_id)
        lifecycle.close(
            session,
            actor=actor_of(account, Channel.WEB),
            plan=row.plan,
            task=row.task,
            unit=row.unit,
            how="waive",
            reason=text_field(form, "reason"),
            at=web(request).now(),
        )
    return back_to(f"/a/{assignment_id}", "waive")


@router.post("/a/{assignment_id}/reassign")
async def reassign(assignment_id: int, request: Request) -> Response:
    form = await posted(request)
    reason, receiver = text_field(form, "reason"), text_field(form, "to_unit")
    with database(request) as session:
        account, row = _row(request, session, assignment_id)
        new = lifecycle.reassign(
            session,
            actor=actor_of(account, Channel.WEB),
            plan=row.plan,
            task=row.task,
            from_unit=row.unit,
            to_unit=receiver,
            reason=reason,
            at=web(request).now(),
        )
    return back_to(f"/a/{new.id}", "reassign")


@router.post("/x/{request_id}/decide")
async def decide_extension(request_id: int, request: Request) -> Response:
    form = await posted(request)
    approve = text_field(form, "decision") == "approve"
    reason = text_field(form, "reason")
    with database(request) as session:
        extension = session.get(ExtensionRequest, request_id)
        if extension is None:
            need(request, AccountRole.OFFICE)
            raise NotFound(f"no extension request {request_id}")
        account, row = _row(request, session, extension.assignment_id)
        lifecycle.decide_extension(
            session,
            actor=actor_of(account, Channel.WEB),
            plan=row.plan,
            request_id=request_id,
            approve=approve,
            reason=reason,
            at=web(request).now(),
        )
    return back_to(f"/a/{row.id}", "decide")


@router.post("/office/accept")
async def bulk_accept(request: Request) -> Response:
    """Accept every selected submission, all or none: one refusal changes nothing."""
    form = await posted(request)
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()]
    with database(request) as session:
        need(request, AccountRole.OFFICE)
        for assignment_id in ids:
            account, row = _row(request, session, assignment_id)
            lifecycle.accept(
                session,
                actor=actor_of(account, Channel.WEB),
                plan=row.plan,
                task=row.task,
                unit=row.unit,
                at=web(request).now(),
            )
    return back_to("/office", "bulk")
