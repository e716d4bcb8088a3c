"""The domain: plain functions over plain values and the caller's session, in rooms by concern.

- ``tasks.plans``: reading plan files, responsibility clauses, resolution into dates and units,
  the dependency graph, import, lint and recalculation.
- ``tasks.work``: the vocabulary of states and roles, who may do what, the lifecycle (the only
  writer of assignments), the audit trail and derived status.
- ``tasks.sweep``: the escalation ladder, the daily sweep pipeline, notices, the outbox and its
  delivery, the review and digest mails.
- ``tasks.review``: the review of a plan as of a day, as frozen data.
- ``tasks.bulk``: the cyclic collector paused for bulk work (a sweep or a review run in a
  long-lived process: ``duban serve``, a Prefect worker).

Nothing here imports Prefect, the CLI (``duban``), the flows or the renderers (``render``), and
nothing reads the clock: "now" and "today" are parameters (``at``, ``as_of``) that the shell
takes from ``calendars.clock``. May import ``calendars`` and ``schemas`` (and ``duban.errors``);
each room narrows that to the rooms of ``tasks`` it names. ``tests/test_layers.py`` and
``tests/test_clock.py`` enforce it.
"""
