"""fpdf2 made cheaper for the audit pack, byte for byte the same output (issue 15).

The verifier renders every PDF of a pack again and compares the bytes, so nothing here may change what fpdf2
writes (a pack made before must still verify); it only avoids repeating work:

- the DejaVu fonts are parsed once per process (:func:`add_fonts`): a document gets a copy of the parsed font
  with its own subset; the fontTools object fpdf2 subsets in place when it writes the document is made fresh
  then (:meth:`Document.output`), from the smallest cut of the font that holds every glyph used;
- a text's width is summed with ``map`` instead of a generator (:class:`MeasuredFont`): the same integer sum of
  the same advance widths, times the same factor;
- a table lays each cell out twice, once to size its row (writing disabled) and once to draw it, each time
  through fpdf2's per-cell machinery (style combined, font face set and set back, graphics state copied, a line
  breaker that re-measures the whole line for every character it adds). :class:`PlainTable` sizes a plain cell by
  its lines and writes what fpdf2 writes for it — its border, the font selection and a text object per line, and
  for a heading row the fill colour set and set back — with fpdf2's own expressions for every number; the lines of
  a text too long for one line come from fpdf2's own line breaker, remembered per text and width. Any other cell
  goes through fpdf2 (:class:`Document` still answers its sizing from memory when it repeats).

``tests/test_exports_typeset.py`` renders the same documents with plain fpdf2 and compares the bytes: an fpdf2
release that changes what these shortcuts rely on fails there, not in an auditor's verify.
"""

from __future__ import annotations

import copy
import io
import types
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import (
    Align,
    CellBordersLayout,
    PDFResourceType,
    TableBordersLayout,
    TableCellFillMode,
    TextMode,
    VAlign,
    WrapMode,
)
from fpdf.fonts import FontFace, SubsetMap, TTFFont
from fpdf.fpdf import check_page
from fpdf.table import Cell, Table


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


# Fonts cut down for subsetting, smallest first. Dutch and most of Western and Central Europe with their
# punctuation (dashes, quotes, bullet, ellipsis), the euro, the arrows of a correction and the ≤ ≥ of the rule
# texts: nearly every document needs only these, and a font cut down to them is quick to make and subsets in
# half the time of the Latin cut (a sixth of the whole font's); then every European language in Latin script
# with letter-like symbols; else the whole font. fontTools subsets a cut to exactly the same bytes as the whole
# font (the tests compare them).
_SIGNS = ((0x2190, 0x2195), (0x2212, 0x2213), (0x2264, 0x2266))
_BASIC = ((0x0020, 0x007F), (0x00A0, 0x0180), (0x2010, 0x2045), (0x20AC, 0x20AD)) + _SIGNS
_LATIN = ((0x0000, 0x0250), (0x2000, 0x2150)) + _SIGNS
_CUTS = (_BASIC, _LATIN)


@lru_cache(maxsize=8)
def _cut(path: str, ranges: tuple[tuple[int, int], ...]) -> tuple[bytes, frozenset[str]]:
    """Return the font cut down to the characters in ranges (glyph names kept) and its glyph names (once per
    process, when a document first needs it)."""
    from fontTools import subset, ttLib

    font = ttLib.TTFont(io.BytesIO(_font_bytes(path)), recalcTimestamp=False, lazy=True)
    cmap = font.getBestCmap()
    options = subset.Options(notdef_outline=True, recommended_glyphs=True, glyph_names=True)
    options.drop_tables += ["FFTM"]  # FontForge's timestamp: fontTools cannot subset it, fpdf2 drops it too
    cutter = subset.Subsetter(options)
    cutter.populate(glyphs=sorted({cmap[c] for c in cmap if any(a <= c < b for a, b in ranges)}))
    cutter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue(), frozenset(font.getGlyphOrder())


def _source(path: str, glyph_names: list[str]):
    """Return a fresh fontTools font for fpdf2 to subset: the smallest cut that holds every glyph used."""
    from fontTools import ttLib

    data = _font_bytes(path)
    for ranges in _CUTS:
        cut, names = _cut(path, ranges)
        if names.issuperset(glyph_names):
            data = cut
            break
    return ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)


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
        # fpdf2 subsets this object in place when it writes the document: each document has its own, chosen
        # when it is written (Document.output) from the glyphs it uses.
        font.ttfont = None
        font.source = str(path)
        font.cw = parsed.cw.copy()
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font._hbfont = None
        font.subset = SubsetMap(font)
        pdf.fonts[fontkey] = font


