"""The audit pack (zip): built from :data:`PACK_SECTIONS` — every logbook as CSV and PDF plus its hash chain,
all logbooks as XLSX, the current score (JSON, text, deviations with their repairs), the episodes from ``events``
— then ``index.html`` (the auditor's page, which also checks the pack offline: :mod:`agent.exports.page`) and
``manifest.json`` with the SHA-256 of every file and each logbook's chain head; ``manifest.sha256`` seals the
manifest and ``manifest.sig`` signs it with the farm key (:mod:`agent.signing`).
:func:`agent.exports.verify.verify_pack` checks all of it. :func:`export` is the entry point for one format.

Deterministic: the same entries, period, farm key and generation time give the same bytes (the PDFs' creation
date, the workbook's dates and the zip members' times are the generation time; nothing else reads the clock)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable

from agent.config import Settings
from agent.evaluation import lightdays, roomdays
from agent.exports.chains import Snapshot, chain_file, fingerprint, snapshot
from agent.exports.common import ExportError, _generated, period_view, signature_images
from agent.exports.csvfile import to_csv
from agent.exports.deviations import deviations, deviations_csv
from agent.exports.events import events_section
from agent.exports.page import index_page
from agent.exports.pdf import Heading, font_paths, renderer, to_pdf
from agent.exports.proof import SIGNATURE_MEMBER
from agent.exports.xlsx import to_xlsx
from agent.logbooks import GENESIS, StoredEntry, signatures
from agent.signing import FarmKey, FarmKeyError, farm_key
from agent.store import Store
from rules.catalogue import load_catalogue
from rules.logbooks import LOGBOOKS

PACK_FORMAT = "ikb-agent audit pack"
# 2: the manifest is signed with the farm key (agent.signing).
# 3: every chain line carries its record (completeness can be proven); the logbook files are rendered from the
#    chain's rows, the PDF with a fixed creation date, and the manifest says what the verifier needs to do it again.
# 4: Dutch columns and values, local times in the farm's zone (the manifest names it), Nr. per logbook, drawn
#    signatures in the PDF, index.html.
PACK_VERSION = 4

# (done, total, what) after each step of a pack build: the web page's progress bar.
Progress = Callable[[int, int, str], None]


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
    snapshots: dict[str, Snapshot]
    views: dict[str, tuple[list[StoredEntry], list[str]]] = field(default_factory=dict)  # period rows, corrections
    score: dict = field(default_factory=dict)  # Score.to_json() of the pack's score section
    progress: Progress | None = None
    done: int = 0
    total: int = 1

    def step(self, what: str) -> None:
        """Count one step of the build and report it."""
        self.done += 1
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total, what)


PackSection = Callable[[PackContext], dict[str, bytes]]


def _logbook_section(ctx: PackContext) -> dict[str, bytes]:
    """Every logbook as CSV, PDF and chain; all of them in one XLSX — rendered from the chain's own rows."""
    rows = [r for k in ctx.kinds if k == "visitors" for r in ctx.views[k][0]]
    files = logbook_files(ctx.kinds, {k: s.history for k, s in ctx.snapshots.items()}, ctx.start, ctx.end,
                          ctx.heading, ctx.fonts, ctx.now, signature_images(ctx.store, rows), ctx.step)
    for kind in ctx.kinds:
        files[f"chains/{kind}.jsonl"] = chain_file(ctx.snapshots[kind])
    return files


def logbook_files(kinds: list[str], histories: dict, start: date, end: date, heading: Heading,
                  fonts: tuple[str, str] | None, created: datetime, images: dict[int, bytes],
                  step: Callable[[str], None] | None = None) -> dict[str, bytes]:
    """Return the CSV, PDF and XLSX members of a pack from each logbook's history (the verifier calls it too).

    ``images`` are the drawn signatures by file id (the PDF draws them); ``step(what)`` is told each logbook.
    """
    files: dict[str, bytes] = {}
    sheets = []
    for kind in kinds:
        spec = LOGBOOKS[kind]
        rows, corrections = period_view(kind, histories[kind], start, end, heading.zone)
        sheets.append((spec, rows))
        files[f"logbooks/{kind}.csv"] = to_csv(spec, rows, heading.zone)
        files[f"logbooks/{kind}.pdf"] = to_pdf([(spec, rows, corrections)], heading, fonts, created,
                                               images if "signature" in spec.model.model_fields else None)
        if step is not None:
            step(spec.title)
    heads = {k: (histories[k][-1].hash if histories[k] else GENESIS, len(histories[k])) for k in kinds}
    files["logbooks/logbooks.xlsx"] = to_xlsx(sheets, info_lines(heading, kinds, heads), heading.zone, created)
    return files


