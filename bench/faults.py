"""Fault script: does the outbox lose or duplicate mail when things go wrong?

Three faults, each against a real aiosmtpd sink that counts what it receives per
(Message-ID, recipient), on SQLite and on PostgreSQL (a schema of its own, dropped after):

- outage:  SMTP down for longer than the outbox's give-up time (every try fails until the
           message is given up on), then back; `retry_failed` puts the mail back.
- refusal: the server refuses one recipient with 450 and another with 550 on the first try.
- kill:    `duban sweep` and then `duban deliver` run as subprocesses, each killed with SIGKILL
           after a random delay; then the claims the killed workers left are let lapse (the
           10-minute lease, moved back in the database rather than waited for) and
           `duban deliver` runs to the end.

Prints, per backend and fault, the runs and how many mails were lost (a recipient of a written
message never received it, 550 refusals aside) and duplicated (received twice). A duplicate is
possible only when a worker is killed between the server's 250 and recording it (docs/sweep.md).

Usage: python bench/faults.py [--runs 20] [--backends sqlite,postgres] [--port 8720]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any

import psycopg
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlmodel import select

from render.mail import COMPOSER
from schemas.db import create_schema, dispose_engines, engine_for, session_scope, sessions
from schemas.tables import OutboxMessage
from schemas.vocabulary import ActorKind
from tasks.plans.importer import import_plan
from tasks.sweep.delivery import SmtpTransport
from tasks.sweep.outbox import MAX_ATTEMPTS, deliver_everything, retry_failed
from tasks.work.actors import Actor

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "plans" / "chongqing-2019-pilot.yaml"
DAY = dt.date(2019, 8, 1)
NOW = dt.datetime(2019, 8, 1, 9, tzinfo=dt.UTC)
POSTGRES = os.environ.get("DUBAN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
OFFICE = Actor(ActorKind.OFFICE, label="office", person="bench/faults.py", channel="cli")


@dataclass
class Sink:
    """An aiosmtpd handler counting (Message-ID, recipient); refuses as told, once each."""

    received: Counter[tuple[str, str]] = field(default_factory=Counter)
    refuse_once: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse_once:
            reply = self.refuse_once[address]
            if reply.startswith("4"):
                del self.refuse_once[address]  # a temporary refusal: accepted next time
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message_id = message_from_bytes(envelope.original_content)["Message-ID"]
        for address in envelope.rcpt_tos:
            self.received[(message_id, address)] += 1
        return "250 2.0.0 accepted"


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{uuid.uuid4().hex}.db'}"
        return
    schema = f"faults_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    base = POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        dispose_engines()
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def prepared(url: str) -> None:
    create_schema(url)
    with session_scope(url) as session:
        import_plan(session, PLAN, at=NOW)


def expected(url: str, refused_for_good: frozenset[str]) -> set[tuple[str, str]]:
    """Every (Message-ID, address) the outbox holds, but addresses refused for good."""
    with session_scope(url) as session:
        rows = session.exec(select(OutboxMessage)).all()
        wanted = set()
        for m in rows:
            for address in {*m.to_addrs, *m.cc_addrs, *(m.refused or {})}:
                if address not in refused_for_good:
                    wanted.add((m.message_id_header, address))
        return wanted


def tally(
    url: str, sink: Sink, refused_for_good: frozenset[str] = frozenset()
) -> tuple[int, int, int]:
    """Lost, duplicated, and expected (Message-ID, recipient) pairs of one run."""
    wanted = expected(url, refused_for_good)
    lost = len(wanted - set(sink.received))
    duplicated = sum(n - 1 for n in sink.received.values() if n > 1)
    return lost, duplicated, len(wanted)


def smtp(port: int) -> SmtpTransport:
    return SmtpTransport(host="127.0.0.1", port=port, user=None, password=None, timeout=5)


def outage(url: str, sink: Sink, port: int, closed_port: int) -> tuple[int, int, int]:
    prepared(url)
    from tasks.sweep.pipeline import DirectSteps, run_sweep

    run_sweep(DirectSteps(sessions(url), COMPOSER, at=NOW), as_of=DAY)  # writes; no transport
    for attempt in range(MAX_ATTEMPTS + 1):  # down past the give-up time
        deliver_everything(sessions(url), smtp(closed_port), now=NOW + dt.timedelta(days=attempt))
    with session_scope(url) as session:
        retry_failed(session, now=NOW, by=OFFICE)
    deliver_everything(sessions(url), smtp(port), now=NOW + dt.timedelta(days=30))
    return tally(url, sink)


def refusal(url: str, sink: Sink, port: int) -> tuple[int, int, int]:
    prepared(url)
    from tasks.sweep.pipeline import DirectSteps, run_sweep

    sink.refuse_once = {
        "wjw@na.cq.example.org": "450 4.2.1 busy",
        "wjw@yc.cq.example.org": "550 5.1.1 no such mailbox",
    }
    run_sweep(DirectSteps(sessions(url), COMPOSER, at=NOW), as_of=DAY)
    for hours in range(0, 48, 6):
        deliver_everything(sessions(url), smtp(port), now=NOW + dt.timedelta(hours=hours))
    return tally(url, sink, frozenset({"wjw@yc.cq.example.org"}))


def killed(url: str, sink: Sink, port: int, home: Path, rng: random.Random) -> tuple[int, int, int]:
    prepared(url)
    env = {
        **os.environ,
        "DUBAN_DATABASE_URL": url,
        "DUBAN_HOME": str(home),
        "DUBAN_SMTP_HOST": "127.0.0.1",
        "DUBAN_SMTP_PORT": str(port),
    }
    duban = [str(Path(sys.executable).with_name("duban"))]  # the console script of this venv
    for command in (["sweep", "--as-of", DAY.isoformat()], ["deliver"]):
        process = subprocess.Popen(
            [*duban, *command], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.5, 4.0))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()
    subprocess.run(
        [*duban, "sweep", "--as-of", DAY.isoformat()],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with engine_for(url).begin() as conn:  # the lease of a killed worker's claim runs out
        conn.execute(
            text("UPDATE outboxmessage SET claimed_at = claimed_at - interval '1 hour'")
            if url.startswith("postgresql")
            else text("UPDATE outboxmessage SET claimed_at = datetime(claimed_at, '-1 hour')")
        )
    subprocess.run(
        [*duban, "deliver"],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return tally(url, sink)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--faults", default="outage,refusal,kill")
    parser.add_argument("--port", type=int, default=8720)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=args.port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            for backend in args.backends.split(","):
                for fault in args.faults.split(","):
                    lost = duplicated = mails = 0
                    for _ in range(args.runs):
                        sink.received.clear()
                        sink.refuse_once.clear()
                        with database(backend, Path(folder)) as url:
                            if fault == "outage":
                                result = outage(url, sink, args.port, args.port + 9)
                            elif fault == "refusal":
                                result = refusal(url, sink, args.port)
                            else:
                                result = killed(url, sink, args.port, Path(folder), rng)
                            dispose_engines()
                        lost += result[0]
                        duplicated += result[1]
                        mails += result[2]
                    print(
                        f"{backend:9} {fault:8} runs {args.runs:3}  mails {mails:4}  "
                        f"lost {lost}  duplicated {duplicated}",
                        flush=True,
                    )
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
