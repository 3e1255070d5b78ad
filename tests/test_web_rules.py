"""The rule browser: filters, rule pages, the self-assessment and document forms, uploads."""

from __future__ import annotations

import io
import re

from PIL import Image

from .web_fixtures import (  # noqa: F401
    NOW,
    accounts,
    app,
    auditor,
    client_for,
    clock,
    db_path,
    farm_config,
    farmer,
    token_of,
    web_store,
)


def _png(size=(8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def _rule_ids(html: str) -> set[str]:
    return set(re.findall(r'href="/rules/([A-Z0-9.]+)"', html))


def _field_errors(html: str) -> list[str]:
    return re.findall(r'class="field-error"[^>]*>([^<]*)<', html)


def test_rule_list_has_every_rule_and_filters_by_annex_source_house_and_status(farmer):
    everything = _rule_ids(farmer.get("/rules/").get_data(as_text=True))
    assert len(everything) == 249
    g_rules = _rule_ids(farmer.get("/rules/?annex=1.2G").get_data(as_text=True))
    assert g_rules and all(r.startswith("G") for r in g_rules)
    documents = _rule_ids(farmer.get("/rules/?source=document").get_data(as_text=True))
    assert {"A1.2", "A6.3.1", "G1.1"} <= documents and "A4.1.6" not in documents
    barn = _rule_ids(farmer.get("/rules/?house=2").get_data(as_text=True))
    assert "G3.8.9" in barn and not any(r.startswith(("H", "I")) for r in barn)
    unknown = _rule_ids(farmer.get("/rules/?status=unknown").get_data(as_text=True))
    assert "A4.1.6" in unknown and not any(r.startswith("I") for r in unknown)  # organic rules do not apply


def test_rule_page_shows_the_seed_texts(farmer):
    html = farmer.get("/rules/G3.8.9").get_data(as_text=True)
    assert "Duisterperiode niet ononderbroken of &lt; 8 uur." in html
    assert "Zelfbeoordeling invullen" in html
    assert farmer.get("/rules/a4.5.4.").headers["Location"].endswith("/rules/A4.5.4")
    missing = farmer.get("/rules/Z9.9")
    assert missing.status_code == 404 and "Z9.9 bestaat niet" in missing.get_data(as_text=True)


def test_an_answer_is_stored_and_shows_as_a_deviation_with_the_seed_text(farmer, web_store):
    response = farmer.post("/rules/A4.1.10/assess", data={
        "status": "C", "note": "rommel achter stal 2", "location": "", "csrf_token": token_of(farmer)})
    assert response.status_code == 302
    rows = web_store.query("SELECT rule, status, note, answered_by FROM assessments")
    assert rows == [{"rule": "A4.1.10", "status": "C", "note": "rommel achter stal 2", "answered_by": "jan"}]
    page = farmer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Opgeslagen: A4.1.10 = C." in page
    dashboard = farmer.get("/").get_data(as_text=True)
    assert "Omgeving matig verontreinigd / enige begroeiing." in dashboard


def test_an_invalid_answer_shows_the_field_message_in_dutch_and_stores_nothing(farmer, web_store):
    token = token_of(farmer)
    no_note = farmer.post("/rules/A4.1.10/assess", data={"status": "C", "note": "", "csrf_token": token})
    assert no_note.status_code == 422
    assert _field_errors(no_note.get_data(as_text=True)) == ["beschrijf de afwijking"]
    wrong_weight = farmer.post("/rules/A1.2/assess", data={"status": "D", "note": "x", "csrf_token": token})
    assert _field_errors(wrong_weight.get_data(as_text=True)) == ["A1.2 kent geen weging D (mogelijk: B)"]
    no_status = farmer.post("/rules/A1.1/assess", data={"note": "x", "csrf_token": token})
    assert _field_errors(no_status.get_data(as_text=True)) == ["verplicht veld ontbreekt"]
    bad_location = farmer.post("/rules/A1.1/assess", data={"status": "ok", "location": "9", "csrf_token": token})
    assert _field_errors(bad_location.get_data(as_text=True)) == ["kies een stal of eierlokaal van dit bedrijf"]
    assert web_store.query("SELECT count(*) AS n FROM assessments")[0]["n"] == 0


def test_a_photo_is_kept_with_the_answer_and_served_back(farmer, web_store):
    png = _png()
    response = farmer.post("/rules/A4.1.6/assess", content_type="multipart/form-data", data={
        "status": "ok", "csrf_token": token_of(farmer), "photo": (io.BytesIO(png), "../../kadaver.png")})
    assert response.status_code == 302
    row = web_store.query("SELECT a.file_id, f.name, f.content_type, f.size FROM assessments a"
                          " JOIN files f ON f.id = a.file_id")[0]
    assert row["name"] == "kadaver.png" and row["content_type"] == "image/png" and row["size"] == len(png)
    served = farmer.get(f"/rules/files/{row['file_id']}")
    assert served.data == png and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_a_non_image_or_oversize_upload_is_refused_and_nothing_is_stored(farmer, app, web_store):
    token = token_of(farmer)
    fake = farmer.post("/rules/A4.1.6/assess", content_type="multipart/form-data", data={
        "status": "ok", "csrf_token": token, "photo": (io.BytesIO(b"<svg onload=alert(1)>"), "foto.jpg")})
    assert fake.status_code == 422
    assert _field_errors(fake.get_data(as_text=True)) == ["dit bestandstype kan niet; toegestaan: JPEG, PNG, WebP"]
    truncated = farmer.post("/rules/A4.1.6/assess", content_type="multipart/form-data", data={
        "status": "ok", "csrf_token": token, "photo": (io.BytesIO(_png()[:40]), "foto.png")})
    assert _field_errors(truncated.get_data(as_text=True)) == ["het bestand is geen leesbare foto"]
    app.config["MAX_UPLOAD_BYTES"] = 1000
    big = farmer.post("/rules/A4.1.6/assess", content_type="multipart/form-data", data={
        "status": "ok", "csrf_token": token, "photo": (io.BytesIO(_png((400, 400)) + b"\0" * 2000), "foto.png")})
    assert "te groot" in _field_errors(big.get_data(as_text=True))[0]
    # Beyond the request limit the server refuses before reading the body.
    app.config["MAX_CONTENT_LENGTH"] = 5000
    huge = farmer.post("/rules/A4.1.6/assess", content_type="multipart/form-data", data={
        "status": "ok", "csrf_token": token, "photo": (io.BytesIO(b"\xff\xd8\xff" + b"\0" * 10000), "foto.jpg")})
    assert huge.status_code == 413
    assert web_store.query("SELECT (SELECT count(*) FROM assessments) + (SELECT count(*) FROM files) AS n")[0]["n"] == 0


def test_a_valid_photo_with_a_refused_answer_leaves_no_file_behind(farmer, web_store):
    """The photo and the answer are stored in one transaction: files are append-only, so no orphan."""
    refused = farmer.post("/rules/A1.2/assess", content_type="multipart/form-data", data={
        "status": "D", "note": "x", "csrf_token": token_of(farmer), "photo": (io.BytesIO(_png()), "foto.png")})
    assert refused.status_code == 422
    assert _field_errors(refused.get_data(as_text=True)) == ["A1.2 kent geen weging D (mogelijk: B)"]
    assert web_store.query("SELECT (SELECT count(*) FROM assessments) + (SELECT count(*) FROM files) AS n")[0]["n"] == 0


def test_a_document_with_a_pdf_scan_is_recorded(farmer, web_store):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = farmer.post("/rules/A6.3.1/document", content_type="multipart/form-data", data={
        "issued_on": "2026-10-01", "csrf_token": token_of(farmer), "file": (io.BytesIO(pdf), "hosowo.pdf")})
    assert response.status_code == 302, response.get_data(as_text=True)
    row = web_store.query("SELECT d.rule, d.issued_on, f.content_type FROM documents d JOIN files f ON f.id = d.file_id")
    assert row == [{"rule": "A6.3.1", "issued_on": "2026-10-01", "content_type": "application/pdf"}]
    page = farmer.get("/rules/A6.3.1").get_data(as_text=True)
    assert "Geldig: Drinkwateronderzoek (HOSOWO) van 2026-10-01" in page
    assert farmer.get(re.search(r'href="(/rules/files/\d+)"', page).group(1)).headers["Content-Disposition"] \
        .startswith("attachment")


def test_an_invalid_document_names_the_field_in_dutch(farmer, web_store):
    token = token_of(farmer)
    future = farmer.post("/rules/A6.3.1/document", data={"issued_on": "2027-01-01", "csrf_token": token})
    assert _field_errors(future.get_data(as_text=True)) == ["ligt in de toekomst"]
    bad_date = farmer.post("/rules/A6.3.1/document", data={"issued_on": "1-10-2026", "csrf_token": token})
    assert _field_errors(bad_date.get_data(as_text=True)) == ["verwacht een datum JJJJ-MM-DD (bijv. 2026-03-28)"]
    no_house = farmer.post("/rules/G1.1/document", data={"issued_on": "2026-10-01", "csrf_token": token})
    assert _field_errors(no_house.get_data(as_text=True)) == ["Stalmeetrapport is per stal: kies de stal"]
    no_end = farmer.post("/rules/I1.1/document", data={"issued_on": "2026-10-01", "csrf_token": token})
    assert "einddatum" in _field_errors(no_end.get_data(as_text=True))[0]
    assert web_store.query("SELECT count(*) AS n FROM documents")[0]["n"] == 0


def test_the_auditor_reads_rules_but_gets_no_form(auditor, farmer):
    page = auditor.get("/rules/A4.1.10").get_data(as_text=True)
    assert "A4.1.10" in page and "<form method=\"post\" action=\"/rules/A4.1.10/assess\"" not in page
    assert auditor.get("/rules/A4.1.10/assess").status_code == 403
    assert auditor.post("/rules/A4.1.10/assess", data={"status": "ok", "csrf_token": token_of(auditor)}).status_code == 403


def test_stored_script_is_shown_as_text(farmer):
    farmer.post("/rules/A4.1.10/assess", data={
        "status": "C", "note": "<script>alert('x')</script>", "csrf_token": token_of(farmer)})
    for path in ("/", "/rules/A4.1.10"):
        html = farmer.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
