"""The PDF shortcuts of issue 15 change nothing an auditor's verify compares: every logbook PDF is, byte for
byte, what plain fpdf2 makes of the same content (fonts parsed per document, every cell measured in full).

Old packs stay verifiable only while this holds; an fpdf2 release that breaks a shortcut fails here."""

from __future__ import annotations

import base64
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from fpdf import FPDF, FontFace

from agent.exports import build_pack, verify_pack
from agent.exports import typeset as typeset_mod
from agent.exports.common import period_view, signature_images
from agent.exports.pdf import Heading, to_pdf
from agent.logbooks.entries import add_entry, correct_entry, list_entries
from agent.logbooks.signatures import store_signature
from rules.logbooks import LOGBOOKS

from .test_logbook import GOOD
from .test_web_kiosk import png_data_url

NOW = datetime(2026, 3, 20, 11, tzinfo=UTC)
START, END = date(2025, 9, 1), date(2026, 3, 31)
HEADING = Heading("Pluimveebedrijf Zoë & Søn", "123456", START, END, "2026-03-20 12:00 CET", "ab" * 32,
                  "Europe/Amsterdam")


def plain(pdf, family, files):
    """Add the fonts the way fpdf2 does on its own: parsed for this document."""
    for style, path in files.items():
        pdf.add_font(family, style, path)


@pytest.fixture
def farm(store, config):
    """Every logbook; long tables that run over pages with repeated values; corrections; a drawn signature."""
    at = lambda day: datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=19)
    for kind, entry in GOOD.items():
        add_entry(store, config, kind, entry, by="jan", now=NOW)
    day = START
    while day <= date(2026, 1, 20):
        for house in ("1", "2"):
            add_entry(store, config, "flock_day", {**GOOD["flock_day"], "date": day.isoformat(), "house": house,
                                                   "mortality": day.day % 4, "eggs": 18000 + day.day},
                      by="Marie-Louise van den Berg-Ødegård", now=at(day))
        day += timedelta(days=1)
    # "№" is beyond the smallest cut of the font, within the Latin one: that cut is compared too.
    remark = "lokaas aangevuld; sporen bij voersilo, " * 6 + "ratten — € 12,50 — “gecontroleerd” in kist № 5"
    entry = add_entry(store, config, "pest_control", {**GOOD["pest_control"], "bait_box": "5", "measures": remark},
                      by="jan", now=NOW)
    correct_entry(store, config, entry.entry.id, {"bait_box": "6"}, by="marie", now=NOW, reason="verkeerde kist")
    twice = add_entry(store, config, "checks", {**GOOD["checks"], "date": "2026-03-10"}, by="jan", now=NOW)
    correct_entry(store, config, twice.entry.id, None, by="jan", now=NOW, reason="dubbel ingevoerd", withdraw=True)
    ref = store_signature(store, base64.b64decode(png_data_url().split(",", 1)[1]), by="tablet", now=NOW)
    add_entry(store, config, "visitors", {**GOOD["visitors"], "name": "Getekend", "signature": ref}, by="tablet",
              now=NOW)
    # Beyond Latin: a document whose fonts must be subset from the whole font file.
    add_entry(store, config, "visitors", {**GOOD["visitors"], "name": "Ελένη Παπαδοπούλου", "organisation": "Ветеринар ✓",
                                          "date": "2026-03-17"}, by="tablet", now=NOW)
    return store


def render_all(store, kinds) -> dict[str, bytes]:
    """Render each logbook's PDF, and one PDF of all of them together."""
    sections = []
    for kind in kinds:
        rows, corrections = period_view(kind, list_entries(store, kind, history=True), START, END, HEADING.zone)
        sections.append((LOGBOOKS[kind], rows, corrections))
    images = signature_images(store, sections[kinds.index("visitors")][1])
    out = {kind: to_pdf([section], HEADING, created=NOW, images=images) for kind, section in zip(kinds, sections)}
    out["all"] = to_pdf(sections, HEADING, created=NOW, images=images)
    return out


def test_every_logbook_pdf_is_byte_for_byte_what_plain_fpdf2_makes(store, config, farm, monkeypatch):
    kinds = list(LOGBOOKS)
    fast = render_all(store, kinds)
    monkeypatch.setattr(typeset_mod, "Document", FPDF)
    monkeypatch.setattr(typeset_mod, "add_fonts", plain)
    slow = render_all(store, kinds)
    assert fast.keys() == slow.keys()
    for name in fast:
        assert fast[name] == slow[name], name
    assert slow["flock_day"].count(b"/Type /Page\n") > 3  # the table ran over pages (headings repeated)
    assert b"/Subtype /Image" in slow["visitors"]


def test_a_pack_built_with_the_shortcuts_verifies_against_plain_fpdf2(store, config, farm, tmp_path, monkeypatch):
    data = build_pack(store, config, list(LOGBOOKS), START, END, NOW)
    path = tmp_path / "pack.zip"
    path.write_bytes(data)
    with zipfile.ZipFile(path) as zf:
        assert len([n for n in zf.namelist() if n.endswith(".pdf")]) == len(LOGBOOKS)
    monkeypatch.setattr(typeset_mod, "Document", FPDF)
    monkeypatch.setattr(typeset_mod, "add_fonts", plain)
    ok, summary = verify_pack(path)
    assert ok, summary


