"""Plans: from a plan file to stored phases, tasks and assignments.

The reader and resolution turn YAML into checked values (deadlines through ``calendars``,
clauses through ``responsibility``); ``graph`` checks them as a dependency graph; the importer
writes them; ``lint`` and ``recalc`` look again later. May import ``calendars``, ``schemas``,
``tasks.work.status`` (for the calendar a plan uses), ``tasks.work.actors`` and
``tasks.work.audit`` (for who imported, in the audit trail); nothing above ``tasks``.
"""
