"""Flocks and the flock day sheet (koppelkaart): E5.3, E4.4.4, E9.4, A6.2.1 and A6.2.2."""

from __future__ import annotations

import operator
from datetime import date, timedelta

from pydantic import ValidationInfo, field_validator

from rules.catalogue import Rule
from rules.errors import invalid
from rules.evidence import Evidence
from rules.findings import Due, Finding, Occurrence
from rules.logbooks.common import NO_LOGBOOKS, _days, _deviation, _flocks, _judge, _lp, _nvt, _occ, _unknown, _view
from rules.logbooks.fields import Day, Record, ShortText, Text, YesNo, _check_house, _not_future, compared_to, field
from rules.logbooks.flocks import (
    NVWA_PHONE,
    FlockView,
    drop_triggers,
    episodes,
    flock_on,
    mortality_triggers,
    response_day,
    sheet,
)
from rules.logbooks.view import LogbookView
from rules.params import Params
from rules.texts import N_, dutch_ngettext


class Flock(Record):
    """Koppel: a flock placed in a house (E9.4; its age drives E2.1.1 and H2.4)."""

    house: ShortText = field("E9.4", N_("Stal"), widget="house", demand="per koppel")
    placed_on: Day = field("E9.4", N_("Opzetdatum"), widget="date")
    hatched_on: Day = field("E2.1.1", N_("Uitkomstdatum"), widget="date",
                            demand="leeftijd van het koppel")
    number_placed: int = field("A6.2.2", N_("Aantal opgezette hennen"), widget="number",
                               gt=0, le=1_000_000, demand="sterfte op koppelniveau",
                               message=N_("vul het aantal opgezette hennen in (een heel getal groter dan 0)"))
    origin: Text = field("E9.4", N_("Herkomst (opfokbedrijf)"))
    breed: str | None = field("E9.4", N_("Ras"), default=None, max_length=200)
    depopulated_on: Day | None = field("A4.4.5", N_("Afgevoerd op (laatste dag in de stal)"), widget="date", default=None)
    largest_compartment: int | None = field(
        "G3.1.2", N_("Hennen in het grootste stalcompartiment"), widget="number",
        default=None, gt=0, le=1_000_000, demand="per stalcompartiment maximaal 6000 leghennen (biologisch 3000)",
        message=N_("vul het aantal hennen in het grootste compartiment in (leeg als de stal één compartiment is)"))

    _dates = field_validator("placed_on", "hatched_on", "depopulated_on")(_not_future)
    _house = field_validator("house")(lambda v, info: _check_house(v, info))

    _hatched_first = field_validator("hatched_on")(compared_to(
        "placed_on", operator.ge, N_("de uitkomstdatum ligt vóór de opzetdatum")))
    _depopulated_after = field_validator("depopulated_on")(compared_to(
        "placed_on", operator.lt, N_("ligt vóór de opzetdatum")))
    _compartment_within = field_validator("largest_compartment")(compared_to(
        "number_placed", operator.gt, N_("meer dan het aantal opgezette hennen")))


