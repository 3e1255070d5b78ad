"""Scoring: counts per category, the seed's weight texts and the verdict ladder (DESIGN §3.5 v2).

No points are summed. The seed's column headers read "Weging B (15 punt)", "Weging C (5 punt)",
"Weging D (- 20 punt plus herstel voor afgifte certificaat)" and "Weging KO (schorsing)": only D
carries a minus, and every rule's texts rise B → C → D, so the numbers are not penalties that grow
with severity; how an auditor combines them, and any certificate threshold, are not in the seeds.
The score therefore carries the counts per category and those header texts verbatim.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from rules.findings import STATUSES, Due, Finding, worst
from rules.texts import N_

VERDICTS: tuple[str, ...] = ("suspension", "repair_required", "remarks", "incomplete", "ready")
# What each verdict says, in words (Dutch msgids: the CLI translates them, the pack shows them as they are).
VERDICT_WORDS: dict[str, str] = {
    "suspension": N_("schorsing (KO-afwijking)"),
    "repair_required": N_("herstel vereist vóór afgifte certificaat (D-afwijking niet hersteld)"),
    "remarks": N_("opmerkingen (B/C-afwijkingen of herstelde D-afwijkingen)"),
    "incomplete": N_("onvolledig: niet alles is aangetoond"),
    "ready": N_("auditklaar"),
}

# The seed's column headers, verbatim inside their brackets ("Weging B (15 punt)" …).
WEIGHTS: dict[str, str] = {
    "B": "15 punt",
    "C": "5 punt",
    "D": "- 20 punt plus herstel voor afgifte certificaat",
    "KO": "schorsing",
}


def rule_statuses(findings: list[Finding]) -> dict[str, str]:
    """Return each rule's worst status over its locations."""
    by_rule: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        by_rule[f.rule].append(f.status)
    return {rule: worst(statuses) for rule, statuses in by_rule.items()}


def verdict(statuses, *, unrepaired: bool = True) -> str:
    """Return the verdict for a collection of statuses: the worst present rung.

    any KO → suspension; any D with an occurrence not repaired (``unrepaired``) →
    repair_required (certificate withheld until repaired); any B or C, or a D whose
    occurrences are all repaired → remarks; any unknown → incomplete; else ready.
    """
    present = set(statuses)
    if "KO" in present:
        return "suspension"
    if "D" in present:
        return "repair_required" if unrepaired else "remarks"
    if present & {"B", "C"}:
        return "remarks"
    if "unknown" in present:
        return "incomplete"
    return "ready"


def setup_tasks(findings: list[Finding]) -> list[dict]:
    """Return the agent's set-up steps that block rules, one per step, with the rules and locations it blocks."""
    tasks: dict[str, dict] = {}
    for f in findings:
        if f.status != "unknown":
            continue
        for step in f.setup:
            task = tasks.setdefault(step, {"step": step, "rules": [], "locations": []})
            if f.rule not in task["rules"]:
                task["rules"].append(f.rule)
            if f.location not in task["locations"]:
                task["locations"].append(f.location)
    return list(tasks.values())


@dataclass(frozen=True)
class Score:
    """The evaluated state of the farm over a window."""

    at: datetime
    since: datetime
    verdict: str
    counts: dict[str, int]
    findings: list[Finding]
    due: list[Due]

    @property
    def weights(self) -> dict[str, str]:
        """Return the seed's text per deviation category."""
        return dict(WEIGHTS)

    @property
    def repaired_rules(self) -> list[str]:
        """Return the rules at D whose every D finding has all its occurrences repaired."""
        per_rule = rule_statuses(self.findings)
        return [rule for rule, status in per_rule.items() if status == "D" and all(
            f.repaired for f in self.findings if f.rule == rule and f.status == "D")]

    @property
    def setup(self) -> list[dict]:
        """Return the set-up steps of the agent that keep rules unknown."""
        return setup_tasks(self.findings)

    def to_json(self) -> dict:
        """Return the DESIGN §3.5 score document (with the `due` and `setup` lists as extensions).

        This is the one serialisation of a score: the CLI, the API, the audit pack and stored
        snapshots all use it.
        """
        return {
            "at": self.at.isoformat(),
            "since": self.since.isoformat(),
            "scheme": "IKB Ei",
            "verdict": self.verdict,
            "weights": self.weights,
            "counts": dict(self.counts),
            "findings": [f.to_json() for f in self.findings],
            "due": [d.to_json() for d in self.due],
            "setup": self.setup,
        }

    @classmethod
    def from_json(cls, doc: dict) -> "Score":
        """Return the score a document of :meth:`to_json` describes (a stored snapshot read back)."""
        return cls(at=datetime.fromisoformat(doc["at"]), since=datetime.fromisoformat(doc["since"]),
                   verdict=doc["verdict"], counts=dict(doc["counts"]),
                   findings=[Finding.from_json(f) for f in doc["findings"]],
                   due=[Due.from_json(d) for d in doc.get("due", ())])


def score(findings: list[Finding], *, at: datetime, since: datetime, due: list[Due] | None = None) -> Score:
    """Combine findings into counts per category and a verdict, each rule counted once."""
    per_rule = rule_statuses(findings)
    counts = {s: 0 for s in STATUSES}
    for status in per_rule.values():
        counts[status] += 1
    return Score(
        at=at,
        since=since,
        verdict=verdict(per_rule.values(), unrepaired=any(f.open_repair for f in findings)),
        counts=counts,
        findings=list(findings),
        due=sorted(due or [], key=lambda d: (d.due, d.rule, d.location or "")),
    )
