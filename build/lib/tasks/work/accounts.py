"""Accounts: the people who log in, what each may act as, and how a password is checked.

A liaison (联络员) acts for one unit, the office's staff act as the joint meeting office,
leadership reads. Passwords are kept only as argon2 hashes; after `MAX_FAILURES` wrong
passwords in a row an account is locked for `LOCKOUT`, so guessing is slow. A password reset
and a change of one's own password go into the audit trail (who, through which channel; never
the password). The caller passes the time: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from duban.errors import BadInput, NotFound, PermissionDenied
from schemas.tables import Account
from schemas.vocabulary import AccountRole, Action, ActorKind, Channel
from tasks.work import audit
from tasks.work.actors import Actor, Forbidden

ROLES = tuple(AccountRole)
ACTS_AS: dict[str, ActorKind] = {
    AccountRole.LIAISON: ActorKind.UNIT,
    AccountRole.OFFICE: ActorKind.OFFICE,
    AccountRole.LEADERSHIP: ActorKind.LEADERSHIP,
}
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD = 8
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read out or copied by hand
TEMPORARY_GROUPS = 3  # of 4 characters: 12 drawn from 31, about 59 bits

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("duban: a password nobody has")  # checked for unknown names: same timing


class AccountError(BadInput):
    """The account request makes no sense (unknown role, short password, name taken)."""


class LoginRefused(PermissionDenied):
    """Wrong name or password, a disabled account, or one locked after repeated failures.

    The message never says which, so it tells a guesser nothing.
    """


def add_account(
    session: Session,
    *,
    username: str,
    name: str,
    role: str,
    password: str,
    unit_code: str | None = None,
    plan_code: str | None = None,
    email: str | None = None,
    at: dt.datetime,
) -> Account:
    username = username.strip()
    if not username or any(c.isspace() for c in username):
        raise AccountError("a user name is one word, without spaces")
    if role not in ROLES:
        raise AccountError(f"role: one of {', '.join(ROLES)}, not {role!r}")
    if role == AccountRole.LIAISON and not unit_code:
        raise AccountError("a liaison acts for a unit: give its code (--unit)")
    if session.exec(select(Account).where(Account.username == username)).first() is not None:
        raise AccountError(f'the user name "{username}" is taken')
    account = Account(
        username=username,
        name=name.strip() or username,
        role=role,
        unit_code=unit_code if role == AccountRole.LIAISON else None,
        plan_code=plan_code,
        email=email,
        password_hash=_hash(password),
        created_at=at,
    )
    session.add(account)
    session.flush()
    return account


def find_account(session: Session, username: str) -> Account:
    account = session.exec(select(Account).where(Account.username == username)).first()
    if account is None:
        raise NotFound(f'no user "{username}"')
    return account


def list_accounts(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "username": a.username,
            "name": a.name,
            "role": a.role,
            "unit": a.unit_code,
            "plan": a.plan_code,
            "email": a.email,
            "active": a.active,
            "locked_until": a.locked_until.isoformat() if a.locked_until else None,
        }
        for a in session.exec(select(Account).order_by(Account.role, Account.username))
    ]


def disable_account(session: Session, username: str) -> Account:
    """The person can no longer log in; sessions already open end at their next request."""
    account = find_account(session, username)
    account.active = False
    account.session_version += 1
    session.add(account)
    return account


def reset_password(
    session: Session, username: str, password: str, *, by: Actor, at: dt.datetime
) -> Account:
    """A new password, the account enabled and unlocked, every open session ended; recorded
    in the audit trail as done by `by`."""
    account = find_account(session, username)
    account.password_hash = _hash(password)
    account.active, account.failed_logins, account.locked_until = True, 0, None
    account.session_version += 1
    session.add(account)
    _record(session, account, Action.RESET_PASSWORD, by, at)
    return account


def temporary_password() -> str:
    """A password for the office to hand to a liaison, who then changes it: random, with no
    characters that are confused when read out (`abcd-efgh-jkmn`)."""
    groups = (
        "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(4))
        for _ in range(TEMPORARY_GROUPS)
    )
    return "-".join(groups)


def managed_liaison(session: Session, manager: Person, username: str) -> Account:
    """The account the office's `manager` may disable or reset on the web: a liaison's, and one
    of the manager's plan when the manager's account is limited to a plan. Office and
    leadership accounts are managed at the server with `duban users`."""
    account = find_account(session, username)
    if account.role != AccountRole.LIAISON:
        raise Forbidden("office and leadership accounts are managed with `duban users`")
    if manager.plan_code is not None and account.plan_code != manager.plan_code:
        raise Forbidden(f"{manager.username} manages the liaisons of {manager.plan_code} only")
    return account


def change_password(
    session: Session, person: Person, current: str, new: str, *, at: dt.datetime, channel: Channel
) -> Account:
    """The person's own new password, given the current one; their other sessions end.

    The new password is checked first (AccountError: nothing is counted). A wrong current
    password is LoginRefused and counts as a failed login, to be committed like one: this
    form is no way round the lockout.
    """
    new_hash = _hash(new)
    account = _checked(session, person.username, current, now=at)
    account.password_hash = new_hash
    account.session_version += 1
    session.add(account)
    _record(session, account, Action.CHANGE_PASSWORD, actor_of(person, channel), at)
    return account


def authenticate(session: Session, username: str, password: str, *, now: dt.datetime) -> Account:
    """The account, if the password is right and the account may log in; else LoginRefused."""
    account = _checked(session, username, password, now=now)
    account.last_login_at = now
    return account


def _checked(session: Session, username: str, password: str, *, now: dt.datetime) -> Account:
    """The account, if the password is right and the account may log in; else LoginRefused,
    with a wrong password counted (MAX_FAILURES in a row lock the account for LOCKOUT)."""
    account = session.exec(select(Account).where(Account.username == username.strip())).first()
    if account is None:
        _verify(_DUMMY, password)
        raise LoginRefused("wrong user name or password")
    if account.locked_until is not None and _aware(account.locked_until) > now:
        raise LoginRefused("wrong user name or password")
    if not account.active or not _verify(account.password_hash, password):
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILURES:
            account.locked_until, account.failed_logins = now + LOCKOUT, 0
        session.add(account)
        raise LoginRefused("wrong user name or password")
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hash(password)
    account.failed_logins, account.locked_until = 0, None
    session.add(account)
    return account


@dataclass(frozen=True)
class Person:
    """Who is logged in, as plain values: safe to keep after the session that read it."""

    id: int
    username: str
    name: str
    role: str
    unit_code: str | None
    plan_code: str | None

    @classmethod
    def of(cls, account: Account) -> Person:
        return cls(
            account.id or 0,
            account.username,
            account.name,
            account.role,
            account.unit_code,
            account.plan_code,
        )


def actor_of(person: Person, channel: Channel) -> Actor:
    """The service layer's actor for this person, with the person and the door named."""
    label = f"{person.name}({person.unit_code})" if person.unit_code else person.name
    return Actor(
        ACTS_AS[person.role], person.unit_code, label, person=person.username, channel=channel
    )


def _record(session: Session, account: Account, action: Action, by: Actor, at: dt.datetime) -> None:
    """An account's change in the audit trail: whose account, by whom, through which door."""
    audit.record(
        session,
        actor=str(by),
        action=action,
        subject=audit.Subject("account", account.id, account.plan_code, None, account.unit_code),
        at=at,
        after={"account": account.username},
        person=by.person,
        channel=by.channel,
    )


def _hash(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
