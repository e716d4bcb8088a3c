"""Time: the office's zone, the day an instant falls on in a plan's zone, times shown on the
plan's clock (ack and history agree), and a domain that never reads the clock."""

from __future__ import annotations

import ast
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from calendars import clock
from schemas.plan_file import PlanMeta

from .conftest import PLANS, ROOT

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# ---------------------------------------------------------------------- the clock module


@pytest.mark.parametrize(
    ("instant", "zone", "day"),
    [
        ("2019-12-31T16:30+00:00", "Asia/Shanghai", dt.date(2020, 1, 1)),
        ("2019-12-31T15:59+00:00", "Asia/Shanghai", dt.date(2019, 12, 31)),
        ("2019-12-31T16:00+00:00", "Asia/Shanghai", dt.date(2020, 1, 1)),
        ("2019-12-31T16:30+00:00", "Asia/Urumqi", dt.date(2019, 12, 31)),  # UTC+6
        ("2019-12-31T18:00+00:00", "Asia/Urumqi", dt.date(2020, 1, 1)),
        ("2020-01-01T00:30+08:00", "UTC", dt.date(2019, 12, 31)),
        ("2019-12-31T16:30", "Asia/Shanghai", dt.date(2020, 1, 1)),  # zoneless: stored UTC
    ],
)
def test_the_day_an_instant_falls_on_depends_on_the_zone(instant, zone, day):
    assert clock.day_of(at(instant), zone) == day


def test_the_office_zone_is_shanghai_and_a_plan_brings_its_own():
    class Stored:
        timezone = "Asia/Urumqi"

    assert clock.OFFICE_ZONE == "Asia/Shanghai"
    assert clock.zone_of().name == clock.zone_of("Asia/Shanghai").name == "Asia/Shanghai"
    assert clock.zone_of(Stored()).name == "Asia/Urumqi"
    assert clock.day_of(at("2019-12-31T16:30+00:00")) == dt.date(2020, 1, 1)  # office default
    with pytest.raises(ValueError, match="Mars/Olympus"):
        clock.zone_of("Mars/Olympus")


def test_instants_are_utc_and_days_start_at_local_midnight():
    assert clock.utc(at("2020-03-16T15:00+08:00")) == at("2020-03-16T07:00+00:00")
    assert clock.utc(at("2020-03-16T07:00")).tzinfo is UTC
    assert clock.start_of(dt.date(2020, 1, 1)) == at("2019-12-31T16:00+00:00")
    assert clock.start_of(dt.date(2020, 1, 1), "Asia/Urumqi") == at("2019-12-31T18:00+00:00")
    now = clock.now()
    assert now.tzinfo is UTC and clock.today("Asia/Shanghai") in (
        clock.day_of(now, "Asia/Shanghai"),
        clock.day_of(clock.now(), "Asia/Shanghai"),  # midnight passed in between
    )


def test_a_typed_time_is_read_on_the_given_clock():
    assert clock.moment("2020-03-16T15:00") == at("2020-03-16T07:00+00:00")
    assert clock.moment("2020-03-16T15:00", "Asia/Urumqi") == at("2020-03-16T09:00+00:00")
    assert clock.moment("2020-03-16") == at("2020-03-16T04:00+00:00")  # noon in Shanghai
    assert type(clock.moment("2020-03-16")) is dt.datetime  # not pendulum's subclass
    for bad in ("2020-13-01", "yesterday", "15:00"):
        with pytest.raises(ValueError):
            clock.moment(bad)


def test_dates_and_times_are_written_for_people():
    day = dt.date(2020, 9, 3)
    assert clock.long_date(day) == clock.long_date(day, "zh") == "2020年9月3日"
    assert clock.long_date(day, "en") == "3 September 2020"
    assert clock.long_date(None) == ""
    instant = at("2020-03-16T07:00+00:00")
    assert clock.stamp(instant) == "2020-03-16T15:00+08:00"
    assert clock.stamp(instant, "Asia/Urumqi") == "2020-03-16T13:00+06:00"
    assert clock.stamp(None) == ""