class FlockDay(Record):
    """Koppelkaart: one house on one day (E5.3, E4.4.4, E9.4; feeds A6.2.1 and A6.2.2)."""

    date: Day = field("E5.3", N_("Datum"), widget="date", demand="notities die dagelijks op de koppelkaart")
    house: ShortText = field("E5.3", N_("Stal"), widget="house")
    inspected: YesNo = field("E5.3", N_("Koppel gecontroleerd"), widget="yesno",
                             demand="Het bedrijf inspecteert het pluimvee ten minste eenmaal per dag")
    inspected_by: str | None = field("E5.3", N_("Gecontroleerd door"), default=None, max_length=200)
    mortality: int = field("E9.4", N_("Uitval (dood)"), widget="number", ge=0, le=1_000_000,
                           demand="uitval per dag",
                           message=N_("vul het aantal dode hennen in (0 of meer)"))
    culls: int = field("A6.2.2", N_("Uitgeselecteerd"), widget="number", ge=0, le=1_000_000, default=0,
                       demand="Sterfte is inclusief uitgeselecteerde dieren")
    eggs: int | None = field("E9.4", N_("Geproduceerde eieren"), widget="number", ge=0,
                             le=10_000_000, default=None, demand="dagelijks aantal geproduceerde eieren")
    # Upper bounds (our choice): a house of a million hens (number_placed's bound) drinks about 300,000 litres
    # and eats about 130,000 kg a day; 1e308 is a typing accident, not an amount.
    water_l: float | None = field("A6.2.1", N_("Wateropname (liter)"), widget="number",
                                  ge=0, le=1_000_000, default=None, demand="reductie van ... drinkwateropname")
    feed_kg: float | None = field("A6.2.1", N_("Voeropname (kg)"), widget="number", ge=0,
                                  le=1_000_000, default=None, demand="reductie van voer... opname")
    dead_removed: YesNo = field("E4.4.4", N_("Dode hennen verwijderd"), widget="yesno",
                                default=True, demand="Dode leghennen worden dagelijks verwijderd")
    vet_consulted: YesNo = field("A6.2.1", N_("Dierenarts geraadpleegd"), widget="yesno",
                                 default=False)
    nvwa_reported: YesNo = field("A6.2.2", N_("Gemeld bij NVWA (045-5463188)"), widget="yesno",
                                 default=False)
    notes: str | None = field("E5.3", N_("Notities"), widget="textarea", default=None, max_length=2000)

    _date = field_validator("date")(_not_future)
    _house = field_validator("house")(lambda v, info: _check_house(v, info))

    # A field validator on the later field (not a model validator), so that the check runs, and its message
    # shows, in the same round as every other field's: a model validator waits until all fields are valid.
    @field_validator("inspected_by")
    @classmethod
    def _who(cls, value, info: ValidationInfo):
        if info.data.get("inspected") and not (value or "").strip():
            raise invalid("who", N_("vul in wie het koppel heeft gecontroleerd"))
        return value


# --------------------------------------------------------------------------- flock day sheet


def _sheet_days(view: LogbookView, flocks: list[FlockView], house: str, evidence: Evidence):
    """Return (judged days with their flock, the house's sheet by date, first sheet day) for E5.3/E4.4.4/E9.4.

    Judged: each day in the window before today on which a flock was in the
    house, from the first day the sheet was kept here.
    """
    entries = {r.date: r for r in view.records("flock_day") if r.house == house}
    if not entries:
        return [], entries, None
    first = min(entries)
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    judged = []
    for day in _days(max(since, first), today - timedelta(days=1)):
        flock = flock_on(flocks, day)
        if flock is not None:
            judged.append((day, flock))
    return judged, entries, first


def _sheet_rule(rule: Rule, evidence: Evidence, params: Params, check) -> list[Finding]:
    """Judge every house's flock day sheet with ``check(day, record) -> problem | None``.

    ``check`` is called with ``record=None`` for a day without an entry.
    Weights: all judged days failing → D; some → the rule's C (or D when it has none).
    """
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    flocks = _flocks(view)
    out = []
    for house in evidence.farm.houses:
        if not flocks.get(house.id):
            out.append(_unknown(rule, house.id, f"Geen koppel geregistreerd voor stal {house.id}."))
            continue
        judged, entries, first = _sheet_days(view, flocks[house.id], house.id, evidence)
        if first is None:
            out.append(_unknown(rule, house.id, f"De koppelkaart van stal {house.id} wordt nog niet in ikb-agent "
                                                "bijgehouden."))
            continue
        if not judged:
            if flock_on(flocks[house.id], evidence.today) is None:
                out.append(_nvt(rule, house.id, f"Geen koppel in stal {house.id} in deze periode."))
            else:
                out.append(Finding(rule.id, house.id, "ok", "logbook", "Koppelkaart bijgehouden.",
                                   evidence="koppelkaart sinds " + first.isoformat()))
            continue
        problems = [(day, check(day, entries.get(day))) for day, _ in judged]
        bad = [(d, p) for d, p in problems if p]
        line = dutch_ngettext("koppelkaart {ok} van {n} dag in orde", "koppelkaart {ok} van {n} dagen in orde",
                              len(judged), ok=len(judged) - len(bad))
        if not bad:
            out.append(Finding(rule.id, house.id, "ok", "logbook", line, evidence=line))
            continue
        weight = "D" if len(bad) == len(judged) or not rule.deviation_text("C") else "C"
        out.append(_deviation(rule, house.id, weight, _runs(bad, evidence), line))
    return out


