"""The audit pack (zip): built from :data:`PACK_SECTIONS` — every logbook as CSV and PDF plus its hash chain,
all logbooks as XLSX, the current score (JSON, text, deviations with repairs), the episodes from ``events`` —
then ``index.html`` (the auditor's page, which also checks the pack offline: :mod:`agent.exports.page`) and
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
from agent.evaluation import lightdays
from agent.exports.chains import chain_lines, fingerprint
from agent.exports.columns import numbers
from agent.exports.common import ExportError, _generated, correction_lines, entries_for, signature_images
from agent.exports.csvfile import to_csv
from agent.exports.deviations import deviations, deviations_csv
from agent.exports.events import events_section
from agent.exports.page import index_page
from agent.exports.pdf import Heading, font_paths, to_pdf
from agent.exports.proof import SIGNATURE_MEMBER
from agent.exports.xlsx import to_xlsx
from agent.logbooks import StoredEntry, chain_head, list_entries, signatures
from agent.signing import FarmKey, FarmKeyError, farm_key
from agent.store import Store
from rules.catalogue import load_catalogue
from rules.logbooks import LOGBOOKS

PACK_FORMAT = "ikb-agent audit pack"
# 3: Dutch columns and values, local times, Nr. per logbook, index.html; the manifest names the time zone.
PACK_VERSION = 3

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
    heads: dict
    rows: dict[str, list[StoredEntry]] = field(default_factory=dict)  # the period's entries per logbook
    corrections: dict[str, list[str]] = field(default_factory=dict)
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
    """Every logbook as CSV, PDF and chain; all of them in one XLSX."""
    files: dict[str, bytes] = {}
    zone = ctx.heading.zone
    for kind in ctx.kinds:
        spec, rows = LOGBOOKS[kind], ctx.rows[kind]
        images = signature_images(ctx.store, rows) if spec.model.model_fields.get("signature") else {}
        files[f"logbooks/{kind}.csv"] = to_csv(spec, rows, zone)
        files[f"logbooks/{kind}.pdf"] = to_pdf([(spec, rows, ctx.corrections[kind])], ctx.heading, ctx.fonts,
                                               ctx.now, images)
        files[f"chains/{kind}.jsonl"] = ctx.heads[kind]["data"]
        ctx.step(spec.title)
    files["logbooks/logbooks.xlsx"] = to_xlsx([(LOGBOOKS[k], ctx.rows[k]) for k in ctx.kinds], _info(ctx), zone,
                                              ctx.now)
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
            "score/afwijkingen.csv": deviations_csv(deviations(ctx.score, catalogue, ctx.config), ctx.heading.zone)}


# Sections of the audit pack, in order. Features add theirs (e.g. the light-schedule
# day table per house) as functions (ctx) -> {member name: bytes}.
PACK_SECTIONS: list[PackSection] = [_logbook_section, _score_section, lightdays.pack_section, events_section,
                                    signatures.pack_section]


STEP_NAMES = {"_logbook_section": "werkmap (XLSX)", "_score_section": "beoordeling", "pack_section": "",
              "events_section": "episodes"}


def _info(ctx: PackContext) -> list[tuple[str, str]]:
    """Return the pack's identification lines (info sheet and README)."""
    farm = ctx.config.farm
    lines = [("Bedrijf", farm.name), ("KIP-nummer", farm.kip_number),
             ("Periode", f"{ctx.start.isoformat()} t/m {ctx.end.isoformat()}"),
             ("Gegenereerd", ctx.heading.generated), ("Tijden", f"lokale tijd ({ctx.heading.zone})"),
             ("Ketenvingerafdruk", ctx.heading.fingerprint)]
    for kind in ctx.kinds:
        spec = LOGBOOKS[kind]
        lines.append((f"{spec.title} ({kind})", f"{', '.join(spec.rules)}; ketenhoofd {ctx.heads[kind]['head']}"
                                                   f" ({ctx.heads[kind]['entries']} regels)"))
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
score/score.json|txt     de actuele zelfbeoordeling
score/afwijkingen.csv    de afwijkingen met wanneer, wat en het geregistreerde herstel
light/stal-<nr>.csv      lichtschema per stal en lichtdag: donkerperiode begin/eind/lengte, schemer,
                         max. lux in het donker, lichturen en het oordeel op G3.8.7–G3.8.11
episodes/events.csv      stroomuitval, proefdraaien van het aggregaat en stille sensoren (als aanwezig)
signatures/<nr>.png      getekende handtekeningen van bezoekers (A4.2.2); de SHA-256 staat in hun logboekregel
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


