"""Evidence files (佐证材料): copied into the evidence folder under their SHA-256, and read back.

A file given as evidence is taken only if it is a regular file (no symlink, fifo, device, and
nothing under /proc, /sys or /dev), no larger than the limit, and, when the installation names
the folders evidence may come from (`evidence_from`), inside one of them. It is opened without
following links and checked on the open handle, then copied in 1 MiB chunks while it is hashed,
so a 1 GB file costs 1 MiB of memory, not 1 GB; the copy lands under its hash only once whole.
Reading a file back re-hashes it: a stored file that was altered is refused, not served.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from duban.errors import BadInput, NotFound

CHUNK = 1024 * 1024
EVIDENCE_LIMIT_MB = 20  # the default of the `evidence_limit_mb` setting
SYSTEM_TREES = (Path("/proc"), Path("/sys"), Path("/dev"))


class EvidenceRefused(BadInput):
    """A file that may not be taken as evidence, or a stored one that no longer matches."""


@dataclass(frozen=True)
class Stored:
    """A file copied into the evidence folder: its hash and size."""

    sha256: str
    size: int


def check_source(path: Path, allowed: Sequence[Path] = ()) -> None:
    """Refuse `path` unless it is a regular file, not a link, outside /proc, /sys and /dev,
    and (when `allowed` names folders) inside one of them."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        raise EvidenceRefused(f"{path}: evidence file not found") from None
    if stat.S_ISLNK(mode):
        raise EvidenceRefused(f"{path}: a symbolic link; give the file itself")
    real = path.resolve()
    if not stat.S_ISREG(mode) or any(real.is_relative_to(tree) for tree in SYSTEM_TREES):
        raise EvidenceRefused(f"{path}: not a regular file; only regular files are evidence")
    if allowed and not any(real.is_relative_to(root.resolve()) for root in allowed):
        roots = ", ".join(str(root) for root in allowed)
        raise EvidenceRefused(f"{path}: outside the folders evidence may come from ({roots})")


def store_file(path: Path, folder: Path, limit_bytes: int) -> Stored:
    """Copy the file at `path` (checked by `check_source`) into `folder`."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise EvidenceRefused(f"{path}: cannot be read ({exc.strerror})") from None
    with os.fdopen(descriptor, "rb") as source:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):  # changed since it was checked
            raise EvidenceRefused(f"{path}: not a regular file; only regular files are evidence")
        return store_stream(source, folder, limit_bytes, name=str(path))


def store_stream(source: BinaryIO, folder: Path, limit_bytes: int, *, name: str) -> Stored:
    """Copy `source` into `folder` in chunks, hashing as it goes; refuse it past the limit."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".incoming-", delete=False) as draft:
        try:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > limit_bytes:
                    raise EvidenceRefused(
                        f"{name}: larger than {limit_bytes // (1024 * 1024)} MB, the evidence limit"
                    )
                digest.update(chunk)
                draft.write(chunk)
        except BaseException:
            draft.close()
            os.unlink(draft.name)
            raise
    stored = Stored(digest.hexdigest(), size)
    target = stored_path(folder, stored.sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(draft.name, target)  # the same bytes under the same name: replacing is harmless
    return stored


def stored_path(folder: Path, sha256: str) -> Path:
    return folder / sha256[:2] / sha256


def read_back(folder: Path, sha256: str, name: str) -> Path:
    """The stored file of `sha256`, after checking its bytes still hash to it."""
    path = stored_path(folder, sha256)
    if not path.is_file():
        raise NotFound(f"the file {name} is missing from the evidence folder")
    digest = hashlib.sha256()
    for chunk in _chunks(path):
        digest.update(chunk)
    if digest.hexdigest() != sha256:
        raise EvidenceRefused(f"{name}: the stored copy no longer matches its SHA-256; not served")
    return path


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk
