"""Exports an auditor can trust: CSV, XLSX, PDF and the audit pack (zip) with its verifier.

- CSV: UTF-8 with BOM, ``;`` as separator, CRLF — Dutch Excel opens it as columns.
  Header row = the record's field names (DESIGN §3.3) plus the entry's metadata.
- XLSX (openpyxl): one sheet per logbook, typed cells (dates, times, numbers,
  booleans), frozen header with the Dutch label as a comment, and an info sheet.
- PDF (fpdf2): A4 landscape with farm name, KIP number, period, page numbers,
  generation time and the rule each logbook answers; corrections listed after
  each logbook. DejaVu Sans (Debian ``fonts-dejavu-core``) gives full Unicode.
- Audit pack (zip): built from :data:`PACK_SECTIONS` — every logbook as CSV and
  PDF plus its hash chain, all logbooks as XLSX, the current score (JSON and
  text), the episodes from ``events`` — and ``manifest.json`` with the SHA-256
  of every file and each logbook's chain head; ``manifest.sha256`` seals the
  manifest. :func:`verify_pack` checks all of it.

Chain files (``chains/<kind>.jsonl``) hold every row of a logbook from its first
entry to its head: rows dated inside the period with their full record, the
others with only their content hash, so the chain verifies end to end without
carrying entries from outside the period.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Callable

from agent.config import Settings
from agent.evaluation import lightdays
from agent.logbooks import signatures
from agent.logbooks.chain import ChainCheck, StoredEntry, check_chain, content_hash
from agent.logbooks.entries import _entry_date, chain_head, list_entries
from agent.store.connection import Store
from rules.catalogue import load_catalogue
from rules.logbooks import LOGBOOKS, LogbookSpec

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts/dejavu")
META = ("id", "state", "recorded_at", "recorded_by", "supersedes", "reason", "hash")
STATE_NL = {"confirmed": "bevestigd", "draft": "concept", "withdrawn": "ingetrokken"}
PACK_FORMAT = "ikb-agent audit pack"


class ExportError(Exception):
    """The export could not be written; the message says why and what to do."""


# --------------------------------------------------------------------------- rows


def _widget(spec: LogbookSpec, name: str) -> str:
    """Return a field's widget hint (date, time, number, yesno, …)."""
    return (spec.model.model_fields[name].json_schema_extra or {}).get("widget", "text")


def render(value) -> str:
    """Return a field value as text for CSV and PDF cells (ja/nee, lists joined, signatures abridged)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, list):
        return ", ".join(render(v) for v in value)
    if isinstance(value, dict):
        if set(value) == {"name", "admission_number"}:
            return f"{value['name']} ({value['admission_number']})"
        return ", ".join(f"{k}: {render(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    if text.startswith("data:image/"):
        return f"[handtekening, afbeelding sha256 {hashlib.sha256(text.encode()).hexdigest()[:12]}]"
    return text


def csv_row(spec: LogbookSpec, row: StoredEntry) -> list[str]:
    """Return one CSV row: the record's fields, then the entry's metadata."""
    meta = {"id": str(row.id), "state": row.state, "recorded_at": row.recorded_at, "recorded_by": row.recorded_by,
            "supersedes": "" if row.supersedes is None else str(row.supersedes), "reason": row.reason or "",
            "hash": row.hash}
    return [render(row.entry.get(name)) for name in spec.columns()] + [meta[m] for m in META]


def csv_header(spec: LogbookSpec) -> list[str]:
    """Return the CSV header: field names, then metadata names."""
    return spec.columns() + list(META)


def entries_for(store: Store, kind: str, start: date, end: date) -> list[StoredEntry]:
    """Return the current entries (drafts included) of a logbook dated within [start, end]."""
    return list_entries(store, kind, start=start, end=end)


def to_csv(spec: LogbookSpec, rows: list[StoredEntry]) -> bytes:
    """Return a logbook as CSV bytes: UTF-8 with BOM, ';' separated, CRLF line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(csv_header(spec))
    for row in rows:
        writer.writerow(csv_row(spec, row))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# --------------------------------------------------------------------------- XLSX


