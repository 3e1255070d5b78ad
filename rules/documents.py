"""Documents with a validity: certificates, reports and plans the auditor asks for.

Each document rule names the document that proves it, how long one stays
valid and the weight the seed gives when it is missing or too old. A missing
document is `unknown` (nothing recorded yet, not proof of a deviation); an
expired one is the rule's deviation; one expiring within the horizon is due.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from rules.catalogue import Rule
from rules.errors import IkbError
from rules.evidence import Document, Evidence
from rules.findings import Due, Finding, Occurrence
from rules.params import Params
from rules.texts import N_


@dataclass(frozen=True)
class DocumentSpec:
    """What proves a document rule and how long it holds."""

    rule: str
    kind: str
    label: str  # Dutch, as the farmer calls it
    weight: str  # seed weight when expired
    months: int | None = None  # validity in calendar months from the issue date
    days: int | None = None  # validity in days from the issue date
    grace_days: int = 0  # expired by at most this many days → grace_weight
    grace_weight: str | None = None
    per_house: bool = False
    needs_valid_until: bool = False  # validity is printed on the document itself


SPECS: dict[str, DocumentSpec] = {
    s.rule: s
    for s in (
        # A1.2 interpretation: "Vijfjaarlijkse herkeuring ... via NEN 3140 of NTA8220".
        DocumentSpec("A1.2", "electrical_inspection", "Keuringsrapport elektrische installatie (NEN 3140 / NTA 8220)", "B", months=60),
        # A4.2.3: "ten minste iedere 365 dagen de hygiënescan".
        DocumentSpec("A4.2.3", "hygiene_scan", "Hygiënescan (AVINED)", "B", days=365),
        # A4.5.2: IPM-KBA licence and a pest control plan; the licence states its end date.
        DocumentSpec("A4.5.2", "pest_control_licence", "IPM-KBA-licentie en plaagdierenbeheersplan", "D", needs_valid_until=True),
        # A6.1.2: the GPD vet visits "minimaal 1x per jaar".
        DocumentSpec("A6.1.2", "vet_visit", "Verslag bedrijfsbezoek GPD-dierenarts", "B", months=12),
        # A6.1.3 / A6.1.4: plans "maximaal 12 maanden oud".
        DocumentSpec("A6.1.3", "health_plan", "Bedrijfsgezondheidsplan (BGP)", "D", months=12),
        DocumentSpec("A6.1.4", "treatment_plan", "Bedrijfsbehandelplan (BBP)", "D", months=12),
        # A6.3.1: "één keer per 12 maanden (365 dagen)"; B when at most a week late.
        DocumentSpec("A6.3.1", "water_test", "Drinkwateronderzoek (HOSOWO)", "D", days=365, grace_days=7, grace_weight="B"),
        # G1.1: a valid stalmeetrapport for every house; valid while the house is unchanged.
        DocumentSpec("G1.1", "stall_measurement_report", "Stalmeetrapport", "KO", per_house=True),
        # I1.1: SKAL conformity certificate, with its end date.
        DocumentSpec("I1.1", "skal_certificate", "SKAL-conformiteitsverklaring", "KO", needs_valid_until=True),
    )
}

KINDS: dict[str, DocumentSpec] = {s.kind: s for s in SPECS.values()}


def add_months(day: date, months: int) -> date:
    """Return the same day ``months`` later, clipped to the month's end."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def valid_through(spec: DocumentSpec, doc: Document) -> date | None:
    """Return the last day a document counts as valid (None: no end)."""
    ends = []
    if doc.valid_until:
        ends.append(doc.valid_until)
    if spec.months:
        ends.append(add_months(doc.issued_on, spec.months))
    if spec.days:
        # "once per 365 days": the next one is due at most 365 days after this one.
        ends.append(doc.issued_on + timedelta(days=spec.days))
    return min(ends) if ends else None


class DocumentError(IkbError):
    """The document record does not fit its rule (or its form); the message names the field."""

    messages = {
        "end_date": N_("{label} vermeldt een einddatum; vul die in"),
        "before_issue": N_("ligt vóór de uitgiftedatum"),
        "per_house": N_("{label} is per stal: kies de stal"),
    }


def check_document(spec: DocumentSpec, issued_on: date, valid_until: date | None, location: str | None) -> None:
    """Raise DocumentError naming the field when a document record does not fit its rule."""
    if spec.needs_valid_until and valid_until is None:
        raise DocumentError("valid_until", "end_date", {"label": spec.label})
    if valid_until is not None and valid_until < issued_on:
        raise DocumentError("valid_until", "before_issue")


def _latest(docs, rule_id: str, location: str | None, today: date) -> Document | None:
    """Return the newest document for the rule covering the location, issued by today."""
    best = None
    for d in docs:
        if d.rule != rule_id or d.issued_on > today:
            continue
        if location is not None and d.location not in (location, None):
            continue
        if best is None or (d.issued_on, d.recorded_at) > (best.issued_on, best.recorded_at):
            best = d
    return best


def valid_document(evidence: Evidence, rule_id: str, location: str | None) -> tuple[Document, date | None] | None:
    """Return the document proving a document rule at a location today, with its last valid day, or None."""
    spec = SPECS[rule_id]
    doc = _latest(evidence.documents, rule_id, location, evidence.today)
    if doc is None:
        return None
    end = valid_through(spec, doc)
    return (doc, end) if end is None or evidence.today <= end else None


def evaluate_document(rule: Rule, evidence: Evidence, params: Params) -> tuple[list[Finding], list[Due]]:
    """Return the findings and dues of a document rule at ``evidence.at``."""
    spec = SPECS[rule.id]
    today = evidence.today
    if spec.per_house:
        locations = [h.id for h in evidence.farm.houses if rule.applies(h.housing)]
    else:
        locations = [None]
    findings, dues = [], []
    horizon = today + timedelta(days=params.due_horizon_days)
    for loc in locations:
        doc = _latest(evidence.documents, rule.id, loc, today)
        if doc is None:
            findings.append(Finding(rule.id, loc, "unknown", "document",
                                    f"Geen {spec.label} geregistreerd."))
            dues.append(Due(rule.id, loc, today, f"{spec.label} registreren", overdue=True))
            continue
        end = valid_through(spec, doc)
        basis = f"{spec.label} van {doc.issued_on.isoformat()}" + (
            f", geldig t/m {end.isoformat()}" if end else "")
        if end is None or today <= end:
            findings.append(Finding(rule.id, loc, "ok", "document", f"Geldig: {basis}.", evidence=basis))
            if end is not None and end <= horizon:
                dues.append(Due(rule.id, loc, end, f"{spec.label} vernieuwen"))
            continue
        late = (today - end).days
        weight = spec.grace_weight if spec.grace_weight and late <= spec.grace_days else spec.weight
        start = datetime.combine(end + timedelta(days=1), time(0), evidence.farm.tz)
        findings.append(Finding(
            rule.id, loc, weight, "document", rule.deviation_text(weight) or f"{spec.label} verlopen.",
            occurrences=(Occurrence(start, None, f"{basis}; {late} dagen verlopen"),),
            evidence=basis,
        ))
        dues.append(Due(rule.id, loc, end + timedelta(days=1), f"{spec.label} vernieuwen", overdue=True))
    return findings, dues
