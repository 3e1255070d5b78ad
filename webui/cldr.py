"""The calendar words and number symbols the page's formats use, copied from Babel's CLDR data.

The page formats dates with five fixed patterns ('d MMM y HH:mm', 'd MMM HH:mm', 'HH:mm', 'd MMMM y',
'EEE d MMM') and numbers with the locale's two symbols. Babel, asked for these at run time, loads its whole
locale data and its global data (time zones, territories: about 4 MB that the web process then keeps for
good; issue 15, memory). These tables are what those patterns read from it, nothing more.
``tests/test_web_i18n.py`` holds them equal to Babel's data and every date this module formats equal to
``babel.dates`` with the same pattern: a Babel upgrade that changes a word fails there, and this file is
then updated from ``python -c 'from webui.cldr import from_babel; print(from_babel())'``.
"""

from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo

__all__ = ["CLDR", "date_long", "datetime_short", "day_short", "from_babel", "symbols", "time_short"]

CLDR: dict[str, dict[str, tuple[str, ...]]] = {
    "nl": {
        "months_abbreviated": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
        "months_wide": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
                        "oktober", "november", "december"),
        "days_abbreviated": ("ma", "di", "wo", "do", "vr", "za", "zo"),
        "symbols": (".", ","),
    },
    "en": {
        "months_abbreviated": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        "months_wide": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                        "October", "November", "December"),
        "days_abbreviated": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        "symbols": (",", "."),
    },
}


def from_babel(languages=tuple(CLDR)) -> dict[str, dict[str, tuple[str, ...]]]:
    """Return the tables as Babel's CLDR data has them (the check of CLDR, and how it is made again)."""
    from babel import Locale

    out = {}
    for lang in languages:
        loc = Locale.parse(lang)
        months, days = loc.months["format"], loc.days["format"]
        out[lang] = {
            "months_abbreviated": tuple(months["abbreviated"][m] for m in range(1, 13)),
            "months_wide": tuple(months["wide"][m] for m in range(1, 13)),
            "days_abbreviated": tuple(days["abbreviated"][d] for d in range(7)),
            "symbols": (loc.number_symbols["latn"]["group"], loc.number_symbols["latn"]["decimal"]),
        }
    return out


def _words(lang: str) -> dict[str, tuple[str, ...]]:
    return CLDR.get(lang) or CLDR["nl"]


def _local(moment: datetime, tz: tzinfo) -> datetime:
    """Return the moment in ``tz``; a naive moment is UTC (as Babel takes it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(tz)


def datetime_short(moment: datetime, tz: tzinfo, lang: str, *, year: bool = True) -> str:
    """Return 'd MMM y HH:mm' ('23 nov 2026 14:05'), or without ``year`` 'd MMM HH:mm'."""
    local = _local(moment, tz)
    month = _words(lang)["months_abbreviated"][local.month - 1]
    return f"{local.day} {month} {local.year} {local:%H:%M}" if year else f"{local.day} {month} {local:%H:%M}"


def time_short(moment: datetime, tz: tzinfo) -> str:
    """Return 'HH:mm' in ``tz``."""
    return f"{_local(moment, tz):%H:%M}"


def date_long(day: date, lang: str) -> str:
    """Return 'd MMMM y' ('23 november 2026')."""
    return f"{day.day} {_words(lang)['months_wide'][day.month - 1]} {day.year}"


def day_short(day: date, lang: str) -> str:
    """Return 'EEE d MMM' ('za 31 okt')."""
    words = _words(lang)
    return f"{words['days_abbreviated'][day.weekday()]} {day.day} {words['months_abbreviated'][day.month - 1]}"


def symbols(lang: str) -> tuple[str, str]:
    """Return the locale's (thousands separator, decimal mark)."""
    return _words(lang)["symbols"]  # type: ignore[return-value]