# Characters that make a cell more than one run of text on one line (breaks, soft hyphens, tabs, form feeds).
_NOT_PLAIN = frozenset("\n\r\t\f\u00ad\u200b\u2028\u2029")


class Document(FPDF):
    """An FPDF whose tables size a row without laying out each cell's text again (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._measured: dict[tuple, tuple[Any, float, float]] = {}
        self._moves: dict[tuple, tuple[float, float]] = {}
        self._escaped: dict[tuple[int, str], str] = {}
        self._broken: dict[tuple, tuple[str, ...] | None] = {}
        self._faces: dict[tuple, Any] = {}

    def font_face(self):
        """Return the current font as a FontFace (as fpdf2 does; a table cell asks for it, each the same while the
        font does not change). fpdf2 never changes a FontFace it is given, so one is shared."""
        text_color, fill_color = self.text_color, self.fill_color
        # Colours by identity (hashing them is slow); the entry holds them, so an id is not reused meanwhile.
        key = (self.font_family, self.font_style, self.font_size_pt, id(text_color), id(fill_color))
        known = self._faces.get(key)
        if known is None:
            known = self._faces[key] = (super().font_face(), text_color, fill_color)
        return known[0]

    @check_page
    @contextmanager
    def table(self, *args: Any, **kwargs: Any):
        """Insert a table (as FPDF.table) whose plain rows are sized and drawn without fpdf2's per-cell machinery."""
        table = PlainTable(self, *args, **kwargs)
        yield table
        table.render()

    def _shown(self, font: TTFFont, text: str) -> str:
        """Return a text as fpdf2 writes it into a Tj string: glyph numbers of the subset, escaped.

        fpdf2 picks each character into the subset in order (``Fragment.render_pdf_text_ttf``); a text seen before
        picks nothing new, so its string is remembered.
        """
        key = (font.i, text)
        shown = self._escaped.get(key)
        if shown is None:
            pick = font.subset.pick
            shown = font.escape_text("".join(chr(g) for g in map(pick, map(ord, text)) if g))
            self._escaped[key] = shown
        return shown

    def _lines(self, room: float, text: str) -> tuple[str, ...] | None:
        """Return the lines fpdf2's line breaker makes of a text in the current font (left-aligned, by word).

        None when a line is not one run of text (several fragments or none). Remembered per font, size, width and
        text: the breaker measures the whole line again for every character it adds.
        """
        from fpdf.line_break import MultiLineBreak

        key = (self.current_font.i, self.font_size_pt, room, text)
        if key in self._broken:
            return self._broken[key]
        breaker = MultiLineBreak(self._preload_font_styles(text, False), room, [], align=Align.L, print_sh=False,
                                 wrapmode=WrapMode.WORD)
        lines: list[str] | None = []
        line = breaker.get_line()
        while line is not None and lines is not None:
            if len(line.fragments) != 1 or line.trailing_nl or line.align != Align.L:
                lines = None
            else:
                lines.append(line.fragments[0].string)
                line = breaker.get_line()
        self._broken[key] = result = tuple(lines) if lines else None
        return result

    def output(self, *args: Any, **kwargs: Any):
        """Write the document, each font subset from the smallest source that holds its glyphs."""
        for font in self.fonts.values():
            if isinstance(font, MeasuredFont) and font.ttfont is None:
                font.ttfont = _source(font.source, font.subset.get_all_glyph_names())
        return super().output(*args, **kwargs)

    def multi_cell(self, w: float, h: float | None = None, text: str = "", *args: Any, **kwargs: Any):
        """Draw a multi-line cell; while writing is disabled (a table sizing its rows), measure it cheaply.

        A measurement is a function of the cell (text, width, options), the font and the position: a repeat is
        answered from memory, and a text that fits its line with room to spare is one line high. Either way the
        font subset sees the cell's characters in the order fpdf2 would show them, so it numbers glyphs alike.
        """
        if args:
            return super().multi_cell(w, h, text, *args, **kwargs)
        if isinstance(self._out, types.MethodType):
            drawn = self._one_line_drawn(w, h, text, kwargs)
            return drawn if drawn is not None else super().multi_cell(w, h, text, **kwargs)
        options = tuple(sorted((k, repr(v)) for k, v in kwargs.items()))
        key = (w, h, text, self.x, self.y, self.page, self.current_font.fontkey, self.font_style,
               self.font_size_pt, self.char_spacing, self.font_stretching, self.underline, options)
        known = self._measured.get(key)
        if known is not None:
            result, self.x, self.y = known
            return result
        shape = (w, h, options)
        result = self._one_line(w, h, text, kwargs, self._moves.get(shape))
        if result is not None:
            return result
        page, x, y = self.page, self.x, self.y
        result = super().multi_cell(w, h, text, **kwargs)
        if self.page == page:
            self._measured[key] = (result, self.x, self.y)
            self._moves[shape] = (self.x - x, self.y - y)
        return result

    def _plain_line(self, w: float, h: float | None, text: str, kwargs: dict):
        """Return (font, padding) for a table cell whose text fits on one line with room to spare, else None.

        None for anything else (fpdf2 then lays the cell out itself): several lines or nearly full, Markdown,
        another wrap mode or alignment, letter spacing, text shaping, the page-count alias, a page break.
        """
        from fpdf.enums import Align, MethodReturnValue, WrapMode, XPos, YPos

        font, padding = self.current_font, kwargs.get("padding")
        if (h is None or padding is None or not text or type(font) is not MeasuredFont
                or kwargs.get("markdown") or kwargs.get("print_sh") or kwargs.get("border") or kwargs.get("fill")
                or kwargs.get("link") is not None or kwargs.get("wrapmode", WrapMode.WORD) != WrapMode.WORD
                or kwargs.get("align") not in (Align.L, "LEFT", "L")
                or kwargs.get("new_x") not in (XPos.RIGHT, "RIGHT") or kwargs.get("new_y") not in (YPos.TOP, "TOP")
                or kwargs.get("output") != MethodReturnValue.PAGE_BREAK | MethodReturnValue.HEIGHT
                or set(kwargs) - {"max_line_height", "border", "align", "new_x", "new_y", "fill", "markdown",
                                  "output", "wrapmode", "padding", "link"}
                or self.text_shaping or self._fallback_font_ids or self.char_spacing
                or self.font_stretching != 100 or font.is_symbol or self.underline or self.strikethrough
                or (self.str_alias_nb_pages and self.str_alias_nb_pages in text) or not _NOT_PLAIN.isdisjoint(text)
                or not padding.left or not padding.right):
            return None
        _, width = font.get_text_width(text, self.font_size_pt, None)
        if not 0 < width / self.k < w - padding.left - padding.right - 0.01:  # 0.01 mm: far beyond fpdf2's tolerance
            return None
        y = self.y
        self.y = y + padding.top
        breaks = self.will_page_break(h + padding.bottom)
        self.y = y
        return None if breaks else (font, padding)

    def _one_line(self, w: float, h: float | None, text: str, kwargs: dict, move: tuple[float, float] | None):
        """Return (no page break, height) of a plain one-line cell being measured, or None (see _plain_line).

        ``move``: how far a full measurement of that cell shape moved the cursor (None: not measured yet).
        """
        plain = self._plain_line(w, h, text, kwargs) if move is not None else None
        if plain is None:
            return None
        font, padding = plain
        for char in text:  # what fpdf2 picks when it draws the line, in its order
            font.subset.pick(ord(char))
        self.x, self.y = self.x + move[0], self.y + move[1]
        return False, h + padding.top + padding.bottom

    def _one_line_drawn(self, w: float, h: float | None, text: str, kwargs: dict):
        """Draw a plain one-line cell as multi_cell does, without its line breaker; None if not plain."""
        from fpdf.enums import Align, XPos, YPos
        from fpdf.line_break import BREAKING_SPACE_SYMBOLS_STR, Fragment, TextLine
        from fpdf.util import Padding

        plain = self._plain_line(w, h, text, kwargs)
        if plain is None:
            return None
        _, padding = plain
        padding = Padding.new(padding)
        state = self._get_current_graphics_state()
        line = Fragment(list(text), state, self.k)
        room = w - padding.right - padding.left
        text_line = TextLine([line], text_width=line.get_width(initial_cs=False),
                             number_of_spaces=sum(c in BREAKING_SPACE_SYMBOLS_STR for c in text), align=Align.L,
                             height=line.font_size, max_width=room)
        prev_y = self.y
        self.x += padding.left
        self.y += padding.top
        self._render_styled_text_line(text_line, h=h, new_x=XPos.RIGHT, new_y=YPos.TOP, border=0, fill=False,
                                      link=None, padding=Padding(0, padding.right, 0, padding.left),
                                      prevent_font_change=False)
        self.y = prev_y
        self.x += padding.right
        return False, h + padding.top + padding.bottom


