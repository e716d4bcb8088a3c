"""The web application: one FastAPI app, its state, its error pages, and what routes share.

Every route opens one database session, finds the person (`need`), calls the service layer
(tasks.work.lifecycle and friends) and renders a page. Every refusal from the service layer is
a `DubanError`, and its family (duban/errors.py) becomes the page's status: BadInput 400,
PermissionDenied 403, NotFound 404, Conflict 409; the page says why, in the user's language,
and the transaction is rolled back, so a refused request changes nothing. LoginNeeded is the
one PermissionDenied that is not a 403: it sends the browser to the login page.

The time is the clock's (calendars.clock), on the office's zone; the demo fixes the day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session
from starlette.datastructures import FormData

from calendars.clock import local, now
from duban.errors import BadInput, Conflict, NotFound, PermissionDenied
from duban.web.memo import Memo
from duban.web.sessions import (
    CsrfFailed,
    LoginNeeded,
    SessionMiddleware,
    check_csrf,
    current_person,
)
from duban.web.templating import page
from schemas.db import create_schema, session_scope
from schemas.settings import Settings, secret_key
from tasks.sweep.links import LinkSigner, link_signer
from tasks.work.accounts import Person
from tasks.work.actors import Forbidden
from tasks.work.desk import DataVersion, data_version

STATIC = Path(__file__).with_name("static")
T = TypeVar("T")


class UploadRefused(BadInput):
    """A file of a type not accepted, or too large; the message is already in words."""


@dataclass
class Web:
    """What the routes share: settings, the database, the link signer, the day, and what the
    pages computed from the data while it is unchanged (duban.web.memo): a few reviews, each
    large, and many rendered lists."""

    settings: Settings
    url: str
    signer: LinkSigner
    fixed_day: dt.date | None = None  # the demo serves its story's last day
    reviews: Memo = field(default_factory=lambda: Memo(size=16))
    parts: Memo = field(default_factory=lambda: Memo(size=256))

    def now(self) -> dt.datetime:
        """The moment, on the office's clock (the demo's fixed day at the time of day)."""
        moment = local(now())
        if self.fixed_day is None:
            return moment
        return dt.datetime.combine(self.fixed_day, moment.timetz())

    def today(self) -> dt.date:
        return self.now().date()

    @property
    def evidence_dir(self) -> Path:
        return self.settings.evidence_dir


def create_app(settings: Settings | None = None, *, fixed_day: dt.date | None = None) -> FastAPI:
    settings = settings or Settings()
    create_schema(settings.url)
    app = FastAPI(title="duban", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = Web(settings, settings.url, link_signer(settings), fixed_day)
    app.add_middleware(
        SessionMiddleware,
        secret=secret_key(settings),
        hours=settings.session_hours,
        secure=settings.behind_proxy,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    from duban.web import auth, leadership, links, office, plans, unit, users

    for module in (auth, links, unit, office, leadership, users, plans):
        app.include_router(module.router)
    _errors(app)
    return app


def web(request: Request) -> Web:
    return request.app.state.web  # type: ignore[no-any-return]


@contextmanager
def database(request: Request) -> Iterator[Session]:
    with session_scope(web(request).url) as session:
        request.state.account = current_person(request, session)
        yield session


def remembered(
    request: Request,
    session: Session,
    memo: Memo,
    key: Hashable,
    compute: Callable[[], T],
    *,
    plan: str | None,
) -> T:
    """`compute()`, or its result from an earlier request if the data it comes from (one
    plan's, or every plan's: None) has not changed since.

    Each version is read once per request, before anything computed from the data."""
    if not hasattr(request.state, "versions"):
        request.state.versions = {}
    versions: dict[str | None, DataVersion] = request.state.versions
    if plan not in versions:
        versions[plan] = data_version(session, plan)
    return memo.get((plan, key), versions[plan], compute)


def need(request: Request, *roles: str) -> Person:
    """The logged-in person, if their role is one of `roles`; LoginNeeded or Forbidden else."""
    account: Person | None = request.state.account
    if account is None:
        raise LoginNeeded(request.url.path)
    if roles and account.role not in roles:
        raise Forbidden(f"{account.username} ({account.role}) may not open {request.url.path}")
    return account


async def posted(request: Request) -> FormData:
    """The submitted form, once its CSRF token checks out."""
    limit = web(request).settings.evidence_limit_mb * 1024 * 1024
    form = await request.form(max_files=10, max_fields=200, max_part_size=limit)
    request.state.form = form
    check_csrf(request, form)
    return form


def text_field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def back_to(path: str, done: str) -> RedirectResponse:
    """Post/redirect/get: the page again, saying what was done."""
    return RedirectResponse(f"{path}?done={quote(done)}", status_code=303)


def _errors(app: FastAPI) -> None:
    def refusal(status: int, key: str | None = None):  # type: ignore[no-untyped-def]
        async def handler(request: Request, exc: Exception) -> Response:
            if not hasattr(request.state, "account"):
                request.state.account = None
            return page(request, "message.html", status, key=key, detail=str(exc))

        return handler

    async def login_needed(request: Request, exc: Exception) -> Response:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    # Starlette picks the handler of the nearest class in the error's MRO: the families, and
    # the two classes whose pages say more (LoginNeeded is not a refusal but a redirect).
    app.add_exception_handler(LoginNeeded, login_needed)
    app.add_exception_handler(CsrfFailed, refusal(403, "error.csrf"))
    app.add_exception_handler(PermissionDenied, refusal(403, "error.forbidden"))
    app.add_exception_handler(NotFound, refusal(404, "error.not_found"))
    app.add_exception_handler(Conflict, refusal(409, "error.conflict"))
    app.add_exception_handler(BadInput, refusal(400))
