"""The dashboard: verdict and the count per category, deviations first, set-up steps, what falls due, tiles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, current_app, render_template

from agent.history import read_history
from rules.catalogue import load_catalogue
from webui.attention import attention
from webui.scores import current, deviations_first
from webui.state import get_config, get_store, now
from webui.tiles import all_tiles

bp = Blueprint("dashboard", __name__)

DUE_DAYS = 60


def _context() -> dict:
    """Gather what the dashboard shows."""
    store, config, moment = get_store(), get_config(), now()
    view = current(store, config, moment)
    today = config.farm_view().local_date(moment)
    horizon = today + timedelta(days=DUE_DAYS)
    return {
        "attention": attention(store, today),
        "view": view,
        "result": view.score,
        "deviations": deviations_first(view.score.findings),
        "share": unknown_share(view.score.counts),
        "due": [d for d in view.score.due if d.due <= horizon],
        "due_days": DUE_DAYS,
        "tiles": all_tiles(store, config, moment),
        "catalogue": load_catalogue(),
        "now": moment,
        "poll_s": current_app.config["LIVE_POLL_S"],
        "history": _loading(store),
    }


@dataclass(frozen=True)
class Share:
    """How much of the scheme is still unknown: shown beside the verdict, never in small print."""

    unknown: int
    total: int
    answered: int  # self-assessed rules with a fresh answer
    questions: int  # self-assessed rules for this farm

    @property
    def percent(self) -> int:
        """Return the unknown share in whole per cent (rounded up: 0 % only when nothing is unknown)."""
        return -(-100 * self.unknown // self.total) if self.total else 0


def unknown_share(counts: dict[str, int]) -> Share:
    """Return the unknown rules among all rules counted, and the audit exercise's progress."""
    from webui.exercise import chapters

    found = chapters()
    return Share(counts.get("unknown", 0), sum(counts.values()), sum(c.answered for c in found),
                 sum(c.total for c in found))


def _loading(store):
    """Return the demo's history while it is still being loaded or judged (None on a farm, or once done)."""
    state = read_history(store)
    return state if state is not None and state.loading else None


@bp.get("/")
def index():
    """Show the dashboard."""
    return render_template("dashboard/index.html", **_context())


@bp.get("/live")
def live():
    """Return the dashboard's changing part (polled by the page every 30 s)."""
    return render_template("dashboard/_live.html", **_context())
