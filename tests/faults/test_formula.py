"""Formula injection through the kiosk (issue 13, Why 6): visitor names become text, never formulas.

Names like `=HYPERLINK(…)` or `=cmd|' /C calc'!A0`, typed by anyone with the kiosk link, became live formulas
in the XLSX and formula cells in the CSV. Every CSV and XLSX cell now passes `agent.exports.common.cell`, and
the pack still verifies: the verifier compares the neutralised form.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

import pytest
from openpyxl import load_workbook

from agent.exports import export_bytes, verify_pack
from agent.exports.common import cell
from agent.logbooks.entries import list_entries
from tests.test_web_kiosk import kiosk, visit  # noqa: F401
from tests.web_fixtures import NOW, accounts, app, client_for, clock, db_path, farm_config, web_store  # noqa: F401

HOSTILE_NAMES = ['=HYPERLINK("http://evil.example/x","Klik hier")', "=cmd|' /C calc'!A0", "+31+cmd|' /C calc'!A0",
                 "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text, expected", [
    ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-1+1", "'-1+1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-5", "-5"), ("+3.5", "+3.5"), ("-0,5", "-0,5"), ("Piet", "Piet"), ("", ""), ("a=b", "a=b"),
])
def test_cell_neutralises_what_a_spreadsheet_would_run(text, expected):
    assert cell(text) == expected


def test_formula_names_typed_at_the_kiosk_are_text_in_csv_xlsx_and_the_pack_verifies(kiosk, web_store, farm_config,
                                                                                      tmp_path):
    for name in HOSTILE_NAMES:
        assert visit(kiosk, name=name).status_code in (200, 302)
    stored = [e.entry["name"] for e in list_entries(web_store, "visitors")]
    assert len(stored) == len(HOSTILE_NAMES)  # (the form strips the tab and CR; "=1+1" stays)
    day = NOW.date()

    _, data = export_bytes(web_store, farm_config, "visitors", "csv", day, day, NOW)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert sorted(r["Naam"] for r in rows) == sorted("'" + n for n in stored)
    for row in rows:
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values()), row

    _, data = export_bytes(web_store, farm_config, "visitors", "xlsx", day, day, NOW)
    wb = load_workbook(io.BytesIO(data))
    formulas = [c.coordinate for ws in wb for r in ws.iter_rows() for c in r if c.data_type == "f"]
    assert formulas == []
    names = [c.value for c in wb["visitors"]["A"][1:]] + [c.value for r in wb["visitors"].iter_rows() for c in r]
    assert any(isinstance(v, str) and v.startswith("'=HYPERLINK") for v in names)

    _, pack = export_bytes(web_store, farm_config, "all", "zip", date(2026, 10, 1), day, NOW)
    path = tmp_path / "pack.zip"
    path.write_bytes(pack)
    ok, summary = verify_pack(path)
    assert ok, summary
    with zipfile.ZipFile(path) as zf:
        wb = load_workbook(io.BytesIO(zf.read("logbooks/logbooks.xlsx")))
    assert [c.coordinate for ws in wb for r in ws.iter_rows() for c in r if c.data_type == "f"] == []
