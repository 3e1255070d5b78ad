"""fpdf2 made cheaper for the audit pack, byte for byte the same output (issue 15).

The verifier renders every PDF of a pack again and compares the bytes, so nothing here may change what fpdf2
writes; it only avoids repeating work:

- the DejaVu fonts are parsed once per process (:func:`add_fonts`): a document gets a copy of the parsed font
  with its own subset and a fresh, unparsed fontTools object, since fpdf2 subsets that object in place when it
  writes the document;
- a text's width is summed with ``map`` instead of a generator (:class:`MeasuredFont`): the same integer sum of
  the same advance widths, times the same factor;
- a table measures each cell twice, once to size its row (writing disabled) and once to draw it;
  :class:`Document` remembers the measuring pass per cell content, so a value repeated down a column ("ja",
  "Jan", a house number) is measured once.

``tests/test_exports_typeset.py`` renders the same documents with plain fpdf2 and compares the bytes: an fpdf2
release that changes what these shortcuts rely on fails there, not in an auditor's verify.
"""

from __future__ import annotations

import copy
import io
import types
from functools import lru_cache
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont


class MeasuredFont(TTFFont):
    """A TrueType font whose text width is summed without a generator (same integers, same result)."""

    def get_text_width(self, text: str, font_size_pt: float, text_shaping_params) -> tuple[int, float]:
        """Return (characters, width) as fpdf2 does: the sum of the advance widths times the size."""
        if text_shaping_params or self.is_symbol:
            return super().get_text_width(text, font_size_pt, text_shaping_params)
        self.biggest_size_pt = max(self.biggest_size_pt, font_size_pt)
        return len(text), sum(map(self.cw.__getitem__, map(ord, text))) * font_size_pt * 0.001


@lru_cache(maxsize=4)
def _font_bytes(path: str) -> bytes:
    """Return a font file's bytes (read once per process)."""
    return Path(path).read_bytes()


@lru_cache(maxsize=4)
def _parsed(path: str, fontkey: str, style: str) -> MeasuredFont | None:
    """Return the font parsed once, or None when a copy would not be what fpdf2 makes of the file.

    fpdf2 draws a .notdef glyph into a font that lacks one and colours some fonts: neither is copied here.
    """
    from fontTools import ttLib

    fresh = ttLib.TTFont(io.BytesIO(_font_bytes(path)), recalcTimestamp=False, lazy=True)
    if "glyf" not in fresh or ".notdef" not in fresh.getGlyphOrder():
        return None
    font = MeasuredFont(FPDF(), Path(path), fontkey, style)
    return font if font.color_font is None else None


def add_fonts(pdf: FPDF, family: str, files: dict[str, str]) -> None:
    """Add a font family ({style: file}) to a document, parsing each file once per process."""
    for style, path in files.items():
        fontkey = f"{family.lower()}{style}"
        parsed = _parsed(str(path), fontkey, style)
        if parsed is None:
            pdf.add_font(family, style, path)
            continue
        font = copy.copy(parsed)
        font.i = len(pdf.fonts) + 1
        # fpdf2 subsets this object in place when it writes the document: each document has its own.
        from fontTools import ttLib

        font.ttfont = ttLib.TTFont(io.BytesIO(_font_bytes(str(path))), recalcTimestamp=False, lazy=True)
        font.cw = parsed.cw.copy()
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font._hbfont = None
        font.subset = SubsetMap(font)
        pdf.fonts[fontkey] = font


class Document(FPDF):
    """An FPDF whose tables measure a repeated cell once (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._measured: dict[tuple, tuple[Any, float, float]] = {}

    def multi_cell(self, w: float, h: float | None = None, text: str = "", *args: Any, **kwargs: Any):
        """Draw a multi-line cell; while writing is disabled (a table sizing its rows), answer repeats from memory.

        A measurement is a function of the cell (text, width, options), the font and the position; the first
        one runs in full, so the font subset has seen every character before a repeat is skipped.
        """
        if args or isinstance(self._out, types.MethodType):
            return super().multi_cell(w, h, text, *args, **kwargs)
        key = (w, h, text, self.x, self.y, self.page, self.current_font.fontkey, self.font_style,
               self.font_size_pt, self.char_spacing, self.font_stretching, self.underline,
               tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        known = self._measured.get(key)
        if known is not None:
            result, self.x, self.y = known
            return result
        page = self.page
        result = super().multi_cell(w, h, text, **kwargs)
        if self.page == page and not (isinstance(result, tuple) and result and result[0] is True):
            self._measured[key] = (result, self.x, self.y)
        return result
