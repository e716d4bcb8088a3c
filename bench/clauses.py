"""Share of the clause corpus (tests/data/clauses.tsv) read as an experienced clerk reads it.

Each row is a responsibility clause copied from a public government document, with the reading
a clerk gives it: lead, co, participants and pilots, names joined by "|" ("" when none). The
`rule` column says "first" where the document's "排在第一的…为牵头单位，下同" is in force.
Run: python bench/clauses.py  (prints the share read right, the invented leads, the misses).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tasks.plans.responsibility import ResponsibilityError, read_responsibility

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "clauses.tsv"
ROLES = ("lead", "co", "participants", "pilots")


@dataclass(frozen=True)
class Row:
    source: str
    clause: str
    expected: dict[str, list[str]]
    rule: bool


def load(path: Path = CORPUS) -> list[Row]:
    """The corpus rows; a literal "\\n" in a clause stands for a line break in the source."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Row(
                source=row["source"],
                clause=row["clause"].replace("\\n", "\n"),
                expected={role: [n for n in row[role].split("|") if n] for role in ROLES},
                rule=row["rule"] == "first",
            )
            for row in csv.DictReader(handle, delimiter="\t")
        ]


def read(row: Row) -> dict[str, list[str]] | str:
    """What duban reads from the row's clause, or the error it gives."""
    try:
        return read_responsibility(row.clause, first_listed_leads=row.rule).as_json()
    except ResponsibilityError as exc:
        return str(exc)


def invented_lead(row: Row, got: dict[str, list[str]] | str) -> bool:
    """A lead where the clerk reads none, or a lead the clerk does not read."""
    return isinstance(got, dict) and bool(set(got["lead"]) - set(row.expected["lead"]))


def main() -> int:
    rows = load()
    misses = [(row, got) for row in rows if (got := read(row)) != row.expected]
    invented = sum(invented_lead(row, got) for row, got in misses)
    right = len(rows) - len(misses)
    sources = len({row.source for row in rows})
    print(
        f"{right}/{len(rows)} clauses read right ({right / len(rows):.1%}) from {sources} documents"
    )
    print(f"invented leads: {invented}")
    for row, got in misses:
        print(f"  [{row.source}] {row.clause!r}\n    expected {row.expected}\n    got      {got}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
