"""The gettext catalogues: what the CLI, the page, the API and the kiosk say in the user's language.

Dutch is the source language (the scheme is Dutch): a msgid is the Dutch text, so Dutch needs no
catalogue. English — and for the visitor kiosk German and Polish — live in
``agent/translations/<lang>/LC_MESSAGES/messages.po``, made and updated with ``pybabel`` (see
docs/ARCHITECTURE.md, "Adding a string / a language"). A catalogue is read with Babel once per process and
compiled in memory: no ``.mo`` file is generated or committed, so a fresh clone, an editable install and a
wheel behave the same and nothing can drift from the ``.po``. A msgid without a translation (or a fuzzy
one) shows in Dutch.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from rules.texts import SOURCE, Text

SOURCE_LANGUAGE = "nl"
LANGUAGES = ("nl", "en")  # the page, the API, the CLI
KIOSK_LANGUAGES = {"nl": "Nederlands", "en": "English", "de": "Deutsch", "pl": "Polski"}  # the visitor tablet
CATALOGUES = Path(__file__).with_name("translations")
DOMAIN = "messages"


def catalogue_path(lang: str) -> Path:
    """Return the ``.po`` file of a language."""
    return CATALOGUES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=8)
def translations(lang: str) -> gettext.NullTranslations:
    """Return the translations of a language (Dutch, or a language without a catalogue: the msgids)."""
    path = catalogue_path(lang)
    if lang == SOURCE_LANGUAGE or not path.is_file():
        return SOURCE
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translate(lang: str, msgid: str, **values) -> str:
    """Return a msgid in a language with its ``{name}`` values filled in (texts among them translated too)."""
    return Text(msgid, params=values).render(translations(lang))


def translate_plural(lang: str, singular: str, plural: str, n: int, **values) -> str:
    """Return the form for ``n`` (``{n}``) of a text in a language, as its catalogue's plural rule says."""
    return Text(singular, plural, n, values).render(translations(lang))
