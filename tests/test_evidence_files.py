"""Evidence files (#11 §5): only regular files, no larger than the limit, from the folders
allowed; copied in chunks while hashed; read back (CLI and web) only if they still match."""

from __future__ import annotations

import hashlib
import os
import re
import tracemalloc
from pathlib import Path

import pytest

from tasks.work.evidence import EvidenceRefused, check_source, read_back, store_file

from .conftest import PLANS
from .test_web import assignment_of
from .webworld import build_world, logged_in, token_of

PLAN = "cq-2019-pilot"


def test_a_large_file_is_copied_in_chunks_not_read_whole(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        for _ in range(64):
            handle.write(os.urandom(1024 * 1024))
    tracemalloc.start()
    try:
        stored = store_file(big, tmp_path / "evidence", limit_bytes=100 * 1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # the file is 64 MB
    assert stored.sha256 == hashlib.sha256(big.read_bytes()).hexdigest()
    assert stored.size == 64 * 1024 * 1024


def test_a_file_over_the_limit_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"0" * (2 * 1024 * 1024))
    folder = tmp_path / "evidence"
    with pytest.raises(EvidenceRefused, match="larger than 1 MB"):
        store_file(big, folder, limit_bytes=1024 * 1024)
    assert list(folder.rglob("*")) == []


@pytest.mark.parametrize("special", ["link", "fifo", "/dev/zero", "/proc/self/status", "folder"])
def test_only_regular_files_are_evidence(tmp_path: Path, special: str) -> None:
    target = tmp_path / "real.txt"
    target.write_text("真的")
    if special == "link":
        path = tmp_path / "link.txt"
        path.symlink_to(target)
    elif special == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
    elif special == "folder":
        path = tmp_path
    else:
        path = Path(special)
    with pytest.raises(EvidenceRefused, match=re.escape(str(path))):
        check_source(path)


def test_a_file_outside_the_allowed_folders_is_refused(tmp_path: Path) -> None:
    allowed, other = tmp_path / "uploads", tmp_path / "elsewhere"
    allowed.mkdir(), other.mkdir()
    (allowed / "ok.pdf").write_text("ok")
    (other / "secret.txt").write_text("no")
    check_source(allowed / "ok.pdf", [allowed])
    with pytest.raises(EvidenceRefused, match="outside the folders"):
        check_source(other / "secret.txt", [allowed])
    with pytest.raises(EvidenceRefused, match="outside the folders"):
        check_source(allowed / ".." / "elsewhere" / "secret.txt", [allowed])


def test_the_cli_lists_and_gets_evidence_and_refuses_an_altered_copy(duban, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert duban("import", str(PLANS / "chongqing-2019-pilot.yaml")).exit_code == 0
    minutes = tmp_path / "纪要.pdf"
    minutes.write_bytes("会议纪要".encode() * 100)
    step = ("progress", PLAN, "t08", "--note", "n", "--evidence", str(minutes), "--as", "永川区")
    assert duban(*step, "--as-of", "2019-09-12").exit_code == 0
    listed = duban("evidence", "list", PLAN, "t08", "--json")
    assert listed.exit_code == 0, listed.output
    assert '"纪要.pdf"' in listed.output
    evidence_id = re.search(r'"id": (\d+)', listed.output).group(1)  # type: ignore[union-attr]
    out = tmp_path / "back.pdf"
    assert duban("evidence", "get", evidence_id, "--out", str(out)).exit_code == 0
    assert out.read_bytes() == minutes.read_bytes()
    digest = hashlib.sha256(minutes.read_bytes()).hexdigest()
    stored = tmp_path / "home" / "evidence" / digest[:2] / digest
    stored.write_bytes(b"altered")
    refused = duban("evidence", "get", evidence_id, "--out", str(tmp_path / "again.pdf"))
    assert refused.exit_code == 2 and "no longer matches" in refused.stderr


def test_the_cli_refuses_evidence_from_outside_evidence_from(duban, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert duban("import", str(PLANS / "chongqing-2019-pilot.yaml")).exit_code == 0
    monkeypatch.setenv("DUBAN_EVIDENCE_FROM", f'["{tmp_path / "uploads"}"]')
    step = ("progress", PLAN, "t08", "--note", "n", "--evidence", "/etc/hostname", "--as", "永川区")
    refused = duban(*step, "--as-of", "2019-09-12")
    assert refused.exit_code == 2 and "outside the folders" in refused.stderr


def test_a_web_download_is_refused_when_the_stored_copy_was_altered(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    wjw = logged_in(world, "wjw")
    own = assignment_of(world, "t02", "cqwjw")
    token = token_of(wjw, f"/a/{own}")
    content = "会议纪要".encode() * 100
    wjw.post(
        f"/a/{own}/progress",
        data={"csrf": token, "note": "已起草"},
        files=[("files", ("纪要.pdf", content, "application/pdf"))],
    )
    evidence = re.search(r'href="/evidence/(\d+)"', wjw.get(f"/a/{own}").text)
    assert evidence
    assert wjw.get(f"/evidence/{evidence.group(1)}").content == content
    digest = hashlib.sha256(content).hexdigest()
    read_back(world.settings.evidence_dir, digest, "纪要.pdf")
    (world.settings.evidence_dir / digest[:2] / digest).write_bytes(b"altered")
    assert wjw.get(f"/evidence/{evidence.group(1)}").status_code == 400


def test_doctor_shows_the_evidence_folder_and_roots_in_effect(duban, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert duban("init").exit_code == 0
    shown = duban("doctor").output
    assert f"evidence_folder = {tmp_path / 'home' / 'evidence'}" in shown
    assert "evidence_from = anywhere (not restricted)" in shown
