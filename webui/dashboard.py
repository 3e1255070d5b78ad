"""The dashboard: verdict and the count per category, deviations first, set-up steps, what falls due, tiles."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template

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
        "due": [d for d in view.score.due if d.due <= horizon],
        "due_days": DUE_DAYS,
        "tiles": all_tiles(store, config, moment),
        "catalogue": load_catalogue(),
        "now": moment,
        "poll_s": current_app.config["LIVE_POLL_S"],
    }


@bp.get("/")
def index():
    """Show the dashboard."""
    return render_template("dashboard/index.html", **_context())


@bp.get("/live")
def live():
    """Return the dashboard's changing part (polled by the page every 30 s)."""
    return render_template("dashboard/_live.html", **_context())
