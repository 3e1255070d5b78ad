"""PDF (fpdf2): A4 landscape with farm name, KIP number, period, page numbers, generation time and the rule
each logbook answers; corrections listed after each logbook. DejaVu Sans (Debian ``fonts-dejavu-core``) gives
full Unicode."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from agent.exports.columns import STATE_NL, columns, moment_text, text_rows
from agent.exports.common import ExportError, zone_info
from agent.i18n import translations
from agent.logbooks import StoredEntry, signatures
from rules.catalogue import load_catalogue
from rules.logbooks import LogbookSpec

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts/dejavu")


# --------------------------------------------------------------------------- PDF


def font_paths(dirs=None) -> tuple[str, str]:
    """Return the DejaVu Sans regular and bold font files, or raise ExportError saying how to install them."""
    dirs = dirs or FONT_DIRS
    for d in dirs:
        regular, bold = Path(d) / "DejaVuSans.ttf", Path(d) / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return str(regular), str(bold)
    raise ExportError("", "font", {"dirs": list(dirs)})


def renderer(fonts: tuple[str, str] | None = None) -> dict[str, str]:
    """Return what a PDF's bytes depend on besides its content: the fpdf2 version and the fonts' SHA-256."""
    import hashlib

    import fpdf

    regular, bold = fonts or font_paths()
    digest = hashlib.sha256(Path(regular).read_bytes() + Path(bold).read_bytes()).hexdigest()
    return {"fpdf2": fpdf.__version__, "fonts_sha256": digest}


@dataclass(frozen=True)
class Heading:
    """What every PDF page shows: farm, KIP number, period, generation time, chain fingerprint."""

    farm: str
    kip: str
    start: date
    end: date
    generated: str
    fingerprint: str
    zone: str  # the farm's time zone: every time in the document is local to it


def _rule_line(spec: LogbookSpec) -> str:
    """Return "A4.2.2: <voorschrift>" for each rule a logbook answers."""
    catalogue = load_catalogue()
    parts = []
    for rule_id in spec.rules:
        rule = catalogue.get(rule_id)
        parts.append(f"{rule_id}: {rule.title.splitlines()[0] if rule else ''}")
    return "\n".join(parts)


SIGNATURE_MM = 24.0  # the width a drawn signature is printed at


def _col_widths(pdf, header: list[str], body: list[list[str]], total: float,
                images: frozenset[int] = frozenset()) -> list[float]:
    """Return column widths in mm: each fits its longest word; the rest is shared by content length.

    Columns in ``images`` hold drawn signatures: at least :data:`SIGNATURE_MM` wide.
    """
    pad = 2.0
    mins, wants = [], []
    bold, regular = _measure(pdf), _measure(pdf)
    for i, head in enumerate(header):
        if i in images:
            mins.append(SIGNATURE_MM)
            wants.append(SIGNATURE_MM)
            continue
        cells = {row[i] for row in body}  # a width is a function of the text and font: each distinct one once
        # The font changes are written into the page (Tf): the same ones as ever, or the bytes would differ.
        pdf.set_font("DejaVu", "B", 6.5)
        widest = max([bold(w) for w in head.split()] + [1.0])
        pdf.set_font("DejaVu", "", 6.5)
        widest = max([widest] + [regular(w) for w in {w for c in cells for w in c.split()}])
        longest = max([regular(c) for c in cells] + [0.0])
        mins.append(widest + pad)
        wants.append(max(widest, min(longest, 60.0)) + pad)
    if sum(mins) >= total:
        return [m * total / sum(mins) for m in mins]
    extra, room = total - sum(mins), sum(w - m for w, m in zip(wants, mins))
    if room <= extra:
        share = [w - m + (extra - room) / len(mins) for w, m in zip(wants, mins)]
    else:
        share = [(w - m) * extra / room for w, m in zip(wants, mins)]
    return [m + s for m, s in zip(mins, share)]


def _measure(pdf):
    """Return a function giving a text's width in the current font, each text measured once (one per font)."""
    widths: dict[str, float] = {}

    def width(text: str) -> float:
        if text not in widths:
            widths[text] = pdf.get_string_width(text)
        return widths[text]

    return width


