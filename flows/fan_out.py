"""Plans swept apart: one child run per plan on the work pool, so several workers sweep
different plans at once, and never one plan twice at the same time.

Each plan has a Prefect global concurrency limit of one slot, `duban-sweep:<plan>` (made on
first use). A child run holds its plan's slot while it sweeps; a run that sweeps every plan in
its own process (`duban sweep` with PREFECT_API_URL set, `duban serve`) holds all of them at
once. Two parents triggered together therefore queue per plan instead of doubling the work; and
were two sweeps of one plan to run anyway, the database would still write each notice once. A
slot is leased for a minute and renewed while its holder lives, so a sweep killed with its
machine holds its plan for a minute, not for good.

The parent waits for its children and reports each plan's outcome as its sweep recorded it in
the database (the children may have run on other machines, whose results it cannot read).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from uuid import UUID

from prefect import get_run_logger
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.concurrency.sync import concurrency
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectAlreadyExists
from prefect.runtime import deployment, flow_run
from sqlmodel import col, select

from schemas.db import create_schema, session_scope
from schemas.settings import Settings
from schemas.tables import Plan, SweepRun

POLL = 2.0  # seconds between looks at the children's states
LEASE = 60.0  # seconds a slot outlives a holder that died (a live one renews it)
PAGE = 200  # flow runs a request reads at most (the server's default limit)


def plan_codes() -> list[str]:
    """Every imported plan, by code."""
    url = Settings().url
    create_schema(url)
    with session_scope(url) as session:
        return list(session.exec(select(Plan.code).order_by(col(Plan.code))))


def slot_name(plan: str) -> str:
    return f"duban-sweep:{plan}"


@contextmanager
def holding_slots(plans: Sequence[str]) -> Iterator[None]:
    """Hold the sweep slot of each plan (all at once), making the limits that do not exist."""
    names = [slot_name(p) for p in plans]
    with get_client(sync_client=True) as client:
        for name in set(names) - _existing_limits(client):
            try:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1)
                )
            except ObjectAlreadyExists:  # another run made it meanwhile
                pass
    if not names:
        yield
        return
    with concurrency(names, occupy=1, strict=True, lease_duration=LEASE):
        yield


def _existing_limits(client: SyncPrefectClient) -> set[str]:
    """The names of the server's global concurrency limits, a page a request (not one request
    a plan: forty plans cost forty round trips before the sweep could start)."""
    names: set[str] = set()
    while page := client.read_global_concurrency_limits(limit=PAGE, offset=len(names)):
        names |= {limit.name for limit in page}
        if len(page) < PAGE:
            break
    return names


def sweep_plans_apart(day: dt.date, dry_run: bool, catch_up: bool = False) -> dict[str, Any]:
    """Start one child run of this deployment per plan, wait for them all, and report. Each
    child catches up its own plan's missed days when `catch_up` is set."""
    logger = get_run_logger()
    plans = plan_codes()
    target = f"{flow_run.flow_name}/{deployment.name}"
    children = {
        plan: cast(
            FlowRun,
            run_deployment(
                target,
                parameters={
                    "as_of": day.isoformat(),
                    "plan": plan,
                    "dry_run": dry_run,
                    "catch_up": catch_up,
                },
                flow_run_name=f"sweep {plan} of {day}",
                idempotency_key=f"{flow_run.id}:{plan}",  # a retried parent starts none twice
                timeout=0,
            ),
        ).id
        for plan in plans
    }
    logger.info("sweeping %d plan(s) of %s in child runs of %s", len(children), day, target)
    states = wait_for_children(children)
    outcome = {"as_of": day.isoformat(), "plans": _outcomes(day, states)}
    if failed := sorted(p for p, s in states.items() if s != "COMPLETED"):
        raise RuntimeError(f"the sweep of {day} did not complete for {', '.join(failed)}")
    return outcome


def wait_for_children(children: dict[str, Any]) -> dict[str, str]:
    """Each child's final state type, once all have one.

    One request a look for the children still running, not one per child: at 40 plans a
    request per child every POLL seconds kept a fifth of a core of the server busy (0.4 s of
    its time a look against 0.04 s), taken from the children the parent waits for."""
    plan_of = {UUID(str(run_id)): plan for plan, run_id in children.items()}
    states: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        while True:
            running = [run_id for run_id, plan in plan_of.items() if plan not in states]
            for start in range(0, len(running), PAGE):
                page = running[start : start + PAGE]
                for run in client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=page)), limit=len(page)
                ):
                    if run.state is not None and run.state.is_final():
                        states[plan_of[run.id]] = run.state.type.value
            if len(states) == len(children):
                return states
            time.sleep(POLL)


def _outcomes(day: dt.date, states: dict[str, str]) -> list[dict[str, Any]]:
    """What each plan's sweep of `day` recorded (the last, if it ran more than once)."""
    with session_scope(Settings().url) as session:
        runs = {
            run.plan_code: run
            for run in session.exec(
                select(SweepRun).where(SweepRun.as_of == day).order_by(col(SweepRun.id))
            )
        }
    counts = ("notices", "messages", "escalations_opened", "escalations_closed")
    return [
        {"plan": plan, "state": state, **{k: getattr(runs.get(plan), k, 0) for k in counts}}
        for plan, state in sorted(states.items())
    ]
