"""A4.2.2: the visitor register (bezoekersregister) — its record and what it proves."""

from __future__ import annotations

from datetime import date

from pydantic import ValidationInfo, field_validator

from rules.catalogue import Rule
from rules.evidence import Evidence
from rules.findings import Finding
from rules.logbooks.common import NO_LOGBOOKS, _invalid, _judge, _occ, _unknown, _view
from rules.logbooks.fields import Clock, Day, Record, ShortText, Text, YesNo, _check_house, _not_future, field
from rules.logbooks.view import LogbookView
from rules.params import Params
from rules.texts import N_, dutch_ngettext


class Visitor(Record):
    """Bezoekersregister: one visitor to the clean part of the farm (A4.2.2)."""

    date: Day = field("A4.2.2", N_("Datum bezoek"), widget="date", demand="datum bezoek")
    arrival: Clock = field("A4.2.2", N_("Tijdstip van aankomst"), widget="time",
                           demand="tijdstip van aankomst")
    name: Text = field("A4.2.2", N_("Naam"), demand="naam")
    organisation: Text = field("A4.2.2", N_("Organisatie"), demand="organisatie",
                               message=N_("vul de organisatie in (of 'particulier')"))
    poultry_contact_48h: YesNo = field(
        "A4.2.2", N_("Bent u in de afgelopen 48 uur op een ander pluimveebedrijf geweest waar een besmettelijke "
                  "ziekte heerst?"), widget="yesno",
        demand="de vraag 'Bent u in de afgelopen 48 uur op een ander pluimveebedrijf geweest waar een "
               "besmettelijke ziekte heerst ?'",
        message=N_("beantwoord de 48-uursvraag met ja of nee"))
    houses: list[ShortText] = field("A4.2.2", N_("Bezochte stallen"), widget="houses",
                                    demand="bezochte stallen", min_length=1,
                                    message=N_("kies minstens één bezochte stal"))
    license_plate: ShortText = field("A4.2.2", N_("Kenteken"), demand="kenteken",
                                     message=N_("vul het kenteken in (of 'geen' als de bezoeker zonder auto kwam)"))
    signature: str = field("A4.2.2", N_("Paraaf / handtekening"), widget="signature",
                           demand="paraaf / handtekening", min_length=1, max_length=200_000)
    departure: Clock | None = field("A4.2.2", N_("Tijdstip van vertrek"), widget="time",
                                    default=None)
    purpose: str | None = field("A4.2.2", N_("Doel van het bezoek"), default=None,
                                max_length=500)

    _date = field_validator("date")(_not_future)

    @field_validator("houses")
    @classmethod
    def _known_houses(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for house in value:
            _check_house(house, info)
        return list(dict.fromkeys(value))


# --------------------------------------------------------------------------- A4.2.2 visitors


def external_visits(view: LogbookView, evidence: Evidence) -> dict[date, list[str]]:
    """Return the days on which other logbooks record someone from outside in the houses.

    A pest-control company's check, a hygienogram sample, a flock delivery
    (placement) and a vet's farm visit (A6.1.2 report) each bring a visitor
    to the clean part of the farm (A4.2.2: "iedere individuele bezoeker").
    """
    days: dict[date, list[str]] = {}
    for r in view.records("pest_control"):
        if r.checked_by == "company":
            days.setdefault(r.date, []).append(f"controle plaagdierbeheersbedrijf (lokdoos {r.bait_box})")
    for r in view.records("hygienogram"):
        days.setdefault(r.sampled_on, []).append(f"hygiënogram stal {r.house} door {r.sampled_by}")
    for r in view.records("flocks"):
        days.setdefault(r.placed_on, []).append(f"opzet koppel stal {r.house} (herkomst {r.origin})")
    for d in evidence.documents:
        if d.rule == "A6.1.2" and d.recorded_at <= evidence.at:
            days.setdefault(d.issued_on, []).append("bedrijfsbezoek dierenarts")
    return days


def eval_visitors(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A4.2.2: register present (entries), complete (all fields) and current (no unregistered outside visits).

    "Niet actueel" (C): a day since the register came into use on which another
    logbook records an outside visitor (see :func:`external_visits`) but the
    register has no visit.
    """
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    visits = view.records("visitors")
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    if not visits:
        return [_unknown(rule, None, "Nog geen bezoekers geregistreerd in het bezoekersregister van ikb-agent; "
                                     "registreer bezoeken of beantwoord de zelfbeoordeling.")]
    first = min(v.date for v in visits)
    visit_days = {v.date for v in visits}
    weighted = [("B", o) for o in _invalid(view, "visitors", since, evidence)]
    for day, what in sorted(external_visits(view, evidence).items()):
        if max(since, first) <= day <= today and day not in visit_days:
            weighted.append(("C", _occ(day, evidence, "geen bezoeker geregistreerd op een dag met " + "; ".join(what))))
    in_window = [v for v in visits if since <= v.date <= today]
    line = dutch_ngettext("{n} bezoek geregistreerd in de periode; register in gebruik sinds {since}",
                          "{n} bezoeken geregistreerd in de periode; register in gebruik sinds {since}",
                          len(in_window), since=first.isoformat())
    return [_judge(rule, None, weighted, line)]
