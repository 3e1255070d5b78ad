"""Corrective actions (herstelmaatregelen): the record of a repair, and how it attaches to a finding's occurrence.

The seed's D weight reads "herstel voor afgifte certificaat": a D needs its repair before the certificate is
issued (DESIGN §3.5 v2). The farmer records a repair of one occurrence — rule, location and the moment the
occurrence started — in the ``corrective_actions`` logbook, chained like every logbook entry. The engine
attaches each repair to the occurrence it names; a deviation that comes back after its repair starts a new
occurrence, which the old repair does not cover.

Evidence still beats words: an occurrence that the agent's own data show is still going on (a panel still
silent, a document still expired) takes no repair — it ends when the evidence says so. Only what the farmer
himself declared (a self-assessed deviation) can be repaired while open.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, ValidationInfo, field_validator, model_validator

from rules.catalogue import load_catalogue, normalise_rule_id
from rules.errors import IkbError, invalid
from rules.evidence import Evidence
from rules.findings import DEVIATIONS, Finding, Occurrence, Repair
from rules.logbooks.fields import Clock, Day, Record, ShortText, Text, _not_future, field
from rules.texts import N_, lazy_gettext

# A stored file named by id and digest, so the file is under the logbook's hash chain (as visitor signatures).
FILE_REFERENCE = re.compile(r"^file:(\d+);sha256:([0-9a-f]{64})$")


def _moment(value: Any) -> Any:
    """Accept an ISO 8601 date-time with its UTC offset (as the score shows an occurrence's start)."""
    moment = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    if moment is None:
        raise invalid("moment", N_("verwacht het begin van de afwijking als datum en tijd met tijdzone, "
                                   "bijv. 2026-03-28T03:10:00+01:00"))
    if moment.tzinfo is None:
        raise invalid("moment_zone", N_("vermeld de tijdzone, bijv. 2026-03-28T03:10:00+01:00"))
    return moment


Moment = Annotated[datetime, BeforeValidator(_moment), PlainSerializer(lambda d: d.isoformat(), return_type=str)]


class RepairError(IkbError):
    """A repair that names no occurrence it can repair: the field and why (DESIGN §3.5 v2)."""

    messages = {
        "not_deviation": N_("{rule} ({location}) is nu geen afwijking"),
        "ko": N_("een KO-afwijking wordt niet opgeheven door herstel"),
        "no_occurrence": N_("{rule} ({location}) heeft geen voorval dat op {start} begon"),
        "repaired": N_("al hersteld (herstelmaatregel #{id})"),
        "ongoing": N_("de afwijking duurt volgens de gegevens van de agent nog voort; een herstel telt zodra de "
                      "gegevens laten zien dat ze voorbij is"),
        "before_start": N_("het herstel ligt vóór het begin van de afwijking"),
        "file": N_("bestand niet gevonden of gewijzigd"),
    }


class CorrectiveAction(Record):
    """Herstelmaatregel: the repair of one occurrence of a deviation (DESIGN §3.3 v2)."""

    date: Day = field("Weging D", N_("Datum herstel"), widget="date", demand="herstel voor afgifte certificaat")
    rule: ShortText = field("Weging D", N_("Regel"), widget="hidden",
                            message=N_("kies de afwijking die u herstelt"))
    location: str | None = field("Weging D", N_("Stal of eierlokaal (leeg: hele bedrijf)"), widget="hidden",
                                 default=None, max_length=64)
    deviation_start: Moment = field("Weging D", N_("Begin van de afwijking"), widget="hidden")
    action: Text = field("Weging D", N_("Wat is er hersteld"), widget="textarea",
                         message=N_("beschrijf wat u hebt gedaan"))
    performed_by: Text = field("Weging D", N_("Hersteld door"))
    time: Clock | None = field("Weging D", N_("Tijdstip"), widget="time", default=None)
    attachments: list[str] = field("Weging D", N_("Foto of document"), widget="hidden", default_factory=list,
                                   max_length=10)

    _date = field_validator("date")(_not_future)

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        rule = normalise_rule_id(value)
        if load_catalogue().get(rule) is None:
            raise invalid("rule", N_("{rule} is geen IKB Ei-regel"), rule=value)
        return rule

    @field_validator("location", mode="before")
    @classmethod
    def _location(cls, value: Any, info: ValidationInfo) -> Any:
        return None if value in (None, "") else value

    @field_validator("attachments")
    @classmethod
    def _references(cls, value: list[str]) -> list[str]:
        for ref in value:
            if not FILE_REFERENCE.match(ref):
                raise invalid("attachment", N_("verwacht een opgeslagen bestand (file:<nr>;sha256:<hex>)"))
        return value

    @model_validator(mode="after")
    def _after_start(self) -> "CorrectiveAction":
        if self.date < self.deviation_start.date():
            raise invalid("before_start", RepairError.messages["before_start"], field="date")
        return self


# --------------------------------------------------------------------------- attaching repairs to findings


def repair_moment(record: CorrectiveAction, tz) -> datetime:
    """Return when the repair was made: its date and time (end of the day when no time is given)."""
    at = time.fromisoformat(record.time) if record.time else time(23, 59, 59)
    return datetime.combine(record.date, at, tz)


def ongoing(occurrence: Occurrence, at: datetime) -> bool:
    """Return whether the evidence shows the occurrence still going on at ``at``."""
    return occurrence.end is None or occurrence.end > at


def repairable(finding: Finding, occurrence: Occurrence, at: datetime) -> bool:
    """Return whether a repair of this occurrence can count: a B/C/D, and over unless the farmer declared it."""
    if finding.status not in ("B", "C", "D"):
        return False  # KO is never lifted by a repair
    return finding.source == "self_assessment" or not ongoing(occurrence, at)


def _covers(record: CorrectiveAction, finding: Finding, occurrence: Occurrence, tz) -> bool:
    """Return whether a corrective action names this occurrence and came after it started."""
    if record.rule != finding.rule or record.location != finding.location:
        return False
    start = record.deviation_start
    named = start == occurrence.start or (
        occurrence.start <= start and (occurrence.end is None or start < occurrence.end))
    # A repair dated before the occurrence started belongs to an earlier one: a recurrence is new.
    return named and repair_moment(record, tz) >= occurrence.start


def attach_repairs(findings: list[Finding], entries, evidence: Evidence) -> list[Finding]:
    """Return the findings with each repairable occurrence carrying the latest repair that names it."""
    if not entries:
        return findings
    tz = evidence.farm.tz
    out = []
    for f in findings:
        mine = [e for e in entries if e.record.rule == f.rule and e.record.location == f.location
                and e.recorded_at <= evidence.at]
        if not mine or not f.occurrences:
            out.append(f)
            continue
        occurrences = []
        for o in f.occurrences:
            found = [e for e in mine if _covers(e.record, f, o, tz)] if repairable(f, o, evidence.at) else []
            if found:
                e = max(found, key=lambda x: (x.record.date, x.id))
                o = Occurrence(o.start, o.end, o.detail,
                               Repair(e.id, e.record.date, e.record.action, e.record.performed_by, e.record.time))
            occurrences.append(o)
        out.append(replace(f, occurrences=tuple(occurrences)))
    return out


def repair_problem(findings: list[Finding], record: CorrectiveAction, at: datetime, tz) -> RepairError | None:
    """Return why a repair cannot be recorded against the current findings (field, code, values), or None.

    It must name an occurrence of a B, C or D of that rule at that location that started at
    ``deviation_start``, is not repaired yet and is over (unless the farmer declared it), and be dated
    on or after the day it started.
    """
    where = {"rule": record.rule, "location": record.location or lazy_gettext("bedrijf")}
    finding = next((f for f in findings if f.rule == record.rule and f.location == record.location), None)
    if finding is None or finding.status not in DEVIATIONS:
        return RepairError("rule", "not_deviation", where)
    if finding.status == "KO":
        return RepairError("rule", "ko")
    occurrence = next((o for o in finding.occurrences if o.start == record.deviation_start), None)
    if occurrence is None:
        return RepairError("deviation_start", "no_occurrence", {**where, "start": record.deviation_start.isoformat()})
    if occurrence.repair is not None:
        return RepairError("deviation_start", "repaired", {"id": occurrence.repair.entry})
    if not repairable(finding, occurrence, at):
        return RepairError("deviation_start", "ongoing")
    if record.date < occurrence.start.astimezone(tz).date():
        return RepairError("date", "before_start")
    return None
