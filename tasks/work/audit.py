"""The audit trail: every change appended as an event, each chained to the one before, and the
chain's head sealed with a key kept outside the database.

Each event stores the SHA-256 of its own content and of the previous event, so editing or
deleting any row breaks a link that `verify_chain` finds. Appends lock the one-row chain head
(made with the schema), so two writers at once still make one straight chain.

The hashes need no key, so whoever can write the database could still rewrite the chain from
some event on, or cut its newest events and point the head back. The head's seal stops that:
an HMAC of (newest id, newest hash) under the audit key (DUBAN_AUDIT_KEY, else the home's key
file; never in the database), so a head duban did not write does not verify. What the seal
cannot show is a chain cut back to an older head, seal and all (a restored backup): a head the
office exported and filed (`export_head`) shows it, as its event must still be there, unchanged.
And an empty or short chain beside work that was done (progress reports, submissions and
decisions, extension requests, each written with its event) says events were removed.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from calendars.clock import utc
from schemas.settings import Settings, audit_key
from schemas.tables import (
    GENESIS,
    AuditEvent,
    AuditHead,
    ExtensionRequest,
    ProgressReport,
    Submission,
    SweepRun,
)
from schemas.vocabulary import Action, ActorKind, Operation

# The moves each written with a row of their own, so the trail holds at least one per row.
WORK_ACTIONS = (
    Action.PROGRESS,
    Action.SUBMIT,
    Action.ACCEPT,
    Action.RETURN,
    Action.REQUEST_EXTENSION,
    Action.APPROVE_EXTENSION,
    Action.DENY_EXTENSION,
)


@dataclass(frozen=True)
class Subject:
    """What an event is about, for finding it again: which plan, task and unit."""

    entity: str
    entity_id: int | None
    plan: str | None = None
    task: str | None = None
    unit: str | None = None


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: Subject,
    at: dt.datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    person: str | None = None,
    channel: str | None = None,
    key: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction, and seal the new head.

    `person` and `channel` say who, by name, acted through which door (web, link, cli). The
    key is this installation's audit key unless one is given.
    """
    head = _locked_head(session)
    event = AuditEvent(
        at=utc(at).isoformat(),
        actor=actor,
        action=action,
        entity=subject.entity,
        entity_id=subject.entity_id,
        plan_code=subject.plan,
        task_code=subject.task,
        unit_code=subject.unit,
        before=before,
        after=after,
        prev_hash=head.last_hash,
        hash="",
        person=person,
        channel=channel,
    )
    session.add(event)
    session.flush()
    event.hash = event_hash(event)
    head.last_id, head.last_hash = event.id or 0, event.hash
    head.seal = seal_of(key or installation_key(), head.last_id, head.last_hash)
    session.add(head)
    session.flush()
    return event


def record_sweep(session: Session, sweep: SweepRun) -> AuditEvent:
    """A sweep that wrote is an event of the system's: what it wrote, on which day."""
    return record(
        session,
        actor=ActorKind.SYSTEM,
        action=Operation.SWEEP,
        subject=Subject("sweep", sweep.id, sweep.plan_code),
        at=sweep.finished_at or sweep.started_at,
        after={
            "as_of": sweep.as_of.isoformat(),
            "notices": sweep.notices,
            "messages": sweep.messages,
            "escalations_opened": sweep.escalations_opened,
            "escalations_closed": sweep.escalations_closed,
        },
    )


def _locked_head(session: Session) -> AuditHead:
    head = session.exec(_HEAD).first()
    if head is None:  # the schema makes it; only a deleted row starts again (verify says so)
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
    return head


_HEAD = select(AuditHead).where(AuditHead.id == 1).with_for_update()  # built once: every event


def installation_key() -> str:
    """The audit key of the installation this process runs in.

    Reading the settings looks for `duban.toml` up the folders and parses it: a millisecond and
    a half, once per event, a third of a sweep's audit cost. The key is read again whenever
    what it depends on in this process changes (DUBAN_* variables, the current folder)."""
    duban_variables = frozenset((k, v) for k, v in os.environ.items() if k.startswith("DUBAN_"))
    return _key_of(duban_variables, Path.cwd())


@functools.lru_cache(maxsize=8)
def _key_of(_duban_variables: frozenset[tuple[str, str]], _folder: Path) -> str:
    return audit_key(Settings())


def seal_of(key: str, last_id: int, last_hash: str) -> str:
    message = f"{last_id}:{last_hash}".encode()
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def event_hash(event: AuditEvent) -> str:
    content = [
        event.id,
        event.at,
        event.actor,
        event.action,
        event.entity,
        event.entity_id,
        event.plan_code,
        event.task_code,
        event.unit_code,
        event.before,
        event.after,
        event.prev_hash,
    ]
    if event.person is not None or event.channel is not None:  # events before 0002 keep theirs
        content += [event.person, event.channel]
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FiledHead:
    """The chain's head as the office exported and filed it: its newest event then, sealed."""

    event: int
    hash: str
    seal: str
    at: str  # the newest event's time (ISO 8601, UTC)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def read(cls, text: str) -> FiledHead:
        """A head from the JSON `as_json` wrote; ValueError when the text is not one."""
        data = json.loads(text)
        if not isinstance(data, dict) or set(data) != {"event", "hash", "seal", "at"}:
            raise ValueError("not a filed head")
        head = cls(**data)
        if not isinstance(head.event, int) or not all(
            isinstance(value, str) for value in (head.hash, head.seal, head.at)
        ):
            raise ValueError("not a filed head")
        return head


