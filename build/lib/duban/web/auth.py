"""Logging in and out, the language switch, and the front door that sends each person to
their own page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from duban.web.app import database, posted, text_field, web
from duban.web.templating import page
from schemas.vocabulary import AccountRole
from tasks.work.accounts import LoginRefused, authenticate

router = APIRouter()
HOME: dict[str, str] = {
    AccountRole.LIAISON: "/my",
    AccountRole.OFFICE: "/office",
    AccountRole.LEADERSHIP: "/review",
}


def safe_next(target: str) -> str:
    """Only a path on this site: a crafted ?next= must not send anyone elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/")
def home(request: Request) -> Response:
    with database(request):
        account = request.state.account
    return RedirectResponse(HOME[account.role] if account else "/login", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    with database(request):
        return page(request, "login.html", next=safe_next(next), failed=False)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await posted(request)
    target = safe_next(text_field(form, "next") or "/")
    with database(request) as session:
        try:  # a failure is counted and committed: that is what throttles guessing
            account = authenticate(
                session,
                text_field(form, "username"),
                text_field(form, "password"),
                now=web(request).now(),
            )
        except LoginRefused:
            return page(request, "login.html", 401, next=target, failed=True)
        request.state.session.log_in(account)
        role = account.role
    return RedirectResponse(HOME[role] if target == "/" else target, status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await posted(request)
    request.state.session.log_out()
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, back: str = "/") -> Response:
    response = RedirectResponse(safe_next(back), status_code=303)
    response.set_cookie("lang", "en" if code == "en" else "zh", max_age=365 * 86400)
    return response
