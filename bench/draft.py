"""Drafting benchmark: `duban draft` on the source texts of the bundled plans, each draft
compared with the plan a person wrote from the same text (plans/*.yaml): the share of its tasks
the draft found, of their responsibility clauses read to the same lead and other units, and of
their deadlines read to the same dates.
Usage: python bench/draft.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from render.plan_draft import draft_yaml  # noqa: E402
from tasks.plans.draft import draft_plan  # noqa: E402
from tasks.plans.draft_check import DraftScore, score_draft  # noqa: E402
from tasks.plans.draft_text import read_document  # noqa: E402
from tasks.plans.importer import load_plan  # noqa: E402
from tasks.plans.lint import lint_plan  # noqa: E402

SOURCES = ROOT / "tests" / "data" / "sources"
PAIRS = {  # source text → the plan written from it
    "000_321ef95c29761d99.txt": "chongqing-2019-pilot.yaml",
    "002_84275c571218f700.txt": "rongchang-2019.yaml",
    "003_370a16f74d41ca83.txt": "shanghai-2020.yaml",
}


def measure(source: str, folder: Path) -> tuple[DraftScore, int]:
    """Draft one source text into `folder`; its score and the number of lint warnings."""
    drafted = folder / f"{Path(source).stem}.yaml"
    drafted.write_text(draft_yaml(draft_plan(read_document(SOURCES / source))), encoding="utf-8")
    draft = load_plan(drafted)
    return score_draft(draft, load_plan(ROOT / "plans" / PAIRS[source])), len(lint_plan(draft))


def main() -> None:
    print(
        f"{'plan':28} {'tasks found':>14} {'extra':>5} {'clauses right':>15} "
        f"{'deadlines right':>16} {'lint':>5}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for source, plan in PAIRS.items():
            s, warnings = measure(source, Path(folder))
            print(
                f"{plan:28} {s.found:>3}/{s.tasks:<3} {s.found_share:5.0%} {s.extra:>5} "
                f"{s.clauses_right:>3}/{s.clauses:<3} {s.clause_share:6.0%} "
                f"{s.deadlines_right:>3}/{s.found:<3} {s.deadline_share:7.0%} {warnings:>5}"
            )


if __name__ == "__main__":
    main()
