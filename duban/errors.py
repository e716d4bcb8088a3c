"""The error tree: every failure a user can provoke is a `DubanError`, and its family says
what went wrong in the terms a caller acts on, and which exit code the command line ends with.

    DubanError
    ├── BadInput (exit 2): an argument, plan file or setting that cannot be used as given
    │   ├── DeadlineError ··········· calendars/deadlines.py
    │   ├── PlanInvalid ············· tasks/plans/reader.py
    │   │   └── YamlRefused
    │   ├── CycleError ·············· tasks/plans/graph.py
    │   ├── ResponsibilityError ····· tasks/plans/responsibility.py
    │   │   └── UnknownUnitName
    │   ├── DocumentUnreadable ······ tasks/plans/draft_text.py
    │   ├── InvalidRequest ·········· tasks/work/lifecycle.py
    │   ├── AccountError ············ tasks/work/accounts.py
    │   ├── EvidenceRefused ········· tasks/work/evidence.py
    │   ├── LinkInvalid ············· tasks/sweep/links.py
    │   └── UploadRefused ··········· duban/web/app.py
    ├── Conflict (exit 3): the record's current state does not allow it; reload, try again
    │   ├── TransitionError ········· tasks/work/states.py
    │   └── ConflictError ··········· tasks/work/lifecycle.py
    ├── NotFound (exit 4): no plan, task, unit or escalation by that name; the message lists
    │   │                  what there is (raised as is by tasks/plans/queries.py)
    │   └── UnknownReceipt ·········· tasks/sweep/outbox.py
    ├── PermissionDenied (exit 5): the actor may not do this; the message says who may
    │   ├── Forbidden ··············· tasks/work/actors.py
    │   ├── LoginRefused ············ tasks/work/accounts.py
    │   ├── CsrfFailed ·············· duban/web/sessions.py
    │   └── LoginNeeded ············· duban/web/sessions.py (the web redirects to its login)
    ├── EnvironmentProblem (exit 6): the database, the calendar data or a server is missing,
    │   │                            unreachable or broken; fix the deployment, not the command
    │   ├── DatabaseUnreachable ····· schemas/db.py
    │   ├── NoDatabase ·············· schemas/db.py
    │   ├── SchemaAhead ············· schemas/db.py
    │   ├── CalendarError ··········· calendars/workdays.py
    │   │   ├── MissingCalendarYear
    │   │   ├── UnknownRegion
    │   │   └── NoticeError ········· calendars/notices.py
    │   ├── ServeError ·············· duban/serve.py
    │   ├── AlreadyServing ·········· duban/serve_lock.py
    │   └── WorkerMismatch ·········· flows/runtime.py
    └── DeliveryFailed (exit 7): mail was not delivered; it stays in the outbox for a retry
        └── DeliveryError ··········· tasks/sweep/delivery.py
            └── InvalidMail

Each layer raises the most specific class it has; the command line catches `DubanError` once
(duban/app.py) and prints one line, or a JSON object with `--json`; the web app maps the
families to HTTP statuses (duban/web/app.py: 400, 409, 404, 403). Anything else that reaches
it is a bug and keeps its traceback. This module imports nothing from duban's other packages, so
every layer, from calendars/ up, may import it.
"""

from __future__ import annotations


class DubanError(Exception):
    """A failure the user can do something about; the message says what."""

    exit_code = 1


class BadInput(DubanError):
    """An argument, a plan file or a setting that cannot be used as given."""

    exit_code = 2


class Conflict(DubanError):
    """The record's current state does not allow this (now); reload and try again."""

    exit_code = 3


class NotFound(DubanError):
    """A plan, task, unit, escalation or receipt the user named does not exist."""

    exit_code = 4


class PermissionDenied(DubanError):
    """The actor may not do this; the message says who may."""

    exit_code = 5


class EnvironmentProblem(DubanError):
    """The database, the calendar data or a server is missing, unreachable or broken."""

    exit_code = 6


class DeliveryFailed(DubanError):
    """Mail was not delivered; it stays in the outbox and the retry sends it later."""

    exit_code = 7


FAMILIES: tuple[type[DubanError], ...] = (
    BadInput,
    Conflict,
    NotFound,
    PermissionDenied,
    EnvironmentProblem,
    DeliveryFailed,
)


def family_of(error: DubanError) -> str:
    """The family's name (BadInput, NotFound …), as the JSON form of an error reports it."""
    return next((f.__name__ for f in FAMILIES if isinstance(error, f)), type(error).__name__)