def _score_section(ctx: PackContext) -> dict[str, bytes]:
    """The current score (as `ikb-agent score` gives it now) in JSON and text, and its deviations with repairs."""
    from agent.cli import render_score
    from agent.evaluation import score_window

    catalogue = load_catalogue()
    result = score_window(ctx.store, ctx.config, at=ctx.now, since=ctx.now - timedelta(days=30))
    ctx.score = result.to_json()
    text = render_score(result, ctx.config.farm_view(), catalogue)
    return {"score/score.json": json.dumps(ctx.score, ensure_ascii=False, indent=1).encode("utf-8"),
            "score/score.txt": text.encode("utf-8"),
            "score/deviations.csv": deviations_csv(deviations(ctx.score, catalogue, ctx.config), ctx.heading.zone)}


def _repair_files_section(ctx: PackContext) -> dict[str, bytes]:
    """The photos and documents attached to the repairs in the period (``repairs/<file id>.<ext>``)."""
    from agent.store import get_file
    from rules.logbooks import FILE_REFERENCE

    if "corrective_actions" not in ctx.kinds:
        return {}
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}
    files = {}
    for row in ctx.views["corrective_actions"][0]:
        for ref in row.entry.get("attachments") or ():
            match = FILE_REFERENCE.match(ref) if isinstance(ref, str) else None
            stored = get_file(ctx.store, int(match.group(1))) if match else None
            if stored is not None and hashlib.sha256(stored["data"]).hexdigest() == match.group(2):
                files[f"repairs/{match.group(1)}.{ext.get(stored['content_type'], 'bin')}"] = stored["data"]
    return files


# Sections of the audit pack, in order. Features add theirs (e.g. the light-schedule
# day table per house) as functions (ctx) -> {member name: bytes}.
PACK_SECTIONS: list[PackSection] = [_logbook_section, _score_section, lightdays.pack_section, roomdays.pack_section,
                                    events_section, signatures.pack_section, _repair_files_section]
STEP_NAMES = {"_logbook_section": "werkmap (XLSX)", "_score_section": "beoordeling", "events_section": "episodes"}


def info_lines(heading: Heading, kinds: list[str], heads: dict[str, tuple[str, int]]) -> list[tuple[str, str]]:
    """Return the pack's identification lines (the XLSX info sheet): farm, period, zone, fingerprint, heads."""
    lines = [("Bedrijf", heading.farm), ("KIP-nummer", heading.kip),
             ("Periode", f"{heading.start.isoformat()} t/m {heading.end.isoformat()}"),
             ("Gegenereerd", heading.generated), ("Tijden", f"lokale tijd ({heading.zone})"),
             ("Ketenvingerafdruk", heading.fingerprint)]
    for kind in kinds:
        spec = LOGBOOKS[kind]
        head, n = heads[kind]
        lines.append((f"{spec.title} ({kind})", f"{', '.join(spec.rules)}; ketenhoofd {head} ({n} regels)"))
    return lines


