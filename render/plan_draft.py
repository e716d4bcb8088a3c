"""A drafted plan (tasks.plans.draft) written as a plan file, comments and all.

The YAML comes from the template render/templates/plans/draft.yaml; values pass through the
`yq` filter (a JSON string is a YAML double-quoted scalar), so a quote or a colon in the plan's
text cannot change the file's structure.
"""

from __future__ import annotations

from render.environment import render
from tasks.plans.draft import Draft
from tasks.plans.lint import PLACEHOLDER


def draft_yaml(draft: Draft) -> str:
    """The plan file text of a draft."""
    return render(
        "plans/draft.yaml",
        source=draft.source,
        notes=draft.notes,
        code=draft.code,
        title=draft.title,
        document_number=draft.document_number,
        issuer=draft.issuer,
        issued=draft.issued,
        units=draft.units,
        groups=draft.groups,
        meeting=draft.meeting,
        phases=draft.phases,
        tasks=draft.tasks,
        left_out=draft.left_out,
        placeholder=PLACEHOLDER,
        office_placeholder=f"{PLACEHOLDER}（联席会议办公室）",
    )
