"""The plan view: one page per plan for the office and leadership, as of today or a chosen day:
its phases and how far each is done, its dependency graph drawn, its units' open and overdue
work, and its tasks by phase with who answers for them. Read-only; built on the same cached
review as the desk and the review page, so the three agree."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from duban.errors import NotFound
from duban.web.app import database, need
from duban.web.office import chosen_day, snapshot
from duban.web.templating import language, page
from duban.web.words import WORDS
from render.plan_drawing import draw_graph
from schemas.vocabulary import AccountRole
from tasks.review.plan_view import plan_view

router = APIRouter()


@router.get("/plans/{plan}")
def plan_page(plan: str, request: Request, as_of: str | None = None) -> Response:
    with database(request) as session:
        account = need(request, AccountRole.OFFICE, AccountRole.LEADERSHIP)
        if account.plan_code not in (None, plan):
            raise NotFound(f"no plan {plan} for {account.username}")
        day = chosen_day(request, as_of)
        seen = snapshot(request, session, plan, day)
        view = plan_view(session, seen.review)
        return page(
            request,
            "plan.html",
            view=view,
            graph=draw_graph(view, WORDS[language(request)]),
            ids=seen.ids,
            as_of=day,
        )
