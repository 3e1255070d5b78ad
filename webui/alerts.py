"""Alerts on the web page: the open and recent alerts, and acknowledging them.

Two ways in: a farmer (logged in) acknowledges from the list; anyone holding the
one-time link from an alert message acknowledges on its confirm page. The link
page only shows the alert on GET and acknowledges on POST, because mail scanners
and link previews fetch links with GET (``agent.alerts.engine.acknowledge_by_token``).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from agent.alerts import acknowledge, acknowledge_by_token, channel_states, list_alerts, peek_token
from agent.store import from_ms
from webui.access import public, roles
from webui.i18n import gettext as _
from webui.state import get_config, get_store, get_writer, now

bp = Blueprint("alerts", __name__, url_prefix="/alerts")


@bp.get("/")
def index():
    """Show open alerts first, then the recently closed ones."""
    include_closed = request.args.get("all") == "1"
    store = get_store()
    return render_template("alerts/index.html", alerts=list_alerts(store, include_closed=include_closed),
                           include_closed=include_closed, channels=channel_states(store, get_config()),
                           from_ms=from_ms)


@bp.post("/<int:alert_id>/ack")
@roles(write=("farmer",))
def ack(alert_id: int):
    """Acknowledge an alert as the logged-in farmer: its repeats and escalation stop."""
    result = acknowledge(get_writer(), alert_id, by=g.user["name"], via="web", now=now())
    if result.status == "unknown":
        abort(404, _("Deze melding bestaat niet."))
    flash(_("Melding bevestigd: herhalingen en doorschakeling zijn gestopt.") if result.status == "acknowledged"
          else _("Deze melding was al bevestigd."))
    return redirect(url_for("alerts.index"))


@bp.route("/ack/<token>", methods=["GET", "POST"])
@public
def ack_link(token: str):
    """Show the alert behind a one-time link (GET) and acknowledge it (POST)."""
    if len(token) > 200:
        abort(404, _("Deze bevestigingslink is onbekend."))
    store = get_store()
    if request.method == "POST":
        result = acknowledge_by_token(get_writer(), token, now())
    else:
        result = peek_token(store, token)
    if result.status == "unknown":
        abort(404, _("Deze bevestigingslink is onbekend."))
    return render_template("alerts/ack.html", result=result, token=token)