def test_a_plan_file_names_a_real_zone():
    meta = {"code": "x", "title": "x"}
    assert PlanMeta.model_validate(meta).timezone == "Asia/Shanghai"
    assert PlanMeta.model_validate({**meta, "timezone": "Asia/Urumqi"}).timezone == "Asia/Urumqi"
    with pytest.raises(ValidationError, match="unknown time zone"):
        PlanMeta.model_validate({**meta, "timezone": "UTC+8"})


# ---------------------------------------------------------------------- the plan's clock


def plan_on(zone: str | None, folder: Path) -> Path:
    """The Chongqing pilot, run on `zone` (None: as written, on the office's default)."""
    spec = yaml.safe_load((PLANS / "chongqing-2019-pilot.yaml").read_text(encoding="utf-8"))
    if zone is not None:
        spec["plan"]["timezone"] = zone
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("zone", "offset"), [(None, "+08:00"), ("Asia/Urumqi", "+06:00")])
def test_ack_and_history_show_the_same_time_on_the_plans_clock(duban, tmp_path, zone, offset):
    assert duban("import", str(plan_on(zone, tmp_path))).exit_code == 0
    duban("sweep", "--as-of", "2019-08-07")
    waiting = json.loads(duban("receipts", "--json").stdout)
    code = next(r["receipt"] for r in waiting if r["task"] == "t02")
    when = "2019-08-08T17:30"  # evening: in UTC it is still the same day, hours earlier
    acked = duban("ack", code, "--as", "市卫生健康委", "--as-of", when)
    assert acked.exit_code == 0, acked.stderr
    assert acked.stdout.strip().endswith(f"at {when}{offset}")
    again = duban("ack", code, "--as", "市卫生健康委")
    assert again.stdout.strip().endswith(f"at {when}{offset}")

    worked = duban(
        "progress",
        "cq-2019-pilot",
        "t02",
        "--note",
        "推进中",
        "--as",
        "市卫生健康委",
        "--as-of",
        when,
    )
    assert worked.exit_code == 0, worked.stderr
    events = json.loads(duban("history", "cq-2019-pilot", "t02", "--json").stdout)
    assert events[-1]["at"] == f"{when}{offset}"


# ---------------------------------------------------------------------- no clock in the domain

CLOCK_READS = {"now", "utcnow", "today"}  # datetime's, date's, pendulum's, calendars.clock's
TIMERS = {"time.time", "time.time_ns", "time.monotonic", "time.perf_counter"}


def clock_reads(source: str) -> list[str]:
    """Calls that read the clock: now(), x.now(), utcnow(), today(), time.time() and the like,
    found in the syntax tree, so comments and strings do not count."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in CLOCK_READS or ast.unparse(node.func) in TIMERS:
                found.append(f"line {node.lineno}: {ast.unparse(node.func)}()")
    return found


def test_the_scan_finds_the_ways_of_reading_the_clock():
    source = (
        "import time, datetime as dt, pendulum\n"
        "from calendars.clock import now\n"
        "# datetime.now() in a comment is fine\n"
        "x = 'today()'\n"
        "a = dt.datetime.now(dt.UTC); b = dt.datetime.utcnow(); c = dt.date.today()\n"
        "d = time.time(); e = pendulum.now('Asia/Shanghai'); f = now(); g = pendulum.today()\n"
        "h = dt.datetime.combine(dt.date(2020, 1, 1), dt.time(12))\n"  # not a clock read
    )
    assert len(clock_reads(source)) == 7


@pytest.mark.parametrize("layer", ["tasks", "render"])
def test_the_domain_and_the_renderers_never_read_the_clock(layer):
    reads = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / layer).rglob("*.py"))
        if (found := clock_reads(path.read_text(encoding="utf-8")))
    }
    assert reads == {}, f"the caller passes `at` or `as_of`; these read the clock: {reads}"
