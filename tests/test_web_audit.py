"""The auditor's page: read-only, export routes fixed (answering 503 until agent/export.py exists)."""

from __future__ import annotations

import importlib.util

import pytest

from .web_fixtures import accounts, app, auditor, client_for, clock, db_path, farm_config  # noqa: F401

HAS_EXPORT = importlib.util.find_spec("agent.export") is not None


def test_auditor_sees_the_period_and_a_download_per_logbook(auditor):
    html = auditor.get("/audit/?from=2025-01-01&to=2026-10-31").get_data(as_text=True)
    for kind in ("visitors", "pest_control", "cleaning", "checks"):
        for fmt in ("csv", "xlsx", "pdf"):
            assert f'/audit/export/{kind}.{fmt}?from=2025-01-01&amp;to=2026-10-31' in html
    assert "/audit/export/all.zip?from=2025-01-01&amp;to=2026-10-31" in html
    assert "<form method=\"post\"" not in html.split("<main>")[1]


def test_bad_periods_and_unknown_exports_are_refused_with_a_message(auditor):
    assert auditor.get("/audit/?from=31-12-2025").status_code == 400
    assert auditor.get("/audit/?from=2026-05-01&to=2026-01-01").status_code == 400
    assert auditor.get("/audit/export/secrets.csv").status_code == 404
    assert auditor.get("/audit/export/visitors.zip").status_code == 404


@pytest.mark.skipif(HAS_EXPORT, reason="agent/export.py is installed: the download itself is tested there")
def test_exports_say_they_are_not_available_yet(auditor):
    response = auditor.get("/audit/export/visitors.csv")
    assert response.status_code == 503 and "nog niet beschikbaar" in response.get_data(as_text=True)
