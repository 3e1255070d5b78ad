"""A4.5.1–A4.5.3: pest control (plaagdierbeheersing) — the check log, the bait-box register, their rules."""

from __future__ import annotations

import operator
from datetime import date, timedelta
from typing import Literal

from pydantic import field_validator

from rules.catalogue import Rule
from rules.documents import add_months
from rules.evidence import Evidence
from rules.findings import Due, Finding
from rules.logbooks.common import NO_LOGBOOKS, _deviation, _gaps, _invalid, _judge, _lp, _occ, _unknown, _view
from rules.logbooks.fields import Admission, Day, Record, ShortText, Text, YesNo, _not_future, compared_to, field
from rules.logbooks.view import LogbookView
from rules.params import Params
from rules.texts import N_, dutch_ngettext

# A4.5.1: "minimaal één keer per twee maanden gecontroleerd".
PEST_CHECK_MONTHS = 2

# --------------------------------------------------------------------------- the records

UPTAKE = {"none": N_("geen"), "little": N_("weinig"),
          "unreachable": N_("onbereikbaar"), "missing": N_("vermissing")}


CHECKED_BY = {"self": N_("pluimveehouder zelf"),
              "company": N_("plaagdierbeheersbedrijf")}


class PestControl(Record):
    """Logboek plaagdierbeheersing: one check of one bait box, trap or box (A4.5.1)."""

    date: Day = field("A4.5.1", N_("Datum controle"), widget="date", demand="datum controle")
    bait_box: ShortText = field("A4.5.1", N_("Nummer lokdoos / val / kist"),
                                demand="per lokdoosje/val/kist")
    measures: Text = field("A4.5.1", N_("Genomen maatregelen en motivering"),
                           widget="textarea", demand="genomen maatregelen en motivering hiervan")
    product: Text = field("A4.5.1", N_("Naam beheersingsmiddel"),
                          demand="naam en toelatingsnummer beheersingsmiddel")
    admission_number: Admission = field("A4.5.1", N_("Toelatingsnummer (Ctgb)"),
                                        demand="naam en toelatingsnummer beheersingsmiddel")
    label_location: Text = field("A4.5.1", N_("Locatie productetiket"),
                                 demand="locatie van product etiket")
    sds_location: Text = field("A4.5.1", N_("Locatie veiligheidsinformatieblad"),
                               demand="locatie veiligheidsinformatieblad van beheersmiddel")
    volume: Text = field("A4.5.1", N_("Volume ingezet middel"),
                         demand="volume ingezet beheersmiddel",
                         message=N_("vul de hoeveelheid in, bijv. '50 g' of '2 blokjes'"))
    uptake: Literal["none", "little", "unreachable", "missing"] = field(
        "A4.5.1", N_("Opname middel"), widget="select", options=UPTAKE,
        demand="opname middel (geen, weinig, onbereikbaar, vermissing)")
    effect: Text = field("A4.5.1", N_("Effect van genomen maatregelen"),
                         widget="textarea", demand="effect van genomen maatregelen")
    checked_by: Literal["self", "company"] = field(
        "A4.5.1", N_("Controle door"), widget="select", options=CHECKED_BY,
        demand="controle door pluimveehouder zelf of door plaagdierenbeheersbedrijf")
    inspector: str | None = field("A4.5.1", N_("Naam controleur"), default=None, max_length=200)

    _date = field_validator("date")(_not_future)


PESTS = {"rats": N_("ratten"), "mice": N_("muizen"), "rodents": N_("ratten en muizen"),
         "beetles": N_("piepschuimkevers"), "flies": N_("vliegen"),
         "red_mites": N_("rode vogelmijt"), "other": N_("overig")}


DEVICES = {"bait_box": N_("lokdoos"), "trap": N_("val"), "box": N_("kist")}


class BaitBox(Record):
    """Lokdozenregister: one numbered, fixed bait box, trap or box of the plan (A4.5.2, A4.5.3)."""

    number: ShortText = field("A4.5.3", N_("Nummer"), demand="lokdozen die zijn genummerd")
    location: Text = field("A4.5.2", N_("Locatie (volgens plattegrond)"),
                           demand="plattegrond met locatie vastgezette, genummerde lokdozen")
    target_pest: Literal["rats", "mice", "rodents", "beetles", "flies", "red_mites", "other"] = field(
        "A4.5.2", N_("Te bestrijden plaagdier"), widget="select", options=PESTS,
        demand="vermeld bij de plaats ook het middel en het te bestrijden plaagdier")
    product: Text = field("A4.5.2", N_("Middel"), demand="vermeld bij de plaats ook het middel")
    admission_number: Admission | None = field("A4.5.2", N_("Toelatingsnummer (Ctgb)"),
                                               default=None)
    device: Literal["bait_box", "trap", "box"] = field("A4.5.2", N_("Soort"), widget="select",
                                                       options=DEVICES, default="bait_box")
    fixed: YesNo = field("A4.5.3", N_("Vastgezet, pluimvee kan niet bij het middel"), widget="yesno",
                         demand="vastgezet op zo'n manier dat het pluimvee niet bij het beheersingsmiddel kan")
    placed_on: Day = field("A4.5.2", N_("Geplaatst op"), widget="date")
    removed_on: Day | None = field("A4.5.2", N_("Verwijderd op"), widget="date", default=None)

    _dates = field_validator("placed_on", "removed_on")(_not_future)

    _order = field_validator("removed_on")(compared_to("placed_on", operator.lt, N_("ligt vóór de plaatsingsdatum")))


