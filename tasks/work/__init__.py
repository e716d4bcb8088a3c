"""Work on assignments: the vocabulary, who may act, the lifecycle, the audit trail, status.

``lifecycle`` is the only module that changes an assignment, and every change goes through
``audit``. May import ``calendars``, ``schemas`` and ``tasks.plans`` (its queries and graph);
nothing above ``tasks``.
"""
