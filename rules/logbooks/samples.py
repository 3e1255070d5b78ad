"""E2.1.1 and H2.4: laboratory samples per flock (Salmonella, dioxin) — the record and the schedules."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import field_validator

from rules.catalogue import Rule
from rules.evidence import Evidence
from rules.findings import Due, Finding, worst
from rules.logbooks.common import NO_LOGBOOKS, _deviation, _flocks, _judge, _lp, _nvt, _occ, _unknown, _view
from rules.logbooks.fields import Day, Record, ShortText, Text, YesNo, _check_house, _not_future, field
from rules.logbooks.flocks import FlockView, flock_on
from rules.logbooks.view import LogbookView
from rules.params import Params
from rules.texts import N_

SAMPLE_KINDS = {"salmonella": N_("Salmonella (S.E./S.T.)"),
                "dioxin": N_("dioxine en PCB's in eieren")}


METHODS = {"manure": N_("mestonderzoek"), "boot_swabs": N_("overschoentjes"),
           "eggs": N_("eieren"), "other": N_("anders")}


SAMPLE_RESULTS = {"pending": N_("uitslag volgt"), "negative": N_("negatief"),
                  "positive": N_("positief"), "compliant": N_("voldoet"),
                  "non_compliant": N_("voldoet niet")}


class Sample(Record):
    """Laboratoriumonderzoek per koppel: Salmonella (E2.1.1) or dioxin (H2.4)."""

    house: ShortText = field("E2.1.1", N_("Stal"), widget="house", demand="per koppel en in elke stal")
    sampled_on: Day = field("E2.1.1", N_("Monster genomen op"), widget="date",
                            demand="elke 15 weken (of 105 dagen) vanaf 22-26 weken leeftijd")
    kind: Literal["salmonella", "dioxin"] = field("E2.1.1", N_("Onderzoek"), widget="select",
                                                  options=SAMPLE_KINDS)
    method: Literal["manure", "boot_swabs", "eggs", "other"] = field(
        "E2.1.1", N_("Methode"), widget="select", options=METHODS,
        demand="mestonderzoek of overschoentjes")
    lab: Text = field("H2.4", N_("Laboratorium"), demand="erkend lab")
    accredited: YesNo = field("H2.4", N_("Erkend laboratorium / volgens protocol"),
                              widget="yesno", default=True)
    result: Literal["pending", "negative", "positive", "compliant", "non_compliant"] = field(
        "E2.1.1", N_("Uitslag"), widget="select", options=SAMPLE_RESULTS, default="pending")
    taken_by: str | None = field("E2.1.1", N_("Genomen door"), default=None, max_length=200)

    _date = field_validator("sampled_on")(_not_future)
    _house = field_validator("house")(lambda v, info: _check_house(v, info))


SALMONELLA_FIRST = (22, 26)  # E2.1.1: "vanaf 22-26 weken leeftijd"


SALMONELLA_EVERY = 105  # E2.1.1: "elke 15 weken (of 105 dagen)"


SALMONELLA_BEFORE_SLAUGHTER = 21  # E2.1.1: "maximaal 3 weken voor slacht"


DIOXIN_AGE = (30, 45)  # H2.4: "leeftijd tussen 30-45 weken"


# --------------------------------------------------------------------------- E2.1.1 Salmonella, H2.4 dioxin


def _samples(view: LogbookView, flock: FlockView, kind: str, until: date) -> list:
    """Return the samples of one kind taken from a flock while it was in its house, oldest first."""
    return sorted((s for s in view.records("samples") if s.kind == kind and s.house == flock.house
                   and flock.present(s.sampled_on) and s.sampled_on <= until), key=lambda s: s.sampled_on)


def salmonella_schedule(flock: FlockView, samples: list, today: date) -> list[tuple[date, date | None]]:
    """Return (due date, date taken or None) for each E2.1.1 round up to today.

    Round one falls due at 26 weeks (samples before 22 weeks do not count);
    each next round 105 days after the previous sample (or its due date when
    missed); before slaughter a sample within 3 weeks of the last day.
    """
    taken = [s.sampled_on for s in samples if s.sampled_on >= flock.at_age(SALMONELLA_FIRST[0])]
    end = flock.depopulated_on or today
    rounds: list[tuple[date, date | None]] = []
    floor, due = flock.at_age(SALMONELLA_FIRST[0]), flock.at_age(SALMONELLA_FIRST[1])
    while True:
        got = next((d for d in taken if d >= floor), None)
        if got is None and due > end:
            if flock.depopulated_on is None:
                rounds.append((due, None))  # the next round, not yet due
            break
        rounds.append((due, got))
        base = got if got is not None else due
        floor, due = base + timedelta(days=1), base + timedelta(days=SALMONELLA_EVERY)
    if flock.depopulated_on is not None and flock.depopulated_on <= today:
        window = flock.depopulated_on - timedelta(days=SALMONELLA_BEFORE_SLAUGHTER)
        last = next((d for d in reversed(taken) if window <= d <= flock.depopulated_on), None)
        rounds.append((flock.depopulated_on, last))
    return rounds


def _flocks_in_window(flocks: list[FlockView], start: date, end: date) -> list[FlockView]:
    """Return the flocks that were in the house at some day of [start, end]."""
    return [f for f in flocks if f.placed_on <= end and (f.depopulated_on is None or f.depopulated_on >= start)]


def eval_salmonella(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E2.1.1: Salmonella sampling per flock and house from 22–26 weeks, every 105 days, and before slaughter.

    Up to a week late → B (the interpretation's tolerance); later → D; a round
    whose time has passed without a sample → KO, once the samples logbook is in
    use (else unknown). Rounds that fell due in the last audit year are judged.
    """
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    lp = _lp(params)
    flocks = _flocks(view)
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    horizon = today - timedelta(days=lp.audit_lookback_days)
    in_use = any(s.kind == "salmonella" for s in view.records("samples"))
    out = []
    for house in evidence.farm.houses:
        present = _flocks_in_window(flocks.get(house.id, []), since, today)
        if not present:
            out.append(_unknown(rule, house.id, f"Geen koppel geregistreerd in stal {house.id}."))
            continue
        weighted, lines, missing = [], [], []
        for flock in present:
            for due, got in salmonella_schedule(flock, _samples(view, flock, "salmonella", today), today):
                if due < horizon:
                    continue
                late = (got - due).days if got else (today - due).days
                what = f"{flock.label()}: onderzoek uiterlijk {due.isoformat()}"
                if got is not None and late <= 0:
                    lines.append(f"onderzoek {got.isoformat()}")
                elif got is not None:
                    weight = "B" if late <= lp.salmonella_tolerance_days else "D"
                    weighted.append((weight, _occ(due, evidence, f"{what}, uitgevoerd {got.isoformat()} "
                                                                 f"({late} dagen te laat)", got)))
                elif late > lp.salmonella_tolerance_days:
                    if in_use:
                        weighted.append(("KO", _occ(due, evidence, f"{what}: niet uitgevoerd", today)))
                    else:
                        missing.append(what)
                else:
                    lines.append(f"volgende onderzoek uiterlijk {due.isoformat()}")
        if weighted:
            out.append(_deviation(rule, house.id, worst(w for w, _ in weighted), [o for _, o in weighted],
                                  "; ".join(lines) or None,
                                  fallback="Onderzoek maximaal 1 week te laat (tolerantie, sanctie B)."))
        elif missing:
            out.append(_unknown(rule, house.id, "Geen Salmonella-onderzoek geregistreerd: " + "; ".join(missing)))
        else:
            line = "; ".join(lines) or "eerste onderzoek tussen 22 en 26 weken leeftijd"
            out.append(Finding(rule.id, house.id, "ok", "logbook", line, evidence=line))
    return out


