"""Texts a person reads, marked for the gettext catalogues and translated only where they are shown.

Dutch is the source language: a msgid is the Dutch text itself (the scheme is Dutch), with ``{name}``
placeholders. ``rules/`` never translates — it has no language and reads no catalogue. It marks:

- ``N_("Datum bezoek")`` — a plain string (a label, an option) that the boundary translates;
- ``lazy_gettext("kies uit {options}", options=…)`` — a :class:`Text`: a msgid with its values;
- ``lazy_ngettext("{n} bezoek", "{n} bezoeken", n)`` — a :class:`Text` whose form depends on ``n``
  (plurals come from the catalogues, never "bezoek(en)").

The CLI, the page and the API render a :class:`Text` with the translations of their user's language
(``text.render(translations)``, any ``gettext.NullTranslations``); ``str(text)`` is the Dutch source.
``pybabel extract`` finds all three markers (see ``babel.cfg`` and docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from typing import Any

SOURCE = gettext.NullTranslations()  # Dutch: the msgids themselves, plural by n != 1 (as Dutch has it)


def N_(msgid: str) -> str:
    """Mark a string for the catalogues without translating it (it is translated where it is shown)."""
    return msgid


class Text:
    """A msgid (and its plural) with the values to fill in, rendered in a language at the boundary."""

    __slots__ = ("msgid", "plural", "n", "params")

    def __init__(self, msgid: str, plural: str | None = None, n: int | None = None,
                 params: Mapping[str, Any] | None = None):
        self.msgid, self.plural, self.n = msgid, plural, n
        self.params = dict(params or {})

    def render(self, translations: gettext.NullTranslations = SOURCE) -> str:
        """Return the text in the language of ``translations``, values filled in."""
        if self.plural is None:
            template = translations.gettext(self.msgid)
        else:
            template = translations.ngettext(self.msgid, self.plural, self.n)
        values = {k: _render_value(v, translations) for k, v in self.params.items()}
        if self.plural is not None:
            values.setdefault("n", self.n)
        return template.format(**values) if values else template

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Text({self.msgid!r}, {self.params!r})" if self.plural is None else \
            f"Text({self.msgid!r}, {self.plural!r}, {self.n!r}, {self.params!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Text) and (self.msgid, self.plural, self.n, self.params) == \
            (other.msgid, other.plural, other.n, other.params)

    def __hash__(self) -> int:
        return hash((self.msgid, self.plural, self.n))


def lazy_gettext(msgid: str, **params: Any) -> Text:
    """Return a text to translate where it is shown."""
    return Text(msgid, params=params)


def lazy_ngettext(singular: str, plural: str, n: int, **params: Any) -> Text:
    """Return a text whose singular or plural form (by ``n``, filled in as ``{n}``) is chosen where it is shown."""
    return Text(singular, plural, n, params)


def _render_value(value: Any, translations: gettext.NullTranslations) -> Any:
    """Render a value inside a text: texts are translated, lists joined with commas."""
    if isinstance(value, Text):
        return value.render(translations)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_render_value(v, translations)) for v in value)
    return value


def dutch_ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    """Return the Dutch form for ``n`` of a text that is kept in Dutch (a finding's summary, an export line)."""
    return lazy_ngettext(singular, plural, n, **params).render()
