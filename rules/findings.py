"""Findings: what the evaluation says about one rule at one location.

Status vocabulary (DESIGN §3.5): ``ok``, the deviation weights ``B``, ``C``,
``D``, ``KO``, ``nvt`` (not applicable) and ``unknown`` (not enough evidence;
never counted as ok).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Status = Literal["ok", "B", "C", "D", "KO", "nvt", "unknown"]
Source = Literal["sensor", "logbook", "document", "self_assessment"]

STATUSES: tuple[str, ...] = ("ok", "B", "C", "D", "KO", "nvt", "unknown")
DEVIATIONS: tuple[str, ...] = ("B", "C", "D", "KO")

# Ordering used to pick a rule's status over its locations (higher is worse).
# The scheme's letters rise in severity in every rule's texts (A3.6: B "Controles deels
# niet geregistreerd", C "Wel controles, maar niet eens per 2 maand", D "Geen controles
# uitgevoerd"; A3.3: B light, C heavy), so C ranks above B whatever the seed's column
# headers say ("15 punt", "5 punt"; see rules.scoring.WEIGHTS). A proven deviation outranks
# `unknown`, and `unknown` outranks `ok` and `nvt` (missing evidence is never hidden behind a
# location that is fine).
SEVERITY: dict[str, int] = {"nvt": 0, "ok": 1, "unknown": 2, "B": 3, "C": 4, "D": 5, "KO": 6}


def worst(statuses) -> str:
    """Return the most severe of the given statuses (``unknown`` for none)."""
    statuses = list(statuses)
    if not statuses:
        return "unknown"
    return max(statuses, key=SEVERITY.__getitem__)


@dataclass(frozen=True, slots=True)
class Repair:
    """The corrective action (herstelmaatregel) recorded for one occurrence: which entry, when, what."""

    entry: int  # the corrective_actions logbook entry
    date: date
    action: str
    performed_by: str = ""
    time: str | None = None  # HH:MM, farm-local, when recorded

    def to_json(self) -> dict:
        """Return the DESIGN §3.5 v2 `repair` object of an occurrence."""
        out = {"id": self.entry, "date": self.date.isoformat(), "action": self.action,
               "performed_by": self.performed_by}
        if self.time:
            out["time"] = self.time
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Repair":
        """Return a repair from its `to_json` object."""
        return cls(int(data["id"]), date.fromisoformat(data["date"]), data.get("action", ""),
                   data.get("performed_by", ""), data.get("time"))


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One spell in which a rule was (or may have been) broken, with what was measured, and its repair."""

    start: datetime
    end: datetime | None
    detail: str
    repair: Repair | None = None

    def to_json(self) -> dict:
        """Return the DESIGN §3.5 occurrence object (with `repair` when one is recorded)."""
        out = {
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "detail": self.detail,
        }
        if self.repair is not None:
            out["repair"] = self.repair.to_json()
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Occurrence":
        """Return an occurrence from its `to_json` object."""
        end = data.get("end")
        repair = data.get("repair")
        return cls(datetime.fromisoformat(data["start"]), datetime.fromisoformat(end) if end else None,
                   data.get("detail", ""), Repair.from_json(repair) if repair else None)


@dataclass(frozen=True, slots=True)
class Finding:
    """The status of one rule at one location, the evidence kind and a readable summary.

    ``summary`` is the seed's deviation text for a deviation, the reason for
    ``unknown`` and ``nvt``, or what the evidence showed for ``ok``.
    """

    rule: str
    location: str | None
    status: str
    source: str
    summary: str
    occurrences: tuple[Occurrence, ...] = ()
    evidence: str | None = None  # a short Dutch sentence: what the status rests on
    not_checked: bool = False  # DESIGN §3.5 v2: nvt because the seed's "niet gecontroleerd" condition is proven
    setup: tuple[str, ...] = ()  # unknown because the agent is not set up for it yet: the steps, in plain Dutch

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r} for {self.rule}")
        if self.not_checked and self.status != "nvt":
            raise ValueError(f"not_checked needs status nvt ({self.rule} is {self.status})")

    @property
    def is_deviation(self) -> bool:
        """Return whether this finding is a B, C, D or KO deviation."""
        return self.status in DEVIATIONS

    @property
    def repaired(self) -> bool:
        """Return whether this is a D whose every occurrence carries its repair (DESIGN §3.5 v2).

        A D without occurrences cannot show a repair; a KO is never lifted by one.
        """
        return self.status == "D" and bool(self.occurrences) and all(
            o.repair is not None for o in self.occurrences)

    @property
    def open_repair(self) -> bool:
        """Return whether this finding withholds the certificate: a D with an occurrence not repaired."""
        return self.status == "D" and not self.repaired

    def to_json(self) -> dict:
        """Return the DESIGN §3.5 finding object (plus the optional evidence line and v2 flags)."""
        out = {
            "rule": self.rule,
            "location": self.location,
            "status": self.status,
            "source": self.source,
            "summary": self.summary,
            "occurrences": [o.to_json() for o in self.occurrences],
        }
        if self.evidence:
            out["evidence"] = self.evidence
        if self.repaired:
            out["repaired"] = True
        if self.not_checked:
            out["not_checked"] = True
        if self.setup:
            out["setup"] = list(self.setup)
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Finding":
        """Return a finding from its `to_json` object (`repaired` follows from the occurrences)."""
        return cls(data["rule"], data.get("location"), data["status"], data["source"], data.get("summary", ""),
                   tuple(Occurrence.from_json(o) for o in data.get("occurrences") or ()), data.get("evidence"),
                   bool(data.get("not_checked")), tuple(data.get("setup") or ()))


@dataclass(frozen=True, slots=True)
class Due:
    """Something that falls due: a check, a test, a document renewal."""

    rule: str
    location: str | None
    due: date
    what: str
    overdue: bool = field(default=False)

    def to_json(self) -> dict:
        """Return the `"due"` entry of the score output."""
        return {
            "rule": self.rule,
            "location": self.location,
            "due": self.due.isoformat(),
            "what": self.what,
            "overdue": self.overdue,
        }

    @classmethod
    def from_json(cls, doc: dict) -> "Due":
        """Return the due item an object of :meth:`to_json` describes."""
        return cls(doc["rule"], doc.get("location"), date.fromisoformat(doc["due"]), doc["what"],
                   bool(doc.get("overdue", False)))
