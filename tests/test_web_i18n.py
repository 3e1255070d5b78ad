"""Language: every interface string has an English entry; dates and numbers in Dutch format."""

from __future__ import annotations

import re

from webui.translations_en import EN

from .conftest import REPO
from .web_fixtures import accounts, app, client_for, clock, db_path, farm_config, farmer, token_of  # noqa: F401

CALL = re.compile(r"""(?:\b_|\bgettext)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def _interface_strings() -> set[str]:
    """Return every literal passed to _() or gettext() in webui/, plus the word tables passed through them."""
    from webui import charts, forms, i18n, logbooks
    from webui import inputs as models

    found = set()
    for path in list((REPO / "webui").rglob("*.py")) + list((REPO / "webui" / "templates").rglob("*.html")):
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) or match.group(2))
    for table in (i18n.STATUS_WORDS, i18n.VERDICT_WORDS, i18n.SOURCE_WORDS, i18n.ROLE_WORDS, charts.RANGE_LABELS,
                  forms._PYDANTIC_NL, logbooks.STATE_WORDS):
        found |= set(table.values())
    found |= {dutch for _pattern, dutch in forms._AGENT_NL}
    for model in (models.AssessmentInput, models.DocumentInput):
        for info in model.model_fields.values():
            found |= {t for t in (info.title, info.description) if t}
    return found


def test_every_interface_string_has_an_english_translation_with_the_same_placeholders():
    strings = _interface_strings()
    missing = sorted(s for s in strings if s not in EN)
    assert not missing, missing
    for dutch, english in EN.items():
        assert set(re.findall(r"{\w*}", dutch)) == set(re.findall(r"{\w*}", english)), dutch


def test_dutch_is_the_default_with_dutch_dates_and_english_on_request(farmer):
    html = farmer.get("/").get_data(as_text=True)
    assert '<html lang="nl">' in html and "strafpunten" in html and "1 nov 2026 13:00" in html
    farmer.post("/language", data={"lang": "en", "csrf_token": token_of(farmer), "next": "/rules/A1.1"})
    english = farmer.get("/").get_data(as_text=True)
    assert '<html lang="en">' in english and "penalty points" in english and "Nov 1, 2026" not in english
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
