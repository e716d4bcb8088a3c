"""What the data is: the plan-file models (and their JSON Schema), the database tables and the
sessions on them (`db`), and what this installation is (`settings`).

May import ``calendars`` (and ``duban.errors``); never ``tasks`` or anything above it.
"""
