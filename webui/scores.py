"""The score the pages show: `run`'s stored snapshot, or — when `run` is not running — the page's own.

``ikb-agent run`` evaluates every rule each minute and stores the whole score
(findings, due list, counts, verdict, window: ``agent.store.record_score``);
the pages and the API read that snapshot and evaluate nothing themselves. When
the snapshot is older than a few evaluation intervals, or there is none, the
agent is not running: the page says so in words and shows a score computed in
memory by this process from the stored evidence (``score_window``, the same
function, writing nothing), labelled as such. The page computes its own score
too after it wrote evidence itself (a repair, an answer, a document, a logbook
entry), until `run`'s snapshot is newer than that write: what the farmer just
recorded shows at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app

from agent.config import Settings
from agent.store import Store, latest_score
from rules.catalogue import load_catalogue
from rules.findings import SEVERITY, Finding
from rules.scoring import Score
from webui.state import scores

STALE_INTERVALS = 3  # a snapshot older than this many evaluation intervals means `run` is not running
STALE_MARGIN = timedelta(minutes=1)  # an evaluation itself takes time


@dataclass(frozen=True)
class Current:
    """The score on show, when it was evaluated, by whom ("agent" or "web"), `run`'s last snapshot, and the
    page's own write the snapshot does not hold yet."""

    score: Score
    evaluated_at: datetime
    source: str
    agent_at: datetime | None = None  # the moment of `run`'s last stored score (None: it never stored one)
    written_at: datetime | None = None  # `run` runs, but this process wrote evidence after its snapshot


def stale_after(config: Settings) -> timedelta:
    """Return how old a snapshot may be while `run` still counts as running."""
    return STALE_INTERVALS * timedelta(seconds=config.evaluation.interval_seconds) + STALE_MARGIN


def is_fresh(at: datetime, config: Settings, now: datetime) -> bool:
    """Return whether a snapshot evaluated at ``at`` is recent enough to show as the agent's."""
    return now - at <= stale_after(config)


def current(store: Store, config: Settings, now: datetime) -> Current:
    """Return `run`'s fresh snapshot, unless this process wrote evidence after it; else the page's own evaluation.

    A registration made on the page shows at once: until `run` stores a snapshot computed after it, the
    page shows its own score (computed after the write; one computed before it is never kept).
    """
    cache = scores()
    stored = latest_score(store)
    agent_at = stored.score.at if stored else None
    fresh = stored is not None and is_fresh(stored.score.at, config, now)
    written = cache.written_at
    if fresh and (written is None or stored.score.at > written):
        return Current(stored.score, stored.score.at, "agent", agent_at)
    computed = cache.get(current_app._get_current_object(), now)
    return Current(computed.score, computed.score.at, "web", agent_at, written if fresh else None)


def needs_own_score(app: Flask, store: Store, now: datetime) -> bool:
    """Return whether the page must evaluate itself (no fresh snapshot of `run`)."""
    stored = latest_score(store)
    return stored is None or not is_fresh(stored.score.at, app.extensions["ikb"].config, now)


def rule_order() -> dict[str, int]:
    """Return each rule's position in the catalogue (the scheme's own order)."""
    return {r.id: i for i, r in enumerate(load_catalogue())}


def deviations_first(findings: list[Finding]) -> list[Finding]:
    """Return the deviations, worst first, then in the scheme's order."""
    order = rule_order()
    return sorted((f for f in findings if f.is_deviation),
                  key=lambda f: (-SEVERITY[f.status], order.get(f.rule, 0), f.location or ""))
