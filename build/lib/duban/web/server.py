"""How the web app is served: one uvicorn configuration for `duban web` and `duban serve`.

HTTPS is a reverse proxy's job. With `behind_proxy` set, uvicorn believes the proxy's
X-Forwarded-For and X-Forwarded-Proto headers (from the addresses in FORWARDED_ALLOW_IPS,
uvicorn's own setting, 127.0.0.1 unless set) and the session cookie is marked Secure.
"""

from __future__ import annotations

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from duban.web.app import create_app
from schemas.settings import Settings
from tasks.sweep.links import DEFAULT_URL


def web_config(
    settings: Settings, host: str, port: int, *, own_logging: bool = True
) -> uvicorn.Config:
    """uvicorn's configuration of the app (its database migrated here). `own_logging=False`
    leaves uvicorn's log lines to the process's logging (`duban serve` has one format)."""
    return uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        log_config=LOGGING_CONFIG if own_logging else None,
        proxy_headers=settings.behind_proxy,
    )


def listening(settings: Settings, host: str, port: int) -> str:
    """Where the app listens and the address its mails link to, said at start: they differ
    behind a proxy, and a wrong DUBAN_PUBLIC_URL is seen here before a mail goes out."""
    return (
        f"web app on http://{host}:{port} (links in mails use {settings.public_url or DEFAULT_URL})"
    )
