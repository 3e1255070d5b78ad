"""The audit pack (zip): built from :data:`PACK_SECTIONS` — every logbook as CSV and PDF plus its hash chain,
all logbooks as XLSX, the current score (JSON and text), the episodes from ``events`` — and ``manifest.json``
with the SHA-256 of every file and each logbook's chain head; ``manifest.sha256`` seals the manifest and
``manifest.sig`` signs it with the farm key (:mod:`agent.signing`).
:func:`agent.exports.verify.verify_pack` checks all of it. :func:`export` is the entry point for one format."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Callable

from agent.config import Settings
from agent.evaluation import lightdays, roomdays
from agent.exports.chains import Snapshot, chain_file, fingerprint, snapshot
from agent.exports.common import ExportError, _generated, period_view
from agent.exports.csvfile import to_csv
from agent.exports.pdf import Heading, font_paths, renderer, to_pdf
from agent.exports.proof import SIGNATURE_MEMBER
from agent.exports.xlsx import to_xlsx
from agent.logbooks import GENESIS, signatures
from agent.signing import FarmKey, FarmKeyError, farm_key
from agent.store import Store, events_between
from rules.catalogue import load_catalogue
from rules.logbooks import LOGBOOKS

PACK_FORMAT = "ikb-agent audit pack"
# 2: the manifest is signed with the farm key (agent.signing).
# 3: every chain line carries its record (completeness can be proven); the logbook files are rendered from the
#    chain's rows, the PDF with a fixed creation date, and the manifest says what the verifier needs to do it again.
PACK_VERSION = 3


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


PackSection = Callable[[PackContext], dict[str, bytes]]


def _logbook_section(ctx: PackContext) -> dict[str, bytes]:
    """Every logbook as CSV, PDF and chain; all of them in one XLSX — rendered from the chain's own rows."""
    files = logbook_files(ctx.kinds, {k: s.history for k, s in ctx.snapshots.items()}, ctx.start, ctx.end,
                          ctx.heading, ctx.fonts, ctx.now)
    for kind in ctx.kinds:
        files[f"chains/{kind}.jsonl"] = chain_file(ctx.snapshots[kind])
    return files


def logbook_files(kinds: list[str], histories: dict, start: date, end: date, heading: Heading,
                  fonts: tuple[str, str] | None, created: datetime) -> dict[str, bytes]:
    """Return the CSV, PDF and XLSX members of a pack from each logbook's history (the verifier calls it too)."""
    files: dict[str, bytes] = {}
    sheets = []
    for kind in kinds:
        spec = LOGBOOKS[kind]
        rows, corrections = period_view(kind, histories[kind], start, end)
        sheets.append((spec, rows))
        files[f"logbooks/{kind}.csv"] = to_csv(spec, rows)
        files[f"logbooks/{kind}.pdf"] = to_pdf([(spec, rows, corrections)], heading, fonts, created)
    heads = {k: (histories[k][-1].hash if histories[k] else GENESIS, len(histories[k])) for k in kinds}
    files["logbooks/logbooks.xlsx"] = to_xlsx(sheets, info_lines(heading, kinds, heads))
    return files


def _score_section(ctx: PackContext) -> dict[str, bytes]:
    """The current score (as `ikb-agent score` gives it now) in JSON and text."""
    from agent.cli import render_score
    from agent.evaluation import score_window

    result = score_window(ctx.store, ctx.config, at=ctx.now, since=ctx.now - timedelta(days=30))
    farm = ctx.config.farm_view()
    text = render_score(result, farm, load_catalogue())
    return {"score/score.json": json.dumps(result.to_json(), ensure_ascii=False, indent=1).encode("utf-8"),
            "score/score.txt": text.encode("utf-8"),
            "score/deviations.csv": _deviations_csv(result, farm.tz)}


