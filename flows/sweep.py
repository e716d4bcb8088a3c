"""The daily deadline sweep as a Prefect flow: `tasks.sweep.pipeline.run_sweep`, the one sweep,
with each of its steps run as a task (`PrefectSteps`) around the same `DirectSteps` method the
CLI runs directly (tested without Prefect). The pipeline decides the order and the skipped
days; this module only adds retries, run history and the summary artifact:

    load open work    contexts of the plans, open dated items, 督办单/通报 awaiting receipt
    evaluate          the rung each item has reached on `as_of`
    plan notices      who is told what
    write outbox      notices, follow-ups and the office's queue in one message per
                      recipient, escalations opened and closed
    deliver           the outbox, in batches of 500 (retried: the mail server may be down)
    publish summary   a table artifact with the counts

Large inputs (100,000 open items, their findings and notices) are passed `quote()`d: Prefect
would otherwise walk every element of them looking for futures, seconds per task run. Large
results are returned `quote()`d too: Prefect links every element of a returned list to the task
run's state (100,000 weak references, 80 ms), while a quoted value is one object to it. The
flow's result is returned `quote()`d for the same reason (17,000 notices cost 1.2 s to walk);
`.unquote()` gives the summary.

A day that is not a working day for any plan (a weekend, a statutory holiday; make-up
Saturdays are working days) is skipped after the first step: nothing is evaluated or sent.
The result, unquoted, is the same dict `duban sweep --json` prints.

The database, the calendars and the transport come from `schemas.settings.Settings()`, read
inside each task run, so a worker takes them from its own environment and no setting (the
database URL and the SMTP password least of all) is ever a task or flow parameter.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, TypeVar, cast

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from prefect.utilities.annotations import quote

from calendars.clock import now
from duban.errors import NotFound
from flows.deliver import deliver_all
from flows.fan_out import holding_slots, plan_codes, sweep_plans_apart
from flows.runtime import check_this_worker, deployment_id, scheduled_day, through_outages
from render.mail import composer_for
from schemas.db import create_schema, sessions
from schemas.settings import Settings
from schemas.tables import Notice
from tasks.sweep.catch_up import PlanDays
from tasks.sweep.outbox import DeliveryReport
from tasks.sweep.pipeline import (
    DirectSteps,
    Finding,
    OpenItem,
    OpenWork,
    PlanContext,
    PlannedNotice,
    SweepOutcome,
    evaluate,
    plan_notices,
    run_sweep,
    sweep_summary,
    working_plans,
)

T = TypeVar("T")
ARTIFACT_KEY = "deadline-sweep"
NOTICES_KEY = "deadline-sweep-notices"
# Notices listed in the artifact: a first sweep of 100k assignments writes 17,000, a 2.3 MB
# table that took the server most of a second to take and the event it raises to refuse.
NOTICES_SHOWN = 1000


def quoted(value: T) -> T:
    """`quote(value)`, typed as the value itself: Prefect unwraps it before the task runs."""
    return cast(T, quote(value))


def worth_retrying(_task: Any, _task_run: Any, state: Any) -> bool:
    """Retry what may pass (the database away for a moment), not an unknown plan."""
    return not isinstance(state.result(raise_on_failure=False), NotFound)


def direct_steps() -> DirectSteps:
    """The steps on this worker's own database and calendars (read from its environment)."""
    settings = Settings()
    return DirectSteps(
        sessions(settings.url), composer_for(settings), at=now(), calendar_dir=settings.calendar_dir
    )


@task(
    name="load open work",
    task_run_name="load open work of {as_of}",
    cache_policy=NONE,
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=worth_retrying,
)
def load_open_work(as_of: dt.date, plan: str | None) -> OpenWork:
    create_schema(Settings().url)
    return direct_steps().load(as_of, plan)


@task(
    name="read the sweep record",
    task_run_name="read the days swept",
    cache_policy=NONE,
    retries=2,
    retry_delay_seconds=10,
)
def read_days_swept(plans: list[str]) -> dict[str, dt.date | None]:
    return direct_steps().swept(plans)


@task(name="evaluate", task_run_name="evaluate the rungs of {as_of}", cache_policy=NONE)
def evaluate_items(
    items: list[OpenItem], contexts: dict[str, PlanContext], as_of: dt.date
) -> quote:  # of the findings
    return quote(evaluate(items, contexts, as_of))


@task(name="plan notices", task_run_name="plan the notices of {as_of}", cache_policy=NONE)
def plan_all_notices(
    findings: list[Finding], contexts: dict[str, PlanContext], as_of: dt.date, waiting: list[Notice]
) -> quote:  # of the notices
    return quote(plan_notices(findings, contexts, as_of, waiting))


@task(
    name="write outbox",
    task_run_name="write the outbox of {as_of}",
    cache_policy=NONE,
    retries=2,
    retry_delay_seconds=10,
)
def write_outbox(
    as_of: dt.date,
    plan: str | None,
    findings: list[Finding],
    planned: list[PlannedNotice],
    contexts: dict[str, PlanContext],
    dry_run: bool,
    catching_up: bool = False,
) -> SweepOutcome:
    """One transaction; a retry after a failure is safe (each notice is written once)."""
    return direct_steps().write(as_of, plan, findings, planned, contexts, dry_run, catching_up)


