"""The deviations of the pack's score as an auditor reads them: rule, place, category, what was found, when,
and the repair (herstelmaatregel) recorded for each occurrence — ``score/deviations.csv`` and the pack's page.

Drawn from the score document (``Score.to_json()``, DESIGN §3.5): the judgement is made once, in ``rules/``;
this only lays it out. An occurrence's ``repair`` (DESIGN §3.5 v2) is shown when the score carries one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.config import Settings
from agent.exports.columns import MOMENT
from agent.exports.common import cell
from rules.catalogue import Catalogue

DEVIATIONS = ("KO", "D", "C", "B")  # worst first
CATEGORY = {"KO": "KO (schorsing)", "D": "D", "C": "C", "B": "B"}


@dataclass(frozen=True)
class Spell:
    """One occurrence of a deviation with its repair, as text."""

    start: str
    end: str
    detail: str
    repair: dict | None = None  # the occurrence's `repair` (DESIGN §3.5 v2), None when none is recorded

    @property
    def repair_text(self) -> str:
        """Return the repair as one line ("" when none is recorded)."""
        return repair_text(self.repair)


@dataclass(frozen=True)
class Deviation:
    """One finding with a deviation status, as text."""

    rule: str
    title: str
    place: str
    status: str
    weight: str
    summary: str
    spells: tuple[Spell, ...]
    repaired: bool


def place_name(config: Settings, location: str | None) -> str:
    """Return a location as the auditor reads it: the house's or egg room's name ("Stal 1"), or "bedrijf"."""
    from agent.alerts import location_name

    return location_name(config, location) if location else "bedrijf"


def moment_of(text: str | None, tz: ZoneInfo) -> str:
    """Return an ISO timestamp from the score as farm-local ``YYYY-MM-DD HH:MM``."""
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return (moment.astimezone(tz) if moment.tzinfo else moment).strftime(MOMENT)


def repair_text(repair: dict | None) -> str:
    """Return a recorded repair as one line: date, what was done, by whom, its registration id."""
    if not repair:
        return ""
    when = repair.get("date", "") + (f" {repair['time']}" if repair.get("time") else "")
    who = f" ({repair['performed_by']})" if repair.get("performed_by") else ""
    return f"hersteld {when}: {repair.get('action', '')}{who} — registratie-id {repair.get('id')}"


def deviations(score: dict, catalogue: Catalogue, config: Settings) -> list[Deviation]:
    """Return the score's deviations, worst category first, then by rule."""
    tz = config.farm_view().tz
    weights = score.get("weights") or {}
    out = []
    for f in score.get("findings", []):
        if f.get("status") not in DEVIATIONS:
            continue
        rule = catalogue.get(f["rule"])
        spells = tuple(Spell(moment_of(o.get("start"), tz), moment_of(o.get("end"), tz), o.get("detail") or "",
                             o.get("repair") or None) for o in f.get("occurrences") or [])
        out.append(Deviation(f["rule"], rule.title.splitlines()[0] if rule else "", place_name(config, f.get("location")),
                             f["status"], str(weights.get(f["status"], "")), f.get("summary") or "", spells,
                             bool(f.get("repaired"))))
    return sorted(out, key=lambda d: (DEVIATIONS.index(d.status), d.rule, d.place))


def deviations_csv(items: list[Deviation], zone: str) -> bytes:
    """Return ``score/deviations.csv``: one line per occurrence (or per deviation without occurrences)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Regel", "Voorschrift", "Locatie", "Categorie", "Weging", "Afwijking", f"Begin ({zone})",
                     "Einde", "Wat er gemeten of gevonden is", "Hersteld op", "Hersteld door", "Herstelmaatregel",
                     "Registratie-id herstel", "Regel geheel hersteld"])
    for d in items:
        head = [d.rule, d.title, d.place, CATEGORY[d.status], d.weight, d.summary]
        for s in d.spells or (Spell("", "", ""),):
            r = s.repair or {}
            when = (r.get("date", "") + (f" {r['time']}" if r.get("time") else "")) if r else ""
            writer.writerow([cell(v) for v in head + [s.start, s.end, s.detail, when, r.get("performed_by", ""),
                                                      r.get("action", ""), str(r.get("id", "")),
                                                      "ja" if d.repaired else "nee"]])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
