"""The one-click links in notices: open one, see what it will do, confirm.

Opening a link (GET) never changes anything: mail scanners and link previews open links
too. The confirmation page posts back, and only then is the 督办单 acknowledged (签收), in
the recipient unit's name, through the link channel, and the link's hash stored so a second
use changes nothing. A report link only opens the assignment's form: submitting needs the
liaison's login, so what is reported is always tied to a person in the audit trail (a
forwarded mail lets its reader see the form, not act in the unit's name).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, select

from duban.errors import NotFound
from duban.web.app import database, need, posted, web
from duban.web.templating import page
from schemas.tables import LinkRecord, Notice, Unit
from schemas.vocabulary import AccountRole, ActorKind, Channel, LinkState
from tasks.sweep.links import Binding, LinkInvalid, token_hash
from tasks.sweep.outbox import acknowledge, record_acknowledgement
from tasks.work.accounts import Person
from tasks.work.actors import Actor

router = APIRouter()


def _checked(request: Request, session: Session, token: str) -> tuple[Binding, Notice | None]:
    """The link's binding and its notice, or LinkInvalid saying why it cannot be used."""
    binding = web(request).signer.read(token, web(request).today())
    records = session.exec(
        select(LinkRecord).where(
            (LinkRecord.sha256 == token_hash(token)) | (LinkRecord.binding == binding.key)
        )
    ).all()
    if any(r.state == LinkState.REVOKED and r.sha256 in (None, token_hash(token)) for r in records):
        raise LinkInvalid("revoked")
    if any(r.sha256 == token_hash(token) for r in records):
        raise LinkInvalid("used")
    account: Person | None = request.state.account
    if (
        account is not None
        and account.role == AccountRole.LIAISON
        and account.unit_code != binding.recipient
    ):
        raise LinkInvalid("foreign")
    if binding.action != "ack":
        return binding, None
    notice = session.exec(select(Notice).where(Notice.receipt_code == binding.subject)).first()
    if notice is None:
        raise LinkInvalid("unknown")
    if notice.recipient_code != binding.recipient:
        raise LinkInvalid("foreign")
    return binding, notice


def _refused(request: Request, exc: LinkInvalid) -> Response:
    status = 410 if exc.reason in ("expired", "used", "revoked") else 400
    return page(request, "link.html", status, invalid=exc.reason)


@router.get("/l/{token}")
def open_link(token: str, request: Request) -> Response:
    with database(request) as session:
        try:
            binding, notice = _checked(request, session, token)
        except LinkInvalid as exc:
            return _refused(request, exc)
        if binding.action == "report":
            target = f"/a/{binding.subject}"
            if request.state.account is not None:
                return RedirectResponse(target, status_code=303)
            return page(request, "link.html", report=True, target=target)
        return page(request, "link.html", notice=notice, token=token)


@router.post("/l/{token}")
async def use_link(token: str, request: Request) -> Response:
    await posted(request)
    state = web(request)
    with database(request) as session:
        try:
            binding, notice = _checked(request, session, token)
        except LinkInvalid as exc:
            return _refused(request, exc)
        if notice is None:  # a report link is only ever opened
            return RedirectResponse(f"/a/{binding.subject}", status_code=303)
        unit = session.exec(
            select(Unit.name).where(Unit.code == binding.recipient).limit(1)
        ).first()
        account: Person | None = request.state.account
        actor = Actor(
            ActorKind.UNIT,
            binding.recipient,
            f"{unit or binding.recipient}({binding.recipient})",
            person=account.username if account else f"link:{binding.recipient}",
            channel=Channel.LINK,
        )
        notice, first = acknowledge(session, code=binding.subject, actor=actor, at=state.now())
        if first:
            record_acknowledgement(session, notice, actor, state.now())
        session.add(
            LinkRecord(
                sha256=token_hash(token),
                binding=binding.key,
                state=LinkState.USED,
                at=state.now(),
                by=actor.person,
            )
        )
        return page(request, "link.html", notice=notice, acknowledged=True)


@router.post("/n/{receipt}/revoke")
async def revoke(receipt: str, request: Request) -> Response:
    """The office withdraws every link of a 督办单 (a mail sent to the wrong address, say)."""
    await posted(request)
    with database(request) as session:
        need(request, AccountRole.OFFICE)
        notice = session.exec(select(Notice).where(Notice.receipt_code == receipt)).first()
        if notice is None:
            raise NotFound(f"no notice {receipt}")
        session.add(
            LinkRecord(
                binding=Binding("ack", receipt, notice.recipient_code).key,
                state=LinkState.REVOKED,
                at=web(request).now(),
                by=request.state.account.username,
            )
        )
        target = notice.assignment_id
    return RedirectResponse(f"/a/{target}?done=revoked", status_code=303)