# --------------------------------------------------------------------------- A4.5.1 pest control


def _boxes(view: LogbookView, today: date) -> dict[str, tuple[date | None, date | None]]:
    """Return each bait box as (placed on, removed on): from the register, else from the checks."""
    register = {b.number: (b.placed_on, b.removed_on) for b in view.records("bait_boxes") if b.placed_on <= today}
    if register:
        return register
    return {c.bait_box: (None, None) for c in view.records("pest_control")}


def eval_pest_control(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A4.5.1: every bait box checked at least once per two months, every field recorded.

    C when a box went longer than two calendar months between checks (or since
    it was placed, or since its last check until now), or an entry lacks
    fields; D when registered boxes have had no check at all.
    """
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    since, today = evidence.farm.local_date(evidence.since), evidence.today
    boxes = _boxes(view, today)
    checks = [c for c in view.records("pest_control") if c.date <= today]
    if not boxes:
        return [_unknown(rule, None, "Geen lokdozenregister en geen controles geregistreerd.")]
    lookback = today - timedelta(days=_lp(params).audit_lookback_days)
    recent = [c for c in checks if c.date >= lookback]
    overdue = [n for n, (placed, _) in boxes.items() if placed is None or add_months(placed, PEST_CHECK_MONTHS) < today]
    if not recent and overdue:
        occ = _occ(max(since, lookback), evidence, dutch_ngettext(
            "geen enkele controle geregistreerd voor lokdoos {boxes}",
            "geen enkele controle geregistreerd voor lokdozen {boxes}", len(overdue), boxes=", ".join(sorted(overdue))),
            today)
        return [_deviation(rule, None, "D", [occ], "Geen controles in het logboek plaagdierbeheersing.")]
    weighted = [("C", o) for o in _invalid(view, "pest_control", since, evidence)]
    for number, (placed, removed) in sorted(boxes.items()):
        dates = [c.date for c in checks if c.bait_box == number]
        end = min(removed, today) if removed else today
        for a, b in _gaps(dates, placed, since, end, PEST_CHECK_MONTHS):
            still = " (nog steeds niet gecontroleerd)" if b == today and b not in dates else ""
            weighted.append(("C", _occ(a, evidence, f"lokdoos {number}: {(b - a).days} dagen tussen "
                                                    f"{a.isoformat()} en {b.isoformat()}{still}", b)))
    line = (dutch_ngettext("{n} lokdoos", "{n} lokdozen", len(boxes)) + "; "
            + dutch_ngettext("{n} controle in de periode", "{n} controles in de periode",
                             len([c for c in checks if c.date >= since])))
    return [_judge(rule, None, weighted, line)]


def due_pest_control(evidence: Evidence, params: Params) -> list[Due]:
    """Return each bait box's next check (A4.5.1: at most two months after the last)."""
    view = _view(evidence)
    if view is None:
        return []
    today = evidence.today
    checks = view.records("pest_control")
    out = []
    for number, (placed, removed) in sorted(_boxes(view, today).items()):
        if removed is not None and removed <= today:
            continue
        dates = [c.date for c in checks if c.bait_box == number and c.date <= today]
        last = max(dates) if dates else placed
        if last is None:
            continue
        due = add_months(last, PEST_CHECK_MONTHS)
        out.append(Due("A4.5.1", None, due, f"Lokdoos {number} controleren", overdue=due < today))
    return out


# --------------------------------------------------------------------------- A4.5.3 bait boxes numbered and fixed


def eval_bait_boxes_fixed(rule: Rule, evidence: Evidence, params: Params) -> list[Finding]:
    """A4.5.3: the product offered in numbered bait boxes, fixed so the poultry cannot reach it (from the register).

    D "Pluimvee toegang tot beheersingsmiddelen" for every box in use that the register holds as not fixed,
    whatever a self-assessment says; ok when every box in use is numbered and fixed; unknown without a
    register (the farmer's answer then counts).
    """
    view = _view(evidence)
    if view is None:
        return [_unknown(rule, None, NO_LOGBOOKS)]
    today = evidence.today
    boxes = [b for b in view.records("bait_boxes") if b.placed_on <= today
             and (b.removed_on is None or b.removed_on > today)]
    if not boxes:
        return [_unknown(rule, None, "Geen lokdozen in gebruik in het lokdozenregister.")]
    loose = sorted((b for b in boxes if not b.fixed), key=lambda b: b.number)
    line = dutch_ngettext("{n} lokdoos in het register, genummerd", "{n} lokdozen in het register, genummerd",
                          len(boxes))
    if not loose:
        return [Finding(rule.id, None, "ok", "logbook", line + " en vastgezet", evidence=line + " en vastgezet")]
    since = evidence.farm.local_date(evidence.since)
    occurrences = [_occ(max(b.placed_on, since), evidence, f"lokdoos {b.number} ({b.location}) niet vastgezet "
                                                             f"volgens het lokdozenregister", today) for b in loose]
    return [_deviation(rule, None, "D", occurrences, line)]