class PrefectSteps:
    """`run_sweep`'s steps as the task runs above (large values `quote()`d)."""

    def days(self, plan: str | None) -> dict[str, PlanDays]:
        return direct_steps().days(plan)  # a row a plan: read here, not as a task run

    def load(self, as_of: dt.date, plan: str | None) -> OpenWork:
        return load_open_work(as_of, plan)

    def swept(self, plans: list[str]) -> dict[str, dt.date | None]:
        return read_days_swept(plans)

    def evaluate(
        self, items: list[OpenItem], contexts: dict[str, PlanContext], as_of: dt.date
    ) -> list[Finding]:
        if resting := sorted(set(contexts) - working_plans(contexts, as_of)):
            get_run_logger().info(
                "%s is not a working day for %s: not swept", as_of, ", ".join(resting)
            )
        return evaluate_items(quoted(items), quoted(contexts), as_of).unquote()

    def plan(
        self,
        findings: list[Finding],
        contexts: dict[str, PlanContext],
        as_of: dt.date,
        waiting: list[Notice],
    ) -> list[PlannedNotice]:
        return plan_all_notices(
            quoted(findings), quoted(contexts), as_of, quoted(waiting)
        ).unquote()

    def write(
        self,
        as_of: dt.date,
        plan: str | None,
        findings: list[Finding],
        planned: list[PlannedNotice],
        contexts: dict[str, PlanContext],
        dry_run: bool,
        catching_up: bool = False,
    ) -> SweepOutcome:
        big = quoted(findings), quoted(planned), quoted(contexts)
        return write_outbox(as_of, plan, *big, dry_run, catching_up)

    def deliver(self) -> DeliveryReport:
        return deliver_all()


@task(name="publish summary", task_run_name="publish the summary of the sweep", cache_policy=NONE)
def publish_summary(
    summary: dict[str, Any], *, plan: str | None, dry_run: bool, messages: int
) -> str:
    """Two table artifacts: the counts of this run (key `deadline-sweep`) and the notices it
    wrote, naming recipient, plan, task and unit (key `deadline-sweep-notices`; the first
    `NOTICES_SHOWN`, its description says how many of how many), so an operator reads on the
    server what the run did without the database."""
    rows = [
        {"what": f"notices: {level}", "count": count}
        for level, count in sorted(Counter(n["level"] for n in summary["notices"]).items())
    ]
    if summary.get("caught_up"):
        rows.append({"what": "missed days swept first", "count": len(summary["caught_up"])})
    rows += [
        {"what": "notices", "count": len(summary["notices"])},
        {"what": "follow-ups", "count": len(summary["followups"])},
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
    description = f"Deadline sweep of {summary['as_of']} ({scope}): {state}"
    notices = summary["notices"]
    listed = (
        "the notices"
        if len(notices) <= NOTICES_SHOWN
        else f"the first {NOTICES_SHOWN} of {len(notices)} notices; every one is in the database"
    )
    create_table_artifact(
        key=NOTICES_KEY, table=notices[:NOTICES_SHOWN], description=f"{description}: {listed}"
    )
    return str(create_table_artifact(key=ARTIFACT_KEY, table=rows, description=description))


@flow(name="deadline-sweep", log_prints=False)
def deadline_sweep(
    as_of: dt.date | None = None,
    plan: str | None = None,
    dry_run: bool = False,
    catch_up: bool | None = None,
) -> quote:  # of the summary dict
    """Sweep the open work as of a day: notices, escalations, delivery.

    Skipped, with a log line and `"skipped"` in the result, on a day that is not a working
    day for any plan (after sweeping the days missed before it, when catching up).

    Args:
        as_of: The day to sweep, YYYY-MM-DD (default: the day the run was scheduled for, on
            the office's clock; today for a run started by hand).
        plan: Only this plan (its code); default all plans.
        dry_run: Say what would be sent; write and send nothing.
        catch_up: First sweep, in order, the working days each plan missed since its last
            sweep (at most 20 a plan; more are left, and the run says so). Default: when
            `as_of` is not given (a scheduled run), not when it is (a past day by hand).
    """
    check_this_worker()
    logger = get_run_logger()
    day = as_of or scheduled_day()
    catching_up = as_of is None if catch_up is None else catch_up
    if plan is None and deployment_id() is not None:  # a scheduled run: one child per plan
        return quote(sweep_plans_apart(day, dry_run, catching_up))

    def sweep_holding_slots() -> SweepOutcome:
        with holding_slots([plan] if plan else plan_codes()):
            return run_sweep(
                PrefectSteps(), as_of=day, plan=plan, dry_run=dry_run, catch_up=catching_up
            )

    outcome = through_outages(sweep_holding_slots, f"sweep of {day}")
    summary = sweep_summary(outcome)
    for missed in outcome.caught_up:
        logger.info(
            "missed day %s swept: %s %d notice(s) in %d message(s), escalations opened %d",
            missed.as_of,
            "would write" if dry_run else "wrote",
            len(missed.written),
            missed.messages,
            missed.escalations_opened,
        )
    for left in outcome.left_behind:
        logger.warning("not caught up: %s", left.why_left(outcome.limit))
    if outcome.skipped is not None:
        logger.info("skipping the sweep: %s", outcome.skipped)
    else:
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
    try:
        publish_summary(quoted(summary), plan=plan, dry_run=dry_run, messages=outcome.messages)
    except Exception:  # the sweep is done and delivered: its summary must not fail it
        logger.warning(
            "the sweep of %s is done; its summary could not be published", day, exc_info=True
        )
    return quote(summary)