def _table(spec: LogbookSpec, rows: list[StoredEntry], heading: Heading,
           images: dict[int, bytes]) -> tuple[list[str], list[list[str | bytes]]]:
    """Return a logbook's PDF table: Nr., the fields, then one "Geregistreerd" cell; drawn signatures as PNG bytes.

    The metadata the CSV spreads over seven columns is one cell here (who, when, state, what it corrects, id);
    the chain hash is left to the CSV and the chain file.
    """
    tz = zone_info(heading.zone)
    header, text = text_rows(spec, rows, tz, heading.zone)
    cols = columns(spec, heading.zone)
    keep = [i for i, c in enumerate(cols) if c.field is not None or c.key == "nr"]
    body: list[list[str | bytes]] = []
    for row, line in zip(rows, text):
        cells: list[str | bytes] = []
        for i in keep:
            ref = signatures.parse_reference(row.entry.get(cols[i].key)) if cols[i].widget == "signature" else None
            if ref is not None:
                png = images.get(ref[0])
                cells.append(png if png is not None else "getekend (afbeelding ontbreekt in de export)")
            else:
                cells.append(line[i])
        cells.append(f"{row.recorded_by} {moment_text(row.recorded_at, tz)}"
                     + (f" ({STATE_NL.get(row.state, row.state)})" if row.state != "confirmed" else "")
                     + (f" corrigeert id {row.supersedes}" if row.supersedes else "") + f" · id {row.id}")
        body.append(cells)
    return [header[i] for i in keep] + ["Geregistreerd"], body


def to_pdf(sections: list[tuple[LogbookSpec, list[StoredEntry], list[str]]], heading: Heading,
           fonts: tuple[str, str] | None = None, created: datetime | None = None,
           images: dict[int, bytes] | None = None) -> bytes:
    """Return a printable A4 PDF: per logbook its rule, its entries (signatures drawn) and its corrections.

    With ``created`` the PDF is a function of its inputs (its creation date and file id come from it), so the
    verifier can render it again from the pack's chain and compare the bytes; ``images`` holds the drawn
    signatures by file id (``signatures/<id>.png`` of the pack).
    """
    # fpdf2 and fontTools (about 30 MB resident) load with the first PDF, not with the web page.
    from fpdf import FontFace

    from agent.exports import typeset

    regular, bold = fonts or font_paths()

    class _PDF(typeset.Document):
        def header(self):
            self.set_font("DejaVu", "B", 10)
            self.cell(0, 5, f"{heading.farm} · KIP {heading.kip}", new_x="LMARGIN", new_y="NEXT")
            self.set_font("DejaVu", "", 8)
            self.cell(0, 4, f"IKB Ei logboeken · periode {heading.start.isoformat()} t/m {heading.end.isoformat()} · "
                            f"alle tijden in lokale tijd ({heading.zone})", new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

        def footer(self):
            self.set_y(-12)
            self.set_font("DejaVu", "", 7)
            self.cell(0, 4, f"Pagina {self.page_no()}/{{nb}} · gegenereerd {heading.generated} · "
                            f"ketenvingerafdruk {heading.fingerprint[:16]} · ikb-agent", align="C")

    pdf = _PDF(orientation="L", unit="mm", format="A4")
    typeset.add_fonts(pdf, "DejaVu", {"": regular, "B": bold})
    pdf.set_auto_page_break(True, margin=15)
    pdf.alias_nb_pages()
    pdf.set_title(f"IKB Ei logboeken {heading.farm}")
    pdf.set_creator("ikb-agent")
    pdf.set_producer("ikb-agent")
    if created is not None:
        pdf.set_creation_date(created)
    images = images or {}
    for spec, rows, corrections in sections:
        pdf.add_page()
        pdf.set_font("DejaVu", "B", 13)
        pdf.cell(0, 7, f"{spec.title} ({translations('en').gettext(spec.title)})", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8)
        pdf.multi_cell(0, 4, "Beantwoordt " + _rule_line(spec), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        if not rows:
            pdf.set_font("DejaVu", "", 10)
            pdf.cell(0, 6, "Geen registraties in deze periode.", new_x="LMARGIN", new_y="NEXT")
        else:
            header, body = _table(spec, rows, heading, images)
            drawn = frozenset(i for line in body for i, v in enumerate(line) if isinstance(v, bytes))
            texts = [[v if isinstance(v, str) else "" for v in line] for line in body]
            pdf.set_font("DejaVu", "", 6.5)
            with pdf.table(col_widths=_col_widths(pdf, header, texts, pdf.epw, drawn), text_align="LEFT",
                           line_height=3.2, headings_style=FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
                           repeat_headings=1, padding=0.6) as table:
                for line in [header] + body:
                    cells = table.row()
                    for value in line:
                        if isinstance(value, bytes):
                            cells.cell(img=io.BytesIO(value), img_fill_width=True)
                        else:
                            cells.cell(value)
        if corrections:
            pdf.ln(3)
            pdf.set_font("DejaVu", "B", 9)
            pdf.cell(0, 5, "Correcties en intrekkingen", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", "", 7)
            for line in corrections:
                pdf.multi_cell(0, 3.5, line, align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
