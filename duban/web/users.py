"""The office manages liaison accounts from the web: list, add, disable. Office and
leadership accounts are made at the server with `duban users add` (the trust model:
docs/security.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from duban.web.app import database, need, posted, text_field, web
from duban.web.templating import page
from schemas.vocabulary import AccountRole
from tasks.work.accounts import add_account, disable_account, find_account, list_accounts
from tasks.work.actors import Forbidden

router = APIRouter()


@router.get("/users")
def users(request: Request, done: str | None = None) -> Response:
    with database(request) as session:
        need(request, AccountRole.OFFICE)
        return page(request, "users.html", accounts=list_accounts(session), done=done)


@router.post("/users")
async def add_liaison(request: Request) -> Response:
    form = await posted(request)
    with database(request) as session:
        office = need(request, AccountRole.OFFICE)
        add_account(
            session,
            username=text_field(form, "username"),
            name=text_field(form, "name"),
            role=AccountRole.LIAISON,
            password=text_field(form, "password"),
            unit_code=text_field(form, "unit").strip(),
            plan_code=office.plan_code,
            email=text_field(form, "email").strip() or None,
            at=web(request).now(),
        )
    return RedirectResponse("/users?done=add", status_code=303)


@router.post("/users/{username}/disable")
async def disable(username: str, request: Request) -> Response:
    await posted(request)
    with database(request) as session:
        need(request, AccountRole.OFFICE)
        if find_account(session, username).role != AccountRole.LIAISON:
            raise Forbidden("office and leadership accounts are managed with `duban users`")
        disable_account(session, username)
    return RedirectResponse("/users?done=disable", status_code=303)