README = """IKB Ei auditpakket — {farm} (KIP {kip})
Periode: {start} t/m {end}; gegenereerd {generated} door ikb-agent.
Alle tijden in lokale tijd ({zone}).

index.html               begin hier: beoordeling, afwijkingen met herstel, elk logboek, episodes,
                         en de controle van dit pakket in de browser (zonder internet)
logbooks/<logboek>.csv   elk logboek (UTF-8, scheidingsteken ;), huidige stand met correcties
logbooks/<logboek>.pdf   elk logboek afdrukbaar, met de regel die het beantwoordt en de correcties
logbooks/logbooks.xlsx   alle logboeken in één werkmap
chains/<logboek>.jsonl   de hashketen van elk logboek (elke regel verwijst naar de vorige); ook de
                         registraties zelf in machineleesbare vorm (veldnamen en waarden zoals opgeslagen)
score/score.json|txt     de actuele zelfbeoordeling (aantallen per weging, geen punten)
score/deviations.csv     elke afwijking per voorval met het herstel dat ervoor is vastgelegd
light/stal-<nr>.csv      lichtschema per stal en lichtdag: donkerperiode begin/eind/lengte, schemer,
                         max. lux in het donker, lichturen en het oordeel op G3.8.7–G3.8.11
condensation/eierlokaal-<id>.csv
                         condens per eierlokaal en dag: minuten binnen de marge van het dauwpunt (risico),
                         minuten condens, hoe diep onder het dauwpunt, en het oordeel op E3.3
episodes/events.csv      stroomuitval, proefdraaien van het aggregaat en stille sensoren (als aanwezig)
signatures/<nr>.png      getekende handtekeningen van bezoekers (A4.2.2); de SHA-256 staat in hun logboekregel
repairs/<nr>.<ext>       foto's en documenten bij herstelmaatregelen; de SHA-256 staat in hun logboekregel
manifest.json            SHA-256 van elk bestand en het ketenhoofd van elk logboek
manifest.sha256          verzegelt manifest.json
manifest.sig             handtekening (Ed25519) van manifest.json met de bedrijfssleutel

Controleren: open index.html uit de uitgepakte map en kies de map of het zip-bestand (werkt zonder
internet en zonder dit programma). Op het bedrijfssysteem kan het ook met: ikb-agent verify <dit-bestand>.zip
Ketenvingerafdruk: {fingerprint}
Vergelijk de vingerafdruk met die op de afgedrukte PDF of op het bedrijfssysteem.
Bedrijfssleutel: {key} (ook op de QR-poster); controleer tegen eerder gepubliceerde
ketenhoofden met: ikb-agent verify <dit-bestand>.zip --heads <bestand> of --broker <adres>
"""


def readme(heading: Heading, key_fingerprint: str) -> str:
    """Return the pack's README.txt (a function of the heading and the key: the verifier writes it again)."""
    return README.format(farm=heading.farm, kip=heading.kip, start=heading.start, end=heading.end,
                         generated=heading.generated, fingerprint=heading.fingerprint, key=key_fingerprint,
                         zone=heading.zone)


def build_pack(store: Store, config: Settings, kinds: list[str], start: date, end: date, now: datetime,
               fonts: tuple[str, str] | None = None, key: FarmKey | None = None,
               progress: Progress | None = None) -> bytes:
    """Return the audit pack (zip bytes) for the logbooks and period, its manifest signed with the farm key.

    ``progress(done, total, what)`` is called after each step (a logbook, a section, the page, the zip).
    """
    fonts = fonts or font_paths()
    key = key or _farm_key(config)
    zone = config.farm.timezone
    kinds = [k for k in LOGBOOKS if k in kinds]  # the catalogue's order: the verifier renders in it too
    snapshots = {kind: snapshot(store, kind) for kind in kinds}  # the chains are checked before anything is written
    print_fp = fingerprint({k: s.head for k, s in snapshots.items()})
    generated = _generated(config, now)
    heading = Heading(config.farm.name, config.farm.kip_number, start, end, generated, print_fp, zone)
    ctx = PackContext(store, config, kinds, start, end, now, heading, fonts, snapshots, progress=progress,
                      total=len(kinds) + len(PACK_SECTIONS) + 2)
    ctx.views = {k: period_view(k, s.history, start, end, zone) for k, s in snapshots.items()}
    files: dict[str, bytes] = {"README.txt": readme(heading, key.fingerprint).encode("utf-8")}
    for section in PACK_SECTIONS:
        files.update(section(ctx))
        ctx.step(STEP_NAMES.get(getattr(section, "__name__", ""), ""))
    files["index.html"] = index_page(heading, key.fingerprint,
                                     [(LOGBOOKS[k], *ctx.views[k]) for k in kinds], ctx.score,
                                     deviations(ctx.score, load_catalogue(), config) if ctx.score else [], files)
    ctx.step("index.html")
    manifest = {
        "format": PACK_FORMAT, "version": PACK_VERSION,
        "farm": {"name": config.farm.name, "kip_number": config.farm.kip_number},
        "period": {"from": start.isoformat(), "to": end.isoformat()}, "timezone": zone,
        "generated_at": now.isoformat(), "generated": generated, "fingerprint": print_fp,
        "renderer": renderer(fonts),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
        "chains": {k: {"file": f"chains/{k}.jsonl", "head": s.head, "entries": s.entries}
                   for k, s in snapshots.items()},
        # Signed since version 2. The key is inside the manifest, so the seal and the signature cover it.
        "signing": key.public_info(),
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    seal = f"{hashlib.sha256(manifest_bytes).hexdigest()}  manifest.json\n"
    seal += f"{hashlib.sha256(seal.encode()).hexdigest()}  -\n"
    stamp = now.astimezone(config.farm_view().tz).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        members = sorted(files.items()) + [("manifest.json", manifest_bytes), ("manifest.sha256", seal.encode()),
                                           (SIGNATURE_MEMBER, (key.sign(manifest_bytes) + "\n").encode())]
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=stamp)  # no clock inside the zip: the generation time
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    ctx.step("zip")
    return out.getvalue()


