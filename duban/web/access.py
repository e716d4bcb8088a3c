"""Who may see which assignment, the actor a person acts as, and evidence uploads.

What a person may *do* is the service layer's permission table (tasks.work.actors); this
module only decides what a page may *show*: a liaison sees their own unit's work, the office
and leadership see every plan (or the one plan their account is limited to).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath

from starlette.datastructures import FormData, UploadFile

from duban.web.app import UploadRefused
from duban.web.words import WORDS
from schemas.vocabulary import AccountRole
from tasks.work.accounts import Person
from tasks.work.actors import Forbidden
from tasks.work.desk import WorkRow
from tasks.work.evidence import CHUNK

ACCEPTED = frozenset(
    {
        ".pdf",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".ppt",
        ".pptx",
        ".wps",
        ".et",
        ".dps",
        ".ofd",
        ".txt",
        ".jpg",
        ".jpeg",
        ".png",
        ".zip",
        ".rar",
        ".7z",
    }
)


def may_see(account: Person, row: WorkRow) -> bool:
    if account.plan_code and account.plan_code != row.plan:
        return False
    return account.role != AccountRole.LIAISON or account.unit_code == row.unit


def check_visible(account: Person, row: WorkRow) -> None:
    if not may_see(account, row):
        raise Forbidden(f"{account.username} may not see assignment {row.id}")


@contextmanager
def uploads(form: FormData, field: str, limit_mb: int, language: str) -> Iterator[list[Path]]:
    """The files sent in `field`, checked and saved under their own names in a scratch
    folder for the service layer to store by SHA-256; refused whole if any one is wrong."""
    words = WORDS[language]
    files = [f for f in form.getlist(field) if isinstance(f, UploadFile) and f.filename]
    for upload in files:
        name = PurePath(upload.filename or "").name
        if PurePath(name).suffix.lower() not in ACCEPTED:
            raise UploadRefused(words["error.upload_type"].format(name=name))
        if (upload.size or 0) > limit_mb * 1024 * 1024:
            raise UploadRefused(words["error.upload_size"].format(name=name, mb=limit_mb))
    with tempfile.TemporaryDirectory(prefix="duban-upload-") as scratch:
        paths = []
        for number, upload in enumerate(files):
            folder = Path(scratch) / str(number)  # two files of one name stay two files
            folder.mkdir()
            path = folder / PurePath(upload.filename or "file").name
            upload.file.seek(0)
            with path.open("wb") as copy:  # in chunks, never the whole file in memory
                copied = 0
                while chunk := upload.file.read(CHUNK):
                    copied += len(chunk)
                    if copied > limit_mb * 1024 * 1024:
                        too_big = words["error.upload_size"].format(name=name, mb=limit_mb)
                        raise UploadRefused(too_big)
                    copy.write(chunk)
            paths.append(path)
        yield paths
