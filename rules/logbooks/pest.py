"""A4.5.1–A4.5.3: pest control (plaagdierbeheersing) — the check log, the bait-box register, their rules."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import field_validator, model_validator
from pydantic_core import PydanticCustomError

from rules.catalogue import Rule
from rules.documents import add_months
from rules.evidence import Evidence
from rules.findings import Due, Finding
from rules.logbooks.common import NO_LOGBOOKS, _deviation, _gaps, _invalid, _judge, _lp, _occ, _unknown, _view
from rules.logbooks.fields import Admission, Day, Record, ShortText, Text, YesNo, _not_future, field
from rules.logbooks.view import LogbookView
from rules.params import Params

# A4.5.1: "minimaal één keer per twee maanden gecontroleerd".
PEST_CHECK_MONTHS = 2

# --------------------------------------------------------------------------- the records

UPTAKE = {"none": ("geen", "none"), "little": ("weinig", "little"),
          "unreachable": ("onbereikbaar", "unreachable"), "missing": ("vermissing", "missing")}


CHECKED_BY = {"self": ("pluimveehouder zelf", "the farmer"),
              "company": ("plaagdierbeheersbedrijf", "pest control company")}


class PestControl(Record):
    """Logboek plaagdierbeheersing: one check of one bait box, trap or box (A4.5.1)."""

    date: Day = field("A4.5.1", "Datum controle", "Date of check", widget="date", demand="datum controle")
    bait_box: ShortText = field("A4.5.1", "Nummer lokdoos / val / kist", "Bait box / trap number",
                                demand="per lokdoosje/val/kist")
    measures: Text = field("A4.5.1", "Genomen maatregelen en motivering", "Measures taken and why",
                           widget="textarea", demand="genomen maatregelen en motivering hiervan")
    product: Text = field("A4.5.1", "Naam beheersingsmiddel", "Product name",
                          demand="naam en toelatingsnummer beheersingsmiddel")
    admission_number: Admission = field("A4.5.1", "Toelatingsnummer (Ctgb)", "Admission number (Ctgb)",
                                        demand="naam en toelatingsnummer beheersingsmiddel")
    label_location: Text = field("A4.5.1", "Locatie productetiket", "Where the product label is kept",
                                 demand="locatie van product etiket")
    sds_location: Text = field("A4.5.1", "Locatie veiligheidsinformatieblad", "Where the safety data sheet is kept",
                               demand="locatie veiligheidsinformatieblad van beheersmiddel")
    volume: Text = field("A4.5.1", "Volume ingezet middel", "Amount of product used",
                         demand="volume ingezet beheersmiddel",
                         message=("vul de hoeveelheid in, bijv. '50 g' of '2 blokjes'",
                                  "fill in the amount, e.g. '50 g'"))
    uptake: Literal["none", "little", "unreachable", "missing"] = field(
        "A4.5.1", "Opname middel", "Bait uptake", widget="select", options=UPTAKE,
        demand="opname middel (geen, weinig, onbereikbaar, vermissing)")
    effect: Text = field("A4.5.1", "Effect van genomen maatregelen", "Effect of the measures",
                         widget="textarea", demand="effect van genomen maatregelen")
    checked_by: Literal["self", "company"] = field(
        "A4.5.1", "Controle door", "Checked by", widget="select", options=CHECKED_BY,
        demand="controle door pluimveehouder zelf of door plaagdierenbeheersbedrijf")
    inspector: str | None = field("A4.5.1", "Naam controleur", "Inspector's name", default=None, max_length=200)

    _date = field_validator("date")(_not_future)


PESTS = {"rats": ("ratten", "rats"), "mice": ("muizen", "mice"), "rodents": ("ratten en muizen", "rodents"),
         "beetles": ("piepschuimkevers", "darkling beetles"), "flies": ("vliegen", "flies"),
         "red_mites": ("rode vogelmijt", "red mites"), "other": ("overig", "other")}


DEVICES = {"bait_box": ("lokdoos", "bait box"), "trap": ("val", "trap"), "box": ("kist", "box")}


class BaitBox(Record):
    """Lokdozenregister: one numbered, fixed bait box, trap or box of the plan (A4.5.2, A4.5.3)."""

    number: ShortText = field("A4.5.3", "Nummer", "Number", demand="lokdozen die zijn genummerd")
    location: Text = field("A4.5.2", "Locatie (volgens plattegrond)", "Location (as on the map)",
                           demand="plattegrond met locatie vastgezette, genummerde lokdozen")
    target_pest: Literal["rats", "mice", "rodents", "beetles", "flies", "red_mites", "other"] = field(
        "A4.5.2", "Te bestrijden plaagdier", "Target pest", widget="select", options=PESTS,
        demand="vermeld bij de plaats ook het middel en het te bestrijden plaagdier")
    product: Text = field("A4.5.2", "Middel", "Product", demand="vermeld bij de plaats ook het middel")
    admission_number: Admission | None = field("A4.5.2", "Toelatingsnummer (Ctgb)", "Admission number (Ctgb)",
                                               default=None)
    device: Literal["bait_box", "trap", "box"] = field("A4.5.2", "Soort", "Kind", widget="select",
                                                       options=DEVICES, default="bait_box")
    fixed: YesNo = field("A4.5.3", "Vastgezet, pluimvee kan niet bij het middel",
                         "Fixed, poultry cannot reach the product", widget="yesno",
                         demand="vastgezet op zo'n manier dat het pluimvee niet bij het beheersingsmiddel kan")
    placed_on: Day = field("A4.5.2", "Geplaatst op", "Placed on", widget="date")
    removed_on: Day | None = field("A4.5.2", "Verwijderd op", "Removed on", widget="date", default=None)

    _dates = field_validator("placed_on", "removed_on")(_not_future)

    @model_validator(mode="after")
    def _order(self) -> "BaitBox":
        if self.removed_on is not None and self.removed_on < self.placed_on:
            raise PydanticCustomError("order", "removed_on: ligt vóór de plaatsingsdatum")
        return self


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
        occ = _occ(max(since, lookback), evidence, f"geen enkele controle geregistreerd voor lokdoos/lokdozen "
                                                   f"{', '.join(sorted(overdue))}", today)
        return [_deviation(rule, None, "D", [occ], "Geen controles in het logboek plaagdierbeheersing.")]
    weighted = [("C", o) for o in _invalid(view, "pest_control", since, evidence)]
    for number, (placed, removed) in sorted(boxes.items()):
        dates = [c.date for c in checks if c.bait_box == number]
        end = min(removed, today) if removed else today
        for a, b in _gaps(dates, placed, since, end, PEST_CHECK_MONTHS):
            still = " (nog steeds niet gecontroleerd)" if b == today and b not in dates else ""
            weighted.append(("C", _occ(a, evidence, f"lokdoos {number}: {(b - a).days} dagen tussen "
                                                    f"{a.isoformat()} en {b.isoformat()}{still}", b)))
    line = f"{len(boxes)} lokdoos/lokdozen; {len([c for c in checks if c.date >= since])} controle(s) in de periode"
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
    line = f"{len(boxes)} lokdoos/lokdozen in het register, genummerd"
    if not loose:
        return [Finding(rule.id, None, "ok", "logbook", line + " en vastgezet", evidence=line + " en vastgezet")]
    since = evidence.farm.local_date(evidence.since)
    occurrences = [_occ(max(b.placed_on, since), evidence, f"lokdoos {b.number} ({b.location}) niet vastgezet "
                                                             f"volgens het lokdozenregister", today) for b in loose]
    return [_deviation(rule, None, "D", occurrences, line)]
