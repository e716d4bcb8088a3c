"""The main job on the embedded default: import the bundled plans, replay the Chongqing pilot
plan's timeline (2019-07-01 to 2020-09-30) through the daily sweep with a scripted story of
work done on time, late and never, and say what was sent to whom and where the mail went."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlmodel import col, func, select

from calendars.clock import now
from duban.replay import replay_story
from render.mail import COMPOSER
from render.review import render_html
from schemas.db import create_schema, session_scope
from schemas.settings import Settings
from schemas.tables import Escalation, Notice, OutboxMessage
from schemas.vocabulary import Level, MessageStatus
from tasks.plans.importer import import_plan
from tasks.review.compute import review_plan
from tasks.sweep.delivery import EmlOutbox
from tasks.sweep.notices import MailComposer

console = Console()
LEVELS = {
    Level.REMINDER: "提醒",
    Level.DUE: "到期提醒",
    Level.URGE: "催办",
    Level.SUPERVISE: "督办",
    Level.REPORT: "通报",
    Level.UNACKNOWLEDGED: "未签收",
}


def run_demo(
    settings: Settings, plans_dir: Path, composer: MailComposer = COMPOSER
) -> tuple[str, dt.date | None]:
    """Replay the stories; the database's URL and the last day replayed. The mails are
    composed by `composer` (`duban demo --web` passes one that adds the one-click links)."""
    started = time.perf_counter()
    home = settings.home / "demo"
    shutil.rmtree(home, ignore_errors=True)  # the story starts from a clean slate every run
    url = f"sqlite:///{home / 'duban.db'}"
    outbox = home / "outbox"
    create_schema(url)
    with session_scope(url) as session:
        for path in sorted(plans_dir.glob("*.yaml")):
            report = import_plan(session, path, at=now())
            console.print(
                f"imported [bold]{report.plan}[/bold] ({path.name}): {report.tasks} "
                f"tasks, {report.assignments} assignments"
            )
    last_day = None
    for story in sorted((plans_dir / "stories").glob("*.yaml")):
        console.print(f"replaying {story.name}: a sweep every working morning …")
        replay = replay_story(url, story, EmlOutbox(outbox), composer=composer)
        last_day = replay.last_day
        console.print(
            f"{replay.days} days, {replay.events} story events, "
            f"{replay.delivered} mails delivered, {replay.failed} failed"
        )
        _summary(url, outbox)
        _final_review(url, replay.plan, replay.last_day, home)
    console.print(f"database: {url}  ({time.perf_counter() - started:.1f} s)")
    return url, last_day


def _final_review(url: str, plan: str, day: dt.date, home: Path) -> None:
    """Leadership's final evaluation review, as the plan's last day saw it."""
    with session_scope(url) as session:
        review = review_plan(session, plan, day, phase="final_evaluation")
        whole = review_plan(session, plan, day)
    path = home / f"{plan}-final-evaluation.html"
    path.write_text(render_html(review), encoding="utf-8")
    first = "、".join(u.name for u in whole.units if u.rank == 1) or "—"  # ties share it
    console.print(
        f"final evaluation review ({whole.counts.completion_pct}% complete, "
        f"{whole.counts.on_time_pct}% on time, first in the ranking: {first}): {path}"
    )


def _summary(url: str, outbox: Path) -> None:
    with session_scope(url) as session:
        levels = dict(session.exec(select(Notice.level, func.count()).group_by(Notice.level)).all())
        copies = session.exec(select(func.count()).where(Notice.in_copy)).one()
        opened = session.exec(select(func.count()).select_from(Escalation)).one()
        closed = session.exec(
            select(func.count()).where(col(Escalation.closed_on).is_not(None))
        ).one()
        still_open = session.exec(
            select(Escalation).where(col(Escalation.closed_on).is_(None))
        ).all()
        unacked = session.exec(
            select(func.count()).where(
                col(Notice.receipt_code).is_not(None), col(Notice.acknowledged_at).is_(None)
            )
        ).one()
        sent = session.exec(
            select(func.count()).where(OutboxMessage.status == MessageStatus.SENT)
        ).one()
    grid = Table(title="notices by level")
    for column in ("level", "级别", "notices"):
        grid.add_column(column)
    for level, name in LEVELS.items():
        grid.add_row(level, name, str(levels.get(level, 0)))
    console.print(grid)
    console.print(f"of which copies to the joint meeting office: {copies}")
    console.print(
        f"escalations (督办) opened {opened}, closed {closed}, still open "
        f"{len(still_open)}: " + ", ".join(f"{e.task_code} {e.unit_code}" for e in still_open)
    )
    console.print(f"督办单/通报 not acknowledged: {unacked}")
    console.print(f"{sent} mails delivered as .eml files in {outbox}")
