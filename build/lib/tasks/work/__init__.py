"""Work on assignments: the vocabulary, who may act, the lifecycle, the audit trail, status.

``lifecycle`` is the only module that changes an assignment, and every change goes through
``audit``; the decisions a unit must hear of are noted by ``followups`` for the sweep to mail.
May import ``calendars``, ``schemas`` and ``tasks.plans`` (its queries and graph); nothing above
``tasks``.
"""
