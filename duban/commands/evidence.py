"""Commands about evidence files (佐证材料): list a task's files, get one back, checked.

A file is copied out only after its bytes are re-hashed against the SHA-256 recorded when it
was taken, so what `get` writes is what the unit gave (tasks/work/evidence.py)."""

import shutil
from pathlib import Path
from typing import Annotated

import typer

from duban.app import JsonFlag, app, database_url, settings, show_rows, write_out

evidence_app = typer.Typer(help="Evidence files: list a task's, get one back (checked).")
app.add_typer(evidence_app, name="evidence")


@evidence_app.command("list")
def list_files(
    plan: Annotated[str, typer.Argument(help="The plan's code.")],
    task: Annotated[str, typer.Argument(help="The task's code.")],
    as_json: JsonFlag = False,
) -> None:
    """A task's evidence files: id, unit, with what, name, size, SHA-256."""
    from tasks.work.desk import evidence_files

    show_rows(
        f"evidence of {plan} {task}",
        lambda session: evidence_files(session, plan, task),
        ["id", "unit", "with", "name", "size", "sha256"],
        as_json=as_json,
    )


@evidence_app.command("get")
def get_file(
    evidence_id: Annotated[int, typer.Argument(help="The file's id (from `evidence list`).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the file.")],
) -> None:
    """Write one evidence file to --out, after checking it still matches its SHA-256."""
    from schemas.db import session_scope
    from tasks.work.desk import evidence_owner
    from tasks.work.evidence import read_back

    with session_scope(database_url()) as session:
        evidence, _ = evidence_owner(session, evidence_id)
    stored = read_back(settings().evidence_dir, evidence.sha256, evidence.name)
    write_out(out, lambda path: shutil.copyfile(stored, path))
    typer.echo(f"wrote {out}: {evidence.name}, {evidence.size} bytes, sha256 {evidence.sha256}")
