"""The auditor's page: read-only, a CSV/XLSX/PDF download for every logbook and the audit pack, all real files."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from agent.exports import verify_pack
from agent.logbooks.entries import add_entry
from agent.logbooks.signatures import parse_reference, store_signature
from rules.logbooks import LOGBOOKS

from .test_logbook import GOOD
from .test_logbook import NOW as ENTRY_TIME
from .test_web_kiosk import png_data_url
from .web_fixtures import accounts, app, auditor, client_for, clock, db_path, farm_config, web_store  # noqa: F401

PERIOD = "from=2026-01-01&to=2026-10-31"


@pytest.fixture
def logbooks(web_store, farm_config):
    """Keep one entry in every logbook."""
    for kind, entry in GOOD.items():
        add_entry(web_store, farm_config, kind, entry, by="jan", now=ENTRY_TIME)


def test_auditor_sees_the_period_and_three_downloads_for_every_logbook(auditor):
    html = auditor.get(f"/audit/?{PERIOD}").get_data(as_text=True)
    for kind in LOGBOOKS:
        for fmt in ("csv", "xlsx", "pdf"):
            assert f'/audit/export/{kind}.{fmt}?from=2026-01-01&amp;to=2026-10-31' in html, (kind, fmt)
    main = html.split("<main>")[1]
    # The only forms that post build a pack and check one; neither changes the farm's records.
    assert re.findall(r'<form method="post" action="([^"]+)"', main) == ["/audit/pack", "/audit/verify"]
    assert '<input type="hidden" name="from" value="2026-01-01"><input type="hidden" name="to" value="2026-10-31">' \
        in main


def test_bad_periods_and_unknown_exports_are_refused_with_a_message(auditor):
    refused = auditor.get("/audit/?from=31-12-2025")
    assert refused.status_code == 400 and "Datum verwacht als JJJJ-MM-DD." in refused.get_data(as_text=True)
    assert auditor.get("/audit/?from=2026-05-01&to=2026-01-01").status_code == 400
    assert auditor.get("/audit/export/secrets.csv").status_code == 404
    assert auditor.get("/audit/export/visitors.zip").status_code == 404
    assert auditor.get("/audit/export/all.pdf").status_code == 404


@pytest.mark.parametrize("kind", list(LOGBOOKS))
def test_every_logbook_downloads_as_csv_xlsx_and_pdf(auditor, logbooks, kind):
    spec = LOGBOOKS[kind]
    response = auditor.get(f"/audit/export/{kind}.csv?{PERIOD}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="ikb-123456-{kind}-2026-01-01-2026-10-31.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
    labels = [spec.label(name) for name in spec.columns()]
    assert len(rows) == 1 and list(rows[0])[1:len(labels) + 1] == labels
    assert rows[0][spec.label(spec.date_field)] == GOOD[kind][spec.date_field]
    assert rows[0]["Geregistreerd door"] == "jan" and rows[0]["Nr."] == "1"

    book = load_workbook(io.BytesIO(auditor.get(f"/audit/export/{kind}.xlsx?{PERIOD}").get_data()))
    sheet = book.worksheets[-1]
    assert sheet.max_row == 2 and [c.value for c in sheet[1]][1:len(labels) + 1] == labels

    pdf = auditor.get(f"/audit/export/{kind}.pdf?{PERIOD}")
    assert pdf.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.get_data())).pages)
    assert spec.title in text and "123456" in text


def test_the_audit_pack_verifies_and_carries_the_drawn_signatures(auditor, logbooks, web_store, farm_config,
                                                                   tmp_path):
    import base64

    png = base64.b64decode(png_data_url().split(",", 1)[1])
    ref = store_signature(web_store, png, by="tablet", now=ENTRY_TIME)
    add_entry(web_store, farm_config, "visitors", {**GOOD["visitors"], "name": "Klaas", "signature": ref},
              by="tablet", now=ENTRY_TIME)
    response = auditor.get(f"/audit/export/all.zip?{PERIOD}")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    pack = tmp_path / "pack.zip"
    pack.write_bytes(response.get_data())
    ok, summary = verify_pack(pack)
    assert ok, summary
    member = f"signatures/{parse_reference(ref)[0]}.png"
    with zipfile.ZipFile(pack) as zf:
        assert zf.read(member) == png
        assert {f"logbooks/{k}.csv" for k in LOGBOOKS} <= set(zf.namelist())
        members = {n: zf.read(n) for n in zf.namelist()}
    # A signature swapped in the pack is caught.
    members[member] = base64.b64decode(png_data_url(size=(400, 150)).split(",", 1)[1])
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    ok, summary = verify_pack(forged)
    assert not ok and member in summary


def test_script_in_a_visitors_name_is_plain_text_in_the_pdf_and_csv(auditor, web_store, farm_config):
    add_entry(web_store, farm_config, "visitors", {**GOOD["visitors"], "name": "<script>alert(1)</script>"},
              by="jan", now=ENTRY_TIME)
    pdf = auditor.get(f"/audit/export/visitors.pdf?{PERIOD}").get_data()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "<script>alert(1)</script>" in text.replace("\n", "")
    rows = list(csv.DictReader(io.StringIO(auditor.get(f"/audit/export/visitors.csv?{PERIOD}")
                                           .get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[0]["Naam"] == "<script>alert(1)</script>"
    listing = auditor.get("/logbooks/visitors/?from=2026-01-01").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing and "<script>alert" not in listing
