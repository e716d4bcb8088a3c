"""Leadership's pages: the review live (the same figures and charts as `duban review`), as of
today or a chosen day, with the ranking and its rule, and a drill-down from every red light
to the assignment and its history. Read-only; the office sees them too."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from duban.errors import NotFound
from duban.web.app import database, need, web
from duban.web.office import chosen_day, snapshot
from duban.web.templating import page
from duban.web.words import WORDS
from render.environment import render
from render.review import render_html
from schemas.vocabulary import AccountRole
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
        day = chosen_day(request, as_of)
        seen = snapshot(request, session, plan, day)
        if seen.html is None:
            seen.html = render_html(seen.review)
        red = [i for i in seen.review.items if i.light == "red"]
        words = WORDS["en" if request.cookies.get("lang") == "en" else "zh"]
        bar = render(
            "web/review_bar.html",
            t=words,
            plan=plan,
            as_of=day,
            red=red,
            ids=seen.ids,
            person=account,
            csrf=request.state.session.csrf,
        )
    # The review page is the reports' own document; the bar and the drill-down go around it.
    return HTMLResponse(seen.html.replace("<body>", "<body>\n" + bar, 1))
