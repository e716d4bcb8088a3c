"""What the data is: the plan-file models (and their JSON Schema) and the database tables.

May import ``calendars`` (and ``duban.errors``); never ``tasks`` or anything above it.
"""
