"""Scoring: counts and points per rule at its worst status, the verdict ladder."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.findings import STATUSES, Finding, worst
from rules.scoring import VERDICTS, Weights, score, verdict

AT = datetime(2026, 11, 1, tzinfo=timezone.utc)
SINCE = datetime(2026, 10, 1, tzinfo=timezone.utc)


def f(rule: str, status: str, location: str | None = None) -> Finding:
    return Finding(rule, location, status, "self_assessment", "x")


@pytest.mark.parametrize("statuses, expected", [
    ([], "ready"),
    (["ok", "nvt"], "ready"),
    (["ok", "unknown"], "incomplete"),
    (["unknown", "C"], "remarks"),
    (["B", "ok"], "remarks"),
    (["C", "D"], "repair_required"),
    (["D", "unknown", "B"], "repair_required"),
    (["KO", "D", "ok"], "suspension"),
])
def test_verdict_ladder(statuses, expected):
    assert verdict(statuses) == expected


def test_points_use_the_seed_weights_and_count_each_rule_once():
    findings = [
        f("G3.8.9", "D", "1"), f("G3.8.9", "D", "2"),  # one rule, two houses: 20 once
        f("A4.2.2", "C"),
        f("A1.2", "B"),
        f("A4.1.6", "ok"), f("A1.3", "unknown"), f("A1.4", "nvt"),
    ]
    result = score(findings, at=AT, since=SINCE)
    assert result.points == 20 + 5 + 15
    assert result.counts == {"ok": 1, "B": 1, "C": 1, "D": 1, "KO": 0, "nvt": 1, "unknown": 1}
    assert result.verdict == "repair_required"


def test_a_rule_counts_at_its_worst_location():
    result = score([f("E3.3", "ok", "E"), f("E3.3", "C", "F"), f("E3.3", "unknown", "G")], at=AT, since=SINCE)
    assert result.counts["C"] == 1 and result.counts["ok"] == 0 and result.counts["unknown"] == 0
    assert result.points == 5


def test_unknown_outranks_ok_at_another_location():
    assert worst(["ok", "unknown", "nvt"]) == "unknown"
    assert worst(["unknown", "C"]) == "C"
    assert worst(["C", "B"]) == "C"  # the scheme's texts: C is the heavier deviation


def test_weights_are_configurable():
    result = score([f("A1.2", "B"), f("E3.3", "C")], at=AT, since=SINCE, weights=Weights(B=1, C=2))
    assert result.points == 3


def test_score_json_follows_the_contract():
    doc = score([f("G3.8.9", "D", "1")], at=AT, since=SINCE).to_json()
    assert set(doc) >= {"at", "since", "scheme", "verdict", "points", "counts", "findings"}
    assert doc["scheme"] == "IKB Ei"
    assert doc["findings"][0] == {"rule": "G3.8.9", "location": "1", "status": "D", "source": "self_assessment",
                                  "summary": "x", "occurrences": []}


findings_st = st.lists(
    st.builds(f, st.sampled_from(["A1.1", "A1.2", "G3.8.9", "E3.3"]), st.sampled_from(STATUSES),
              st.sampled_from([None, "1", "2"])),
    max_size=12,
)


@given(findings_st, st.sampled_from(["A1.1", "G3.8.9", "Z9.9"]), st.sampled_from(["B", "C", "D", "KO"]),
       st.sampled_from([None, "1", "3"]))
def test_adding_a_deviation_never_improves_the_verdict(findings, rule, status, location):
    before = score(findings, at=AT, since=SINCE)
    after = score(findings + [f(rule, status, location)], at=AT, since=SINCE)
    assert VERDICTS.index(after.verdict) <= VERDICTS.index(before.verdict)


@given(findings_st)
def test_counts_add_up_to_the_number_of_rules(findings):
    result = score(findings, at=AT, since=SINCE)
    assert sum(result.counts.values()) == len({x.rule for x in findings})