def _deviations_csv(result, tz) -> bytes:
    """Return every occurrence of a deviation in the score with its repair (DESIGN §3.5 v2), one row each."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(["regel", "plaats", "weging", "begin", "einde", "wat", "hersteld_op", "hersteld_door",
                     "herstelmaatregel", "herstel_nr", "regel_hersteld"])

    def local(moment):
        return "" if moment is None else moment.astimezone(tz).isoformat(timespec="minutes")

    for f in result.findings:
        if not f.is_deviation:
            continue
        for o in f.occurrences or (None,):
            repair = o.repair if o is not None else None
            writer.writerow([f.rule, f.location or "bedrijf", f.status, local(o.start) if o else "",
                             local(o.end) if o else "", o.detail if o else f.summary,
                             repair.date.isoformat() + (f" {repair.time}" if repair and repair.time else "")
                             if repair else "", repair.performed_by if repair else "",
                             repair.action if repair else "", repair.entry if repair else "",
                             "ja" if f.repaired else "nee"])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _repair_files_section(ctx: PackContext) -> dict[str, bytes]:
    """The photos and documents attached to the repairs in the period (``repairs/<file id>.<ext>``)."""
    from agent.store import get_file
    from rules.logbooks import FILE_REFERENCE

    if "corrective_actions" not in ctx.kinds:
        return {}
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}
    files = {}
    rows, _corrections = period_view("corrective_actions", ctx.snapshots["corrective_actions"].history, ctx.start,
                                     ctx.end)
    for row in rows:
        for ref in row.entry.get("attachments") or ():
            match = FILE_REFERENCE.match(ref) if isinstance(ref, str) else None
            stored = get_file(ctx.store, int(match.group(1))) if match else None
            if stored is not None and hashlib.sha256(stored["data"]).hexdigest() == match.group(2):
                files[f"repairs/{match.group(1)}.{ext.get(stored['content_type'], 'bin')}"] = stored["data"]
    return files


def _events_section(ctx: PackContext) -> dict[str, bytes]:
    """The alarm, outage and generator episodes the sensor rules wrote to `events`, in the period."""
    tz = ctx.config.farm_view().tz
    lo = int(datetime.combine(ctx.start, time(0), tz).timestamp() * 1000)
    hi = int(datetime.combine(ctx.end + timedelta(days=1), time(0), tz).timestamp() * 1000)
    rows = events_between(ctx.store, lo, hi)
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
PACK_SECTIONS: list[PackSection] = [_logbook_section, _score_section, lightdays.pack_section, roomdays.pack_section,
                                    _events_section, signatures.pack_section, _repair_files_section]


def info_lines(heading: Heading, kinds: list[str], heads: dict[str, tuple[str, int]]) -> list[tuple[str, str]]:
    """Return the pack's identification lines (the XLSX info sheet): farm, period, fingerprint, chain heads."""
    lines = [("Bedrijf", heading.farm), ("KIP-nummer", heading.kip),
             ("Periode", f"{heading.start.isoformat()} t/m {heading.end.isoformat()}"),
             ("Gegenereerd", heading.generated), ("Ketenvingerafdruk", heading.fingerprint)]
    for kind in kinds:
        spec = LOGBOOKS[kind]
        head, n = heads[kind]
        lines.append((f"{spec.title} ({kind})", f"{', '.join(spec.rules)}; ketenhoofd {head} ({n} regels)"))
    return lines


README = """IKB Ei auditpakket — {farm} (KIP {kip})
Periode: {start} t/m {end}; gegenereerd {generated} door ikb-agent.

logbooks/<logboek>.csv   elk logboek (UTF-8, scheidingsteken ;), huidige stand met correcties
logbooks/<logboek>.pdf   elk logboek afdrukbaar, met de regel die het beantwoordt en de correcties
logbooks/logbooks.xlsx   alle logboeken in één werkmap
chains/<logboek>.jsonl   de hashketen van elk logboek (elke regel verwijst naar de vorige)
score/score.json|txt     de actuele zelfbeoordeling (aantallen per weging, geen punten)
score/deviations.csv     elke afwijking per voorval met het herstel dat ervoor is vastgelegd
light/stal-<nr>.csv      lichtschema per stal en lichtdag: donkerperiode begin/eind/lengte, schemer,
                         max. lux in het donker, lichturen en het oordeel op G3.8.7–G3.8.11
condensation/eierlokaal-<id>.csv
                         condens per eierlokaal en dag: minuten binnen de marge van het dauwpunt (risico),
                         minuten condens, hoe diep onder het dauwpunt, en het oordeel op E3.3
episodes/events.csv      alarm-, stroomuitval- en aggregaatepisodes (als aanwezig)
signatures/<nr>.png      getekende handtekeningen van bezoekers (A4.2.2); de SHA-256 staat in hun logboekregel
repairs/<nr>.<ext>       foto's en documenten bij herstelmaatregelen; de SHA-256 staat in hun logboekregel
manifest.json            SHA-256 van elk bestand en het ketenhoofd van elk logboek
manifest.sha256          verzegelt manifest.json
manifest.sig             handtekening (Ed25519) van manifest.json met de bedrijfssleutel

Controleer met: ikb-agent verify <dit-bestand>.zip
Ketenvingerafdruk: {fingerprint}
Vergelijk de vingerafdruk met die op de afgedrukte PDF of op het bedrijfssysteem.
Bedrijfssleutel: {key} (ook op de QR-poster); controleer tegen eerder gepubliceerde
ketenhoofden met: ikb-agent verify <dit-bestand>.zip --heads <bestand> of --broker <adres>
"""