def _runs(bad: list[tuple[date, str]], evidence: Evidence) -> list[Occurrence]:
    """Merge consecutive days with the same problem into one occurrence each."""
    out: list[list] = []
    for day, problem in bad:
        if out and out[-1][2] == problem and (day - out[-1][1]).days == 1:
            out[-1][1] = day
        else:
            out.append([day, day, problem])
    return [_occ(a, evidence, p if a == b else f"{p} ({a.isoformat()} t/m {b.isoformat()})", b)
            for a, b, p in out]


def eval_daily_inspection(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E5.3: the flock inspected at least once a day, shown on the day sheet (C: not every day; D: none)."""
    def check(day, r):
        if r is None:
            return "geen koppelkaartregel"
        return None if r.inspected else "niet gecontroleerd"
    return _sheet_rule(rule, evidence, params, check)


def eval_dead_removed(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E4.4.4: dead hens removed daily, shown by a daily sheet entry (D when a day is not shown)."""
    def check(day, r):
        if r is None:
            return "geen koppelkaartregel (controle niet aantoonbaar)"
        if not r.inspected:
            return "geen controle uitgevoerd"
        return None if r.dead_removed else "dode hennen niet verwijderd"
    return _sheet_rule(rule, evidence, params, check)


def eval_flock_records(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """E9.4: per flock the eggs produced and the mortality of every day (C: gaps; D: none in the period)."""
    def check(day, r):
        if r is None:
            return "geen eieren en uitval geregistreerd"
        return None if r.eggs is not None else "aantal eieren ontbreekt"
    return _sheet_rule(rule, evidence, params, check)


def _flock_sheets(view: LogbookView, house: str, flocks: list[FlockView]):
    """Yield (flock, its sheet by date) for each flock of a house."""
    days = [r for r in view.records("flock_day") if r.house == house]
    for flock in flocks:
        yield flock, sheet(days, flock)


def _response_rule(rule: Rule, evidence: Evidence, params: Params, triggers_of, field: str, late: str,
                   never: str, todo: str) -> list[Finding]:
    """Judge A6.2.1/A6.2.2: after each trigger episode, was the vet consulted / NVWA told in time?"""
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    flocks = _flocks(view)
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    grace = _lp(params).report_grace_days
    out = []
    for house in evidence.farm.houses:
        weighted, pending, handled, seen_days = [], [], [], 0
        for flock, days in _flock_sheets(view, house.id, flocks.get(house.id, [])):
            days = {d: r for d, r in days.items() if d <= today}
            seen_days += len([d for d in days if d >= since])
            for run in episodes(triggers_of(flock, days)):
                start = run[0].day
                if run[-1].day < since:
                    continue
                answered = response_day(days, start - timedelta(days=1), field)
                deadline = start + timedelta(days=grace)
                detail = f"{flock.label()}: {run[0].detail}"
                if answered is not None and answered <= deadline:
                    handled.append(f"{detail}; {todo.split(' (')[0]} op {answered.isoformat()}")
                    continue
                if answered is not None:
                    weighted.append((late, _occ(start, evidence, f"{detail}; pas op {answered.isoformat()}", answered)))
                elif today > deadline:
                    weighted.append((never, _occ(start, evidence, f"{detail}; niet geregistreerd", today)))
                else:
                    pending.append(f"{detail}: {todo} uiterlijk {deadline.isoformat()}")
        if weighted:
            out.append(_judge(rule, house.id, weighted, ""))
        elif pending:
            out.append(_unknown(rule, house.id, "; ".join(pending)))
        elif handled:
            out.append(Finding(rule.id, house.id, "ok", "logbook", "; ".join(handled), evidence="; ".join(handled)))
        elif seen_days:
            out.append(_nvt(rule, house.id))
        else:
            out.append(_unknown(rule, house.id, f"Geen koppelkaart van stal {house.id} in deze periode."))
    return out


def eval_vet(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A6.2.1: after two days of ≥ 5 % fewer eggs (or > 5 % less water or feed) the vet is consulted in time."""
    return _response_rule(rule, evidence, params, lambda flock, days: drop_triggers(days), "vet_consulted",
                          "D", "D", "dierenarts raadplegen")


def eval_nvwa(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A6.2.2: after two days of ≥ 0,5 % or a week of > 3 % mortality NVWA is told in time (C late, D never)."""
    return _response_rule(rule, evidence, params, mortality_triggers, "nvwa_reported", "C", "D",
                          f"melden bij NVWA ({NVWA_PHONE})")


def due_reports(evidence: Evidence, params: Params) -> list[Due]:
    """Return open A6.2.1/A6.2.2 duties: a vet to consult or NVWA to tell."""
    view = _view(evidence)
    if view is None:
        return []
    flocks = _flocks(view)
    today, grace = evidence.today, _lp(params).report_grace_days
    out = []
    for house in evidence.farm.houses:
        for flock, days in _flock_sheets(view, house.id, flocks.get(house.id, [])):
            for rule, triggers, answer, what in (
                    ("A6.2.2", mortality_triggers(flock, days), "nvwa_reported", f"Melden bij NVWA ({NVWA_PHONE})"),
                    ("A6.2.1", drop_triggers(days), "vet_consulted", "Dierenarts raadplegen")):
                for run in episodes(triggers):
                    deadline = run[0].day + timedelta(days=grace)
                    # Duties of the last week: older ones are findings, not to-dos.
                    if deadline >= today - timedelta(days=7) and response_day(
                            days, run[0].day - timedelta(days=1), answer) is None:
                        out.append(Due(rule, house.id, deadline, f"{what}: {run[0].detail}",
                                       overdue=deadline < today))
    return out


def eval_mortality_measures(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A6.2.3: NVT "Geen hoge sterfte" where the day sheet of the window shows none (A6.2.2's thresholds).

    With high mortality the measures taken are the farmer's to record (the answer counts): unknown with the
    days it happened. Houses without a day sheet in the window give no finding.
    """
    view = _view(evidence)
    if view is None:
        return []
    flocks = _flocks(view)
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    out = []
    for house in evidence.farm.houses:
        seen, found = 0, []
        for flock, days in _flock_sheets(view, house.id, flocks.get(house.id, [])):
            days = {d: r for d, r in days.items() if d <= today}
            seen += len([d for d in days if d >= since])
            found += [t for t in mortality_triggers(flock, days) if t.day >= since]
        if not seen:
            continue
        if found:
            out.append(_unknown(rule, house.id, "Verhoogde sterfte: " + "; ".join(t.detail for t in found[:3])
                                + ". Leg de genomen maatregelen vast (zelfbeoordeling)."))
        else:
            days = dutch_ngettext("{n} dag zonder verhoogde sterfte", "{n} dagen zonder verhoogde sterfte", seen)
            out.append(_nvt(rule, house.id, f"{rule.nvt} (koppelkaart: {days})"))
    return out
