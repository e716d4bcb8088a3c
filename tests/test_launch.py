"""The `duban` console command runs a one-shot command without the cyclic collector and keeps
it for the commands that run for days (duban.launch)."""

from __future__ import annotations

import gc
import sys

import pytest

from duban.launch import main


@pytest.fixture
def collector_restored():  # type: ignore[no-untyped-def]
    yield
    gc.enable()


@pytest.mark.parametrize(
    ("command", "collecting"),
    [("plans", False), ("due", False), ("web", True), ("serve", True), ("demo", True)],
)
def test_only_the_long_running_commands_keep_the_collector(
    command, collecting, monkeypatch, collector_restored
):
    monkeypatch.setattr(sys, "argv", ["duban", command, "--help"])
    with pytest.raises(SystemExit) as ended:
        main()
    assert ended.value.code == 0 and gc.isenabled() is collecting
