"""Prefect flows: the orchestration shell around tasks/, one flow per file.

    sweep.py     deadline_sweep: the daily deadline sweep (notices, escalations, delivery)
    deliver.py   deliver_outbox: the outbox retry
    review.py    phase_review and office_digest: review mails to leadership and the office

prefect.yaml deploys all four; `duban serve` (duban/serve.py) runs them on one machine.

May import ``prefect``, ``calendars``, ``schemas``, ``tasks`` and ``render``; of ``duban`` only
``duban.errors`` (the CLI calls the flows, never the other way).
"""
