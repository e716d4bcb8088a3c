"""Reviews as Prefect flows: the phase review mailed to leadership when a phase ends (or on
demand), and the office's weekly digest of red and yellow items. Both queue their mail in the
same outbox as the sweep (so it is never lost or doubled), deliver it, and publish the review's
Markdown as an artifact. Three task runs each: queue, deliver, publish.

Which mails are due is `tasks.sweep.digest.queue_reviews`, the same function `duban digest`
calls; the database comes from `schemas.settings.Settings()`, read inside each task run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE

from flows.deliver import deliver_all
from flows.runtime import check_this_worker, scheduled_day, through_outages
from render.mail import COMPOSER
from render.review import render_markdown
from schemas.db import create_schema, session_scope
from schemas.settings import Settings
from tasks.review.compute import review_plan
from tasks.sweep.digest import queue_reviews


@task(name="queue reviews", cache_policy=NONE, retries=2, retry_delay_seconds=10)
def queue_mails(
    day: dt.date, plan: str | None, phase: str | None, on_demand: bool, digest: bool
) -> list[str]:
    """Queue the mails due today; returns their subjects (empty when all were sent before)."""
    url = Settings().url
    create_schema(url)
    with session_scope(url) as session:
        messages = queue_reviews(
            session,
            as_of=day,
            composer=COMPOSER,
            plan=plan,
            phase=phase,
            on_demand=on_demand,
            digest=digest,
        )
        return [m.subject for m in messages]


@task(name="publish review", cache_policy=NONE)
def publish_review(day: dt.date, plan: str | None, phase: str | None, queued: list[str]) -> str:
    """One Markdown artifact: the review itself for one plan, else the list of mails queued."""
    if plan is not None:
        with session_scope(Settings().url) as session:
            markdown = render_markdown(review_plan(session, plan, day, phase=phase))
    else:
        markdown = (
            f"# Reviews of {day}\n\n"
            + ("\n".join(f"- {s}" for s in queued) or "Nothing due today.")
            + "\n"
        )
    return str(
        create_markdown_artifact(
            key=f"review-{plan or 'all'}".lower(),
            markdown=markdown,
            description=f"Reviews as of {day}",
        )
    )


def _run(
    day: dt.date, plan: str | None, phase: str | None, on_demand: bool, digest: bool
) -> dict[str, Any]:
    check_this_worker()
    queued = through_outages(
        lambda: queue_mails(day, plan, phase, on_demand, digest), f"review mails of {day}"
    )
    report = deliver_all()
    try:
        publish_review(day, plan, phase, queued)
    except Exception:  # the mail is queued and delivered: its artifact must not fail the run
        get_run_logger().warning("the review of %s could not be published", day, exc_info=True)
    get_run_logger().info(
        "%s: queued %d mail(s), delivered %d", day, len(queued), len(report.delivered)
    )
    return {
        "as_of": day.isoformat(),
        "queued": queued,
        "delivered": len(report.delivered),
        "failed": len(report.failed),
    }


@flow(name="phase-review", log_prints=False)
def phase_review(
    as_of: dt.date | None = None,
    plan: str | None = None,
    phase: str | None = None,
    on_demand: bool = False,
) -> dict[str, Any]:
    """Mail leadership the review of each phase that has ended (once per phase), or, on
    demand, the review of one phase (kind or code) or of the whole plan.

    Args:
        as_of: The day of the review (default: the day the run was scheduled for).
        plan: Only this plan; default all plans.
        phase: With on_demand: the phase to review; default the whole plan.
        on_demand: Send now, whether or not a phase ended.
    """
    return _run(as_of or scheduled_day(), plan, phase, on_demand, digest=False)


@flow(name="office-digest", log_prints=False)
def office_digest(as_of: dt.date | None = None, plan: str | None = None) -> dict[str, Any]:
    """Mail the joint meeting office everything red and yellow (once per ISO week and plan).

    Args:
        as_of: The day of the digest (default: the day the run was scheduled for).
        plan: Only this plan; default all plans.
    """
    return _run(as_of or scheduled_day(), plan, None, on_demand=False, digest=True)
