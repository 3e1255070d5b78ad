"""The auditor's view: read-only, with exports."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
def index():
    """Show the audit page."""
    return "audit"
