"""`duban demo --web`: replay the story with links in every mail, make demo accounts, serve.

The web app serves the story's last day as today, so the pages, the lights and the links in
the story's mails read as they did then.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import SecretStr

from calendars.clock import now
from duban.demo import run_demo
from duban.terminal import console, styled
from render.mail import composer_for
from schemas.db import session_scope
from schemas.settings import Settings
from schemas.vocabulary import AccountRole
from tasks.work.accounts import add_account

PASSWORD = "duban-demo"
ACCOUNTS = (  # username, name, role, unit
    ("office", "综合监督处 王科长", AccountRole.OFFICE, None),
    ("leader", "领导小组 李主任", AccountRole.LEADERSHIP, None),
    ("nanan", "南岸区 联络员", AccountRole.LIAISON, "na"),
    ("zhongxian", "忠县 联络员", AccountRole.LIAISON, "zx"),
    ("cqwjw", "市卫生健康委 联络员", AccountRole.LIAISON, "cqwjw"),
)


def demo_web(settings: Settings, plans_dir: Path, *, host: str, port: int) -> None:
    import uvicorn

    from duban.web.app import create_app

    home = settings.home / "demo"
    served = settings.model_copy(
        update={
            "home": home,
            "database_url": f"sqlite:///{home / 'duban.db'}",
            "secret_key": settings.secret_key or SecretStr(secrets.token_urlsafe(32)),
            "public_url": settings.public_url or f"http://{host}:{port}",
        }
    )
    url, last_day = run_demo(settings, plans_dir, composer=composer_for(served))
    with session_scope(url) as session:
        for username, name, role, unit in ACCOUNTS:
            add_account(
                session,
                username=username,
                name=name,
                role=role,
                password=PASSWORD,
                unit_code=unit,
                at=now(),
            )
    console.print(f"\nthe workplace, as of {last_day}:", styled(served.public_url, "bold"))
    for username, name, role, _ in ACCOUNTS:
        console.print(f"  {username:<10} {PASSWORD}  {role:<10} {name}")
    console.print(f"mails with one-click links: {home / 'outbox'}  (Ctrl-C stops the server)")
    uvicorn.run(create_app(served, fixed_day=last_day), host=host, port=port, log_level="warning")