def _typed(spec: LogbookSpec, name: str, value):
    """Return a value as an Excel cell value of the right type."""
    if value is None:
        return None
    widget = _widget(spec, name)
    if widget == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if widget == "time" and isinstance(value, str):
        return time.fromisoformat(value)
    if widget in ("number", "yesno") or isinstance(value, (int, float, bool)):
        return value
    return render(value)


def to_xlsx(sheets: list[tuple[LogbookSpec, list[StoredEntry]]], info: list[tuple[str, str]]) -> bytes:
    """Return an XLSX workbook: an info sheet, then one sheet per logbook with typed columns."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Info"
    for key, value in info:
        ws.append([key, value])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 90
    for spec, rows in sheets:
        ws = wb.create_sheet(spec.kind)
        header = csv_header(spec)
        ws.append(header)
        for col, name in enumerate(header, start=1):
            cell = ws.cell(row=1, column=col)
            cell.font = Font(bold=True)
            label = spec.label(name) if name in spec.model.model_fields else {
                "id": "Regelnummer", "state": "Status", "recorded_at": "Geregistreerd op",
                "recorded_by": "Geregistreerd door", "supersedes": "Corrigeert regel", "reason": "Reden correctie",
                "hash": "Ketenhash"}[name]
            cell.comment = Comment(label, "ikb-agent")
        for row in rows:
            values = [_typed(spec, n, row.entry.get(n)) for n in spec.columns()]
            values += [row.id, row.state, row.recorded_at, row.recorded_by, row.supersedes, row.reason, row.hash]
            ws.append(values)
        for col, name in enumerate(header, start=1):
            letter = get_column_letter(col)
            widget = _widget(spec, name) if name in spec.model.model_fields else "text"
            fmt = {"date": "yyyy-mm-dd", "time": "hh:mm"}.get(widget)
            if fmt:
                for cell in ws[letter][1:]:
                    cell.number_format = fmt
            ws.column_dimensions[letter].width = 12 if widget in ("date", "time", "number", "yesno") else 22
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- PDF


def font_paths(dirs=None) -> tuple[str, str]:
    """Return the DejaVu Sans regular and bold font files, or raise ExportError saying how to install them."""
    dirs = dirs or FONT_DIRS
    for d in dirs:
        regular, bold = Path(d) / "DejaVuSans.ttf", Path(d) / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return str(regular), str(bold)
    raise ExportError("PDF-export heeft het lettertype DejaVu Sans nodig (DejaVuSans.ttf niet gevonden in "
                      f"{', '.join(dirs)}); installeer het met: sudo apt-get install fonts-dejavu-core")


@dataclass(frozen=True)
class Heading:
    """What every PDF page shows: farm, KIP number, period, generation time, chain fingerprint."""

    farm: str
    kip: str
    start: date
    end: date
    generated: str
    fingerprint: str


def _rule_line(spec: LogbookSpec) -> str:
    """Return "A4.2.2: <voorschrift>" for each rule a logbook answers."""
    catalogue = load_catalogue()
    parts = []
    for rule_id in spec.rules:
        rule = catalogue.get(rule_id)
        parts.append(f"{rule_id}: {rule.title.splitlines()[0] if rule else ''}")
    return "\n".join(parts)


def _col_widths(pdf, header: list[str], body: list[list[str]], total: float) -> list[float]:
    """Return column widths in mm: each fits its longest word; the rest is shared by content length."""
    pad = 2.0
    mins, wants = [], []
    for i, head in enumerate(header):
        cells = [row[i] for row in body]
        pdf.set_font("DejaVu", "B", 6.5)
        widest = max([pdf.get_string_width(w) for w in head.split()] + [1.0])
        pdf.set_font("DejaVu", "", 6.5)
        widest = max([widest] + [pdf.get_string_width(w) for c in cells for w in c.split()])
        longest = max([pdf.get_string_width(c) for c in cells] + [0.0])
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


def to_pdf(sections: list[tuple[LogbookSpec, list[StoredEntry], list[str]]], heading: Heading,
           fonts: tuple[str, str] | None = None) -> bytes:
    """Return a printable A4 PDF: per logbook its rule, its entries and its corrections."""
    from fpdf import FPDF, FontFace

    regular, bold = fonts or font_paths()

    class _PDF(FPDF):
        def header(self):
            self.set_font("DejaVu", "B", 10)
            self.cell(0, 5, f"{heading.farm} · KIP {heading.kip}", new_x="LMARGIN", new_y="NEXT")
            self.set_font("DejaVu", "", 8)
            self.cell(0, 4, f"IKB Ei logboeken · periode {heading.start.isoformat()} t/m {heading.end.isoformat()}",
                      new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

        def footer(self):
            self.set_y(-12)
            self.set_font("DejaVu", "", 7)
            self.cell(0, 4, f"Pagina {self.page_no()}/{{nb}} · gegenereerd {heading.generated} · "
                            f"ketenvingerafdruk {heading.fingerprint[:16]} · ikb-agent", align="C")

    pdf = _PDF(orientation="L", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", regular)
    pdf.add_font("DejaVu", "B", bold)
    pdf.set_auto_page_break(True, margin=15)
    pdf.alias_nb_pages()
    pdf.set_title(f"IKB Ei logboeken {heading.farm}")
    pdf.set_creator("ikb-agent")
    for spec, rows, corrections in sections:
        pdf.add_page()
        pdf.set_font("DejaVu", "B", 13)
        pdf.cell(0, 7, f"{spec.title_nl} ({spec.title_en})", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8)
        pdf.multi_cell(0, 4, "Beantwoordt " + _rule_line(spec), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        if not rows:
            pdf.set_font("DejaVu", "", 10)
            pdf.cell(0, 6, "Geen registraties in deze periode.", new_x="LMARGIN", new_y="NEXT")
        else:
            header = ["#"] + [spec.label(n) for n in spec.columns()] + ["Geregistreerd"]
            body = [[str(r.id)] + [render(r.entry.get(n)) for n in spec.columns()]
                    + [f"{r.recorded_by} {r.recorded_at[:16].replace('T', ' ')}"
                       + (f" ({STATE_NL.get(r.state, r.state)})" if r.state != "confirmed" else "")
                       + (f" corrigeert #{r.supersedes}" if r.supersedes else "")] for r in rows]
            pdf.set_font("DejaVu", "", 6.5)
            with pdf.table(col_widths=_col_widths(pdf, header, body, pdf.epw), text_align="LEFT", line_height=3.2,
                           headings_style=FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
                           repeat_headings=1, padding=0.6) as table:
                for line in [header] + body:
                    cells = table.row()
                    for value in line:
                        cells.cell(value)
        if corrections:
            pdf.ln(3)
            pdf.set_font("DejaVu", "B", 9)
            pdf.cell(0, 5, "Correcties en intrekkingen", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", "", 7)
            for line in corrections:
                pdf.multi_cell(0, 3.5, line, align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def corrections_for(store: Store, kind: str, start: date, end: date) -> list[str]:
    """Return one line per correction, confirmation or withdrawal dated in the period: who, when, why, what."""
    history = list_entries(store, kind, history=True)
    by_id = {r.id: r for r in history}
    lines = []
    for r in history:
        day = _entry_date(kind, r.entry)
        if not r.supersedes or (day is not None and not start <= day <= end):
            continue
        old = by_id.get(r.supersedes)
        if r.state == "withdrawn":
            what = "trekt in"
        elif old is not None and old.state == "draft":
            what = "bevestigt concept"
        else:
            what = "corrigeert"
        changed = [f"{k}: {render(old.entry.get(k))} → {render(r.entry.get(k))}" for k in LOGBOOKS[kind].columns()
                   if old is not None and r.state != "withdrawn" and old.entry.get(k) != r.entry.get(k)]
        lines.append(f"#{r.id} {what} #{r.supersedes} — {r.recorded_by}, {r.recorded_at[:16].replace('T', ' ')}: "
                     f"{r.reason}" + (f" ({'; '.join(changed)})" if changed else ""))
    return lines


# --------------------------------------------------------------------------- chains


def chain_lines(store: Store, kind: str, start: date, end: date) -> tuple[bytes, str, int]:
    """Return a logbook's chain file (JSON lines), its head and its number of rows."""
    lines = []
    for r in list_entries(store, kind, history=True):
        day = _entry_date(kind, r.entry)
        item = {"id": r.id, "prev_hash": r.prev_hash, "hash": r.hash}
        if day is None or start <= day <= end:
            item["record"] = r.envelope()
        else:
            item["content_hash"] = content_hash(r.envelope())
        lines.append(json.dumps(item, ensure_ascii=False, sort_keys=True))
    head, n = chain_head(store, kind)
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"), head, n


