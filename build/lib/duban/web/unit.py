"""The unit liaison's pages: my unit's work, one assignment in full, and the forms to report
progress, submit as done, ask for more time and acknowledge a 督办单 (签收).

The assignment page is shared: the office and leadership open the same page and see the
actions their role allows.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from markupsafe import Markup

from duban.errors import NotFound
from duban.web.access import check_visible, uploads
from duban.web.app import back_to, database, need, posted, remembered, text_field, web
from duban.web.templating import fragment, language, page
from schemas.vocabulary import AccountRole, Channel
from tasks.sweep.outbox import acknowledge, record_acknowledgement
from tasks.work import lifecycle
from tasks.work.accounts import actor_of
from tasks.work.desk import GROUPS, assignment_detail, evidence_owner, unit_work, work_rows

router = APIRouter()


@router.get("/my")
def my_work(request: Request, done: str | None = None) -> Response:
    with database(request) as session:
        account = need(request, AccountRole.LIAISON)
        today, lang = web(request).today(), language(request)
        unit, plan = account.unit_code or "", account.plan_code

        def compute() -> Markup:
            grouped = unit_work(session, unit, today, plan=plan)
            return fragment("my_work.html", lang, groups=GROUPS, grouped=grouped)

        key = ("my", unit, today, lang)
        work = remembered(request, session, web(request).parts, key, compute, plan=plan)
        return page(request, "my.html", work=work, as_of=today, done=done)


@router.get("/a/{assignment_id}")
def assignment(assignment_id: int, request: Request, done: str | None = None) -> Response:
    with database(request) as session:
        account = need(request)
        detail = assignment_detail(session, assignment_id)
        check_visible(account, detail.row)
        return page(request, "assignment.html", d=detail, done=done, as_of=web(request).today())


def _own(request: Request, session, assignment_id: int):  # type: ignore[no-untyped-def]
    """The liaison and the assignment they act on (refused unless it is their unit's)."""
    account = need(request, AccountRole.LIAISON)
    rows = work_rows(session, ids=[assignment_id])
    if not rows:
        raise NotFound(f"no assignment {assignment_id}")
    check_visible(account, rows[0])
    return account, rows[0]


@router.post("/a/{assignment_id}/progress")
async def report_progress(assignment_id: int, request: Request) -> Response:
    form = await posted(request)
    state = web(request)
    with database(request) as session:
        account, row = _own(request, session, assignment_id)
        with uploads(form, "files", state.settings.upload_mb, language(request)) as files:
            lifecycle.report_progress(
                session,
                actor=actor_of(account, Channel.WEB),
                plan=row.plan,
                task=row.task,
                unit=row.unit,
                note=text_field(form, "note"),
                at=state.now(),
                evidence=files,
                evidence_dir=state.evidence_dir,
            )
    return back_to(f"/a/{assignment_id}", "progress")


@router.post("/a/{assignment_id}/submit")
async def submit(assignment_id: int, request: Request) -> Response:
    form = await posted(request)
    state = web(request)
    with database(request) as session:
        account, row = _own(request, session, assignment_id)
        with uploads(form, "files", state.settings.upload_mb, language(request)) as files:
            lifecycle.submit(
                session,
                actor=actor_of(account, Channel.WEB),
                plan=row.plan,
                task=row.task,
                unit=row.unit,
                note=text_field(form, "note"),
                at=state.now(),
                evidence=files,
                evidence_dir=state.evidence_dir,
                expected_version=_version(text_field(form, "version")),
            )
    return back_to(f"/a/{assignment_id}", "submit")


@router.post("/a/{assignment_id}/extension")
async def request_extension(assignment_id: int, request: Request) -> Response:
    form = await posted(request)
    try:
        new_due = dt.date.fromisoformat(text_field(form, "new_due"))
    except ValueError:
        raise lifecycle.InvalidRequest("the new due date is a date: YYYY-MM-DD") from None
    with database(request) as session:
        account, row = _own(request, session, assignment_id)
        lifecycle.request_extension(
            session,
            actor=actor_of(account, Channel.WEB),
            plan=row.plan,
            task=row.task,
            unit=row.unit,
            new_due=new_due,
            reason=text_field(form, "reason"),
            at=web(request).now(),
        )
    return back_to(f"/a/{assignment_id}", "extension")


@router.post("/n/{receipt}/ack")
async def acknowledge_receipt(receipt: str, request: Request) -> Response:
    """签收 from the assignment page: the recipient's liaison, or the office on its behalf."""
    await posted(request)
    with database(request) as session:
        account = need(request, AccountRole.LIAISON, AccountRole.OFFICE, AccountRole.LEADERSHIP)
        actor = actor_of(account, Channel.WEB)
        notice, first = acknowledge(session, code=receipt, actor=actor, at=web(request).now())
        if first:
            record_acknowledgement(session, notice, actor, web(request).now())
        target = notice.assignment_id
    return back_to(f"/a/{target}", "ack")


@router.get("/evidence/{evidence_id}")
def download(evidence_id: int, request: Request) -> Response:
    with database(request) as session:
        account = need(request)
        evidence, assignment_id = evidence_owner(session, evidence_id)
        rows = work_rows(session, ids=[assignment_id])
        if not rows:
            raise NotFound(f"no evidence file {evidence_id}")
        check_visible(account, rows[0])
    stored = web(request).evidence_dir / evidence.sha256[:2] / evidence.sha256
    if not stored.is_file():
        raise NotFound(f"the file {evidence.name} is missing from the evidence folder")
    return FileResponse(
        stored,
        media_type="application/octet-stream",
        filename=evidence.name,
        content_disposition_type="attachment",
    )


def _version(text: str) -> int | None:
    return int(text) if text.isdigit() else None
