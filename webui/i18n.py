"""Language: Dutch first, English on request; texts from the gettext catalogues, dates and numbers in CLDR's words.

The interface strings are written in Dutch in the code and templates (``_("Afwijkingen")``,
``ngettext("{n} regel", "{n} regels", n)``); :mod:`agent.i18n` reads their translations from the
catalogues. Errors and record-model labels arrive as msgids or :class:`~rules.texts.Text` and are rendered
here, in the request's language. Rule texts stay in the scheme's Dutch in both languages: they are what
the auditor reads.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, g, request, session

from agent.i18n import LANGUAGES, translate, translate_plural, translations
from rules.texts import N_
from webui import cldr


def language() -> str:
    """Return the language of the current request: the session's choice, else the configured default."""
    lang = g.get("lang")
    if lang is None:
        lang = session.get("lang") if request else None
        if lang not in LANGUAGES:
            lang = current_app.extensions["ikb"].config.web.language
        g.lang = lang
    return lang


def gettext(text: str, **values) -> str:
    """Return the interface string in the current language, with ``{name}`` values filled in."""
    return translate(language(), text, **values)


def ngettext(singular: str, plural: str, n: int, **values) -> str:
    """Return the form for ``n`` of an interface string in the current language (``{n}`` filled in)."""
    return translate_plural(language(), singular, plural, n, **values)


def pgettext(context: str, text: str, **values) -> str:
    """Return an interface string whose translation depends on where it stands (``Bevestigen`` an alert)."""
    template = translations(language()).pgettext(context, text)
    return template.format(**values) if values else template


def npgettext(context: str, singular: str, plural: str, n: int, **values) -> str:
    """Return the form for ``n`` of an interface string whose translation depends on where it stands."""
    return translations(language()).npgettext(context, singular, plural, n).format(n=n, **values)


def current_translations():
    """Return the translations of the current request's language (to render texts and errors)."""
    return translations(language())


def _tz():
    """Return the farm's time zone."""
    return current_app.extensions["ikb"].config.farm_view().tz


def _moment(value) -> datetime | None:
    """Accept an aware datetime or an ISO string."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        from agent.clock import parse_moment

        return parse_moment(value)
    return value


def fmt_datetime(value, short: bool = False) -> str:
    """Return a farm-local moment as people write it: '23 nov 2026 14:05'."""
    moment = _moment(value)
    if moment is None:
        return "—"
    return cldr.datetime_short(moment, _tz(), language(), year=not short)


def fmt_time(value) -> str:
    """Return a farm-local clock time: '14:05'."""
    moment = _moment(value)
    return cldr.time_short(moment, _tz()) if moment else "—"


def fmt_date(value) -> str:
    """Return a date as people write it: '23 november 2026'."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(_tz()).date()
    return cldr.date_long(value, language())


def fmt_weekday(value) -> str:
    """Return a short date with its weekday, as a calendar cell shows it: 'za 31 okt'."""
    if isinstance(value, datetime):
        value = value.astimezone(_tz()).date()
    return cldr.day_short(value, language())


def fmt_number(value, digits: int = 1) -> str:
    """Return a number in the page's locale: 12,5 in Dutch (CLDR's symbols; formatted here: lists have many)."""
    if value is None:
        return "—"
    group, decimal = cldr.symbols(language())
    return f"{value:,.{digits}f}".replace(",", "\0").replace(".", decimal).replace("\0", group)


def fmt_duration(seconds: float | None) -> str:
    """Return a duration in words: '8 u 15 min', '45 s'."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 120:
        return gettext("{n} s", n=seconds)
    minutes = seconds // 60
    if minutes < 120:
        return gettext("{n} min", n=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 72:
        return gettext("{h} u {m} min", h=hours, m=minutes)
    return ngettext("{n} dag", "{n} dagen", hours // 24)


STATUS_WORDS = {
    "ok": N_("in orde"),
    "B": N_("afwijking B"),
    "C": N_("afwijking C"),
    "D": N_("afwijking D"),
    "KO": N_("KO-afwijking"),
    "nvt": N_("niet van toepassing"),
    "unknown": N_("onbekend"),
}
VERDICT_WORDS = {
    "suspension": N_("Schorsing: KO-afwijking"),
    "repair_required": N_("Herstel vereist vóór afgifte certificaat"),
    "remarks": N_("Opmerkingen: B/C-afwijkingen of herstelde D-afwijkingen"),
    "incomplete": N_("Onvolledig: niet alles is aangetoond"),
    "ready": N_("Auditklaar"),
}
ROLE_WORDS = {"farmer": N_("boer"), "auditor": N_("auditor"), "kiosk": N_("kiosk")}
SOURCE_WORDS = {
    "sensor": N_("sensor"),
    "logbook": N_("logboek"),
    "document": N_("document"),
    "self_assessment": N_("zelfbeoordeling"),
}


def status_word(status: str) -> str:
    """Return the word for a status (shown next to its colour, never colour alone)."""
    return gettext(STATUS_WORDS.get(status, status))


def verdict_word(verdict: str) -> str:
    """Return the sentence for a verdict."""
    return gettext(VERDICT_WORDS.get(verdict, verdict))


def source_word(source: str) -> str:
    """Return the word for an evidence source."""
    return gettext(SOURCE_WORDS.get(source, source))


def housing_word(housing: str) -> str:
    """Return the scheme's word for a housing system ('scharrel', 'vrije uitloop'), never the configuration key."""
    from rules.catalogue import HOUSING_WORDS

    return gettext(HOUSING_WORDS.get(housing, housing))


def location_word(location: str | None) -> str:
    """Return a location's display name: the house or egg room's name, or 'bedrijf' for farm-wide."""
    if not location:
        return gettext("bedrijf")
    config = current_app.extensions["ikb"].config
    for h in config.houses:
        if h.id == location:
            return h.name or gettext("Stal {id}", id=h.id)
    for r in config.egg_rooms:
        if r.id == location:
            return r.name or gettext("Eierlokaal {id}", id=r.id)
    return location


def init_app(app: Flask) -> None:
    """Make ``_`` and the formatting filters available in every template."""
    app.jinja_env.globals.update(_=gettext, ngettext=ngettext, pgettext=pgettext, npgettext=npgettext, language=language, status_word=status_word,
                                 verdict_word=verdict_word, source_word=source_word, location_word=location_word,
                                 housing_word=housing_word)
    app.jinja_env.filters.update(dt=fmt_datetime, d=fmt_date, t=fmt_time, num=fmt_number, duration=fmt_duration,
                                  wd=fmt_weekday)

    @app.context_processor
    def _farm():
        return {"farm_name": current_app.extensions["ikb"].config.farm.name, "role_words": ROLE_WORDS}
