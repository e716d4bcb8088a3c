"""What the suite does on a machine without what it needs: a PostgreSQL that is not running
skips the PostgreSQL tests, one that refuses us fails them, and on CI a missing one stops the run
in one line. Each case runs one PostgreSQL test in a pytest of its own, pointed at a PostgreSQL
that is not there or will not have us. And what the suite's speed rests on: the tests one group
(`xdist_group`, as tests/flows/conftest.py gives it) run on one process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from duban.serve import free_port

from .conftest import ROOT

ONE_POSTGRES_TEST = "tests/test_postgres_connections.py::test_a_postgres_test_uses_its_engine[0]"


def run_suite(postgres: str, *, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["DUBAN_TEST_POSTGRES"] = postgres
    if ci:
        env["CI"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", ONE_POSTGRES_TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def nowhere() -> str:
    return f"postgresql://postgres@127.0.0.1:{free_port()}/test"


def test_a_postgres_that_is_not_running_skips_the_postgres_tests_off_ci() -> None:
    run = run_suite(nowhere(), ci=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped" in run.stdout and "PostgreSQL is not running at" in run.stdout


def test_a_postgres_that_refuses_us_is_a_failure_not_a_skip(postgres_url: str) -> None:
    """(`postgres_url` only to skip where no PostgreSQL is running to refuse us.)"""
    run = run_suite("postgresql://postgres@127.0.0.1:5432/no_such_database", ci=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "skipped" not in run.stdout
    assert "but refuses us" in run.stdout and "no_such_database" in run.stdout


def test_on_ci_a_missing_postgres_stops_the_run_in_one_line() -> None:
    run = run_suite(nowhere(), ci=True)
    assert run.returncode == 4, run.stdout + run.stderr
    said = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert len(said) == 1 and "CI requires PostgreSQL (not running at" in said[0], said


def test_the_tests_of_one_group_run_on_one_process(tmp_path: Path) -> None:
    """The flow tests of a group share the Prefect server their process starts (10 s) only if
    pytest-xdist keeps a group on one process; pytest 9.2 silently broke that (pytest-xdist
    issue 1386: every flow test's process started a server of its own), hence `pytest<9.2`."""
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n\n"
        "@pytest.hookimpl(tryfirst=True)\n"
        "def pytest_collection_modifyitems(items):\n"
        "    for item in items:\n"
        '        item.add_marker(pytest.mark.xdist_group("prefect"))\n'
    )
    (tmp_path / "test_grouped.py").write_text(
        "".join(f"def test_{n}():\n    pass\n\n\n" for n in range(6))
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "-n", "3"]
        + ["--dist", "loadgroup"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    processes = re.findall(r"\[(gw\d+)\].* PASSED", run.stdout)
    assert len(processes) == 6 and len(set(processes)) == 1, run.stdout
