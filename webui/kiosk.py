"""The visitor kiosk (a tablet at the hygiene lock, kiosk accounts only).

Phase 1 gives the kiosk account its landing page; the visitor form with the
drawn signature follows once the visitors logbook model exists (issue 6, phase 2).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from webui.access import roles

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")


@bp.get("/")
@roles(read=("farmer", "kiosk"), write=("farmer", "kiosk"))
def index():
    """Show the kiosk's start page."""
    return render_template("kiosk/index.html")
