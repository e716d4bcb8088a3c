"""The office's secret key and the link signer built from it.

Sessions and the links in notices are signed with one key: `DUBAN_SECRET_KEY`, or else a key
file made once under the home folder (readable by its owner only). A sweep on a worker must
use the same key as the web server, or its links will be refused as tampered.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable

from duban.settings import Settings
from render.letters import render_letter
from tasks.sweep.links import LinkSigner, add_links
from tasks.sweep.notices import Letter, RenderedMail

DEFAULT_URL = "http://127.0.0.1:8000"


def secret_key(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = settings.home / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def link_signer(settings: Settings) -> LinkSigner:
    return LinkSigner(
        secret_key(settings), settings.public_url or DEFAULT_URL, valid_days=settings.link_days
    )


def letters_with_links(settings: Settings) -> Callable[[Letter], RenderedMail]:
    """The letter markup the sweep uses: every notice carries its one-click links."""
    signer = link_signer(settings)
    return lambda letter: render_letter(add_links(letter, signer))
