"""JSON API."""

from __future__ import annotations

from flask import Blueprint, jsonify

from webui.access import public

bp = Blueprint("api", __name__)


@bp.get("/api/openapi.json")
@public
def openapi():
    """Return the OpenAPI document."""
    return jsonify({})