def build_pack(store: Store, config: Settings, kinds: list[str], start: date, end: date, now: datetime,
               fonts: tuple[str, str] | None = None, key: FarmKey | None = None,
               progress: Progress | None = None) -> bytes:
    """Return the audit pack (zip bytes) for the logbooks and period, its manifest signed with the farm key.

    ``progress(done, total, what)`` is called after each step (a logbook, a section, the page, the zip).
    """
    fonts = fonts or font_paths()
    key = key or _farm_key(config)
    zone = config.farm.timezone
    heads = {}
    for kind in kinds:
        data, head, n = chain_lines(store, kind, start, end)
        heads[kind] = {"data": data, "head": head, "entries": n}
    print_fp = fingerprint({k: v["head"] for k, v in heads.items()})
    generated = _generated(config, now)
    heading = Heading(config.farm.name, config.farm.kip_number, start, end, generated, print_fp, zone)
    ctx = PackContext(store, config, kinds, start, end, now, heading, fonts, heads, progress=progress,
                      total=len(kinds) + len(PACK_SECTIONS) + 2)
    for kind in kinds:
        ctx.rows[kind] = entries_for(store, kind, start, end)
        ctx.corrections[kind] = correction_lines(kind, list_entries(store, kind, history=True), start, end, zone,
                                                 numbers(ctx.rows[kind]))
    files: dict[str, bytes] = {"README.txt": README.format(
        farm=config.farm.name, kip=config.farm.kip_number, start=start, end=end, generated=generated,
        fingerprint=print_fp, key=key.fingerprint, zone=zone).encode("utf-8")}
    for section in PACK_SECTIONS:
        files.update(section(ctx))
        ctx.step(STEP_NAMES.get(getattr(section, "__name__", ""), ""))
    files["index.html"] = index_page(heading, key.fingerprint,
                                     [(LOGBOOKS[k], ctx.rows[k], ctx.corrections[k]) for k in kinds], ctx.score,
                                     deviations(ctx.score, load_catalogue(), config) if ctx.score else [], files)
    ctx.step("index.html")
    manifest = {
        "format": PACK_FORMAT, "version": PACK_VERSION,
        "farm": {"name": config.farm.name, "kip_number": config.farm.kip_number},
        "period": {"from": start.isoformat(), "to": end.isoformat()}, "timezone": zone,
        "generated_at": now.isoformat(), "fingerprint": print_fp,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
        "chains": {k: {"file": f"chains/{k}.jsonl", "head": v["head"], "entries": v["entries"]}
                   for k, v in heads.items()},
        # Signed. The key is inside the manifest, so the seal and the signature cover it.
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
    zone = config.farm.timezone
    if fmt == "zip":
        return f"{stem}-auditpakket.zip", build_pack(store, config, kinds, start, end, now)
    if fmt not in ("csv", "xlsx", "pdf"):
        raise ExportError("--format", "format", {"format": fmt})
    rows = {k: entries_for(store, k, start, end) for k in kinds}
    if fmt == "csv" and len(kinds) == 1:
        return f"{stem}.csv", to_csv(LOGBOOKS[kind], rows[kind], zone)
    if fmt == "csv":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for k in kinds:
                zf.writestr(f"{k}.csv", to_csv(LOGBOOKS[k], rows[k], zone))
        return f"{stem}-csv.zip", out.getvalue()
    if fmt == "xlsx":
        info = [("Bedrijf", config.farm.name), ("KIP-nummer", config.farm.kip_number),
                ("Periode", f"{start.isoformat()} t/m {end.isoformat()}"), ("Gegenereerd", _generated(config, now)),
                ("Tijden", f"lokale tijd ({zone})")]
        info += [(LOGBOOKS[k].title, f"{', '.join(LOGBOOKS[k].rules)}; ketenhoofd {chain_head(store, k)[0]}")
                 for k in kinds]
        return f"{stem}.xlsx", to_xlsx([(LOGBOOKS[k], rows[k]) for k in kinds], info, zone, now)
    heading = Heading(config.farm.name, config.farm.kip_number, start, end, _generated(config, now),
                      fingerprint({k: chain_head(store, k)[0] for k in kinds}), zone)
    sections = [(LOGBOOKS[k], rows[k], correction_lines(k, list_entries(store, k, history=True), start, end, zone,
                                                        numbers(rows[k]))) for k in kinds]
    images = signature_images(store, rows["visitors"]) if "visitors" in rows else {}
    return f"{stem}.pdf", to_pdf(sections, heading, created=now, images=images)


def export(store: Store, config: Settings, *, kind: str, start: date, end: date, fmt: str, out: Path,
           now: datetime) -> Path:
    """Write an export to ``out`` and return it; CSV of all logbooks goes to a directory of files."""
    try:
        if fmt == "csv" and kind == "all":
            out.mkdir(parents=True, exist_ok=True)
            for k in LOGBOOKS:
                _write(out / f"{k}.csv", to_csv(LOGBOOKS[k], entries_for(store, k, start, end), config.farm.timezone))
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
