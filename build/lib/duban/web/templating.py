"""The pages: the templates under render/templates/web/, rendered by the one Jinja2 environment
of render.environment (autoescaped by extension, undefined names an error), with what every
page needs: the words in the reader's language, the person, the CSRF token, the day.

A page's long lists are fragments: rendered from the data and the words alone (no person, no
token), so that one rendering serves everyone while the data is unchanged (duban.web.memo).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from duban.web.words import WORDS
from render.environment import render


def language(request: Request) -> str:
    return "en" if request.cookies.get("lang") == "en" else "zh"


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render one page (`name` under render/templates/web/) with what every page needs."""
    body = render(
        f"web/{name}",
        t=WORDS[language(request)],
        person=getattr(request.state, "account", None),
        csrf=request.state.session.csrf,
        path=request.url.path,
        today=request.app.state.web.today(),
        **context,
    )
    return HTMLResponse(body, status_code=status)


def fragment(name: str, lang: str, **context: Any) -> Markup:
    """Part of a page (`name` under render/templates/web/) from the data and the words alone.

    Markup: the fragment's own template escaped every value, and the page prints it as is."""
    return Markup(render(f"web/{name}", t=WORDS[lang], **context))
