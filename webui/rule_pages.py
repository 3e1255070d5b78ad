"""The rule browser."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("rules", __name__, url_prefix="/rules")


@bp.get("/")
def index():
    """List rules."""
    return "rules"


@bp.get("/<rule_id>")
def rule(rule_id: str):
    """Show one rule."""
    return rule_id
