"""G3.1.2 and I1.3: hens per house compartment, from the flock records (peilmoment: the placement).

G3.1.2: "Bij scharrel of vrije uitloop huisvesting worden per stalcompartiment maximaal 6000 leghennen
gehouden" (NVT for organic); I1.3: "Bij biologische huisvesting worden per stalcompartiment maximaal 3000
stuks pluimvee gehouden". Both weigh KO "Geen compartimentering". A flock of at most the limit needs no
compartments; a larger one is judged by the hens the farmer recorded in its largest compartment.
"""

from __future__ import annotations

from datetime import timedelta

from rules.catalogue import Rule
from rules.evidence import Evidence
from rules.findings import Finding
from rules.logbooks.common import NO_LOGBOOKS, _deviation, _flocks, _lp, _nvt, _occ, _unknown, _view
from rules.params import Params

COMPARTMENT_LIMIT = {"G3.1.2": 6000, "I1.3": 3000}


def eval_compartments(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """G3.1.2 / I1.3: no compartment above the limit for each flock placed in the audit year (or present now)."""
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    limit = COMPARTMENT_LIMIT[rule.id]
    today = evidence.today
    horizon = today - timedelta(days=_lp(params).audit_lookback_days)
    flocks = _flocks(view)
    out = []
    for house in evidence.farm.houses:
        if not rule.applies(house.housing):
            continue
        if rule.id == "G3.1.2" and house.housing == "organic":
            out.append(_nvt(rule, house.id))  # the seed's NVT: "Biologische bedrijven" (I1.3 then applies)
            continue
        judged = [f for f in flocks.get(house.id, []) if f.placed_on <= today
                  and (f.placed_on >= horizon or f.depopulated_on is None or f.depopulated_on >= horizon)]
        if not judged:
            out.append(_unknown(rule, house.id, f"Geen koppel geregistreerd in stal {house.id}."))
            continue
        over, open_, lines = [], [], []
        for f in judged:
            largest = f.number_placed if f.number_placed <= limit else f.largest_compartment
            if largest is None:
                open_.append(f"{f.label()}: {f.number_placed} hennen; vul het aantal in het grootste compartiment in")
            elif largest > limit:
                over.append(_occ(f.placed_on, evidence, f"{f.label()}: {largest} hennen in één compartiment "
                                                        f"(maximaal {limit})", f.depopulated_on or today))
            else:
                lines.append(f"{f.label()}: hoogstens {largest} hennen per compartiment")
        if over:
            out.append(_deviation(rule, house.id, "KO", over, "; ".join(lines) or None))
        elif open_:
            out.append(_unknown(rule, house.id, "; ".join(open_) + "."))
        else:
            out.append(Finding(rule.id, house.id, "ok", "logbook", "; ".join(lines), evidence="; ".join(lines)))
    return out


# --------------------------------------------------------------------------- G1.2 and H3.12.1: how many hens

HENS_PER_HECTARE = 2500  # H3.12.1: "niet meer dan 2500 hennen per hectare vrije uitloop"


def _placements(view, house: str, evidence: Evidence, params: Params) -> list:
    """Return the house's flocks placed in the audit year or still present (the peilmoment is the placement)."""
    today = evidence.today
    horizon = today - timedelta(days=_lp(params).audit_lookback_days)
    return [f for f in _flocks(view).get(house, []) if f.placed_on <= today
            and (f.placed_on >= horizon or f.depopulated_on is None or f.depopulated_on >= horizon)]


def _per_house_limit(rule: Rule, evidence: Evidence, params: Params, limit_of, over_weight: str,
                     unit: str) -> list[Finding]:
    """Judge each applicable house's placements against a limit from the configuration (None: not set up)."""
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    out = []
    for house in evidence.farm.houses:
        if not rule.applies(house.housing):
            continue
        limit = limit_of(house)
        if limit is None:
            out.append(_unknown(rule, house.id, f"Voor stal {house.id} is {unit} nog niet ingesteld."))
            continue
        flocks = _placements(view, house.id, evidence, params)
        if not flocks:
            out.append(_unknown(rule, house.id, f"Geen koppel geregistreerd in stal {house.id}."))
            continue
        over = [_occ(f.placed_on, evidence, f"{f.label()}: {f.number_placed} hennen opgezet (maximaal {limit:g})",
                     f.depopulated_on or evidence.today) for f in flocks if f.number_placed > limit]
        line = "; ".join(f"{f.label()}: {f.number_placed} hennen (maximaal {limit:g})" for f in flocks)
        out.append(_deviation(rule, house.id, over_weight, over, line) if over else
                   Finding(rule.id, house.id, "ok", "logbook", line, evidence=line))
    return out


def eval_max_hens(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """G1.2: at placement no more hens than the house's stalmeetrapport allows (KO), from the flock records."""
    return _per_house_limit(rule, evidence, params, lambda h: h.max_hens, "KO",
                            "het maximale aantal hennen uit het stalmeetrapport")


def eval_hens_per_hectare(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """H3.12.1: at most 2500 hens per hectare of free range (D), from the flock records and the range's area."""
    return _per_house_limit(rule, evidence, params,
                            lambda h: None if h.free_range_ha is None else h.free_range_ha * HENS_PER_HECTARE, "D",
                            "de oppervlakte van de vrije uitloop")