def check_chain_file(data: bytes, name: str) -> ChainCheck:
    """Check a chain file of the pack; problems name the file, line and entry."""
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return ChainCheck(f"{name}: not UTF-8 text")
    items = []
    for number, line in enumerate(lines, start=1):
        try:
            item = json.loads(line)
        except ValueError:
            return ChainCheck(f"{name} line {number}: not valid JSON")
        items.append(item if isinstance(item, dict) else {})
    return check_chain(items, lambda n, item: f"{name} line {n} (entry #{item.get('id')})")


def fingerprint(heads: dict[str, str]) -> str:
    """Return one hash over every logbook's chain head: compare it with the printed copy or the device."""
    return hashlib.sha256("".join(f"{k}:{v}\n" for k, v in sorted(heads.items())).encode()).hexdigest()


# --------------------------------------------------------------------------- the audit pack


@dataclass
class PackContext:
    """What pack sections may use."""

    store: Store
    config: Settings
    kinds: list[str]
    start: date
    end: date
    now: datetime
    heading: Heading
    fonts: tuple[str, str]
    heads: dict


PackSection = Callable[[PackContext], dict[str, bytes]]


def _logbook_section(ctx: PackContext) -> dict[str, bytes]:
    """Every logbook as CSV, PDF and chain; all of them in one XLSX."""
    files: dict[str, bytes] = {}
    sheets = []
    for kind in ctx.kinds:
        spec = LOGBOOKS[kind]
        rows = entries_for(ctx.store, kind, ctx.start, ctx.end)
        sheets.append((spec, rows))
        files[f"logbooks/{kind}.csv"] = to_csv(spec, rows)
        files[f"logbooks/{kind}.pdf"] = to_pdf([(spec, rows, corrections_for(ctx.store, kind, ctx.start, ctx.end))],
                                               ctx.heading, ctx.fonts)
        files[f"chains/{kind}.jsonl"] = ctx.heads[kind]["data"]
    files["logbooks/logbooks.xlsx"] = to_xlsx(sheets, _info(ctx))
    return files


