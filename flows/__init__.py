"""Prefect flows: the orchestration shell around tasks/ (arrives with the deadline sweep)."""
