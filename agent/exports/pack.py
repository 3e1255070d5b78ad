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
from agent.exports.chains import chain_lines, fingerprint
from agent.exports.common import ExportError, _generated, corrections_for, entries_for
from agent.exports.csvfile import to_csv
from agent.exports.pdf import Heading, font_paths, to_pdf
from agent.exports.proof import SIGNATURE_MEMBER
from agent.exports.xlsx import to_xlsx
from agent.logbooks import chain_head, signatures
from agent.signing import FarmKey, FarmKeyError, farm_key
from agent.store import Store, events_between
from rules.catalogue import load_catalogue
from rules.logbooks import LOGBOOKS

PACK_FORMAT = "ikb-agent audit pack"


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
    from agent.cli import render_score
    from agent.evaluation import score_window

    result = score_window(ctx.store, ctx.config, at=ctx.now, since=ctx.now - timedelta(days=30))
    text = render_score(result, ctx.config.farm_view(), load_catalogue())
    return {"score/score.json": json.dumps(result.to_json(), ensure_ascii=False, indent=1).encode("utf-8"),
            "score/score.txt": text.encode("utf-8")}


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
                                    _events_section, signatures.pack_section]


def _info(ctx: PackContext) -> list[tuple[str, str]]:
    """Return the pack's identification lines (info sheet and README)."""
    farm = ctx.config.farm
    lines = [("Bedrijf", farm.name), ("KIP-nummer", farm.kip_number),
             ("Periode", f"{ctx.start.isoformat()} t/m {ctx.end.isoformat()}"),
             ("Gegenereerd", ctx.heading.generated), ("Ketenvingerafdruk", ctx.heading.fingerprint)]
    for kind in ctx.kinds:
        spec = LOGBOOKS[kind]
        lines.append((f"{spec.title} ({kind})", f"{', '.join(spec.rules)}; ketenhoofd {ctx.heads[kind]['head']}"
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
condensation/eierlokaal-<id>.csv
                         condens per eierlokaal en dag: minuten binnen de marge van het dauwpunt (risico),
                         minuten condens, hoe diep onder het dauwpunt, en het oordeel op E3.3
episodes/events.csv      alarm-, stroomuitval- en aggregaatepisodes (als aanwezig)
signatures/<nr>.png      getekende handtekeningen van bezoekers (A4.2.2); de SHA-256 staat in hun logboekregel
manifest.json            SHA-256 van elk bestand en het ketenhoofd van elk logboek
manifest.sha256          verzegelt manifest.json
manifest.sig             handtekening (Ed25519) van manifest.json met de bedrijfssleutel

Controleer met: ikb-agent verify <dit-bestand>.zip
Ketenvingerafdruk: {fingerprint}
Vergelijk de vingerafdruk met die op de afgedrukte PDF of op het bedrijfssysteem.
Bedrijfssleutel: {key} (ook op de QR-poster); controleer tegen eerder gepubliceerde
ketenhoofden met: ikb-agent verify <dit-bestand>.zip --heads <bestand> of --broker <adres>
"""


def build_pack(store: Store, config: Settings, kinds: list[str], start: date, end: date, now: datetime,
               fonts: tuple[str, str] | None = None, key: FarmKey | None = None) -> bytes:
    """Return the audit pack (zip bytes) for the logbooks and period, its manifest signed with the farm key."""
    fonts = fonts or font_paths()
    key = key or _farm_key(config)
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
        fingerprint=print_fp, key=key.fingerprint).encode("utf-8")}
    for section in PACK_SECTIONS:
        files.update(section(ctx))
    manifest = {
        "format": PACK_FORMAT, "version": 2,
        "farm": {"name": config.farm.name, "kip_number": config.farm.kip_number},
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "generated_at": now.isoformat(), "fingerprint": print_fp,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
        "chains": {k: {"file": f"chains/{k}.jsonl", "head": v["head"], "entries": v["entries"]}
                   for k, v in heads.items()},
        # Version 2: signed. The key is inside the manifest, so the seal and the signature cover it.
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
        info += [(LOGBOOKS[k].title, f"{', '.join(LOGBOOKS[k].rules)}; ketenhoofd {chain_head(store, k)[0]}")
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
    raise ExportError("--format", "format", {"format": fmt})


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