def _score_section(ctx: PackContext) -> dict[str, bytes]:
    """The current score (as `ikb-agent score` gives it now) in JSON and text."""
    from agent.cli.report import render_score
    from agent.evaluation.score import score_window

    result = score_window(ctx.store, ctx.config, at=ctx.now, since=ctx.now - timedelta(days=30))
    text = render_score(result, ctx.config.farm_view(), load_catalogue())
    return {"score/score.json": json.dumps(result.to_json(), ensure_ascii=False, indent=1).encode("utf-8"),
            "score/score.txt": text.encode("utf-8")}


def _events_section(ctx: PackContext) -> dict[str, bytes]:
    """The alarm, outage and generator episodes the sensor rules wrote to `events`, in the period."""
    tz = ctx.config.farm_view().tz
    lo = int(datetime.combine(ctx.start, time(0), tz).timestamp() * 1000)
    hi = int(datetime.combine(ctx.end + timedelta(days=1), time(0), tz).timestamp() * 1000)
    rows = ctx.store.query("SELECT id, kind, location, start, \"end\", detail FROM events"
                           " WHERE start >= ? AND start < ? ORDER BY start, id", [lo, hi])
    if not rows:
        return {}
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(["id", "kind", "location", "start", "end", "minutes", "detail"])

    def local(ms):
        return "" if ms is None else datetime.fromtimestamp(ms / 1000, tz).isoformat(timespec="seconds")

    for r in rows:
        minutes = "" if r["end"] is None else f"{(r['end'] - r['start']) / 60000:.1f}"
        writer.writerow([r["id"], r["kind"], r["location"] or "", local(r["start"]), local(r["end"]), minutes,
                         r["detail"]])
    return {"episodes/events.csv": ("\ufeff" + buf.getvalue()).encode("utf-8")}


