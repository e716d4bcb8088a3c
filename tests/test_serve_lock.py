"""One `duban serve` per database: a second is refused with one line naming the first, on
SQLite and on PostgreSQL, and the lock goes with its holder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from duban.serve_lock import AlreadyServing, only_serve
from schemas.db import create_schema

from .conftest import ROOT


def test_a_second_serve_on_the_same_database_is_refused_naming_the_first(database_url):
    with only_serve(database_url):
        with pytest.raises(AlreadyServing) as refused:
            with only_serve(database_url):
                raise AssertionError("two serves hold one database")
    message = str(refused.value)
    assert message.startswith("another duban serve already runs on this database")
    assert f"pid {os.getpid()} on {socket.gethostname()}" in message
    with only_serve(database_url):  # released when the first stopped
        pass


def test_serves_on_two_databases_do_not_stop_each_other(tmp_path, postgres_url):
    with only_serve(f"sqlite:///{tmp_path / 'a.db'}"), only_serve(f"sqlite:///{tmp_path / 'b.db'}"):
        with only_serve(postgres_url):
            pass


def test_the_command_is_refused_in_one_line_before_any_prefect_server_starts(tmp_path):
    home = tmp_path / "home"
    url = f"sqlite:///{home / 'duban.db'}"
    create_schema(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUBAN_"))}
    with only_serve(url):
        ended = subprocess.run(
            [str(Path(sys.executable).with_name("duban")), "serve", "--no-web"],
            cwd=ROOT,
            env=env | {"DUBAN_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert ended.returncode == 6, ended.stderr
    [line] = ended.stderr.splitlines()
    assert line.startswith(
        "error: another duban serve already runs on this database (duban serve pid"
    )
    assert not (home / "prefect").exists()


def test_a_serve_killed_with_sigkill_leaves_no_lock_behind(database_url):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from duban.serve_lock import only_serve\n"
            "with only_serve(sys.argv[1]):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(600)\n",
            database_url,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(AlreadyServing):
            with only_serve(database_url):
                pass
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    with only_serve(database_url):
        pass
