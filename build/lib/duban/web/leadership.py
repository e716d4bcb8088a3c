"""Leadership's pages: the review live (the same figures and charts as `duban review`), as of
today or a chosen day, with the ranking and its rule, and a drill-down from every red light
to the assignment and its history. Read-only; the office sees them too."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from duban.errors import NotFound
from duban.web.app import database, need, remembered, web
from duban.web.office import Snapshot, chosen_day, snapshot
from duban.web.templating import fragment, language, page
from duban.web.words import WORDS
from render.environment import render
from render.review import render_html
from schemas.vocabulary import AccountRole, Light
from tasks.work.desk import plans

router = APIRouter()


@router.get("/review")
def review_index(request: Request) -> Response:
    with database(request) as session:
        account = need(request, AccountRole.LEADERSHIP, AccountRole.OFFICE)
        choices = [p for p in plans(session) if account.plan_code in (None, p[0])]
        return page(request, "review_index.html", plans=choices, as_of=web(request).today())


@router.get("/review/{plan}")
def review_page(plan: str, request: Request, as_of: str | None = None) -> Response:
    with database(request) as session:
        account = need(request, AccountRole.LEADERSHIP, AccountRole.OFFICE)
        if account.plan_code not in (None, plan):
            raise NotFound(f"no plan {plan} for {account.username}")
        day, lang = chosen_day(request, as_of), language(request)
        seen = snapshot(request, session, plan, day)
        reviews, parts = web(request).reviews, web(request).parts
        before, after = remembered(
            request, session, reviews, ("html", day), lambda: _document(seen), plan=plan
        )
        drill = remembered(
            request, session, parts, ("drill", day, lang), lambda: _drill(seen, lang), plan=plan
        )
        bar = render(
            "web/review_bar.html",
            t=WORDS[lang],
            plan=plan,
            as_of=day,
            drill=drill,
            person=account,
            csrf=request.state.session.csrf,
        )
    return HTMLResponse(before + bar.encode() + after)


def _document(seen: Snapshot) -> tuple[bytes, bytes]:
    """The reports' own review page, cut where the bar and the drill-down go: after <body>."""
    before, body, after = render_html(seen.review).partition("<body>")
    return (before + body + "\n").encode(), after.encode()


def _drill(seen: Snapshot, lang: str) -> Markup:
    red = [i for i in seen.review.items if i.light == Light.RED]
    return fragment("review_drill.html", lang, red=red, ids=seen.ids)
