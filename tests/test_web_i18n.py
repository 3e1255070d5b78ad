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


def test_dates_and_numbers_read_cldrs_words_and_say_exactly_what_babel_says():
    """The page's formats use a copy of CLDR's words instead of loading Babel's locale data (issue 15,
    memory): every day of a year, either side of midnight and of the clock changes, in both languages,
    reads as ``babel.dates`` writes it with the same pattern."""
    from datetime import date, datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from babel.dates import format_date, format_datetime, format_time
    from babel.numbers import get_decimal_symbol, get_group_symbol

    from webui import cldr

    assert cldr.from_babel() == cldr.CLDR
    tz = ZoneInfo("Europe/Amsterdam")
    for lang in ("nl", "en"):
        assert cldr.symbols(lang) == (get_group_symbol(locale=lang), get_decimal_symbol(locale=lang))
        for n in range(366):
            day = date(2026, 1, 1) + timedelta(days=n)
            assert cldr.date_long(day, lang) == format_date(day, "d MMMM y", locale=lang)
            assert cldr.day_short(day, lang) == format_date(day, "EEE d MMM", locale=lang)
            for moment in (datetime(day.year, day.month, day.day, 22, 59, 30, tzinfo=timezone.utc),
                           datetime(day.year, day.month, day.day, 0, 30, tzinfo=timezone.utc),
                           datetime(day.year, day.month, day.day, 23, 15)):  # naive: taken as UTC, as Babel does
                for year, pattern in ((True, "d MMM y HH:mm"), (False, "d MMM HH:mm")):
                    assert cldr.datetime_short(moment, tz, lang, year=year) == format_datetime(
                        moment, pattern, tzinfo=tz, locale=lang)
                assert cldr.time_short(moment, tz) == format_time(moment, "HH:mm", tzinfo=tz, locale=lang)
