"""The made-up county plan (tests/data/plans/county-2021.yaml) and its story, for the tests of
fair blame, the ranking, the office's own lateness and the review page's grouping.

- `plan` (制定县级检查方案, due 2021-02-26) is led by the commission, which is extended to
  2021-04-30 and delivers on 2021-04-28, and by the hospitals, which deliver late on 2021-04-06.
- `check` (开展县级抽查, due 2021-03-31) names `plan` in its depends_on: 石门县 delivers on
  2021-04-06, the day the hospitals' late part came; 白水县 on 2021-04-28 (only the commission's
  approved extension ran that long), under a 督办 opened by the sweep of 2021-04-12.
- `inspect` (the hospitals' inspection, due 2021-03-31, implementation phase) is never done.
- `joint` (due 2021-06-30): the commission delivers on time; 青山县, co-responsible, late.
- `audit` (due 2021-05-31) is the office's own and never done: swept on 06-01 and 06-08.
- `summary` (24 counties, due 2021-07-15, final phase): 17 on time, 柳河县 late, six never.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from calendars.clock import utc, zone_of
from duban.replay import perform
from render.mail import COMPOSER
from schemas.db import create_schema, session_scope, sessions
from tasks.plans.importer import import_plan
from tasks.sweep.pipeline import DirectSteps, run_sweep

from .conftest import DATA

D = dt.date
PLAN = "county-2021"
PLAN_FILE = DATA / "plans" / "county-2021.yaml"
OFFICE = "联席会议办公室"
NEVER = ("金沙县", "玉溪县", "凤凰县", "云台县", "黄岩县", "绿洲县")
COUNTIES = (
    "青山县 白水县 石门县 龙泉县 桃源县 松溪县 梅岭县 柳河县 金沙县 玉溪县 凤凰县 云台县 "
    "黄岩县 绿洲县 红星县 蓝田县 紫阳县 丹江县 碧水县 清河县 长乐县 永宁县 安远县 太和县"
).split()
SWEEPS = (D(2021, 4, 12), D(2021, 6, 1), D(2021, 6, 8))


def _submit(task: str, unit: str) -> dict[str, Any]:
    return {"do": "submit", "task": task, "as": unit, "note": "已完成"}


def _accept(task: str, unit: str) -> dict[str, Any]:
    return {"do": "accept", "task": task, "unit": unit, "as": OFFICE}


STORY: list[tuple[dt.date, dict[str, Any]]] = [
    (
        D(2021, 2, 20),
        {
            "do": "extend",
            "task": "plan",
            "as": "市卫生健康委",
            "to": D(2021, 4, 30),
            "reason": "待省里下发模板",
        },
    ),
    (
        D(2021, 2, 22),
        {
            "do": "decide",
            "task": "plan",
            "unit": "市卫生健康委",
            "as": OFFICE,
            "approve": True,
            "reason": "同意",
        },
    ),
    (D(2021, 4, 6), _submit("plan", "市属医院")),
    (D(2021, 4, 6), _submit("check", "石门县")),
    (D(2021, 4, 7), _accept("plan", "市属医院")),
    (D(2021, 4, 7), _accept("check", "石门县")),
    (D(2021, 4, 28), _submit("plan", "市卫生健康委")),
    (D(2021, 4, 28), _submit("check", "白水县")),
    (D(2021, 4, 30), _accept("plan", "市卫生健康委")),
    (D(2021, 6, 29), _submit("joint", "市卫生健康委")),
    (D(2021, 6, 30), _accept("joint", "市卫生健康委")),
    (D(2021, 7, 20), _submit("joint", "青山县")),
    *(
        (D(2021, 7, 14), _submit("summary", county))
        for county in COUNTIES
        if county not in (*NEVER, "柳河县")
    ),
    (D(2021, 7, 22), _submit("summary", "柳河县")),
]


def build_county(url: str, *, until: dt.date | None = None, plan_file: Path = PLAN_FILE) -> None:
    """Import the plan and play its story up to `until`: on a sweep day the sweep runs in the
    morning, the day's events in the afternoon (as duban.replay does, without the daily sweep)."""
    create_schema(url)
    with session_scope(url) as session:
        import_plan(session, plan_file, at=dt.datetime(2021, 1, 5, tzinfo=dt.UTC))
    days = sorted({day for day, _ in STORY} | set(SWEEPS))
    for day in days:
        if until is not None and day > until:
            break
        if day in SWEEPS:
            morning = utc(dt.datetime.combine(day, dt.time(8, 30), zone_of()))
            run_sweep(DirectSteps(sessions(url), COMPOSER, at=morning), as_of=day, plan=PLAN)
        afternoon = utc(dt.datetime.combine(day, dt.time(15, 0), zone_of()))
        with session_scope(url) as session:
            for when, event in STORY:
                if when == day:
                    perform(session, PLAN, event, afternoon)
