"""Capture the Chongqing story's render inputs once: `python tests/data/golden/capture_story.py`.

Replays the bundled Chongqing plan (as tests/test_review.py does), records three reviews and a
varied set of the letters the sweeps wrote, and saves them as JSON in `story.json`. The golden
outputs of tests/test_templates.py are rendered from these inputs, so the template test needs no
database and no replay. Run it again only when the story or the review's data model changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

from duban.replay import replay_story
from render.mail import Composer
from schemas.db import create_schema, session_scope
from tasks.plans.importer import import_plan
from tasks.review.compute import review_plan
from tasks.sweep.delivery import EmlOutbox
from tasks.sweep.notices import Letter, RenderedMail

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
PLAN = "cq-2019-pilot"
REVIEWS = (("2020-09-30", None), ("2020-09-30", "final_evaluation"), ("2019-08-09", None))


def plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def shape(letter: Letter) -> tuple[object, ...]:
    """What makes one letter look different from another."""
    items = letter.items
    return (
        tuple(sorted({i.level for i in items})),
        tuple(sorted({i.recipient_role for i in items})),
        any(i.in_copy for i in items),
        all(i.in_copy for i in items),
        len({i.plan_code for i in items}) > 1,
        any(i.blocks for i in items),
        any(i.deadline_reading for i in items),
        any(i.occurrence for i in items),
        any(i.original_due and i.original_due != i.due for i in items),
        min(len(items), 3),
    )


class Recording(Composer):
    """The composer of the replay, keeping the first letter of each shape it renders."""

    def __init__(self) -> None:
        super().__init__()
        self.letters: dict[tuple[object, ...], Letter] = {}

    def letter(self, letter: Letter) -> RenderedMail:
        self.letters.setdefault(shape(letter), letter)
        return super().letter(letter)


def main() -> None:
    recording = Recording()
    letters = recording.letters
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'duban.db'}"
    create_schema(url)
    with session_scope(url) as session:
        import_plan(
            session,
            ROOT / "plans" / "chongqing-2019-pilot.yaml",
            at=dt.datetime(2019, 7, 1, tzinfo=dt.UTC),
        )
    replay_story(
        url,
        ROOT / "plans/stories/chongqing-2019-pilot.yaml",
        EmlOutbox(folder / "out"),
        composer=recording,
    )
    with session_scope(url) as session:
        reviews = [
            review_plan(session, PLAN, dt.date.fromisoformat(day), phase=phase)
            for day, phase in REVIEWS
        ]
    data = {"reviews": plain(reviews), "letters": plain(list(letters.values()))}
    (HERE / "story.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