def test_the_pack_reports_progress_after_each_logbook_document(store, config, farm):
    steps = []
    build_pack(store, config, list(LOGBOOKS), START, END, NOW, progress=lambda *step: steps.append(step))
    done = [d for d, _, _ in steps]
    assert done == list(range(1, len(steps) + 1)) and steps[-1][0] == steps[-1][1]  # one at a time, to the end
    titles = [what for _, _, what in steps]
    assert titles[:len(LOGBOOKS)] == [spec.title for spec in LOGBOOKS.values()]  # each logbook's PDF as it is made


def _table_pdf(document, fonts, rows, **table) -> bytes:
    """Render a table the way to_pdf does, with document/fonts either the shortcuts or plain fpdf2."""
    from fpdf import FontFace

    from agent.exports.pdf import font_paths

    regular, bold = font_paths()
    pdf = document(orientation="L", unit="mm", format="A4")
    fonts(pdf, "DejaVu", {"": regular, "B": bold})
    pdf.set_auto_page_break(True, margin=15)
    pdf.alias_nb_pages()
    pdf.set_creation_date(NOW)
    pdf.add_page()
    pdf.set_font("DejaVu", "", 6.5)
    pdf.cell(0, 5, "Pagina {nb}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 6.5)
    table = {"headings_style": FontFace(emphasis="BOLD", fill_color=(225, 225, 225)), **table}
    with pdf.table(text_align="LEFT", line_height=3.2, repeat_headings=1, padding=0.6, **table) as t:
        for line in rows:
            cells = t.row()
            for value in line:
                if isinstance(value, dict):
                    cells.cell(**value)
                else:
                    cells.cell(value)
    pdf.multi_cell(0, 4, "na de tabel", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


TABLE_ROWS = [["Nr.", "Datum van de controle", "Opmerking", ""]] + [
    [str(n), f"2026-01-{n % 28 + 1:02d}",
     # one line; wrapped at spaces; a word longer than its column; parentheses and backslashes (escaped in Tj);
     # a line break and a soft hyphen (fpdf2's own); Greek; empty
     ["kort", "lokaas aangevuld; sporen bij voersilo, ratten — € 12,50 — “gecontroleerd” " * 2,
      "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "(haakjes) en \\schuine\\ strepen", "twee\nregels", "af\u00adbreken", "Ελένη Παπαδοπούλου", ""][n % 8],
     f"Marie-Louise van den Berg-Ødegård 2026-01-{n % 28 + 1:02d} 19:00 · id {n}"]
    for n in range(1, 160)]


@pytest.mark.parametrize("table", [
    {"col_widths": (8, 20, 60, 30)},
    {"col_widths": (8, 20, 20, 30), "v_align": "TOP"},  # narrow: most cells wrap
    {"col_widths": (8, 20, 60, 30), "v_align": "BOTTOM", "min_row_height": 6},  # rows taller than their text
    {"col_widths": (8, 20, 60, 30), "headings_style": FontFace(emphasis="BOLD", size_pt=8)},  # headings unfilled
    {"col_widths": (8, 20, 60, 30), "headings_style": FontFace(emphasis="BOLD", color=(0, 0, 200))},  # fpdf2's
    {"col_widths": (8, 20, 60, 30), "borders_layout": "INTERNAL"},  # not plain: fpdf2 draws every cell
], ids=["middle", "wrapped", "bottom", "headings-unfilled", "headings-coloured", "internal-borders"])
def test_a_table_drawn_with_the_shortcuts_is_byte_for_byte_what_plain_fpdf2_draws(table, monkeypatch):
    from fpdf.table import Table

    drawn_by_fpdf2 = []
    original = Table._render_table_cell
    monkeypatch.setattr(Table, "_render_table_cell",
                        lambda self, *a, **k: drawn_by_fpdf2.append(1) or original(self, *a, **k))
    rows = TABLE_ROWS + [["160", {"text": "eigen stijl", "style": FontFace(emphasis="BOLD", color=(200, 0, 0))}, "x", "y"]]
    rows[40][2] = {"text": "rechts", "align": "RIGHT"}  # a cell of its own in an otherwise plain row
    fast = _table_pdf(typeset_mod.Document, typeset_mod.add_fonts, rows, **table)
    shortcut_cells = len(drawn_by_fpdf2)
    slow = _table_pdf(FPDF, plain, rows, **table)
    assert fast == slow
    assert slow.count(b"/Type /Page\n") > 2  # the table ran over pages: headings repeated
    if "borders_layout" not in table:  # the shortcut drew most cells itself (else this test would test nothing)
        assert shortcut_cells < (len(drawn_by_fpdf2) - shortcut_cells) / 4


def test_a_table_of_headings_only_then_text_is_byte_for_byte_what_plain_fpdf2_draws():
    rows = [["Nr.", "Datum van de controle", "", "Geregistreerd"]]
    fast = _table_pdf(typeset_mod.Document, typeset_mod.add_fonts, rows, col_widths=(8, 20, 60, 30))
    assert fast == _table_pdf(FPDF, plain, rows, col_widths=(8, 20, 60, 30))