# Sections of the audit pack, in order. Features add theirs (e.g. the light-schedule
# day table per house) as functions (ctx) -> {member name: bytes}.
PACK_SECTIONS: list[PackSection] = [_logbook_section, _score_section, lightdays.pack_section, _events_section,
                                    signatures.pack_section]


def _info(ctx: PackContext) -> list[tuple[str, str]]:
    """Return the pack's identification lines (info sheet and README)."""
    farm = ctx.config.farm
    lines = [("Bedrijf", farm.name), ("KIP-nummer", farm.kip_number),
             ("Periode", f"{ctx.start.isoformat()} t/m {ctx.end.isoformat()}"),
             ("Gegenereerd", ctx.heading.generated), ("Ketenvingerafdruk", ctx.heading.fingerprint)]
    for kind in ctx.kinds:
        spec = LOGBOOKS[kind]
        lines.append((f"{spec.title_nl} ({kind})", f"{', '.join(spec.rules)}; ketenhoofd {ctx.heads[kind]['head']}"
                                                   f" ({ctx.heads[kind]['entries']} regels)"))
    return lines


README = """IKB Ei auditpakket — {farm} (KIP {kip})
Periode: {start} t/m {end}; gegenereerd {generated} door ikb-agent.

logbooks/<logboek>.csv   elk logboek (UTF-8, scheidingsteken ;), huidige stand met correcties
logbooks/<logboek>.pdf   elk logboek afdrukbaar, met de regel die het beantwoordt en de correcties
logbooks/logbooks.xlsx   alle logboeken in één werkmap
chains/<logboek>.jsonl   de hashketen van elk logboek (elke regel verwijst naar de vorige)
score/score.json|txt     de actuele zelfbeoordeling
light/stal-<nr>.csv      lichtschema per stal en lichtdag: donkerperiode begin/eind/lengte, schemer,
                         max. lux in het donker, lichturen en het oordeel op G3.8.7–G3.8.11
episodes/events.csv      alarm-, stroomuitval- en aggregaatepisodes (als aanwezig)
signatures/<nr>.png      getekende handtekeningen van bezoekers (A4.2.2); de SHA-256 staat in hun logboekregel
manifest.json            SHA-256 van elk bestand en het ketenhoofd van elk logboek
manifest.sha256          verzegelt manifest.json

Controleer met: ikb-agent verify <dit-bestand>.zip
Ketenvingerafdruk: {fingerprint}
Vergelijk de vingerafdruk met die op de afgedrukte PDF of op het bedrijfssysteem.
"""