def eval_dioxin(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """H2.4: once per laying round, at 30–45 weeks, eggs tested for dioxins (C: wrong age/lab; D: none).

    NVT when no flock of the house was 30–45 weeks old in the past year. A
    missing test is D once the samples logbook is in use, else unknown.
    """
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    lp = _lp(params)
    flocks = _flocks(view)
    today = evidence.today
    horizon = today - timedelta(days=lp.audit_lookback_days)
    in_use = bool(view.records("samples"))
    out = []
    for house in evidence.farm.houses:
        if not rule.applies(house.housing):
            continue
        if not flocks.get(house.id):
            out.append(_unknown(rule, house.id, f"Geen koppel geregistreerd in stal {house.id}."))
            continue
        relevant = [f for f in flocks[house.id]
                    if f.at_age(DIOXIN_AGE[0]) <= today and f.at_age(DIOXIN_AGE[1]) >= horizon
                    and (f.depopulated_on is None or f.depopulated_on >= f.at_age(DIOXIN_AGE[0]))]
        if not relevant:
            out.append(_nvt(rule, house.id))
            continue
        weighted, lines, missing = [], [], []
        for flock in relevant:
            lo, hi = flock.at_age(DIOXIN_AGE[0]), flock.at_age(DIOXIN_AGE[1])
            tests = _samples(view, flock, "dioxin", today)
            good = [s for s in tests if lo <= s.sampled_on <= hi and s.accredited]
            if good:
                lines.append(f"{flock.label()}: dioxineonderzoek {good[0].sampled_on.isoformat()}")
            elif tests:
                s = tests[-1]
                weighted.append(("C", _occ(s.sampled_on, evidence, f"{flock.label()}: onderzoek "
                                                                    f"{s.sampled_on.isoformat()} buiten 30-45 weken "
                                                                    f"of niet volgens protocol")))
            elif today > hi and in_use:
                weighted.append(("D", _occ(hi, evidence, f"{flock.label()}: geen onderzoek tussen {lo.isoformat()} "
                                                         f"en {hi.isoformat()}")))
            elif today > hi:
                missing.append(f"{flock.label()}: onderzoek tussen {lo.isoformat()} en {hi.isoformat()}")
            else:
                lines.append(f"{flock.label()}: onderzoek tussen {lo.isoformat()} en {hi.isoformat()}")
        if weighted:
            out.append(_judge(rule, house.id, weighted, "; ".join(lines)))
        elif missing:
            out.append(_unknown(rule, house.id, "Geen dioxineonderzoek geregistreerd: " + "; ".join(missing)))
        else:
            out.append(Finding(rule.id, house.id, "ok", "logbook", "; ".join(lines), evidence="; ".join(lines)))
    return out


def due_samples(evidence: Evidence, params: Params) -> list[Due]:
    """Return the next Salmonella round (E2.1.1) and a pending dioxin test (H2.4) per house."""
    view = _view(evidence)
    if view is None:
        return []
    today = evidence.today
    out = []
    for house, flocks in _flocks(view).items():
        flock = flock_on(flocks, today)
        if flock is None:
            continue
        rounds = salmonella_schedule(flock, _samples(view, flock, "salmonella", today), today)
        open_rounds = [due for due, got in rounds if got is None]
        if open_rounds:
            due = open_rounds[0]
            out.append(Due("E2.1.1", house, due, f"Salmonella-onderzoek {flock.label()}", overdue=due < today))
        hi = flock.at_age(DIOXIN_AGE[1])
        housing = next((h.housing for h in evidence.farm.houses if h.id == house), None)
        if housing in ("free_range", "organic") and not any(
                flock.at_age(DIOXIN_AGE[0]) <= s.sampled_on <= hi for s in _samples(view, flock, "dioxin", today)):
            if today <= hi:
                out.append(Due("H2.4", house, hi, f"Dioxineonderzoek eieren (30-45 weken) {flock.label()}"))
    return out
