"""The evaluation engine: every applicable rule appears; missing evidence is never ok."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.catalogue import load_catalogue
from rules.documents import SPECS, add_months
from rules.engine import evaluate
from rules.evidence import Answer, Document, EggRoom, Evidence, Farm, House

AT = datetime(2026, 11, 1, 11, tzinfo=timezone.utc)
FARM = Farm("De Hoeve", "123456", 52.1, 5.6, "Europe/Amsterdam",
            (House("1", "free_range"), House("2", "barn", mechanical_ventilation=False)), (EggRoom("E"),))


def evidence(answers=(), documents=(), at=AT, farm=FARM) -> Evidence:
    return Evidence(farm=farm, at=at, since=at - timedelta(days=30), answers=tuple(answers), documents=tuple(documents))


def find(result, rule, location=None):
    matches = [f for f in result.findings if f.rule == rule and f.location == location]
    assert len(matches) == 1, (rule, location, [(f.rule, f.location) for f in result.findings if f.rule == rule])
    return matches[0]


def doc(rule, issued, valid_until=None, location=None, id=1):
    return Document(id, rule, SPECS[rule].kind, SPECS[rule].label, issued, valid_until, location,
                    datetime.combine(issued, datetime.min.time(), timezone.utc))


def test_without_evidence_every_applicable_rule_is_unknown():
    result = evaluate(load_catalogue(), evidence())
    rules = {f.rule for f in result.findings}
    assert rules == {r.id for r in load_catalogue().applicable({"free_range", "barn"})}
    # A house without mechanical ventilation makes its A3.x rules NVT from the configuration alone.
    assert {(f.rule, f.location) for f in result.findings if f.status == "nvt"} <= {
        (r, "2") for r in ("A3.4", "A3.5", "A3.6")} | {("E2.3.2", "1")}
    assert {f.status for f in result.findings} - {"nvt"} == {"unknown"}
    assert result.verdict == "incomplete"
    assert all(f.summary for f in result.findings)


def test_an_answer_scores_its_status_with_the_seed_text():
    answers = [Answer("A1.2", None, "B", "keuring 2019", "jan", AT - timedelta(days=1)),
               Answer("A4.1.6", None, "ok", "", "jan", AT - timedelta(days=1))]
    result = evaluate(load_catalogue(), evidence(answers))
    assert find(result, "A4.1.6").status == "ok"
    # A1.2 is a document rule: without a document the answer fills the gap.
    a12 = find(result, "A1.2")
    assert (a12.status, a12.summary) == ("B", "Geen elektrakeuring uitgevoerd of niet volgens de vereiste norm.")


def test_an_old_answer_turns_unknown_and_a_future_one_is_ignored():
    answers = [Answer("A4.1.6", None, "ok", "", "jan", AT - timedelta(days=91)),
               Answer("A4.1.7", None, "ok", "", "jan", AT + timedelta(days=1))]
    result = evaluate(load_catalogue(), evidence(answers))
    assert find(result, "A4.1.6").status == "unknown"
    assert "Herbeoordeling nodig" in find(result, "A4.1.6").summary
    assert find(result, "A4.1.7").status == "unknown"


def test_the_latest_answer_wins():
    answers = [Answer("A4.1.6", None, "C", "rommel", "jan", AT - timedelta(days=10)),
               Answer("A4.1.6", None, "ok", "opgeruimd", "jan", AT - timedelta(days=2))]
    assert find(evaluate(load_catalogue(), evidence(answers)), "A4.1.6").status == "ok"


def test_answers_are_renewal_dues():
    answers = [Answer("A4.1.6", None, "ok", "", "jan", AT - timedelta(days=80))]
    due = [d for d in evaluate(load_catalogue(), evidence(answers)).due if d.rule == "A4.1.6"]
    assert [d.due for d in due] == [(AT - timedelta(days=80) + timedelta(days=90)).date()]


@pytest.mark.parametrize("issued_days_ago, expected", [
    (300, "ok"), (365, "ok"), (366, "B"), (372, "B"), (373, "D"), (800, "D"),
])
def test_water_test_is_late_by_a_week_then_missing(issued_days_ago, expected):
    """A6.3.1: "Wateronderzoek maximaal 1 week te laat genomen" → B, later → D."""
    today = AT.astimezone(FARM.tz).date()
    result = evaluate(load_catalogue(), evidence(documents=[doc("A6.3.1", today - timedelta(days=issued_days_ago))]))
    assert find(result, "A6.3.1").status == expected


def test_per_house_document_and_farm_wide_fallback():
    today = AT.date()
    documents = [doc("G1.1", today - timedelta(days=400), location="1")]
    result = evaluate(load_catalogue(), evidence(documents=documents))
    assert find(result, "G1.1", "1").status == "ok"
    assert find(result, "G1.1", "2").status == "unknown"


def test_expired_certificate_is_its_ko_and_expiring_one_is_due():
    today = AT.date()
    organic = Farm("Bio", "1", 52.1, 5.6, "Europe/Amsterdam", (House("1", "organic"),))
    expired = evaluate(load_catalogue(), evidence(documents=[doc("I1.1", date(2025, 1, 1), today - timedelta(days=1))],
                                                  farm=organic))
    assert find(expired, "I1.1").status == "KO" and expired.verdict == "suspension"
    soon = evaluate(load_catalogue(), evidence(documents=[doc("I1.1", date(2026, 1, 1), today + timedelta(days=20))],
                                               farm=organic))
    assert find(soon, "I1.1").status == "ok"
    assert [(d.rule, d.due) for d in soon.due if d.rule == "I1.1"] == [("I1.1", today + timedelta(days=20))]


def test_monthly_validity_clips_to_month_end():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_nvt_answer_for_a_document_rule():
    answers = [Answer("A4.5.2", None, "nvt", "NVT: erkend plaagdierenbeheersbedrijf ingeschakeld.", "jan",
                      AT - timedelta(days=3))]
    assert find(evaluate(load_catalogue(), evidence(answers)), "A4.5.2").status == "nvt"


answer_st = st.builds(
    Answer,
    st.sampled_from(["A1.1", "A4.1.6", "A1.2", "G3.8.9", "E3.3"]),
    st.sampled_from([None, "1", "2"]),
    st.sampled_from(["ok", "nvt", "B", "C", "D", "KO"]),
    st.just("n"), st.just("jan"),
    st.integers(min_value=-200, max_value=10).map(lambda d: AT + timedelta(days=d)),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(answer_st, max_size=6))
def test_a_rule_is_ok_only_when_some_evidence_says_so(answers):
    """Missing data never yields ok: every ok finding rests on a fresh answer or a document."""
    result = evaluate(load_catalogue(), evidence(answers))
    fresh = {(a.rule) for a in answers if AT - timedelta(days=90) <= a.answered_at <= AT and a.status == "ok"}
    for f in result.findings:
        if f.status == "ok":
            assert f.rule in fresh
