"""A small world for the web tests: the Chongqing plan imported, one sweep run with links in
its mails, and an account for each role. Built once per test module (an import takes
seconds), then copied for each test that changes it."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from render.mail import composer_for
from schemas.db import create_schema, session_scope, sessions
from schemas.settings import Settings
from tasks.plans.importer import import_plan
from tasks.sweep.pipeline import DirectSteps, run_sweep
from tasks.work.accounts import add_account

from .conftest import PLANS

PLAN = "cq-2019-pilot"
DAY = dt.date(2019, 8, 12)  # t02 of 市卫生健康委 is under supervision (督办单) by now
MORNING = dt.datetime(2019, 8, 12, 0, 30, tzinfo=dt.UTC)  # 08:30 in Chongqing
PASSWORD = "correct-horse-9"
PEOPLE = {  # username: (role, unit)
    "office": ("office", None),
    "leader": ("leadership", None),
    "wjw": ("liaison", "cqwjw"),  # 市卫生健康委
    "nanan": ("liaison", "na"),  # 南岸区
}


@dataclass
class World:
    settings: Settings
    folder: Path

    @property
    def url(self) -> str:
        return self.settings.url


def build_world(
    folder: Path,
    database_url: str | None = None,
    public_url: str = "http://duban.test",
    swept_on: dt.date | None = DAY,
) -> World:
    settings = Settings(
        home=folder / "home",
        database_url=database_url or f"sqlite:///{folder / 'duban.db'}",
        secret_key="test-secret-key-for-links-and-sessions",
        public_url=public_url,
        evidence_limit_mb=1,
    )
    create_schema(settings.url)
    with session_scope(settings.url) as session:
        import_plan(session, PLANS / "chongqing-2019-pilot.yaml", at=MORNING)
    if swept_on is not None:
        steps = DirectSteps(sessions(settings.url), composer_for(settings), at=MORNING)
        run_sweep(steps, as_of=swept_on, plan=PLAN)
    with session_scope(settings.url) as session:
        for username, (role, unit) in PEOPLE.items():
            add_account(
                session,
                username=username,
                name=f"{username} 姓名",
                role=role,
                password=PASSWORD,
                unit_code=unit,
                at=MORNING,
            )
    return World(settings, folder)


def copy_world(world: World, folder: Path) -> World:
    """A private copy of a SQLite world for a test that changes it."""
    with (
        sqlite3.connect(world.folder / "duban.db") as source,
        sqlite3.connect(folder / "duban.db") as target,
    ):
        source.backup(target)  # WAL mode: the file alone may not hold the latest pages
    settings = world.settings.model_copy(
        update={"home": folder / "home", "database_url": f"sqlite:///{folder / 'duban.db'}"}
    )
    return World(settings, folder)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def client(world: World, day: dt.date = DAY) -> TestClient:
    from duban.web.app import create_app

    return TestClient(create_app(world.settings, fixed_day=day), follow_redirects=False)


def logged_in(world: World, username: str | None, day: dt.date = DAY) -> TestClient:
    """A client with a session, on `day`: logged in as `username`, or anonymous (None)."""
    browser = client(world, day)
    page = browser.get("/login")
    if username is not None:
        answer = browser.post(
            "/login",
            data={"csrf": csrf_of(page.text), "username": username, "password": PASSWORD},
        )
        assert answer.status_code == 303, answer.text
    return browser


def token_of(browser: TestClient, path: str = "/") -> str:
    """The session's CSRF token, read from a page."""
    page = browser.get(path if path != "/" else "/login")
    return csrf_of(page.text)
