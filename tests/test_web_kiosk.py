"""The visitor kiosk: four languages, the 48-hour question, a checked drawn signature, the poster's kiosk link."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re

import pytest
from PIL import Image, ImageDraw

from agent.i18n import KIOSK_LANGUAGES
from agent.logbooks.entries import list_entries
from agent.logbooks.signatures import MAX_BYTES, parse_reference
from agent.store.files import get_file

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


def png_data_url(size=(600, 200), stroke=True, mode="RGBA") -> str:
    """Return a canvas-like PNG data URL: transparent, with a drawn stroke."""
    img = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else "white")
    if stroke:
        ImageDraw.Draw(img).line([(40, 150), (120, 40), (200, 160), (320, 60)], fill="black", width=4)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def kiosk(client_for):
    """Return a client logged in as the kiosk account."""
    return client_for("tablet")


def visit(client, **changes):
    """Post the kiosk form as the tablet does."""
    form = {"csrf_token": token_of(client, "/kiosk/"), "lang": "nl", "name": "Piet Jansen",
            "organisation": "Voerbedrijf", "poultry_contact_48h": "nee", "houses": ["1"],
            "license_plate": "12-ABC-3", "signature": png_data_url()}
    form.update(changes)
    return client.post("/kiosk/", data={k: v for k, v in form.items() if v is not None})


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("lang,question", [
    ("nl", "Bent u in de afgelopen 48 uur op een ander pluimveebedrijf geweest waar een besmettelijke ziekte heerst?"),
    ("de", "Waren Sie in den letzten 48 Stunden auf einem anderen Geflügelbetrieb"),
    ("pl", "Czy w ciągu ostatnich 48 godzin"),
    ("en", "In the last 48 hours, were you on another poultry farm with a contagious disease?")])
def test_the_kiosk_asks_the_48_hour_question_first_in_the_chosen_language(kiosk, lang, question):
    html = page(kiosk.get(f"/kiosk/?lang={lang}"))
    assert f'<html lang="{lang}">' in html and question in html
    form = html.split('id="visitor-form"')[1]
    assert form.index("poultry_contact_48h") < form.index('name="name"')  # the question comes first
    for code in KIOSK_LANGUAGES:
        assert f'href="/kiosk/?lang={code}"' in html  # a button per language
    assert "<script" not in html.replace('<script src="/static/kiosk.js" defer></script>', "")


def test_a_visitor_is_stored_with_the_drawn_signature_as_a_checked_png(kiosk, web_store, clock):
    drawn = png_data_url()
    response = visit(kiosk, signature=drawn, houses=["1", "2"], purpose="voer leveren")
    assert response.status_code == 302 and response.headers["Location"].endswith("/kiosk/thanks")
    [row] = list_entries(web_store, "visitors")
    assert row.entry["date"] == "2026-11-01" and row.entry["arrival"] == "13:00"  # the tablet's moment
    assert row.entry["houses"] == ["1", "2"] and row.recorded_by == "tablet"
    file_id, digest = parse_reference(row.entry["signature"])
    png = base64.b64decode(drawn.split(",", 1)[1])
    stored = get_file(web_store, file_id)
    assert stored["content_type"] == "image/png" and stored["data"] == png
    assert digest == hashlib.sha256(png).hexdigest()  # the chain covers the image
    thanks = page(kiosk.get("/kiosk/thanks"))
    assert "Dank u wel, u bent aangemeld." in thanks and 'http-equiv="refresh" content="10;url=/kiosk/"' in thanks
    assert kiosk.get("/kiosk/thanks").status_code == 302  # shown once; the form is empty for the next visitor


@pytest.mark.parametrize("signature,message", [
    ("", "Zet uw handtekening in het vak."),
    (png_data_url(stroke=False), "Zet uw handtekening in het vak."),  # a blank canvas
    ("data:text/html;base64," + base64.b64encode(b"<script>alert(1)</script>").decode(),
     "De handtekening kon niet worden gelezen."),
    ("data:image/png;base64," + base64.b64encode(b"%PDF-1.4 not an image").decode(),
     "De handtekening kon niet worden gelezen."),
    ("data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 100).decode(),
     "De handtekening kon niet worden gelezen."),  # PNG magic, but no image Pillow can read
    ("data:image/png;base64,@@@@", "De handtekening kon niet worden gelezen."),
    ("data:image/svg+xml;base64," + base64.b64encode(b'<svg onload="alert(1)"/>').decode(),
     "De handtekening kon niet worden gelezen."),
    (png_data_url(size=(5000, 200)), "De handtekening kon niet worden gelezen."),
])
def test_a_signature_that_is_not_a_drawn_image_is_refused_and_nothing_is_stored(kiosk, web_store, signature,
                                                                                 message):
    response = visit(kiosk, signature=signature)
    assert response.status_code == 422 and message in page(response)
    assert list_entries(web_store, "visitors") == []
    assert web_store.query("SELECT count(*) AS n FROM files")[0]["n"] == 0


def test_an_oversized_signature_is_refused(kiosk, web_store):
    noise = Image.frombytes("RGB", (1200, 600), os.urandom(1200 * 600 * 3))
    buf = io.BytesIO()
    noise.save(buf, "PNG")
    assert len(buf.getvalue()) > MAX_BYTES
    response = visit(kiosk, signature="data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())
    assert response.status_code == 422 and "De handtekening kon niet worden gelezen." in page(response)
    assert web_store.query("SELECT count(*) AS n FROM files")[0]["n"] == 0


def test_missing_answers_are_named_in_the_visitors_language_and_the_drawing_is_kept(kiosk, web_store):
    drawn = png_data_url()
    response = visit(kiosk, lang="de", name="", poultry_contact_48h=None, houses=[], signature=drawn)
    html = page(response)
    assert response.status_code == 422
    for text in ("Bitte Ihren Namen eintragen.", "Bitte mit Ja oder Nein antworten.",
                 "Bitte mindestens einen Stall wählen."):
        assert text in html
    assert f'value="{drawn}"' in html  # the signature need not be drawn again
    assert list_entries(web_store, "visitors") == [] and web_store.query("SELECT count(*) AS n FROM files")[0]["n"] == 0


def test_a_yes_to_the_48_hour_question_is_stored_flagged_and_on_the_dashboard_at_once(kiosk, farmer, web_store):
    visit(kiosk, poultry_contact_48h="ja", lang="pl")
    [row] = list_entries(web_store, "visitors")
    assert row.entry["poultry_contact_48h"] is True
    thanks = page(kiosk.get("/kiosk/thanks"))
    assert "Proszę nie wchodzić do kurników." in thanks and 'content="45;url=/kiosk/"' in thanks
    live = page(farmer.get("/live"))
    assert "Piet Jansen (Voerbedrijf) antwoordde om 13:00 JA op de 48-uursvraag" in live
    assert f"/logbooks/visitors/{row.id}" in live


def test_script_in_a_visitors_name_renders_escaped_on_every_page(kiosk, farmer, auditor, web_store):
    visit(kiosk, name="<script>alert('x')</script>", organisation="<b>org</b>", poultry_contact_48h="ja")
    [row] = list_entries(web_store, "visitors")
    for client, path in ((farmer, "/"), (farmer, "/live"), (farmer, "/logbooks/visitors/"),
                         (farmer, f"/logbooks/visitors/{row.id}"), (farmer, f"/logbooks/visitors/{row.id}/correct"),
                         (auditor, "/logbooks/visitors/"), (auditor, f"/logbooks/visitors/{row.id}")):
        html = page(client.get(path))
        assert "<script>alert" not in html and "<b>org</b>" not in html, path
        assert "&lt;script&gt;alert(" in html, path


def test_the_kiosk_account_reaches_nothing_but_the_kiosk(kiosk):
    for path in ("/", "/live", "/logbooks/", "/logbooks/visitors/", "/daysheet/1", "/audit/", "/rules/",
                 "/kiosk/poster", "/charts/"):
        assert kiosk.get(path).status_code == 403, path


def test_the_poster_makes_a_kiosk_link_whose_qr_code_logs_a_phone_in_as_kiosk(farmer, app, web_store):
    html = page(farmer.get("/kiosk/poster"))
    assert "Code maken" in html and "<svg" not in html
    kiosk_id = web_store.query("SELECT id FROM users WHERE name = 'tablet'")[0]["id"]
    farmer.post("/kiosk/poster", data={"csrf_token": token_of(farmer, "/kiosk/poster"), "account": str(kiosk_id)})
    html = page(farmer.get("/kiosk/poster"))
    url = re.search(r'<p class="url">(http://localhost/kiosk/k/[\w-]+)</p>', html).group(1)
    assert '<svg width="' in html and "class=\"segno\"" in html
    for text in ("Welkom. Meld u aan als bezoeker.", "Willkommen.", "Witamy."):
        assert text in html
    phone = app.test_client()
    response = phone.get(url.removeprefix("http://localhost"))
    assert response.status_code == 302 and response.headers["Location"] == "/kiosk/"
    assert phone.get("/kiosk/").status_code == 200 and phone.get("/").status_code == 403
    # A new code makes the old poster useless.
    farmer.post("/kiosk/poster", data={"csrf_token": token_of(farmer, "/kiosk/poster"), "account": str(kiosk_id)})
    assert app.test_client().get(url.removeprefix("http://localhost")).status_code == 404
    assert app.test_client().get("/kiosk/k/guess").status_code == 404


def test_the_poster_prints_the_farm_key_fingerprint_that_signs_the_audit_packs(farmer, app, web_store):
    from agent.signing import load_key
    from webui.state import get_config

    kiosk_id = web_store.query("SELECT id FROM users WHERE name = 'tablet'")[0]["id"]
    farmer.post("/kiosk/poster", data={"csrf_token": token_of(farmer, "/kiosk/poster"), "account": str(kiosk_id)})
    html = page(farmer.get("/kiosk/poster"))
    with app.app_context():
        fingerprint = load_key(get_config().key_path()).fingerprint
    assert f'<p class="rule fingerprint">bedrijfssleutel {fingerprint}</p>' in html