class PlainTable(Table):
    """An fpdf2 table that sizes and draws plain cells itself, writing exactly what fpdf2 writes for them.

    A plain cell is a body cell of text with no style, alignment, padding, link, border or span of its own, whose
    text breaks into lines of one run each (no line breaks, soft hyphens or tabs), in a table with all borders, no
    fill, gutter, outer border or Markdown, drawn in the font the table started with and without a page break.
    fpdf2 draws it as its border (``re S``), the font selection (``Tf``: a table cell selects its font again) and
    one text object per line (``BT x y Td (...) Tj ET``); every other cell, and a heading row, is fpdf2's own.
    """

    def render(self) -> None:
        """Render the table (fpdf2's own order of page breaks and rows)."""
        self._plain = self._plain_table()
        if self._plain:  # what the body cells' style selects (FontFace.emphasis.style is slow to ask)
            style = self._initial_style
            self._style = (style.family.lower(), style.emphasis.style, style.size_pt)
        self._columns: dict[int, float] = {}
        self._sizing: tuple[int, MeasuredFont | None] = (-1, None)
        self._heading_style = (FontFace.combine(self._initial_style, self._headings_style)
                               if self._plain and self._num_heading_rows else None)
        super().render()

    def _plain_table(self) -> bool:
        """Whether this table's body cells may be plain (the table-wide conditions)."""
        pdf, style, padding = self._fpdf, self._initial_style, self._padding
        return (self._borders_layout is TableBordersLayout.ALL and self._outer_border_width is None
                and not self._gutter_height and not self._gutter_width and self._outer_border_margin == (0, 0)
                and self._cell_fill_mode is TableCellFillMode.NONE and not self._markdown
                and self._wrapmode == WrapMode.WORD and self._text_align in (Align.L, "LEFT", "L")
                and isinstance(self._v_align, VAlign) and style is not None and style.color is None
                and style.fill_color is None and style.emphasis is not None and bool(style.family)
                and bool(padding.left) and bool(padding.right) and type(pdf.current_font) is MeasuredFont
                and not pdf._record_text_quad_points)

    def _in_style(self) -> MeasuredFont | None:
        """Return the current font when a body cell's style would select nothing new (use_font_face), else None."""
        pdf, (family, emphasis, size) = self._fpdf, self._style
        font = pdf.current_font
        if (pdf.font_family != family or pdf.font_style != emphasis or pdf.font_size_pt != size
                or type(font) is not MeasuredFont or font.fontkey != family + emphasis
                or pdf.underline or pdf.strikethrough or pdf.text_shaping or pdf._fallback_font_ids
                or pdf.char_spacing or pdf.font_stretching != 100 or pdf.text_mode != TextMode.FILL
                or font.is_symbol or pdf.text_color != pdf.fill_color):
            return None
        return font

    def _column(self, j: int) -> float:
        """Return column j's width (fpdf2's own computation, once per column)."""
        width = self._columns.get(j)
        if width is None:
            width = self._columns[j] = self._get_col_width(0, j)
        return width

    @staticmethod
    def _plain_cell(cell: Any) -> bool:
        """Whether a cell has nothing of its own beyond its text."""
        return (type(cell) is Cell and cell.img is None and cell.style is None and cell.align is None
                and cell.v_align is None and cell.padding is None and cell.link is None and cell.colspan == 1
                and cell.rowspan == 1 and cell.border == CellBordersLayout.INHERIT)

    def _layout(self, font: MeasuredFont, j: int, text: str, y: float) -> tuple[str, ...] | None:
        """Return the lines of a plain cell's text in column j, its top at y; None if not plain or it breaks a page.

        A text that fits its line with room to spare (0.01 mm, far beyond fpdf2's tolerance) is one line without
        the line breaker; any other is broken by fpdf2's own.
        """
        pdf, padding = self._fpdf, self._padding
        if not _NOT_PLAIN.isdisjoint(text) or (pdf.str_alias_nb_pages and pdf.str_alias_nb_pages in text):
            return None
        w = self._column(j)
        _, width = font.get_text_width(text, pdf.font_size_pt, None)
        if 0 < width / pdf.k < w - padding.left - padding.right - 0.01:
            lines: tuple[str, ...] | None = (text,)
        else:
            lines = pdf._lines(w - padding.right - padding.left, text)
            if lines is None:
                return None
        # multi_cell breaks the page before a line that does not fit with the bottom padding; the last is lowest
        top = y + padding.top
        for _ in range(len(lines) - 1):
            top += self._line_height
        y_before, pdf.y = pdf.y, top
        breaks = pdf.will_page_break(self._line_height + padding.bottom)
        pdf.y = y_before
        return None if breaks else lines

    def _render_table_cell(self, i, j, cell, row_height, cell_height_info=None, cell_x_positions=None, **kwargs):
        """Size a plain cell by its lines (the same height, the same glyphs picked in order); any other as fpdf2."""
        body = i >= self._num_heading_rows
        if cell_height_info is None and not kwargs and self._plain and not cell.text and body and self._plain_cell(cell):
            self._fpdf.set_x(0)
            return False, 0, 0  # an empty cell: no height of its own
        if (cell_height_info is None and not kwargs and self._plain and cell.text and body and self._plain_cell(cell)
                and self.rows[i].style is None):
            if self._sizing[0] != i:  # the font is the same for every cell of a row being sized
                self._sizing = (i, self._in_style())
            font = self._sizing[1]
            lines = None if font is None else self._layout(font, j, cell.text, self._fpdf.y)
            if lines is not None:
                total: float = 0
                for line in lines:
                    self._fpdf._shown(font, line)
                    total += row_height
                padding = self._padding
                return False, 0, total + padding.top + padding.bottom
        return super()._render_table_cell(i, j, cell, row_height, cell_height_info, cell_x_positions, **kwargs)

    def _rect(self, j: int, y: float, height: float) -> str:
        """Return column j's cell rectangle at y (TableCellStyle.get_draw_commands: the same expressions)."""
        pdf = self._fpdf
        k, page_h = pdf.k, pdf.h
        x1 = self._xs[j]
        x2 = x1 + self._column(j)
        y1, y2 = page_h - y, page_h - (y + height)
        x1, y1, x2, y2 = x1 * k, y1 * k, x2 * k, y2 * k
        return f"{x1:.2f} {y2:.2f} {x2 - x1:.2f} {y1 - y2:.2f} re"

    def _dy(self, v_align: Any, info: Any, j: int) -> float:
        """Return how far a cell's text is lowered in its row (_render_table_cell)."""
        dy: float = 0
        if v_align == VAlign.M:
            dy = (info.height - info.rendered_heights[j]) / 2
        elif v_align == VAlign.B:
            dy = info.height - info.rendered_heights[j]
        return dy

    def _text_lines(self, font: MeasuredFont, j: int, laid: tuple[str, ...], top: float, color: str) -> list[str]:
        """Return multi_cell's text objects of a cell's lines (_render_styled_text_line), its top at ``top``.

        ``color``: the text colour operator when it differs from the fill colour (then each line is wrapped in a
        local context), else "".
        """
        pdf, h = self._fpdf, self._line_height
        k, page_h = pdf.k, pdf.h
        max_font_size = pdf.font_size_pt / k
        x = (self._xs[j] + self._padding.left + 0.0) * k
        top += self._padding.top
        out = []
        for line in laid:
            text = (f"BT {x:.2f} {(page_h - top - 0.5 * h - 0.3 * max_font_size) * k:.2f} Td{color} "
                    f"({pdf._shown(font, line)}) Tj ET")
            out.append(f"q {text} Q" if color else text)
            top += h
        return out

    def _heading_row(self, i: int, info: Any, xs: Any) -> bool:
        """Draw a heading row as fpdf2 would (its style's font and fill), or return False to leave it to fpdf2.

        Per cell fpdf2 draws the border filled with the headings' fill colour (in a local context when that is not
        the current one), then use_font_face sets the font and fill colour, multi_cell selects the font and draws
        each line in the text colour (in a local context when that differs from the fill), and the fill colour and
        font are set back.
        """
        pdf, row, style = self._fpdf, self.rows[i], self._heading_style
        if style is None or style.color is not None or not all(map(self._plain_cell, row.cells)):
            return False
        body = self._in_style()
        if body is None:
            return False
        self._xs = xs
        prev, was_set = (pdf.font_family, pdf.font_style, pdf.font_size_pt), pdf.current_font_is_set_on_page
        pdf.set_font(style.family or pdf.font_family,
                     style.emphasis.style if style.emphasis is not None else pdf.font_style,
                     style.size_pt or pdf.font_size_pt)
        font, y = pdf.current_font, pdf.y
        v_align = row.v_align or self._v_align
        laid: list[tuple[str, ...] | None] = []
        if (type(font) is MeasuredFont and font.fontkey != body.fontkey and not font.is_symbol
                and not pdf.underline and not pdf.strikethrough):
            laid = [self._layout(font, j, c.text, y + self._dy(v_align, info, j)) if c.text else ()
                    for j, c in enumerate(row.cells)]
        if not laid or None in laid:
            pdf.set_font(*prev)
            pdf.current_font_is_set_on_page = was_set
            return False
        fill, before, text_color = style.fill_color, pdf.fill_color, pdf.text_color
        changes_fill = fill is not None and fill != before
        during = fill if fill is not None else before
        color = "" if text_color == during else f" {text_color.serialize().lower()}"
        lines: list[str] = []
        for j, (cell, cell_lines) in enumerate(zip(row.cells, laid)):
            rect = self._rect(j, y, info.height)
            if fill is None:
                lines.append(f"{rect} S")
            elif changes_fill:
                lines.append(f"q {fill.serialize().lower()} {rect} B Q")
            else:
                lines.append(f"{rect} B")
            if not cell_lines:
                continue
            if changes_fill:
                lines.append(fill.serialize().lower())
            lines.append(f"BT /F{font.i} {pdf.font_size_pt:.2f} Tf ET")
            lines += self._text_lines(font, j, cell_lines, y + self._dy(v_align, info, j), color)
            if changes_fill:
                lines.append(before.serialize().lower())
        texts = any(laid)
        if texts:
            pdf._resource_catalog.add(PDFResourceType.FONT, font.i, pdf.page)
            pdf._lasth = self._line_height
        pdf.set_font(*prev)
        pdf.current_font_is_set_on_page = False if texts else was_set
        if lines:
            pdf._out("\n".join(lines))
        pdf.ln(info.height)
        return True

    def _render_table_row(self, i, row_layout_info, cell_x_positions, **kwargs) -> None:
        """Draw a row's plain cells as fpdf2 would, the others (and any other row) with fpdf2."""
        row = self.rows[i]
        if (kwargs or not self._plain or row.style is not None or len(row.cells) != self._cols_count
                or (i < self._num_heading_rows and not self._heading_row(i, row_layout_info, cell_x_positions))):
            super()._render_table_row(i, row_layout_info, cell_x_positions, **kwargs)
            return
        if i < self._num_heading_rows:
            return
        pdf, info, xs = self._fpdf, row_layout_info, cell_x_positions
        self._xs, y, h = xs, pdf.y, self._line_height
        v_align = row.v_align or self._v_align
        font = self._in_style()
        lines: list[str] = []
        for j, cell in enumerate(row.cells):
            laid = None
            if font is not None and self._plain_cell(cell):
                laid = self._layout(font, j, cell.text, y + self._dy(v_align, info, j)) if cell.text else ()
            if laid is None:  # fpdf2's own cell, after what is drawn so far
                if lines:
                    pdf._out("\n".join(lines))
                    lines = []
                self._render_table_cell(i, j, cell, row_height=h, cell_height_info=info, cell_x_positions=xs)
                pdf.set_y(y)
                font = self._in_style()
                continue
            lines.append(f"{self._rect(j, y, info.height)} S")  # all four borders, no fill
            if not laid:
                continue
            # use_font_face, then multi_cell's lines: the font once (a cell selects it again), a text object a line
            lines.append(f"BT /F{font.i} {pdf.font_size_pt:.2f} Tf ET")
            pdf._resource_catalog.add(PDFResourceType.FONT, font.i, pdf.page)
            pdf.current_font_is_set_on_page = True
            lines += self._text_lines(font, j, laid, y + self._dy(v_align, info, j), "")
            pdf._lasth = h
        if lines:
            pdf._out("\n".join(lines))
        pdf.ln(info.height)
