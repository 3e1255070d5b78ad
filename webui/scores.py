"""The current score the pages show: the run loop's findings when fresh, else the web's own evaluation.

``ikb-agent run`` writes the current findings every minute (``record_score``);
reading them is a few milliseconds. When that table is empty or stale (the
agent is not running) or older than a change made on this page, the web
process evaluates itself (``score_window``, the same function, so the two
never disagree about the same data). The due list always comes from the web's
own evaluation: it has a resolution of days and is refreshed in the background.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from agent.clock import parse_moment
from agent.config import Settings
from agent.evaluation import finding_of_row
from agent.store import Store
from rules.catalogue import load_catalogue
from rules.findings import SEVERITY, Finding
from rules.scoring import Score, score
from webui.state import scores

WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Current:
    """The score on show, when it was evaluated and by whom ("agent" or "web")."""

    score: Score
    evaluated_at: datetime
    source: str


def current(store: Store, config: Settings, now: datetime) -> Current:
    """Return the freshest score available."""
    computed = scores().get(current_app._get_current_object(), now)
    rows = store.query("SELECT * FROM findings")
    if rows:
        table_at = max(parse_moment(r["evaluated_at"]) for r in rows)
        fresh = now - table_at <= timedelta(seconds=current_app.config["FINDINGS_STALE_S"])
        if fresh and table_at >= computed.score.at:
            result = score([finding_of_row(r) for r in rows], at=table_at, since=table_at - WINDOW,
                           weights=config.params().weights, due=computed.score.due)
            return Current(result, table_at, "agent")
    return Current(computed.score, computed.score.at, "web")


def rule_order() -> dict[str, int]:
    """Return each rule's position in the catalogue (the scheme's own order)."""
    return {r.id: i for i, r in enumerate(load_catalogue())}


def deviations_first(findings: list[Finding]) -> list[Finding]:
    """Return the deviations, worst first, then in the scheme's order."""
    order = rule_order()
    return sorted((f for f in findings if f.is_deviation),
                  key=lambda f: (-SEVERITY[f.status], order.get(f.rule, 0), f.location or ""))
