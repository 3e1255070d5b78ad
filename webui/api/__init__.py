"""The JSON API ``/api/v1/…`` and its OpenAPI document: one blueprint, ``bp``."""

from webui.api import logbooks as _logbook_routes  # noqa: F401 - registers the logbook routes on bp
from webui.api.core import bp
from webui.api.openapi import StrictJSONProvider

__all__ = ["StrictJSONProvider", "bp"]
