"""The IKB Ei rule catalogue: 249 rules of annexes 1.2A, E, G, H and I.

The data lives in ``catalogue.json`` next to this module, generated from the
seed by ``rules/catalogue_build.py``. This module only reads package data and
never touches the network, a database or the clock.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict

from rules.texts import N_

Housing = Literal["barn", "free_range", "organic", "colony"]
HOUSINGS: tuple[str, ...] = ("barn", "free_range", "organic", "colony")
# The scheme's words for the housing systems (msgids; the configuration keeps the English keys).
HOUSING_WORDS: dict[str, str] = {"barn": N_("scharrel"), "free_range": N_("vrije uitloop"),
                                 "organic": N_("biologisch"), "colony": N_("verrijkte kooi")}
Weight = Literal["B", "C", "D", "KO"]
Evaluation = Literal["sensor", "logbook", "document", "self_assessment"]

# Which housing systems each annex applies to. Every farm here is a laying farm,
# so annex E applies to all of them; colony housing (verrijkte kooi) takes A and E.
ANNEX_HOUSING: dict[str, tuple[str, ...]] = {
    "1.2A": HOUSINGS,
    "1.2E": HOUSINGS,
    "1.2G": ("barn", "free_range", "organic"),
    "1.2H": ("free_range", "organic"),
    "1.2I": ("organic",),
}

# How each rule is evaluated; rules not listed are answered by self-assessment.
EVALUATION: dict[str, str] = {
    # Sensors (DESIGN §4)
    "A3.3": "sensor",  # climate bands
    "A3.4": "sensor",  # ventilation alarm panel heartbeat + off-farm channel
    "A3.5": "sensor",  # mains outage vs generator
    "E3.3": "sensor",  # egg-room condensation
    "G3.8.7": "sensor",
    "G3.8.8": "sensor",
    "G3.8.9": "sensor",
    "G3.8.10": "sensor",
    "G3.8.11": "sensor",
    "H3.12.8": "sensor",  # pop-holes open 10:00 to sunset
    "H3.12.11": "sensor",  # housing order, 16-week limit
    # Logbooks (DESIGN §3.3)
    "A3.6": "logbook",
    "A4.2.2": "logbook",
    "A4.4.5": "logbook",
    "A4.5.1": "logbook",
    "A6.2.1": "logbook",
    "A6.2.2": "logbook",
    "E2.1.1": "logbook",  # Salmonella sampling per flock
    "E4.4.1": "logbook",  # hygienogram after R&O
    "E4.4.2": "logbook",
    "E4.4.4": "logbook",  # flock day sheet: dead hens removed daily
    "E5.3": "logbook",
    "E9.4": "logbook",
    "H2.4": "logbook",  # dioxin test at 30-45 weeks
    "H3.12.10": "logbook",  # free-range journal
    "A4.5.3": "logbook",  # bait-box register: numbered and fixed
    "E2.1.4": "logbook",  # Salmonella samples: recognised laboratory
    "E2.1.3": "logbook",  # Salmonella sample before slaughter, by a vet
    "E2.3.2": "logbook",  # dioxin per two laying rounds (barn, colony)
    "G3.1.2": "logbook",  # flocks: hens per compartment
    "I1.3": "logbook",  # flocks: hens per compartment (organic)
    "G1.2": "logbook",  # flocks: hens placed vs the stalmeetrapport's maximum
    "H3.12.1": "logbook",  # flocks: hens per hectare of free range
    # Documents with a validity
    "A1.2": "document",
    "A4.2.3": "document",
    "A4.5.2": "document",
    "A6.1.2": "document",
    "A6.1.3": "document",
    "A6.1.4": "document",
    "A6.3.1": "document",
    "G1.1": "document",
    "I1.1": "document",
}


def normalise_rule_id(raw: str, annex: str | None = None) -> str:
    """Return the canonical id: no trailing dot, damaged organic ids repaired.

    ``A4.5.4.`` → ``A4.5.4``; in annex 1.2I ``1.5``, ``I.6``, ``11.7`` and ``11.8``
    → ``I1.5``, ``I1.6``, ``I1.7``, ``I1.8`` (DESIGN §3.5).
    """
    rule_id = raw.strip().rstrip(".").upper()
    if annex == "1.2I" or (annex is None and re.fullmatch(r"(1|I|11)\.\d+", rule_id)):
        if not re.fullmatch(r"I1\.\d+", rule_id):
            rule_id = "I1." + rule_id.rsplit(".", 1)[-1]
    return rule_id


class Deviations(BaseModel):
    """The seed's deviation text per weight; None where the scheme has no such weight."""

    model_config = ConfigDict(frozen=True)
    B: str | None = None
    C: str | None = None
    D: str | None = None
    KO: str | None = None

    def weights(self) -> list[str]:
        """Return the weights this rule can be scored at, lightest first."""
        return [w for w in ("C", "B", "D", "KO") if getattr(self, w)]


class Rule(BaseModel):
    """One IKB Ei voorschrift with its texts exactly as in the seed."""

    model_config = ConfigDict(frozen=True)
    id: str
    annex: str
    section: str | None
    section_title: str | None
    title: str
    interpretation: str | None
    nvt: str | None
    not_checked: str | None
    deviations: Deviations
    applies_to: tuple[str, ...]
    evaluation: Evaluation
    source: dict

    def applies(self, housing: str) -> bool:
        """Return whether this rule applies to a house of the given housing system."""
        return housing in self.applies_to

    def deviation_text(self, weight: str) -> str | None:
        """Return the seed's text for a deviation weight (B, C, D or KO)."""
        return getattr(self.deviations, weight, None)

    def public_dict(self) -> dict:
        """Return the DESIGN §3.1 `rules --format json` shape (plus compatible extras)."""
        return {
            "id": self.id,
            "annex": self.annex,
            "section": self.section,
            "section_title": self.section_title,
            "title": self.title,
            "interpretation": self.interpretation,
            "nvt": self.nvt,
            "not_checked": self.not_checked,
            "deviations": self.deviations.model_dump(),
            "applies_to": list(self.applies_to),
            "evaluation": self.evaluation,
            "source": self.source,
        }


class Catalogue:
    """All rules, in seed order, looked up by normalised id."""

    def __init__(self, rules: list[Rule]):
        self.rules = rules
        self.by_id = {r.id: r for r in rules}

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self):
        return iter(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        """Return a rule by id, accepting un-normalised spellings (``a4.5.4.``)."""
        return self.by_id.get(normalise_rule_id(rule_id))

    def applicable(self, housings: set[str]) -> list[Rule]:
        """Return the rules that apply to a farm with these housing systems."""
        return [r for r in self.rules if housings.intersection(r.applies_to)]


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """Return the catalogue shipped with the package."""
    text = resources.files("rules").joinpath("catalogue.json").read_text(encoding="utf-8")
    return Catalogue([Rule.model_validate(item) for item in json.loads(text)])
