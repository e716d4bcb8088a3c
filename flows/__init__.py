"""Prefect flows: the orchestration shell around tasks/, one flow per file.

    sweep.py     deadline_sweep: the daily deadline sweep (notices, escalations, delivery)
    deliver.py   deliver_outbox: the outbox retry

prefect.yaml deploys both; `duban serve` (duban/serve.py) runs them on one machine.
"""
