"""Flow tests share ONE real Prefect server (`prefect server start`, started once per session on
a free port with a temporary PREFECT_HOME, stopped at the end): the flows run against it in
this process, `prefect deploy` and a worker run against it as subprocesses.

Only the tests that ask for `prefect_api` see the server: the rest of the suite keeps
PREFECT_SERVER_EPHEMERAL_ENABLED=false and no PREFECT_API_URL, so an accidental flow call there
still fails fast and `duban sweep` there still runs without Prefect. Select these tests with
`pytest -m flows`, or leave them out with `-m "not flows"`.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from duban.serve import (
    PrefectServer,
    free_port,
    prefect_environment,
    stop_process_group,
    wait_healthy,
)
from schemas.db import create_schema, session_scope
from tasks.plans.importer import import_plan

from ..conftest import PLANS

CHONGQING = PLANS / "chongqing-2019-pilot.yaml"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "flows: Prefect flows, deployments and `duban serve` (one real Prefect server per session)",
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups off the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.flows)
            # With pytest-xdist's --dist loadgroup, a group runs on one process, whose Prefect
            # server its tests share: the worker tests in one group, the rest in another.
            group = "prefect-workers" if item.path.name == "test_deployment.py" else "prefect"
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """A real Prefect server for the whole session; its env for subprocesses in `.env`."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    server = PrefectServer(f"http://127.0.0.1:{port}/api", log_path=home / "server.log")
    env = server_env(server, home)
    with open(server.log_path, "wb") as output:  # type: ignore[arg-type]
        server.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        wait_healthy(server, timeout=120)
        yield server
    finally:
        _drain_prefect_workers()
        stop_process_group(server.process)


def server_env(server: PrefectServer, home: Path) -> dict[str, str]:
    """The environment of a Prefect command (server, CLI, worker) for this session."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUBAN_"))}
    return {
        **env,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": server.api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


@pytest.fixture
def prefect_api(prefect_server: PrefectServer) -> Iterator[PrefectServer]:
    """Flows called in this test run against the session's server."""
    assert prefect_server.log_path is not None
    with prefect_environment(
        PREFECT_API_URL=prefect_server.api_url, PREFECT_HOME=str(prefect_server.log_path.parent)
    ):
        try:
            yield prefect_server
        finally:
            _drain_prefect_workers()


@pytest.fixture
def duban_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A duban home (SQLite database, .eml outbox) with the Chongqing plan imported; the
    flows find it through DUBAN_HOME and DUBAN_DATABASE_URL, as a worker would."""
    home = tmp_path / "home"
    url = f"sqlite:///{home / 'duban.db'}"
    create_schema(url)
    with session_scope(url) as session:
        import_plan(session, CHONGQING, at=dt.datetime(2019, 7, 1, tzinfo=dt.UTC))
    monkeypatch.setenv("DUBAN_HOME", str(home))
    monkeypatch.setenv("DUBAN_DATABASE_URL", url)
    return home


def _drain_prefect_workers() -> None:
    """Send the last logs and events to the server before it stops (as the test harness
    does), so nothing is left to fail at exit."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)
