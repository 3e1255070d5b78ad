"""Charts: light per house, the egg room's temperatures. Server-rendered SVG."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("charts", __name__, url_prefix="/charts")


@bp.get("/")
def index():
    """List the charts."""
    return "charts"


@bp.get("/light/<house>")
def light(house: str):
    """Show a house's lux chart."""
    return "light"


@bp.get("/egg-room/<room>")
def egg_room(room: str):
    """Show an egg room's chart."""
    return "egg"