def readme(heading: Heading, key_fingerprint: str) -> str:
    """Return the pack's README.txt (a function of the heading and the key: the verifier writes it again)."""
    return README.format(farm=heading.farm, kip=heading.kip, start=heading.start, end=heading.end,
                         generated=heading.generated, fingerprint=heading.fingerprint, key=key_fingerprint)


def build_pack(store: Store, config: Settings, kinds: list[str], start: date, end: date, now: datetime,
               fonts: tuple[str, str] | None = None, key: FarmKey | None = None) -> bytes:
    """Return the audit pack (zip bytes) for the logbooks and period, its manifest signed with the farm key."""
    fonts = fonts or font_paths()
    key = key or _farm_key(config)
    kinds = [k for k in LOGBOOKS if k in kinds]  # the catalogue's order: the verifier renders in it too
    snapshots = {kind: snapshot(store, kind) for kind in kinds}  # the chains are checked before anything is written
    print_fp = fingerprint({k: s.head for k, s in snapshots.items()})
    generated = _generated(config, now)
    heading = Heading(config.farm.name, config.farm.kip_number, start, end, generated, print_fp)
    ctx = PackContext(store, config, kinds, start, end, now, heading, fonts, snapshots)
    files: dict[str, bytes] = {"README.txt": readme(heading, key.fingerprint).encode("utf-8")}
    for section in PACK_SECTIONS:
        files.update(section(ctx))
    manifest = {
        "format": PACK_FORMAT, "version": PACK_VERSION,
        "farm": {"name": config.farm.name, "kip_number": config.farm.kip_number},
        "period": {"from": start.isoformat(), "to": end.isoformat()},
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
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
        zf.writestr("manifest.json", manifest_bytes)
        zf.writestr("manifest.sha256", seal)
        zf.writestr(SIGNATURE_MEMBER, key.sign(manifest_bytes) + "\n")
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
    snapshots = {k: snapshot(store, k) for k in kinds}  # a broken chain is refused before anything is written
    views = {k: period_view(k, snapshots[k].history, start, end) for k in kinds}
    if fmt == "csv" and len(kinds) == 1:
        return f"{stem}.csv", to_csv(LOGBOOKS[kind], views[kind][0])
    if fmt == "csv":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for k in kinds:
                zf.writestr(f"{k}.csv", to_csv(LOGBOOKS[k], views[k][0]))
        return f"{stem}-csv.zip", out.getvalue()
    heading = Heading(config.farm.name, config.farm.kip_number, start, end, _generated(config, now),
                      fingerprint({k: s.head for k, s in snapshots.items()}))
    if fmt == "xlsx":
        info = info_lines(heading, kinds, {k: (s.head, s.entries) for k, s in snapshots.items()})
        return f"{stem}.xlsx", to_xlsx([(LOGBOOKS[k], views[k][0]) for k in kinds], info)
    sections = [(LOGBOOKS[k], views[k][0], views[k][1]) for k in kinds]
    return f"{stem}.pdf", to_pdf(sections, heading)


def export(store: Store, config: Settings, *, kind: str, start: date, end: date, fmt: str, out: Path,
           now: datetime) -> Path:
    """Write an export to ``out`` and return it; CSV of all logbooks goes to a directory of files."""
    try:
        if fmt == "csv" and kind == "all":
            out.mkdir(parents=True, exist_ok=True)
            for k in LOGBOOKS:
                _write(out / f"{k}.csv", to_csv(LOGBOOKS[k], period_view(k, snapshot(store, k).history, start, end)[0]))
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
