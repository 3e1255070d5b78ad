"""The rule catalogue: all 249 rules of the seed, ids normalised, texts exact."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from rules.catalogue import load_catalogue, normalise_rule_id
from rules.catalogue_build import parse_seed

from .conftest import REPO, SEED

needs_seed = pytest.mark.skipif(not SEED.exists(), reason="../shared/seeds is not beside this checkout")


def test_catalogue_has_249_rules_per_annex():
    catalogue = load_catalogue()
    assert len(catalogue) == 249
    assert Counter(r.annex for r in catalogue) == {"1.2A": 110, "1.2E": 62, "1.2G": 42, "1.2H": 28, "1.2I": 7}


@pytest.mark.parametrize("raw, annex, expected", [
    ("A4.5.4.", "1.2A", "A4.5.4"),
    ("E4.1.", "1.2E", "E4.1"),
    ("1.5", "1.2I", "I1.5"),
    ("I.6", "1.2I", "I1.6"),
    ("11.7", "1.2I", "I1.7"),
    ("11.8", "1.2I", "I1.8"),
    ("I1.1", "1.2I", "I1.1"),
    (" g3.8.9 ", None, "G3.8.9"),
])
def test_rule_ids_are_normalised(raw, annex, expected):
    assert normalise_rule_id(raw, annex) == expected


def test_damaged_ids_are_in_the_catalogue_and_raw_ids_are_not():
    ids = {r.id for r in load_catalogue()}
    assert {"A4.5.4", "E4.1", "I1.5", "I1.6", "I1.7", "I1.8"} <= ids
    assert not {"A4.5.4.", "E4.1.", "1.5", "I.6", "11.7", "11.8"} & ids


@needs_seed
def test_committed_catalogue_is_what_the_script_produces_from_the_seed():
    committed = json.loads((REPO / "rules" / "catalogue.json").read_text(encoding="utf-8"))
    assert parse_seed(SEED.read_text(encoding="utf-8")) == committed


@needs_seed
def test_every_text_cell_equals_the_seed_cell():
    """Independently of the parser: split each rule's seed line and compare cell by cell."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    for rule in load_catalogue():
        cells = lines[rule.source["line"] - 1].split("\t")
        if len(cells) == 8:
            cells.insert(4, "")
        assert cells[0] == rule.source["raw_id"]
        expected = [c if c.strip() else None for c in cells[5:9]]
        got = [rule.deviations.B, rule.deviations.C, rule.deviations.D, rule.deviations.KO]
        assert got == expected, rule.id
        assert rule.nvt == (cells[3] or None), rule.id
        assert rule.not_checked == (cells[4] or None), rule.id


# A dozen rules checked against the seed's own words, typed in from the scheme.
SPOT_CHECKS = [
    ("A1.1", {"KO": "Geen of geen juiste registratie."}, None),
    ("A1.2", {"B": "Geen elektrakeuring uitgevoerd of niet volgens de vereiste norm."}, None),
    ("A3.4", {"C": "Alarmvoorziening onvoldoende (bv niet toereikend als plvh niet op bedrijf is).",
              "D": "Geen alarmvoorziening aanwezig of functioneert niet."}, "NVT: geen mechanische ventilatie."),
    ("A3.5", {"D": "Geen werkende noodstroomaggregaat aanwezig."}, "NVT: geen mechanische ventilatie."),
    ("A3.6", {"B": "Controles deels niet geregistreerd.", "C": "Wel controles, maar niet eens per 2 maand.",
              "D": "Geen controles uitgevoerd."}, "NVT: geen mechanische ventilatie."),
    ("A4.2.2", {"B": "Bezoekersregister onvolledig.", "C": "Register niet actueel.",
                "D": "Geen bezoekersregister aanwezig."}, None),
    ("A4.5.1", {"C": "Controles niet elke 2 maanden; niet alle punten aantoonbaar in logboek.",
                "D": "Geen controles uitgevoerd."}, None),
    ("E3.3", {"C": "Beperkte condensvorming.", "D": "Duidelijke condensvorming."}, None),
    ("E4.4.2", {"B": "Stal is niet opnieuw gereinigd en ontsmet bij uitslag van het hygiënogram >1,5 en <2,5",
                "D": "Nieuwe koppel is opgezet bij uitslag van het hygiënogram ≥ 2,5."}, "NVT: uitslag ≤ 1,5"),
    ("G3.8.8", {"D": "Lichtsterkte < 20 lux"}, None),
    ("G3.8.9", {"D": "Duisterperiode niet ononderbroken of < 8 uur."}, None),
    ("G3.8.10", {"D": "Lichtsterkte > 0,5 lux"}, None),
    ("G3.8.11", {"D": "Geen schemerperiode"}, None),
    ("H3.12.11", {"D": "Overschrijden van de 16- weken-termijn en het op de markt brengen als "
                       "“Eieren van hennen met vrije uitloop”"}, "Nvt.: biologische eieren"),
    ("I1.1", {"KO": "Er is geen geldige conformiteitsverklaring aanwezig van een controlerende instantie "
                    "voor biologische landbouwproducten."}, None),
]


@pytest.mark.parametrize("rule_id, deviations, nvt", SPOT_CHECKS, ids=[c[0] for c in SPOT_CHECKS])
def test_spot_checked_rules_match_the_scheme_text(rule_id, deviations, nvt):
    rule = load_catalogue().get(rule_id)
    for weight in ("B", "C", "D", "KO"):
        assert rule.deviation_text(weight) == deviations.get(weight)
    assert rule.nvt == nvt


def test_titles_and_interpretations_are_plain_text():
    catalogue = load_catalogue()
    e11 = catalogue.get("E1.1")
    assert "<ul" not in e11.title and "de maximale bezetting per stal" in e11.title
    a12 = catalogue.get("A1.2").interpretation
    assert a12.startswith("Nieuwe stallen voor ingebruikname keuren volgens NEN 1010")
    # A '<' that is not a tag survives: "> 1,5 is en <-2,5".
    assert "<-2,5" in catalogue.get("E4.4.2").title
    assert all("<p>" not in (r.interpretation or "") for r in catalogue)


def test_sections_follow_the_seed():
    catalogue = load_catalogue()
    assert (catalogue.get("A3.4").section, catalogue.get("A3.4").section_title) == ("A3", "INRICHTING")
    assert (catalogue.get("H4.1").section, catalogue.get("H4.1").section_title) == ("H4", "HYGIËNE")
    assert catalogue.get("I1.8").section == "I1"


@pytest.mark.parametrize("housings, count", [
    ({"colony"}, 110 + 62),
    ({"barn"}, 110 + 62 + 42),
    ({"free_range"}, 110 + 62 + 42 + 28),
    ({"organic"}, 249),
    ({"colony", "free_range"}, 242),
])
def test_housing_decides_which_annexes_apply(housings, count):
    assert len(load_catalogue().applicable(housings)) == count


def test_evaluation_kinds_cover_the_design():
    catalogue = load_catalogue()
    assert catalogue.get("G3.8.9").evaluation == "sensor"
    assert catalogue.get("A4.5.1").evaluation == "logbook"
    assert catalogue.get("G1.1").evaluation == "document"
    assert catalogue.get("A4.1.6").evaluation == "self_assessment"
