"""The status page for the farmer: is the agent running and healthy, the sensors' last messages, the backups.

Everything shown comes from :func:`agent.health.agent_status`, the same object
``ikb-agent status`` prints; the page only lays it out (no SQL here).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from agent.health import REASONS, agent_status, problem_text
from rules.kinds import KIND_WORDS
from webui.access import roles
from webui.i18n import fmt_datetime, gettext
from webui.state import get_config, get_store, now

bp = Blueprint("status", __name__, url_prefix="/status")


@bp.get("/")
@roles(read=("farmer",))
def index():
    """Show the agent's health, problems first."""
    status = agent_status(get_store(), get_config(), now())
    return render_template("status/index.html", status=status, kinds=KIND_WORDS, reasons=REASONS,
                           said=lambda p: problem_text(p["code"], p["values"], gettext, fmt_datetime))
