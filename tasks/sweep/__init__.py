"""The daily sweep: which rung each open assignment has reached, the notices it means (with the
decisions on each unit's work and the office's queue: ``followups``), the outbox that holds them
and the delivery that sends them, plus the review and digest mails.

``pipeline`` is the one sweep that the CLI and the Prefect flows both run. May import
``calendars``, ``schemas``, ``tasks.plans``, ``tasks.work``, ``tasks.review`` and ``tasks.bulk``;
nothing above ``tasks``: markup comes in through the ``notices.MailComposer`` the caller
passes, and the database through the caller's ``Session`` (or a session factory, where a step
must commit on its own).
"""
