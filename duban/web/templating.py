"""The pages' Jinja2 environment: autoescaped, loading render/templates/web/.

Kept here until the shared environment in render/ exists; then `pages` becomes that
environment with the web folder on its loader (see docs/web.md, merge notes).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from duban.web.words import WORDS

TEMPLATES = Path(__file__).resolve().parents[2] / "render" / "templates" / "web"

pages = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html", "xml"), default=False),  # .txt mails: plain
    trim_blocks=True,
    lstrip_blocks=True,
)


def language(request: Request) -> str:
    return "en" if request.cookies.get("lang") == "en" else "zh"


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render one page with what every page needs: words, the person, the CSRF token."""
    words = WORDS[language(request)]
    person = getattr(request.state, "account", None)
    body = pages.get_template(name).render(
        t=words,
        person=person,
        csrf=request.state.session.csrf,
        path=request.url.path,
        today=request.app.state.web.today(),
        **context,
    )
    return HTMLResponse(body, status_code=status)


def day(value: dt.date | dt.datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value[:16].replace("T", " ")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


pages.filters["day"] = day
