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
# uitgevoerd"; A3.3: B light, C heavy), so C ranks above B even though the seed's headers
# weigh B at 15 points and C at 5. A proven deviation outranks `unknown`, and `unknown`
# outranks `ok` and `nvt` (missing evidence is never hidden behind a location that is fine).
SEVERITY: dict[str, int] = {"nvt": 0, "ok": 1, "unknown": 2, "B": 3, "C": 4, "D": 5, "KO": 6}


def worst(statuses) -> str:
    """Return the most severe of the given statuses (``unknown`` for none)."""
    statuses = list(statuses)
    if not statuses:
        return "unknown"
    return max(statuses, key=SEVERITY.__getitem__)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One spell in which a rule was (or may have been) broken, with what was measured."""

    start: datetime
    end: datetime | None
    detail: str

    def to_json(self) -> dict:
        """Return the DESIGN §3.5 occurrence object."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, doc: dict) -> "Occurrence":
        """Return the occurrence an object of :meth:`to_json` describes."""
        return cls(datetime.fromisoformat(doc["start"]), datetime.fromisoformat(doc["end"]) if doc.get("end") else None,
                   doc.get("detail", ""))


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

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r} for {self.rule}")

    @property
    def is_deviation(self) -> bool:
        """Return whether this finding is a B, C, D or KO deviation."""
        return self.status in DEVIATIONS

    def to_json(self) -> dict:
        """Return the DESIGN §3.5 finding object (plus the optional evidence line)."""
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
        return out

    @classmethod
    def from_json(cls, doc: dict) -> "Finding":
        """Return the finding an object of :meth:`to_json` describes."""
        return cls(doc["rule"], doc.get("location"), doc["status"], doc["source"], doc["summary"],
                   tuple(Occurrence.from_json(o) for o in doc.get("occurrences", ())), doc.get("evidence"))


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
