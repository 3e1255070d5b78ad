"""The auditor's downloads on the web page come from agent/export.py and verify like the CLI's."""

from __future__ import annotations

import csv
import io

from agent.exports import verify_pack
from agent.logbooks.entries import add_entry

from .test_export import NOW as ENTRY_TIME
from .test_logbook import GOOD
from .web_fixtures import accounts, app, auditor, client_for, clock, db_path, farm_config  # noqa: F401


def test_auditor_downloads_a_logbook_and_an_audit_pack_that_verifies(auditor, farm_config, store, tmp_path):  # noqa: F811
    add_entry(store, farm_config, "visitors", GOOD["visitors"], by="jan", now=ENTRY_TIME)
    response = auditor.get("/audit/export/visitors.csv?from=2026-01-01&to=2026-03-31")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="ikb-123456-visitors-2026-01-01-2026-03-31.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
    assert [(r["Nr."], r["Naam"]) for r in rows] == [("1", "Piet Jansen")]
    response = auditor.get("/audit/export/all.zip?from=2026-01-01&to=2026-03-31")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    pack = tmp_path / "pack.zip"
    pack.write_bytes(response.get_data())
    ok, summary = verify_pack(pack)
    assert ok, summary
