"""Drafting benchmark: `duban draft` on the source texts of the bundled plans, each draft
compared with the plan a person wrote from the same text (plans/*.yaml): the share of its tasks
the draft found, of their responsibility clauses read to the same lead and other units, and of
their deadlines read to the same dates.

Then on the corpus documents (tests/data/sources/corpus/, the documents whose clauses are in
tests/data/clauses.tsv), for which no finished plan exists: of the clauses printed in each
document, how many the draft gave to a task, and how many of those it read as the clerk's
reading in the corpus.
Usage: python bench/draft.py
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # run as a script, or imported by the tests

from clauses import Row, load  # noqa: E402

from render.plan_draft import draft_yaml  # noqa: E402
from tasks.plans.draft import Draft, draft_plan  # noqa: E402
from tasks.plans.draft_check import DraftScore, score_draft  # noqa: E402
from tasks.plans.draft_text import read_document  # noqa: E402
from tasks.plans.importer import load_plan  # noqa: E402
from tasks.plans.lint import lint_plan  # noqa: E402
from tasks.plans.responsibility import normalize_name  # noqa: E402

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


@dataclass(frozen=True)
class CorpusScore:
    printed: int  # clause occurrences in the document
    taken: int  # of them, closing a drafted task
    right: int  # of those, read as the corpus reads them
    tasks: int  # drafted tasks
    dated: int  # drafted tasks with a deadline
    lint: int  # lint warnings on the draft as written


def corpus_documents() -> list[Path]:
    return sorted((SOURCES / "corpus").glob("*.txt"))


def measure_corpus(document: Path, folder: Path) -> CorpusScore:
    """Draft a corpus document and check each clause it gave a task against the corpus."""
    rows = {normalize_name(r.clause): r for r in load() if r.source == document.stem}
    text = document.read_text(encoding="utf-8")
    draft = draft_plan(read_document(document))
    drafted = folder / f"{document.stem}.yaml"
    drafted.write_text(draft_yaml(draft), encoding="utf-8")
    warnings = len(lint_plan(load_plan(drafted)))
    taken = [(rows[clause], got) for clause, got in _readings(draft) if clause in rows]
    right = sum(got == _expected(row) for row, got in taken)
    printed = sum(text.count(row.clause) for row in rows.values())
    dated = sum(t.deadline is not None for t in draft.tasks)
    return CorpusScore(printed, len(taken), right, len(draft.tasks), dated, warnings)


def _readings(draft: Draft) -> list[tuple[str, dict[str, list[str]]]]:
    """Each drafted clause (as the corpus spells it) with the roles the draft gave its task."""
    found = []
    for task in draft.tasks:
        if task.responsibility:
            parts = dict(p.split("：", 1) for p in task.reading.split("；") if p)
            roles = {
                role: parts[label].split("、") if label in parts else []
                for role, label in (("lead", "牵头"), ("co", "配合"), ("participants", "参与"))
            }
            found.append((normalize_name(task.responsibility), roles))
    return found


def _expected(row: Row) -> dict[str, list[str]]:
    return {role: row.expected[role] for role in ("lead", "co", "participants")}


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
        print(
            f"\n{'corpus document':16} {'clauses taken':>14} {'read right':>11} "
            f"{'tasks':>6} {'with deadline':>14} {'lint':>5}"
        )
        for document in corpus_documents():
            c = measure_corpus(document, Path(folder))
            print(
                f"{document.stem:16} {c.taken:>7}/{c.printed:<6} {c.right:>5}/{c.taken:<5} "
                f"{c.tasks:>6} {c.dated:>14} {c.lint:>5}"
            )


if __name__ == "__main__":
    main()
