"""Finding a rule by the words a farmer uses: the scheme's words, their everyday synonyms, accents ignored.

The scheme says "plaagdierbeheersing" and "knaagdieren"; a farmer searches "ongedierte" or "muizen".
Each query word stands for its synonym group (a group is a set of word stems: a stem matches every
word that contains it), and a rule matches when every query word, or a synonym, occurs in its id,
title, interpretation, NVT text, deviation texts or chapter. The groups are our choice, from the
seed's own words (docs/WEB.md, "Rule search"). Pure: no catalogue is read here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rules.catalogue import Rule

# Word stems that mean the same to a farmer; a query word in a group also finds the group's other stems.
SYNONYMS: tuple[frozenset[str], ...] = tuple(frozenset(group) for group in (
    {"ongedierte", "plaagdier", "knaagdier", "rat", "ratten", "muis", "muizen", "lokdo", "lokaas",
     "bestrijdingsmiddel", "vogelmijt", "bloedluis", "insect", "vlieg", "kever"},
    {"alarm", "alarminstallatie", "alarmkast", "alarmpaneel", "alarmering", "doormelding"},
    {"aggregaat", "noodstroom", "stroomuitval", "generator"},
    {"reinig", "schoonma", "ontsmet", "desinfect", "r&o", "hygienogram"},
    {"bezoek", "bezoeker", "hygienesluis", "sluis"},
    {"dierenarts", "veearts", "gezondheidsplan"},
    {"drinkwater", "water"},
    {"voer", "voeder", "diervoeder"},
    {"uitval", "sterfte", "dode", "kadaver"},
    {"uitloop", "buitenloop", "vrije uitloop", "free range"},
    {"licht", "verlichting", "lux", "donker", "duister", "schemer"},
    {"eierlokaal", "eierbewaarplaats", "eierruimte", "condens"},
    {"koppel", "hennen", "kippen", "leghennen", "pluimvee"},
    {"mest", "strooisel"},
))


def normalise(text: str) -> str:
    """Return text in lower case without accents ('Hygiënogram' → 'hygienogram'), spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return re.sub(r"\s+", " ", "".join(c for c in decomposed if not unicodedata.combining(c))).strip()


def alternatives(word: str) -> list[re.Pattern]:
    """Return what a query word finds: itself anywhere, and its group's stems at the start of a word."""
    word = normalise(word)
    found = [re.compile(re.escape(word))]
    for group in SYNONYMS:
        if len(word) >= 3 and any(word.startswith(stem) or stem.startswith(word) for stem in group):
            # At a word's start only: 'rat' finds 'ratten', not 'registratie'. One pattern per group.
            stems = "|".join(re.escape(stem) for stem in sorted(group, key=len, reverse=True))
            found.append(re.compile(rf"(?<![a-z])(?:{stems})"))
    return found


@lru_cache(maxsize=512)
def _searchable(rule_id: str, texts: tuple[str, ...]) -> str:
    """Return the normalised text of a rule (cached: the catalogue does not change)."""
    return normalise(" ".join(texts))


def searchable(rule: Rule) -> str:
    """Return the normalised text a rule is found by."""
    parts = (rule.id, rule.title, rule.interpretation or "", rule.nvt or "", rule.section_title or "",
             *(rule.deviation_text(w) or "" for w in ("B", "C", "D", "KO")))
    return _searchable(rule.id, parts)


@lru_cache(maxsize=64)
def _query(query: str) -> tuple[tuple[re.Pattern, ...], ...]:
    """Return, per query word, the patterns that find it (compiled once per query)."""
    return tuple(tuple(alternatives(word)) for word in normalise(query).split())


def matches(rule: Rule, query: str) -> bool:
    """Return whether every word of the query, or one of its synonyms, occurs in the rule's texts."""
    text = searchable(rule)
    return all(any(p.search(text) for p in word) for word in _query(query))
