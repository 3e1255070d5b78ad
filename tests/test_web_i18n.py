"""Language on the page: Dutch first with Dutch dates and numbers, English on request (strings: test_translations)."""

from __future__ import annotations

from .web_fixtures import accounts, app, client_for, clock, db_path, farm_config, farmer, token_of  # noqa: F401


def test_dutch_is_the_default_with_dutch_dates_and_english_on_request(farmer):
    html = farmer.get("/").get_data(as_text=True)
    assert '<html lang="nl">' in html and "Afwijkingen per categorie" in html and "1 nov 2026 13:00" in html
    farmer.post("/language", data={"lang": "en", "csrf_token": token_of(farmer), "next": "/rules/A1.1"})
    english = farmer.get("/").get_data(as_text=True)
    assert '<html lang="en">' in english and "Deviations per category" in english and "Nov 1, 2026" not in english
    assert "(15 punt)" in english  # the scheme's own weight texts stay in Dutch
    assert "1 Nov 2026 13:00" in english
    # Rule texts stay in the scheme's Dutch.
    from markupsafe import escape

    from rules.catalogue import load_catalogue

    page = farmer.get("/rules/A1.1").get_data(as_text=True)
    assert str(escape(load_catalogue().get("A1.1").title)) in page and "From the scheme" in page


def test_numbers_use_a_decimal_comma_in_dutch(app):
    from webui.i18n import fmt_number

    with app.test_request_context():
        assert fmt_number(1234.5) == "1.234,5"
