"""The outbox retry as a Prefect flow: deliver what is waiting, in batches.

`deliver_outbox` hands every message that is due (new, or failed earlier and past its backoff)
to the configured transport, through `tasks.sweep.outbox.deliver_pending`: one task run per batch of
up to 500 messages, never one per mail. The claim in the outbox makes several workers (or this
flow and a sweep delivering at once) safe: a message is sent by one of them only.

The database and the transport come from `schemas.settings.Settings()`, read inside each task
run, so a worker takes them from its own environment (DUBAN_DATABASE_URL, DUBAN_SMTP_HOST, …)
and the SMTP password never becomes a task parameter.
"""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from pydantic import Field

from calendars.clock import now
from flows.runtime import check_this_worker
from render.mail import composer_for
from schemas.db import create_schema, session_scope, sessions
from schemas.settings import Settings
from schemas.vocabulary import ActorKind
from tasks.sweep.delivery import transport_from
from tasks.sweep.outbox import BATCH, DeliveryReport, deliver_in_batches, deliver_pending
from tasks.sweep.outbox import retry_failed as requeue
from tasks.work.actors import Actor

# who re-queues mail from a flow run: the office, whoever started the run in Prefect's UI
SCHEDULER = Actor(ActorKind.OFFICE, label="office", person="prefect deliver-outbox")
MAX_BATCHES = 20  # 10,000 messages a run; the rest waits for the next run


@task(name="deliver outbox batch", cache_policy=NONE, retries=3, retry_delay_seconds=[10, 60, 180])
def deliver_batch(limit: int = BATCH) -> DeliveryReport:
    """Deliver up to `limit` due messages. A failed send is not an error here (the outbox
    backs it off); the retries cover the database or the transport being unreachable."""
    settings = Settings()
    return deliver_pending(
        sessions(settings.url),
        transport_from(settings),
        now=now(),
        limit=limit,
        composer=composer_for(settings),
        clock=now,
    )


def deliver_all(*, limit: int = BATCH, max_batches: int = MAX_BATCHES) -> DeliveryReport:
    """Batches until the outbox has nothing due (a short batch), inside a running flow: one
    task run per batch."""
    return deliver_in_batches(deliver_batch, batch=limit, max_batches=max_batches)


@flow(name="deliver-outbox", log_prints=False)
def deliver_outbox(
    limit: Annotated[int, Field(ge=1, le=5000)] = BATCH,
    max_batches: Annotated[int, Field(ge=1, le=200)] = MAX_BATCHES,
    retry_failed: bool = False,
) -> dict[str, Any]:
    """Retry the outbox: deliver every message that is due, in batches.

    Args:
        limit: Messages per batch (one task run each).
        max_batches: Batches at most in one run; what is left waits for the next run.
        retry_failed: First put the mail given up on back in the outbox, as
            `duban outbox retry` does (audited as the office, through the scheduler).
    """
    check_this_worker()
    settings = Settings()
    create_schema(settings.url)
    if retry_failed:
        with session_scope(settings.url) as session:
            requeue(session, now=now(), by=SCHEDULER)
    report = deliver_all(limit=limit, max_batches=max_batches)
    logger = get_run_logger()
    logger.info(
        "delivered %d, failed %d (given up %d)",
        len(report.delivered),
        len(report.failed),
        len(report.given_up),
    )
    return {
        "delivered": len(report.delivered),
        "failed": len(report.failed),
        "given_up": len(report.given_up),
    }
