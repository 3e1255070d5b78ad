"""Rule search by the farmer's words: synonyms of the scheme's words, accents ignored (rules.search)."""

from __future__ import annotations

import pytest

from rules.catalogue import load_catalogue
from rules.search import matches

from .web_fixtures import accounts, app, client_for, clock, db_path, farm_config, farmer  # noqa: F401


def found(query: str) -> list[str]:
    return [r.id for r in load_catalogue() if matches(r, query)]


@pytest.mark.parametrize("query,expected", [
    ("ongedierte", {"A4.5.1", "A4.5.2", "A4.5.3", "A4.5.4"}),  # the word: not in the scheme
    ("plaagdier", {"A4.5.1", "A4.5.2"}),
    ("knaagdieren", {"A4.5.2"}),
    ("muizen", {"A4.5.1"}),
    ("alarmkast", {"A3.4", "A3.6"}),  # the scheme says alarminstallatie
    ("generator", {"A3.5"}),
    ("veearts", {"A6.1.1"}),
    ("hygienogram", {"E4.4.1", "E4.4.2"}),  # typed without the diaeresis
    ("Hygiënogram", {"E4.4.1"}),
])
def test_a_farmers_word_finds_the_schemes_rules(query, expected):
    assert expected <= set(found(query)), found(query)


def test_a_synonym_stem_matches_at_a_word_start_only():
    # 'rat' stands for 'ratten' among the pest words, never for the 'rat' inside 'registratie'.
    assert "A1.1" not in found("ongedierte")


def test_every_word_must_match_and_ids_still_work():
    assert found("A4.5") == ["A4.5.1", "A4.5.2", "A4.5.3", "A4.5.4", "A4.5.5"]
    assert found("ongedierte lokdozen") == found("ongedierte")  # one group
    assert found("ongedierte plattegrond") == ["A4.2.4", "A4.5.2"]  # a second word narrows
    assert found("ongedierte zwembad") == []


def test_the_rule_page_search_finds_ongedierte(farmer):
    html = farmer.get("/rules/?q=ongedierte").get_data(as_text=True)
    assert 'href="/rules/A4.5.1"' in html and 'href="/rules/A1.1"' not in html
