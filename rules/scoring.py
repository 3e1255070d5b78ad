"""Scoring: counts, points and the verdict ladder (DESIGN §3.5)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from rules.findings import STATUSES, Due, Finding, worst

VERDICTS: tuple[str, ...] = ("suspension", "repair_required", "remarks", "incomplete", "ready")


class Weights(BaseModel):
    """Penalty points per deviation weight.

    Defaults from the seed's column headers: "Weging B (15 punt)", "Weging C (5 punt)",
    "Weging D (- 20 punt plus herstel voor afgifte certificaat)". KO means suspension
    and the seed gives it no points of its own; it counts as heavy as a D by default so
    that a KO never scores fewer points than the D it outranks.
    """

    model_config = ConfigDict(extra="forbid")
    B: int = Field(15, ge=0)
    C: int = Field(5, ge=0)
    D: int = Field(20, ge=0)
    KO: int = Field(20, ge=0)


def rule_statuses(findings: list[Finding]) -> dict[str, str]:
    """Return each rule's worst status over its locations."""
    by_rule: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        by_rule[f.rule].append(f.status)
    return {rule: worst(statuses) for rule, statuses in by_rule.items()}


def verdict(statuses) -> str:
    """Return the verdict for a collection of statuses: the worst present rung.

    any KO → suspension; any D → repair_required (certificate withheld until
    repaired); any B or C → remarks; any unknown → incomplete; else ready.
    """
    present = set(statuses)
    if "KO" in present:
        return "suspension"
    if "D" in present:
        return "repair_required"
    if present & {"B", "C"}:
        return "remarks"
    if "unknown" in present:
        return "incomplete"
    return "ready"


@dataclass(frozen=True)
class Score:
    """The evaluated state of the farm over a window."""

    at: datetime
    since: datetime
    verdict: str
    points: int
    counts: dict[str, int]
    findings: list[Finding]
    due: list[Due]

    def to_json(self) -> dict:
        """Return the DESIGN §3.5 score document (with the `due` list as extension)."""
        return {
            "at": self.at.isoformat(),
            "since": self.since.isoformat(),
            "scheme": "IKB Ei",
            "verdict": self.verdict,
            "points": self.points,
            "counts": dict(self.counts),
            "findings": [f.to_json() for f in self.findings],
            "due": [d.to_json() for d in self.due],
        }

    @classmethod
    def from_json(cls, doc: dict) -> "Score":
        """Return the score a document of :meth:`to_json` describes (a stored snapshot read back)."""
        return cls(at=datetime.fromisoformat(doc["at"]), since=datetime.fromisoformat(doc["since"]),
                   verdict=doc["verdict"], points=doc["points"], counts=dict(doc["counts"]),
                   findings=[Finding.from_json(f) for f in doc["findings"]],
                   due=[Due.from_json(d) for d in doc.get("due", ())])


def score(
    findings: list[Finding],
    *,
    at: datetime,
    since: datetime,
    weights: Weights | None = None,
    due: list[Due] | None = None,
) -> Score:
    """Combine findings into counts, points and a verdict, each rule counted once."""
    weights = weights or Weights()
    per_rule = rule_statuses(findings)
    counts = {s: 0 for s in STATUSES}
    points = 0
    for status in per_rule.values():
        counts[status] += 1
        if status in ("B", "C", "D", "KO"):
            points += getattr(weights, status)
    return Score(
        at=at,
        since=since,
        verdict=verdict(per_rule.values()),
        points=points,
        counts=counts,
        findings=list(findings),
        due=sorted(due or [], key=lambda d: (d.due, d.rule, d.location or "")),
    )
