"""Every clause of the corpus is read as an experienced clerk reads it, and no lead is invented.

tests/data/clauses.tsv holds responsibility clauses copied verbatim from public government
documents (tests/data/clause_sources.tsv names them), each with the clerk's reading;
`python bench/clauses.py` prints the same comparison as a share.
"""

from __future__ import annotations

import pytest

from bench.clauses import CORPUS, load, read
from tasks.plans.responsibility import NO_LEAD, read_responsibility

from .conftest import DATA

ROWS = load()


def test_the_corpus_is_large_and_varied_and_every_row_names_a_known_source():
    sources = {
        line.split("\t")[0]
        for line in (DATA / "clause_sources.tsv").read_text(encoding="utf-8").splitlines()[1:]
    }
    assert CORPUS.parent == DATA
    assert len(ROWS) >= 150
    assert {row.source for row in ROWS} == sources
    assert len(sources) >= 12
    assert len({(row.source, row.clause) for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.source}-{i}" for i, r in enumerate(ROWS)])
def test_each_clause_reads_as_the_clerk_reads_it(row):
    assert read(row) == row.expected


@pytest.mark.parametrize(
    "row", [r for r in ROWS if not r.expected["lead"]], ids=lambda r: r.clause[:20]
)
def test_a_clause_the_clerk_reads_with_no_lead_is_flagged_not_given_one(row):
    found = read_responsibility(row.clause, first_listed_leads=row.rule)
    assert found.lead == ()
    assert found.note is not None and NO_LEAD in found.note