def build_pack(store: Store, config: Settings, kinds: list[str], start: date, end: date, now: datetime,
               fonts: tuple[str, str] | None = None) -> bytes:
    """Return the audit pack (zip bytes) for the logbooks and period."""
    fonts = fonts or font_paths()
    heads = {}
    for kind in kinds:
        data, head, n = chain_lines(store, kind, start, end)
        heads[kind] = {"data": data, "head": head, "entries": n}
    print_fp = fingerprint({k: v["head"] for k, v in heads.items()})
    generated = _generated(config, now)
    heading = Heading(config.farm.name, config.farm.kip_number, start, end, generated, print_fp)
    ctx = PackContext(store, config, kinds, start, end, now, heading, fonts, heads)
    files: dict[str, bytes] = {"README.txt": README.format(
        farm=config.farm.name, kip=config.farm.kip_number, start=start, end=end, generated=generated,
        fingerprint=print_fp).encode("utf-8")}
    for section in PACK_SECTIONS:
        files.update(section(ctx))
    manifest = {
        "format": PACK_FORMAT, "version": 1,
        "farm": {"name": config.farm.name, "kip_number": config.farm.kip_number},
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "generated_at": now.isoformat(), "fingerprint": print_fp,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
        "chains": {k: {"file": f"chains/{k}.jsonl", "head": v["head"], "entries": v["entries"]}
                   for k, v in heads.items()},
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    seal = f"{hashlib.sha256(manifest_bytes).hexdigest()}  manifest.json\n"
    seal += f"{hashlib.sha256(seal.encode()).hexdigest()}  -\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
        zf.writestr("manifest.json", manifest_bytes)
        zf.writestr("manifest.sha256", seal)
    return out.getvalue()


def _read(zf: zipfile.ZipFile, name: str) -> bytes:
    """Read one member; a damaged member raises ValueError naming it."""
    try:
        return zf.read(name)
    except KeyError:
        raise ValueError(f"{name}: missing from the pack") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ValueError(f"{name}: damaged ({exc})") from None


def _verify(zf: zipfile.ZipFile) -> str:
    """Check a pack; return the summary or raise ValueError naming the first mismatch."""
    seal = _read(zf, "manifest.sha256").decode("utf-8", "replace").splitlines(keepends=True)
    if len(seal) != 2 or hashlib.sha256(seal[0].encode()).hexdigest() != seal[1].split()[0]:
        raise ValueError("manifest.sha256: changed (its check line does not match)")
    manifest_bytes = _read(zf, "manifest.json")
    if hashlib.sha256(manifest_bytes).hexdigest() != seal[0].split()[0]:
        raise ValueError("manifest.json: SHA-256 does not match manifest.sha256")
    try:
        manifest = json.loads(manifest_bytes)
        files, chains = manifest["files"], manifest["chains"]
    except (ValueError, KeyError, TypeError):
        raise ValueError("manifest.json: not a valid manifest") from None
    if manifest.get("format") != PACK_FORMAT:
        raise ValueError("manifest.json: not an ikb-agent audit pack")
    members = [i.filename for i in zf.infolist()]
    for name in members:
        if name not in files and name not in ("manifest.json", "manifest.sha256"):
            raise ValueError(f"{name}: not listed in the manifest")
    data = {}
    for name, digest in files.items():
        data[name] = _read(zf, name)
        if hashlib.sha256(data[name]).hexdigest() != digest:
            raise ValueError(f"{name}: SHA-256 does not match the manifest")
    heads, total = {}, 0
    for kind, info in sorted(chains.items()):
        name = info["file"]
        checked = check_chain_file(data.get(name, b""), name)
        if checked.problem:
            raise ValueError(checked.problem)
        if (checked.head, checked.entries) != (info["head"], info["entries"]):
            raise ValueError(f"{name}: chain head or length does not match the manifest")
        heads[kind] = checked.head
        total += checked.entries
        _check_csv(kind, data.get(f"logbooks/{kind}.csv"), checked.records)
    if fingerprint(heads) != manifest.get("fingerprint"):
        raise ValueError("manifest.json: fingerprint does not match the chain heads")
    return (f"{len(files) + 2} bestanden, {len(chains)} logboeken ({total} ketenregels) kloppen; "
            f"ketenvingerafdruk {manifest['fingerprint'][:16]}")


def _check_csv(kind: str, data: bytes | None, records: dict[str, dict]) -> None:
    """Check that every CSV row of a logbook is its chain record, rendered the same way."""
    if data is None or kind not in LOGBOOKS:
        return
    spec = LOGBOOKS[kind]
    name = f"logbooks/{kind}.csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    if not rows or rows[0] != csv_header(spec):
        raise ValueError(f"{name}: header does not match the logbook's fields")
    for number, row in enumerate(rows[1:], start=2):
        record = records.get(row[-1]) if row else None
        if record is None:
            raise ValueError(f"{name} row {number}: not in the chain")
        entry = StoredEntry(record["id"], kind, record["entry"], record["recorded_at"], record["recorded_by"],
                            record["supersedes"], record["reason"], record["state"], "", row[-1],
                            record["keep_until"])
        if csv_row(spec, entry) != row:
            raise ValueError(f"{name} row {number} (entry #{record['id']}): does not match the chain")


def verify_pack(path: Path) -> tuple[bool, str]:
    """Return (intact, summary or the first file/entry that does not match) for an audit pack."""
    try:
        with zipfile.ZipFile(path) as zf:
            return True, _verify(zf)
    except zipfile.BadZipFile as exc:
        return False, f"{path.name}: not a readable zip file ({exc})"
    except ValueError as exc:
        return False, str(exc)


# --------------------------------------------------------------------------- entry point


def _generated(config: Settings, now: datetime) -> str:
    """Return the farm-local generation time printed on exports."""
    return now.astimezone(config.farm_view().tz).strftime("%Y-%m-%d %H:%M %Z")


def export_bytes(store: Store, config: Settings, kind: str, fmt: str, start: date, end: date,
                 now: datetime | None = None) -> tuple[str, bytes]:
    """Return (file name, bytes) of an export: one logbook or all, as csv, xlsx, pdf or zip (audit pack).

    CSV of several logbooks comes as a zip of CSV files. The web page's download
    routes call this; the CLI writes what it returns.
    """
    from agent.clock import utcnow

    now = now or utcnow()
    if kind != "all" and kind not in LOGBOOKS:
        raise ExportError(f"--kind: unknown logbook {kind!r}; choose from {', '.join(LOGBOOKS)} or all")
    kinds = list(LOGBOOKS) if kind == "all" else [kind]
    stem = f"ikb-{config.farm.kip_number}-{kind}-{start.isoformat()}-{end.isoformat()}"
    if fmt == "csv" and len(kinds) == 1:
        return f"{stem}.csv", to_csv(LOGBOOKS[kind], entries_for(store, kind, start, end))
    if fmt == "csv":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for k in kinds:
                zf.writestr(f"{k}.csv", to_csv(LOGBOOKS[k], entries_for(store, k, start, end)))
        return f"{stem}-csv.zip", out.getvalue()
    if fmt == "xlsx":
        info = [("Bedrijf", config.farm.name), ("KIP-nummer", config.farm.kip_number),
                ("Periode", f"{start.isoformat()} t/m {end.isoformat()}"), ("Gegenereerd", _generated(config, now))]
        info += [(LOGBOOKS[k].title_nl, f"{', '.join(LOGBOOKS[k].rules)}; ketenhoofd {chain_head(store, k)[0]}")
                 for k in kinds]
        return f"{stem}.xlsx", to_xlsx([(LOGBOOKS[k], entries_for(store, k, start, end)) for k in kinds], info)
    if fmt == "pdf":
        heading = Heading(config.farm.name, config.farm.kip_number, start, end, _generated(config, now),
                          fingerprint({k: chain_head(store, k)[0] for k in kinds}))
        sections = [(LOGBOOKS[k], entries_for(store, k, start, end), corrections_for(store, k, start, end))
                    for k in kinds]
        return f"{stem}.pdf", to_pdf(sections, heading)
    if fmt == "zip":
        return f"{stem}-auditpakket.zip", build_pack(store, config, kinds, start, end, now)
    raise ExportError(f"--format: unknown format {fmt!r}; choose from csv, xlsx, pdf, zip")


def export(store: Store, config: Settings, *, kind: str, start: date, end: date, fmt: str, out: Path,
           now: datetime) -> Path:
    """Write an export to ``out`` and return it; CSV of all logbooks goes to a directory of files."""
    try:
        if fmt == "csv" and kind == "all":
            out.mkdir(parents=True, exist_ok=True)
            for k in LOGBOOKS:
                _write(out / f"{k}.csv", to_csv(LOGBOOKS[k], entries_for(store, k, start, end)))
            return out
        return _write(out, export_bytes(store, config, kind, fmt, start, end, now)[1])
    except OSError as exc:
        raise ExportError(f"{out}: cannot write ({exc.strerror})") from None


def _write(path: Path, data: bytes) -> Path:
    """Write bytes to a file atomically (temp file, fsync, rename) and return the path."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path
