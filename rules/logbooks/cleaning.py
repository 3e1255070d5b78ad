"""A4.4.5, E4.4.1, E4.4.2: cleaning and disinfection (R&O) per flock change, and hygienograms."""

from __future__ import annotations

import operator
from datetime import timedelta

from pydantic import field_validator

from rules.catalogue import Rule
from rules.evidence import Evidence
from rules.findings import SEVERITY, Finding
from rules.logbooks.common import NO_LOGBOOKS, _deviation, _flocks, _judge, _lp, _nvt, _occ, _unknown, _view
from rules.logbooks.fields import (
    Admission,
    Day,
    Record,
    ShortText,
    Text,
    YesNo,
    _check_house,
    _not_future,
    compared_to,
    field,
)
from rules.logbooks.flocks import FlockView, empty_since
from rules.logbooks.view import LogbookView
from rules.params import Params
from rules.texts import N_

RECLEAN, RETEST = 1.5, 2.5  # E4.4.2: re-clean above 1,5; re-clean and re-test from 2,5


class Product(Record):
    """A cleaning or disinfecting product and its Ctgb admission number (A4.4.5)."""

    name: Text = field("A4.4.5", N_("Middel"), demand="wettelijk toegestane gebruikte middelen")
    admission_number: Admission = field("A4.4.5", N_("Toelatingsnummer (Ctgb)"),
                                        demand="toegestane ontsmettingsmiddelen (databank van het CTGB)")


class Cleaning(Record):
    """R&O-logboek: cleaning and disinfection of one house before a new flock (A4.4.5)."""

    house: ShortText = field("A4.4.5", N_("Stal"), widget="house")
    cleaned_on: Day = field("A4.4.5", N_("Gereinigd op"), widget="date", demand="datums van reiniging")
    disinfected_on: Day = field("A4.4.5", N_("Ontsmet op"), widget="date",
                                demand="datums van ... ontsmetting")
    products: list[Product] = field("A4.4.5", N_("Gebruikte middelen"), widget="products",
                                    demand="incl. wettelijk toegestane gebruikte middelen", min_length=1,
                                    message=N_("vul minstens één middel met toelatingsnummer in"))
    performed_by: Text = field("A4.4.5", N_("Uitgevoerd door"),
                               demand="indien gebruik gemaakt wordt van IKB PSB bedrijf dan dit bedrijf het "
                                      "logboek in laten vullen")
    notes: str | None = field("A4.4.5", N_("Opmerkingen"), widget="textarea", default=None, max_length=2000)

    _dates = field_validator("cleaned_on", "disinfected_on")(_not_future)
    _house = field_validator("house")(lambda v, info: _check_house(v, info))

    _order = field_validator("disinfected_on")(compared_to(
        "cleaned_on", operator.lt, N_("ontsmetten komt na reinigen; ligt vóór de reinigingsdatum")))


class Hygienogram(Record):
    """Hygiënogram after cleaning and disinfection, before a new flock (E4.4.1, E4.4.2)."""

    house: ShortText = field("E4.4.1", N_("Stal"), widget="house")
    sampled_on: Day = field("E4.4.1", N_("Bemonsterd op"), widget="date")
    score: float = field("E4.4.2", N_("Uitslag (score)"), widget="number", ge=0, le=5,
                         demand="uitslag van het hygiënogram (> 1,5 opnieuw R&O; ≥ 2,5 ook nieuw hygiënogram)",
                         message=N_("vul de uitslag in als getal tussen 0 en 5, bijv. 1.2"))
    sampled_by: Text = field("E4.4.1", N_("Uitgevoerd door"),
                             demand="erkende HOSOWO instantie of GPD dierenarts")
    accredited: YesNo = field("E4.4.1", N_("Erkende HOSOWO-instantie of GPD-dierenarts"), widget="yesno")
    report: str | None = field("E4.4.1", N_("Rapportnummer"), default=None, max_length=200)

    _date = field_validator("sampled_on")(_not_future)
    _house = field_validator("house")(lambda v, info: _check_house(v, info))


# --------------------------------------------------------------------------- A4.4.5, E4.4.1, E4.4.2: flock change


def _judged_placements(flocks: list[FlockView], evidence: Evidence, params: Params) -> list[FlockView]:
    """Return the placements an audit would look at: those in the last audit year, else the latest."""
    today = evidence.today
    start = min(evidence.farm.local_date(evidence.since), today - timedelta(days=_lp(params).audit_lookback_days))
    placed = [f for f in flocks if f.placed_on <= today]
    recent = [f for f in placed if f.placed_on >= start]
    return recent or placed[-1:]


