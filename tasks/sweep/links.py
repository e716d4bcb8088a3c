"""One-click links in notices: signed, expiring, single-purpose.

A link names one action, one subject and one recipient (a `Binding`): 签收 of one receipt by
the unit it was sent to, or the report form of one assignment for the unit that holds it. The
token is the binding and its expiry day signed with the office's secret (itsdangerous), so a
changed token is refused without a database read; it is not stored when minted. Using a
single-use link, or revoking one, stores the SHA-256 of its token (schemas.tables.LinkRecord),
which is what makes a second use, or a revoked link, change nothing.

Nothing here reads the clock: the letter's day mints, the caller's day checks expiry. The
markup that puts the links into a letter is the caller's composer (render.mail.composer_for).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from dataclasses import dataclass
from typing import Literal, TypeVar

from itsdangerous import BadSignature, URLSafeSerializer

from duban.errors import BadInput
from schemas.settings import Settings, secret_key
from schemas.vocabulary import RecipientRole
from tasks.sweep.notices import FollowUpItem, Letter, NoticeItem, NoticeLink, WaitingItem

Action = Literal["ack", "report"]
Opened = TypeVar("Opened", FollowUpItem, WaitingItem)
SALT = "duban.link.v1"
DEFAULT_URL = "http://127.0.0.1:8000"  # where `duban web` listens unless told otherwise


class LinkInvalid(BadInput):
    """A link that cannot be used; `reason` is tampered | expired | used | revoked | foreign."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Binding:
    """What a link may do: `action` on `subject` (a receipt code, an assignment id) for
    `recipient` (a unit code)."""

    action: Action
    subject: str
    recipient: str

    @property
    def key(self) -> str:
        return f"{self.action}:{self.subject}:{self.recipient}"


@dataclass(frozen=True)
class LinkSigner:
    secret: str
    base_url: str  # e.g. https://duban.example.gov.cn (DUBAN_PUBLIC_URL)
    valid_days: int = 30

    @functools.cached_property  # one for the thousands of links of a sweep's letters
    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt=SALT)

    def token(self, binding: Binding, issued: dt.date) -> str:
        expires = issued + dt.timedelta(days=self.valid_days)
        payload = [binding.action, binding.subject, binding.recipient, expires.isoformat()]
        return str(self._serializer.dumps(payload))

    def url(self, binding: Binding, issued: dt.date) -> str:
        return f"{self.base_url.rstrip('/')}/l/{self.token(binding, issued)}"

    def read(self, token: str, today: dt.date) -> Binding:
        """The binding a token carries; LinkInvalid if it was changed or has expired."""
        try:
            action, subject, recipient, expires = self._serializer.loads(token)
            binding = Binding(action, str(subject), str(recipient))
            last_day = dt.date.fromisoformat(expires)
        except (BadSignature, ValueError, TypeError):
            raise LinkInvalid("tampered") from None
        if action not in ("ack", "report"):
            raise LinkInvalid("tampered")
        if today > last_day:
            raise LinkInvalid("expired")
        return binding


def link_signer(settings: Settings) -> LinkSigner:
    """The signer of this installation: its secret key, its public address, its link life."""
    return LinkSigner(
        secret_key(settings), settings.public_url or DEFAULT_URL, valid_days=settings.link_days
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def add_links(letter: Letter, signer: LinkSigner) -> Letter:
    """The letter with its links: one 签收 for the 督办单 and 通报 addressed to the recipient
    (they share the letter's receipt code), the report form for the recipient's own
    assignment, and the page for everyone else; each decision and each item waiting for the
    office links to its page, and what the office's queue does not list, to the office's
    desk."""
    base = signer.base_url.rstrip("/")
    return dataclasses.replace(
        letter,
        ack=_ack(letter, signer),
        items=tuple(_linked(item, signer, letter.as_of) for item in letter.items),
        followups=tuple(_opened(f, base) for f in letter.followups),
        waiting=tuple(_opened(w, base) for w in letter.waiting),
        desk=f"{base}/office" if letter.waiting_more else None,
    )


def _ack(letter: Letter, signer: LinkSigner) -> str | None:
    """The letter's one 签收 link: its 督办单 and 通报 share one receipt code."""
    code = letter.receipt_code
    holder = next((i.recipient_code for i in letter.items if i.receipted), None)
    if code is None or holder is None:
        return None
    return signer.url(Binding("ack", code, holder), letter.as_of)


def _opened(item: Opened, base: str) -> Opened:
    """The item with the link to its assignment's page, where the recipient acts (login)."""
    if item.assignment_id is None:
        return item
    return dataclasses.replace(item, links=(NoticeLink("open", f"{base}/a/{item.assignment_id}"),))


def _linked(item: NoticeItem, signer: LinkSigner, issued: dt.date) -> NoticeItem:
    if item.assignment_id is None or item.recipient_code is None:
        return item
    if item.recipient_role == RecipientRole.RESPONSIBLE and not item.in_copy:
        form = Binding("report", str(item.assignment_id), item.recipient_code)
        link = NoticeLink("report", signer.url(form, issued))
    else:
        link = NoticeLink("open", f"{signer.base_url.rstrip('/')}/a/{item.assignment_id}")
    return item._replace(links=(link,))
