"""docs/COVERAGE.md: every rule with its source of evidence, and the count per annex before and after."""

from __future__ import annotations

from rules.catalogue import load_catalogue
from rules.coverage import ANNEXES, BEFORE, SOURCES, counts, coverage, render

from .conftest import REPO


def test_coverage_md_is_what_the_engine_says():
    assert (REPO / "docs" / "COVERAGE.md").read_text(encoding="utf-8") == render(), \
        "regenerate: python -m rules.coverage > docs/COVERAGE.md"


def test_every_rule_is_listed_once_with_a_source():
    rows = coverage()
    assert [r.rule.id for r in rows] == [r.id for r in load_catalogue()]
    assert {r.source for r in rows} <= set(SOURCES)
    per_annex = counts(rows)
    for annex in ANNEXES:
        assert sum(per_annex[annex].values()) == sum(BEFORE[annex].values())


def test_more_rules_rest_on_the_agents_own_evidence_than_before():
    per_annex = counts(coverage())
    answer_only = sum(c["answer"] for c in per_annex.values())
    assert answer_only < sum(b["answer"] for b in BEFORE.values())
    # The rules the issue names are answered by the records now.
    by_id = {r.rule.id: r.source for r in coverage()}
    assert {by_id[r] for r in ("G3.1.2", "I1.3", "E2.1.4", "A4.5.3")} == {"logbook"}
    assert by_id["G3.2"] == "document (NG) + answer"
