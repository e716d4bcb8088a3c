"""The daily deadline sweep as a Prefect flow: six task runs around the plain
functions of `tasks.sweep.pipeline` and `tasks.sweep.outbox`, which do all the work (and are
tested without Prefect).

    load open work    contexts of the plans, open dated items, 督办单/通报 awaiting receipt
    evaluate          the rung each item has reached on `as_of`
    plan notices      who is told what
    write outbox      notices, one message per recipient, escalations opened and closed
    deliver           the outbox, in batches of 500 (retried: the mail server may be down)
    publish summary   a table artifact with the counts

Large inputs (100,000 open items, their findings and notices) are passed `quote()`d: Prefect
would otherwise walk every element of them looking for futures, seconds per task run.

A day that is not a working day for any plan (a weekend, a statutory holiday; make-up
Saturdays are working days) is skipped after the first step: nothing is evaluated or sent.
The result is the same dict `duban sweep --json` prints.

The database and the transport come from `duban.settings.Settings()`, read inside the run, so
a worker takes them from its own environment.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pendulum
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from prefect.utilities.annotations import quote

from duban.settings import Settings
from duban.web.keys import letters_with_links
from flows.deliver import deliver_all
from schemas.db import create_schema
from schemas.tables import Notice
from tasks.sweep.pipeline import (
    Finding,
    OpenItem,
    PlanContext,
    PlannedNotice,
    SweepOutcome,
    evaluate,
    plan_notices,
    read_open_work,
    record_sweep,
    sweep_summary,
    unacknowledged_receipts,
    working_plans,
)

ARTIFACT_KEY = "deadline-sweep"
TIMEZONE = "Asia/Shanghai"

OpenWork = tuple[dict[str, PlanContext], list[OpenItem], list[Notice]]


def worth_retrying(_task: Any, _task_run: Any, state: Any) -> bool:
    """Retry what may pass (the database away for a moment), not an unknown plan."""
    return not isinstance(state.result(raise_on_failure=False), LookupError)


@task(
    name="load open work",
    cache_policy=NONE,
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=worth_retrying,
)
def load_open_work(settings: Settings, as_of: dt.date, plan: str | None) -> OpenWork:
    create_schema(settings.url)
    contexts, items = read_open_work(settings.url, plan=plan, calendar_dir=settings.calendar_dir)
    waiting = unacknowledged_receipts(settings.url, contexts, as_of)
    return contexts, items, waiting


@task(name="evaluate", cache_policy=NONE)
def evaluate_items(
    items: list[OpenItem], contexts: dict[str, PlanContext], as_of: dt.date
) -> list[Finding]:
    return evaluate(items, contexts, as_of)


@task(name="plan notices", cache_policy=NONE)
def plan_all_notices(
    findings: list[Finding], contexts: dict[str, PlanContext], as_of: dt.date, waiting: list[Notice]
) -> list[PlannedNotice]:
    return plan_notices(findings, contexts, as_of, waiting)


@task(name="write outbox", cache_policy=NONE, retries=2, retry_delay_seconds=10)
def write_outbox(
    settings: Settings,
    as_of: dt.date,
    plan: str | None,
    findings: list[Finding],
    planned: list[PlannedNotice],
    contexts: dict[str, PlanContext],
    dry_run: bool,
) -> SweepOutcome:
    """One transaction; a retry after a failure is safe (each notice is written once)."""
    return record_sweep(
        settings.url,
        as_of=as_of,
        plan=plan,
        findings=findings,
        planned=planned,
        contexts=contexts,
        dry_run=dry_run,
        markup=letters_with_links(settings),
    )


@task(name="publish summary", cache_policy=NONE)
def publish_summary(
    summary: dict[str, Any], *, plan: str | None, dry_run: bool, messages: int
) -> str:
    """A table artifact (key `deadline-sweep`) with the counts of this run."""
    rows = [
        {"what": f"notices: {level}", "count": count}
        for level, count in sorted(Counter(n["level"] for n in summary["notices"]).items())
    ]
    rows += [
        {"what": "notices", "count": len(summary["notices"])},
        {"what": "messages", "count": messages},
        {"what": "escalations opened", "count": summary["escalations_opened"]},
        {"what": "escalations closed", "count": summary["escalations_closed"]},
        {"what": "delivered", "count": summary["delivered"]},
        {"what": "failed", "count": summary["failed"]},
    ]
    scope = f"plan {plan}" if plan else "all plans"
    state = (
        f"skipped: {summary['skipped']}"
        if "skipped" in summary
        else "dry run, nothing written or sent"
        if dry_run
        else "done"
    )
    return str(
        create_table_artifact(
            key=ARTIFACT_KEY,
            table=rows,
            description=f"Deadline sweep of {summary['as_of']} ({scope}): {state}",
        )
    )


def today() -> dt.date:
    """Today on the office's clock (Asia/Shanghai), whatever the worker's zone."""
    now = pendulum.now(TIMEZONE)
    return dt.date(now.year, now.month, now.day)


@flow(name="deadline-sweep", log_prints=False)
def deadline_sweep(
    as_of: dt.date | None = None, plan: str | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """Sweep the open work as of a day: notices, escalations, delivery.

    Skipped, with a log line and `"skipped"` in the result, on a day that is not a working
    day for any plan.

    Args:
        as_of: The day to sweep, YYYY-MM-DD (default: today in Asia/Shanghai).
        plan: Only this plan (its code); default all plans.
        dry_run: Say what would be sent; write and send nothing.
    """
    logger = get_run_logger()
    settings = Settings()
    day = as_of or today()
    contexts, items, waiting = load_open_work(settings, day, plan)
    working = working_plans(contexts, day)
    if not working:
        plans = (
            ", ".join(sorted(contexts))
            if len(contexts) <= 5
            else f"any of the {len(contexts)} plans"
        )
        reason = (
            f"{day} is not a working day for {plans}" if contexts else "no plan has been imported"
        )
        logger.info("skipping the sweep: %s", reason)
        summary = {**sweep_summary(day, None, None), "skipped": reason}
        publish_summary(quote(summary), plan=plan, dry_run=dry_run, messages=0)
        return summary
    if resting := sorted(set(contexts) - working):
        logger.info("%s is not a working day for %s: not swept", day, ", ".join(resting))
    findings = evaluate_items(quote(items), quote(contexts), day)
    planned = plan_all_notices(quote(findings), quote(contexts), day, quote(waiting))
    outcome = write_outbox(
        settings, day, plan, quote(findings), quote(planned), quote(contexts), dry_run
    )
    report = None if dry_run else deliver_all(settings)
    summary = sweep_summary(day, outcome, report)
    logger.info(
        "%s: %s %d notice(s) in %d message(s); escalations opened %d, closed %d; "
        "delivered %d, failed %d",
        day,
        "would write" if dry_run else "wrote",
        len(summary["notices"]),
        outcome.messages,
        outcome.escalations_opened,
        outcome.escalations_closed,
        summary["delivered"],
        summary["failed"],
    )
    publish_summary(quote(summary), plan=plan, dry_run=dry_run, messages=outcome.messages)
    return summary
