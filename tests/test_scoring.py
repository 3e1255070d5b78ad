"""Scoring: counts per category with the seed's weight texts, each rule at its worst status; the verdict ladder
with repairs (DESIGN §3.5 v2)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.findings import STATUSES, Finding, Occurrence, Repair, worst
from rules.scoring import VERDICTS, WEIGHTS, score, verdict

from .conftest import SEED

AT = datetime(2026, 11, 1, tzinfo=timezone.utc)
SINCE = datetime(2026, 10, 1, tzinfo=timezone.utc)


def f(rule: str, status: str, location: str | None = None, *occurrences: Occurrence) -> Finding:
    return Finding(rule, location, status, "self_assessment", "x", tuple(occurrences))


def occ(day: int, repaired: bool = False) -> Occurrence:
    start = AT - timedelta(days=day)
    repair = Repair(day, start.date(), "hersteld", "jan") if repaired else None
    return Occurrence(start, start + timedelta(minutes=10), "storing", repair)


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


def test_weights_are_the_seeds_header_texts_verbatim():
    header = next(line for line in SEED.read_text(encoding="utf-8").splitlines() if "Weging B" in line)
    found = dict(re.findall(r"Weging (B|C|D|KO) \(([^)]*)\)", header))
    assert WEIGHTS == found
    assert WEIGHTS["KO"] == "schorsing" and WEIGHTS["D"].startswith("- 20 punt plus herstel")


def test_counts_count_each_rule_once_and_no_points_are_summed():
    findings = [
        f("G3.8.9", "D", "1"), f("G3.8.9", "D", "2"),  # one rule, two houses: one D
        f("A4.2.2", "C"),
        f("A1.2", "B"),
        f("A4.1.6", "ok"), f("A1.3", "unknown"), f("A1.4", "nvt"),
    ]
    result = score(findings, at=AT, since=SINCE)
    assert result.counts == {"ok": 1, "B": 1, "C": 1, "D": 1, "KO": 0, "nvt": 1, "unknown": 1}
    assert result.verdict == "repair_required"
    doc = result.to_json()
    assert "points" not in doc and doc["weights"] == WEIGHTS


def test_a_rule_counts_at_its_worst_location():
    result = score([f("E3.3", "ok", "E"), f("E3.3", "C", "F"), f("E3.3", "unknown", "G")], at=AT, since=SINCE)
    assert result.counts["C"] == 1 and result.counts["ok"] == 0 and result.counts["unknown"] == 0


def test_a_b_in_one_house_and_a_c_in_another_count_as_one_c():
    """Why: 'a B in one house and a C in another count 5' — the rule counts once, at its heavier category."""
    result = score([f("A3.3", "B", "1"), f("A3.3", "C", "2")], at=AT, since=SINCE)
    assert result.counts["C"] == 1 and result.counts["B"] == 0


def test_unknown_outranks_ok_at_another_location():
    assert worst(["ok", "unknown", "nvt"]) == "unknown"
    assert worst(["unknown", "C"]) == "C"
    assert worst(["C", "B"]) == "C"  # the scheme's texts: C is the heavier deviation


def test_a_d_with_every_occurrence_repaired_falls_to_remarks_and_still_shows_d():
    repaired = score([f("A3.4", "D", "1", occ(3, True), occ(2, True))], at=AT, since=SINCE)
    assert repaired.verdict == "remarks" and repaired.counts["D"] == 1
    assert repaired.findings[0].to_json()["repaired"] is True
    half = score([f("A3.4", "D", "1", occ(3, True), occ(2))], at=AT, since=SINCE)
    assert half.verdict == "repair_required" and "repaired" not in half.findings[0].to_json()
    other_house = score([f("A3.4", "D", "1", occ(3, True)), f("A3.4", "D", "2", occ(1))], at=AT, since=SINCE)
    assert other_house.verdict == "repair_required"


def test_a_d_without_occurrences_cannot_be_repaired_and_ko_is_never_lifted():
    assert score([f("A3.4", "D", "1")], at=AT, since=SINCE).verdict == "repair_required"
    assert score([f("I1.1", "KO", None, occ(3, True))], at=AT, since=SINCE).verdict == "suspension"
    assert not f("I1.1", "KO", None, occ(3, True)).repaired


def test_score_json_follows_the_contract():
    repair = Repair(12, date(2026, 10, 30), "paneel gereset", "jan", "10:15")
    finding = f("G3.8.9", "D", "1", Occurrence(AT - timedelta(days=3), AT - timedelta(days=2), "kort", repair))
    doc = score([finding], at=AT, since=SINCE).to_json()
    assert list(doc)[:6] == ["at", "since", "scheme", "verdict", "weights", "counts"]
    assert doc["scheme"] == "IKB Ei" and doc["verdict"] == "remarks"
    assert doc["findings"][0] == {
        "rule": "G3.8.9", "location": "1", "status": "D", "source": "self_assessment", "summary": "x",
        "occurrences": [{"start": "2026-10-29T00:00:00+00:00", "end": "2026-10-30T00:00:00+00:00", "detail": "kort",
                         "repair": {"id": 12, "date": "2026-10-30", "action": "paneel gereset",
                                    "performed_by": "jan", "time": "10:15"}}],
        "repaired": True}
    assert Finding.from_json(doc["findings"][0]) == finding


def test_a_not_checked_finding_must_be_nvt():
    assert Finding("G3.2", "1", "nvt", "document", "NG", not_checked=True).to_json()["not_checked"] is True
    with pytest.raises(ValueError):
        Finding("G3.2", "1", "ok", "document", "NG", not_checked=True)


rules_st = st.sampled_from(["A1.1", "A1.2", "G3.8.9", "E3.3"])
occurrences_st = st.lists(st.builds(occ, st.integers(1, 20), st.booleans()), max_size=3).map(tuple)
findings_st = st.lists(
    st.builds(lambda rule, status, loc, occs: f(rule, status, loc, *occs), rules_st, st.sampled_from(STATUSES),
              st.sampled_from([None, "1", "2"]), occurrences_st),
    max_size=12,
)


@given(findings_st, st.sampled_from(["A1.1", "G3.8.9", "Z9.9"]), st.sampled_from(["B", "C", "D", "KO"]),
       st.sampled_from([None, "1", "3"]), occurrences_st)
def test_adding_a_deviation_never_improves_the_verdict(findings, rule, status, location, occurrences):
    before = score(findings, at=AT, since=SINCE)
    after = score(findings + [f(rule, status, location, *occurrences)], at=AT, since=SINCE)
    assert VERDICTS.index(after.verdict) <= VERDICTS.index(before.verdict)


@given(findings_st, st.data())
def test_recording_a_repair_never_makes_the_verdict_worse(findings, data):
    """A repair added to any one occurrence of any finding never moves the verdict down the ladder."""
    before = score(findings, at=AT, since=SINCE)
    candidates = [(i, j) for i, x in enumerate(findings) for j, o in enumerate(x.occurrences) if o.repair is None]
    if not candidates:
        return
    i, j = data.draw(st.sampled_from(candidates))
    o = findings[i].occurrences[j]
    repaired = Occurrence(o.start, o.end, o.detail, Repair(99, o.start.date(), "hersteld", "jan"))
    changed = list(findings)
    changed[i] = Finding(findings[i].rule, findings[i].location, findings[i].status, findings[i].source,
                         findings[i].summary, findings[i].occurrences[:j] + (repaired,) + findings[i].occurrences[j + 1:])
    after = score(changed, at=AT, since=SINCE)
    assert VERDICTS.index(after.verdict) >= VERDICTS.index(before.verdict)
    assert after.counts == before.counts  # a repaired D is still a D in the window


@given(findings_st)
def test_counts_add_up_to_the_number_of_rules(findings):
    result = score(findings, at=AT, since=SINCE)
    assert sum(result.counts.values()) == len({x.rule for x in findings})
