"""What a flow run knows about itself from Prefect's runtime: the day it was scheduled for.

A scheduled run that starts late (a worker down over the night, a queue backed up) must still
sweep, review or digest the day it was scheduled for: a sweep of 12-02 run on 12-03 would skip
12-02's notices (they are only sent on the day an item reaches its rung) and send 12-03's early.
"""

from __future__ import annotations

import datetime as dt

from prefect.runtime import flow_run

from calendars.clock import day_of, utc


def scheduled_day() -> dt.date:
    """The office's day of this run's scheduled start (today for a run started by hand)."""
    return day_of(utc(flow_run.scheduled_start_time))
