"""Rules whose NVT condition the farm's own configuration proves (its houses and their housing systems).

E7.1's NVT "één huisvestingssysteem op zelfde locatie"; G3.5.1's "NVT: biologisch" and H3.11.3's "NVT:
biologisch" for organic houses. Where the configuration does not decide, no finding (the farmer answers);
for the other houses of a mixed farm, `unknown` until answered.
"""

from __future__ import annotations

from rules.catalogue import Rule
from rules.evidence import Evidence
from rules.findings import Finding
from rules.params import Params

NOT_ANSWERED = "Nog niet beoordeeld: beantwoord de zelfbeoordeling."


def eval_one_housing_system(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E7.1: NVT with one housing system on the farm (from the configuration)."""
    housings = evidence.farm.housings
    if len(housings) != 1:
        return []
    return [Finding(rule.id, None, "nvt", "document", rule.nvt or "NVT",
                    evidence=f"alle stallen: {next(iter(housings))} (configuratie)")]


def eval_organic_nvt(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """G3.5.1, H3.11.3: NVT for organic houses; the other houses are answered per house."""
    houses = [h for h in evidence.farm.houses if rule.applies(h.housing)]
    if not any(h.housing == "organic" for h in houses):
        return []
    return [Finding(rule.id, h.id, "nvt", "document", rule.nvt, evidence="biologische stal (configuratie)")
            if h.housing == "organic" else Finding(rule.id, h.id, "unknown", "self_assessment", NOT_ANSWERED)
            for h in houses]


EVALUATORS = {"E7.1": eval_one_housing_system, "G3.5.1": eval_organic_nvt, "H3.11.3": eval_organic_nvt}
NVT_ONLY = tuple(EVALUATORS)
