"""People and their accounts on the web. The office manages liaison accounts: list, add,
disable, reset a password; everyone who logs in changes their own password. Office and
leadership accounts are made and reset at the server with `duban users` (the trust model:
docs/security.md).

A reset password is made here, shown once on the page that answers the reset (never stored
in the clear, logged or put in the audit trail) and handed to the liaison by the office, who
then changes it on `/password`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from duban.web.app import back_to, database, need, posted, text_field, web
from duban.web.templating import page
from schemas.vocabulary import AccountRole, Channel
from tasks.work.accounts import (
    MIN_PASSWORD,
    AccountError,
    LoginRefused,
    actor_of,
    add_account,
    change_password,
    disable_account,
    list_accounts,
    managed_liaison,
    reset_password,
    temporary_password,
)

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
        managed_liaison(session, need(request, AccountRole.OFFICE), username)
        disable_account(session, username)
    return RedirectResponse("/users?done=disable", status_code=303)


@router.post("/users/{username}/reset")
async def reset(username: str, request: Request) -> Response:
    """A temporary password for a liaison, on this page only: no redirect to a page that could
    show it again, and the browser is told to keep no copy."""
    await posted(request)
    with database(request) as session:
        office = need(request, AccountRole.OFFICE)
        account = managed_liaison(session, office, username)
        password = temporary_password()
        reset_password(
            session,
            account.username,
            password,
            by=actor_of(office, Channel.WEB),
            at=web(request).now(),
        )
        answer = page(
            request,
            "users.html",
            accounts=list_accounts(session),
            reset={"username": account.username, "password": password},
        )
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.get("/password")
def password_form(request: Request, done: str | None = None) -> Response:
    with database(request):
        need(request)
        return page(request, "password.html", done=done, problem=None, minimum=MIN_PASSWORD)


@router.post("/password")
async def change_own_password(request: Request) -> Response:
    """The person's own password. A refusal answers with the form again (400), saying why; a
    wrong current password is committed as a failed login, as on the login page."""
    form = await posted(request)
    with database(request) as session:
        person = need(request)
        new = text_field(form, "new")
        problem = "differ" if new != text_field(form, "again") else None
        if problem is None:
            try:
                account = change_password(
                    session,
                    person,
                    text_field(form, "current"),
                    new,
                    at=web(request).now(),
                    channel=Channel.WEB,
                )
            except AccountError:
                problem = "short"
            except LoginRefused:
                problem = "wrong"
            else:  # the other sessions end; this one goes on at the account's new version
                request.state.session.log_in(account)
        if problem is not None:
            return page(
                request, "password.html", 400, done=None, problem=problem, minimum=MIN_PASSWORD
            )
    return back_to("/password", "password")
