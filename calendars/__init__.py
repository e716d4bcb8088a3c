"""Time on the mainland-China working calendar: working-day data and arithmetic (workdays) and
the deadline expressions of work plans (deadlines). No Prefect, no database: plain Python."""