def _farm_key(config: Settings) -> FarmKey:
    """Return the farm key, created on first use; ExportError when it cannot be read or written."""
    try:
        return farm_key(config.key_path())
    except FarmKeyError as exc:
        raise ExportError(str(exc)) from None


def export_bytes(store: Store, config: Settings, kind: str, fmt: str, start: date, end: date,
                 now: datetime | None = None) -> tuple[str, bytes]:
    """Return (file name, bytes) of an export: one logbook or all, as csv, xlsx, pdf or zip (audit pack).

    CSV of several logbooks comes as a zip of CSV files. The web page's download
    routes call this; the CLI writes what it returns.
    """
    from agent.clock import utcnow

    now = now or utcnow()
    if kind != "all" and kind not in LOGBOOKS:
        raise ExportError("--kind", "kind", {"kind": kind, "options": list(LOGBOOKS)})
    kinds = list(LOGBOOKS) if kind == "all" else [kind]
    stem = f"ikb-{config.farm.kip_number}-{kind}-{start.isoformat()}-{end.isoformat()}"
    if fmt not in ("csv", "xlsx", "pdf", "zip"):
        raise ExportError("--format", "format", {"format": fmt})
    if fmt == "zip":
        return f"{stem}-auditpakket.zip", build_pack(store, config, kinds, start, end, now)
    zone = config.farm.timezone
    snapshots = {k: snapshot(store, k) for k in kinds}  # a broken chain is refused before anything is written
    views = {k: period_view(k, snapshots[k].history, start, end, zone) for k in kinds}
    if fmt == "csv" and len(kinds) == 1:
        return f"{stem}.csv", to_csv(LOGBOOKS[kind], views[kind][0], zone)
    if fmt == "csv":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for k in kinds:
                zf.writestr(f"{k}.csv", to_csv(LOGBOOKS[k], views[k][0], zone))
        return f"{stem}-csv.zip", out.getvalue()
    heading = Heading(config.farm.name, config.farm.kip_number, start, end, _generated(config, now),
                      fingerprint({k: s.head for k, s in snapshots.items()}), zone)
    if fmt == "xlsx":
        info = info_lines(heading, kinds, {k: (s.head, s.entries) for k, s in snapshots.items()})
        return f"{stem}.xlsx", to_xlsx([(LOGBOOKS[k], views[k][0]) for k in kinds], info, zone, now)
    sections = [(LOGBOOKS[k], views[k][0], views[k][1]) for k in kinds]
    images = signature_images(store, views["visitors"][0]) if "visitors" in views else {}
    return f"{stem}.pdf", to_pdf(sections, heading, created=now, images=images)


def export(store: Store, config: Settings, *, kind: str, start: date, end: date, fmt: str, out: Path,
           now: datetime) -> Path:
    """Write an export to ``out`` and return it; CSV of all logbooks goes to a directory of files."""
    try:
        if fmt == "csv" and kind == "all":
            out.mkdir(parents=True, exist_ok=True)
            zone = config.farm.timezone
            for k in LOGBOOKS:
                rows = period_view(k, snapshot(store, k).history, start, end, zone)[0]
                _write(out / f"{k}.csv", to_csv(LOGBOOKS[k], rows, zone))
            return out
        return _write(out, export_bytes(store, config, kind, fmt, start, end, now)[1])
    except OSError as exc:
        raise ExportError(str(out), "write", {"detail": exc.strerror}) from None


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
