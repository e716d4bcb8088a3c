"""Signed session cookies, the CSRF token in every form, and who is asking.

The session is a cookie signed with the office's secret (itsdangerous), holding the account's
id, the account's session version (a password reset or a disable raises it, ending every open
session) and a random CSRF token. It expires after `session_hours`; it is HttpOnly,
SameSite=Lax, and Secure when the server is told it sits behind an HTTPS proxy. Every POST
must carry the same CSRF token in its form (or an X-CSRF-Token header, for htmx).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session
from starlette.datastructures import FormData, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from duban.errors import PermissionDenied
from schemas.tables import Account
from tasks.work.accounts import Person

COOKIE = "duban_session"
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)


class CsrfFailed(PermissionDenied):
    """The form's CSRF token is missing or not this session's."""


class LoginNeeded(PermissionDenied):
    """The page needs a logged-in person (the web answers with the login page, not a 403)."""


@dataclass
class WebSession:
    account_id: int | None
    version: int
    csrf: str
    changed: bool = False

    def log_in(self, account: Account) -> None:
        """A fresh session (and CSRF token) for the person: no fixation of an old one."""
        self.account_id, self.version = account.id, account.session_version
        self.csrf, self.changed = secrets.token_urlsafe(24), True

    def log_out(self) -> None:
        self.account_id, self.version = None, 0
        self.csrf, self.changed = secrets.token_urlsafe(24), True


class SessionMiddleware:
    """Reads the signed cookie into request.state.session; writes it back when it changed.

    Plain ASGI, not Starlette's BaseHTTPMiddleware, which runs every request in a task of its
    own and passes the response through a stream: on a page served from memory, that is work
    worth saving."""

    def __init__(self, app: ASGIApp, secret: str, hours: int, secure: bool) -> None:
        self.app = app
        self.serializer = URLSafeTimedSerializer(secret, salt="duban.session.v1")
        self.max_age, self.secure = hours * 3600, secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        session = state["session"] = self._read(HTTPConnection(scope).cookies.get(COOKIE))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if session.changed:
                    headers.append("set-cookie", self._cookie(session))
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            form = state.get("form")
            if form is not None:  # uploads are spooled to files: close them, kept or refused
                await form.close()

    def _cookie(self, session: WebSession) -> str:
        value = self.serializer.dumps([session.account_id, session.version, session.csrf])
        secure = "; Secure" if self.secure else ""
        return f"{COOKIE}={value}; HttpOnly; Max-Age={self.max_age}; Path=/; SameSite=lax{secure}"

    def _read(self, cookie: str | None) -> WebSession:
        if cookie:
            try:
                account_id, version, csrf = self.serializer.loads(cookie, max_age=self.max_age)
                return WebSession(account_id, version, csrf)
            except (BadSignature, ValueError, TypeError):
                pass
        return WebSession(None, 0, secrets.token_urlsafe(24), changed=True)


def current_person(request: Request, session: Session) -> Person | None:
    """The logged-in person, if the session names an active account at its current version."""
    state = request.state.session
    if state.account_id is None:
        return None
    account = session.get(Account, state.account_id)
    if account is None or not account.active or account.session_version != state.version:
        state.log_out()
        return None
    return Person.of(account)


def check_csrf(request: Request, form: FormData) -> None:
    sent = form.get("csrf") or request.headers.get("X-CSRF-Token") or ""
    if not isinstance(sent, str) or not secrets.compare_digest(sent, request.state.session.csrf):
        raise CsrfFailed("CSRF token missing or wrong")