def export_head(session: Session) -> FiledHead | None:
    """The head to file, None while the trail is empty. Verify the chain first: a head is
    worth filing only when the trail behind it is whole."""
    head = session.get(AuditHead, 1)
    newest = session.get(AuditEvent, head.last_id) if head is not None else None
    if head is None or newest is None or head.seal is None:
        return None
    return FiledHead(head.last_id, head.last_hash, head.seal, newest.at)


@dataclass(frozen=True)
class BrokenLink:
    event_id: int | None  # None: the trail as a whole, not one event
    reason: str

    def __str__(self) -> str:
        if self.event_id is None:
            return f"audit trail: {self.reason}"
        return f"audit event {self.event_id}: {self.reason}"


def verify_chain(
    session: Session, *, key: str | None = None, filed: Sequence[FiledHead] = ()
) -> tuple[int, BrokenLink | None]:
    """(events checked, the first broken link or None): each event's hash and link, the head
    and its seal (under this installation's key unless one is given), the work the database
    records against the events it should have left, and every head the office filed."""
    previous_hash, previous_id, checked = GENESIS, 0, 0
    for event in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))):
        assert event.id is not None
        if event.prev_hash != previous_hash:
            missing = event.id != previous_id + 1
            why = (
                f"events {previous_id + 1}..{event.id - 1} are missing"
                if missing
                else f"does not follow event {previous_id} (that event was changed)"
            )
            return checked, BrokenLink(event.id, why)
        if event_hash(event) != event.hash:
            return checked, BrokenLink(event.id, "its content was changed after it was written")
        previous_hash, previous_id, checked = event.hash, event.id, checked + 1
    broken = (
        _broken_head(session.get(AuditHead, 1), previous_id, previous_hash, key)
        or _missing_work(session, checked)
        or _broken_filing(session, filed, key)
    )
    return checked, broken


def _broken_head(
    head: AuditHead | None, newest_id: int, newest_hash: str, key: str | None
) -> BrokenLink | None:
    if head is None:
        return BrokenLink(None, "its head row was deleted") if newest_id else None
    if (head.last_id, head.last_hash) != (newest_id, newest_hash):
        return BrokenLink(head.last_id, "the newest events were removed")
    if newest_id == 0:
        return None
    if head.seal is None:
        return BrokenLink(None, "its head is not sealed (the seal was removed)")
    if not _sealed(head.seal, head.last_id, head.last_hash, key):
        return BrokenLink(
            None,
            "its head does not carry the audit key's seal: the chain was rewritten or cut back "
            "by someone without the key (or this is not the key it was written with)",
        )
    return None


def _sealed(seal: str, last_id: int, last_hash: str, key: str | None) -> bool:
    return hmac.compare_digest(seal, seal_of(key or installation_key(), last_id, last_hash))


def _missing_work(session: Session, events: int) -> BrokenLink | None:
    """Each progress report, submission, decision and extension request was written with an
    event: fewer events than those rows means events were removed, the head made to match."""
    rows = sum(
        session.exec(select(func.count()).select_from(table).where(*where)).one()
        for table, where in (
            (ProgressReport, ()),
            (Submission, ()),
            (Submission, (col(Submission.decision).is_not(None),)),
            (ExtensionRequest, ()),
            (ExtensionRequest, (col(ExtensionRequest.decided_at).is_not(None),)),
        )
    )
    recorded = session.exec(
        select(func.count()).where(col(AuditEvent.action).in_(WORK_ACTIONS))
    ).one()
    if recorded >= rows:
        return None
    held = "is empty" if events == 0 else f"records {recorded} change(s) to work"
    return BrokenLink(
        None,
        f"it {held}, yet the database holds {rows} (progress reports, submissions, decisions, "
        "extension requests): events were removed",
    )


def _broken_filing(
    session: Session, filed: Sequence[FiledHead], key: str | None
) -> BrokenLink | None:
    for head in filed:
        if not _sealed(head.seal, head.event, head.hash, key):
            return BrokenLink(head.event, "the filed head was not sealed with this trail's key")
        event = session.get(AuditEvent, head.event)
        if event is None or event.hash != head.hash:
            what = "is gone" if event is None else "was changed"
            return BrokenLink(
                head.event,
                f"a filed head (newest event at {head.at}) ends with this event, which {what}: "
                "the trail was cut back or rewritten since it was filed",
            )
    return None


def history(session: Session, plan: str, task: str, unit: str | None = None) -> list[AuditEvent]:
    """The story of a task (or of one unit's part in it), oldest first."""
    query = select(AuditEvent).where(AuditEvent.plan_code == plan, AuditEvent.task_code == task)
    if unit is not None:
        query = query.where(AuditEvent.unit_code == unit)
    return list(session.exec(query.order_by(col(AuditEvent.id))))
