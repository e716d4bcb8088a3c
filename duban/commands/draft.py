"""`duban draft`: a plan file drafted from the plan document's text, for a clerk to correct."""

from pathlib import Path
from typing import Annotated

import typer

from duban.app import app, write_out


@app.command()
def draft(
    document: Annotated[
        Path, typer.Argument(help="The plan document: .docx, or text pasted from a page or PDF.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the draft here (default: print it).")
    ] = None,
) -> None:
    """Draft a plan file (YAML) from a plan document: head, phases, tasks, clauses, deadlines,
    units, joint meeting. Each value says in a comment which line it was read from and how
    sure the reading is; what could not be read is left as a placeholder `duban lint` lists."""
    from render.plan_draft import draft_yaml
    from tasks.plans.draft import draft_plan
    from tasks.plans.draft_text import read_document

    drafted = draft_plan(read_document(document))
    text = draft_yaml(drafted)
    if out is None:
        typer.echo(text, nl=False)
        return
    write_out(out, lambda path: path.write_text(text, encoding="utf-8"))
    typer.echo(
        f"wrote {out}: {len(drafted.tasks)} tasks, {len(drafted.phases)} phases, "
        f"{len(drafted.units)} units; check it against {document.name}, then `duban lint {out}`"
    )
