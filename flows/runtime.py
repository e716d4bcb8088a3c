"""What a flow run knows about itself from Prefect's runtime (the day it was scheduled for,
whether this worker runs the duban its deployment was made with), and how it outlasts a
database that is away for minutes.

A scheduled run that starts late (a worker down over the night, a queue backed up) must still
sweep, review or digest the day it was scheduled for: a sweep of 12-02 run on 12-03 would skip
12-02's notices (they are only sent on the day an item reaches its rung) and send 12-03's early.

A worker that was not upgraded with the rest would run old rules on new data; the deployment
carries the version it was made with (prefect.yaml's `version`), and a run on a worker with
another refuses to start, saying which to install.

A database away longer than a task's own retries (a failover, a restart: minutes) would lose
the day's sweep; the whole run is tried again with a growing wait instead, which is safe because
a run writes each notice once and sends each message once however often it is repeated.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import TypeVar
from uuid import UUID

from prefect import get_run_logger
from prefect.context import FlowRunContext
from prefect.runtime import deployment, flow_run
from sqlalchemy.exc import OperationalError

from calendars.clock import day_of, utc
from duban.errors import EnvironmentProblem
from schemas.db import DatabaseUnreachable

T = TypeVar("T")
OUTAGE_WAITS = (30, 60, 120, 240, 480)  # seconds before each new try: ~15 minutes in all


class WorkerMismatch(EnvironmentProblem):
    """This worker's duban is not the version the deployment was made with."""


def scheduled_day() -> dt.date:
    """The office's day of this run's scheduled start (today for a run started by hand)."""
    return day_of(utc(flow_run.scheduled_start_time))


def deployment_id() -> UUID | None:
    """The deployment this flow run was made from, None for a run started in-process.

    Read from the run's own context: `prefect.runtime.deployment.id` asks the server for the
    flow run every time it is read, which was 0.25 s of a sweep that made no deployment."""
    context = FlowRunContext.get()
    return context.flow_run.deployment_id if context and context.flow_run else None


def check_this_worker() -> None:
    """WorkerMismatch unless this worker runs the deployment's duban version (a run not made
    from a deployment, or a deployment without a version, is not checked)."""
    if deployment_id() is None:
        return
    expected = deployment.version
    installed = version("duban")
    if expected and expected != installed:
        raise WorkerMismatch(
            f"this worker runs duban {installed}, the deployment {deployment.name!r} was made "
            f"with duban {expected}: install duban {expected} here (or redeploy), then rerun"
        )


def through_outages(run: Callable[[], T], what: str) -> T:
    """`run()`, tried again from the start while the database cannot be reached, after each
    of OUTAGE_WAITS; the error of the last try if it never comes back."""
    for wait in OUTAGE_WAITS:
        try:
            return run()
        except (DatabaseUnreachable, OperationalError) as exc:
            get_run_logger().warning(
                "%s: the database is unreachable (%s); the whole run again in %d s",
                what,
                str(exc).splitlines()[0],
                wait,
            )
            time.sleep(wait)
    return run()