def eval_cleaning(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A4.4.5: an R&O record for each house between the previous flock leaving and the next placement."""
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    flocks = _flocks(view)
    lookback = _lp(params).cleaning_lookback_days
    out = []
    for house in evidence.farm.houses:
        placements = _judged_placements(flocks.get(house.id, []), evidence, params)
        if not placements:
            out.append(_unknown(rule, house.id, f"Geen koppel (opzet) geregistreerd voor stal {house.id}; "
                                                "registreer het koppel in het logboek koppels."))
            continue
        weighted, seen = [], []
        for flock in placements:
            empty = empty_since(flocks[house.id], flock, lookback)
            done = [c for c in view.records("cleaning") if c.house == house.id
                    and empty <= c.cleaned_on and c.disinfected_on <= flock.placed_on]
            if done:
                last = max(done, key=lambda c: c.disinfected_on)
                seen.append(f"R&O {last.cleaned_on.isoformat()}/{last.disinfected_on.isoformat()} vóór opzet "
                            f"{flock.placed_on.isoformat()}")
            else:
                weighted.append(("C", _occ(flock.placed_on, evidence,
                                           f"opzet {flock.placed_on.isoformat()}: geen reiniging en ontsmetting "
                                           f"geregistreerd tussen {empty.isoformat()} en "
                                           f"{flock.placed_on.isoformat()}")))
        out.append(_judge(rule, house.id, weighted, "; ".join(seen) or "R&O geregistreerd"))
    return out


def _hygienograms(view: LogbookView, flocks: list[FlockView], flock: FlockView, lookback: int):
    """Return the hygienograms of the house between it emptying and the placement, oldest first."""
    empty = empty_since(flocks, flock, lookback)
    return sorted((h for h in view.records("hygienogram")
                   if h.house == flock.house and empty <= h.sampled_on <= flock.placed_on),
                  key=lambda h: h.sampled_on)


def _flock_change_findings(rule: Rule, evidence: Evidence, params: Params, judge) -> list[Finding]:
    """Run ``judge(house, flocks, flock)`` over each house's recent placements (E4.4.1, E4.4.2)."""
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    flocks = _flocks(view)
    today = evidence.today
    horizon = today - timedelta(days=_lp(params).audit_lookback_days)
    out = []
    for house in evidence.farm.houses:
        placements = [f for f in _judged_placements(flocks.get(house.id, []), evidence, params)
                      if f.placed_on >= horizon]
        if not flocks.get(house.id):
            out.append(_unknown(rule, house.id, f"Geen koppel (opzet) geregistreerd voor stal {house.id}."))
        elif not placements:
            out.append(_nvt(rule, house.id, rule.nvt if rule.id == "E4.4.1" else
                            "NVT: geen nieuw koppel opgezet in het afgelopen jaar (huidig koppel zit nog in de stal)."))
        else:
            findings = [judge(house.id, view, flocks[house.id], f) for f in placements]
            out.append(max(findings, key=lambda f: SEVERITY[f.status]))
    return out


def eval_hygienogram(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E4.4.1: a hygienogram by an accredited HOSOWO body or GPD vet after R&O, before each placement."""
    lookback = _lp(params).cleaning_lookback_days

    def judge(house, view, flocks, flock):
        samples = _hygienograms(view, flocks, flock, lookback)
        if not samples:
            return _unknown(rule, house, f"Geen hygiënogram geregistreerd vóór opzet {flock.placed_on.isoformat()} "
                                         f"in stal {house}; registreer de uitslag.")
        last = samples[-1]
        line = (f"hygiënogram {last.sampled_on.isoformat()} door {last.sampled_by}, uitslag "
                f"{last.score:.1f}".replace(".", ","))
        if not last.accredited:
            return _deviation(rule, house, "D", [_occ(last.sampled_on, evidence, line + " (niet erkend)")], line)
        return Finding(rule.id, house, "ok", "logbook", line, evidence=line)

    return _flock_change_findings(rule, evidence, params, judge)


def eval_hygienogram_score(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E4.4.2: > 1,5 → R&O again before placing (else B); ≥ 2,5 → also a new hygienogram ≤ 1,5 (else D)."""
    lookback = _lp(params).cleaning_lookback_days

    def judge(house, view, flocks, flock):
        samples = _hygienograms(view, flocks, flock, lookback)
        if not samples:
            return _unknown(rule, house, f"Geen hygiënogram geregistreerd vóór opzet {flock.placed_on.isoformat()}.")
        last = samples[-1]
        score = f"{last.score:.1f}".replace(".", ",")
        when = f"hygiënogram {last.sampled_on.isoformat()} uitslag {score}, opzet {flock.placed_on.isoformat()}"
        if last.score >= RETEST:
            return _deviation(rule, house, "D", [_occ(flock.placed_on, evidence, when)], when)
        if last.score > RECLEAN:
            again = [c for c in view.records("cleaning") if c.house == house
                     and c.cleaned_on >= last.sampled_on and c.disinfected_on <= flock.placed_on]
            if not again:
                return _deviation(rule, house, "B", [_occ(flock.placed_on, evidence, when + "; geen nieuwe R&O "
                                                                                       "geregistreerd")], when)
            return Finding(rule.id, house, "ok", "logbook", when + "; opnieuw gereinigd en ontsmet",
                           evidence=when)
        if any(s.score > RECLEAN for s in samples[:-1]):
            return Finding(rule.id, house, "ok", "logbook", when + " (na herhaling)", evidence=when)
        return _nvt(rule, house)

    return _flock_change_findings(rule, evidence, params, judge)
