"""Verify an audit pack: the manifest's seal and signature, every file's SHA-256, each chain, that the pack is
complete and self-consistent — every logbook file is what the chain's rows make of the period — and, given chain
heads published upstream earlier, that the chains still contain them.

Completeness: every chain line carries its record (since format 3), so the verifier knows every entry of the period
and which are current; the CSV must be, byte for byte, what those entries give. Derived files: the XLSX is read
back (openpyxl) and every cell of every sheet — value, type, number format — compared with a workbook rendered
again from the chain (its own bytes carry the moment of writing, its cells do not); the PDF is rendered again
from the chain with the pack's creation date and compared byte for byte (fpdf2 output is a function of its
input and its version: the manifest names the version and the fonts, and a mismatch says so). README.txt and the
signature images of the period's visitors are checked the same way, first: the PDF draws them. Since format 4
every file is rendered through :mod:`agent.exports.columns` in the time zone the manifest names. What does not
come from the logbooks (the score and its deviations, the light-schedule table, the episodes, ``index.html``) is
covered by the manifest's SHA-256 only.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfoNotFoundError

from agent.exports.chains import check_chain_file, fingerprint
from agent.exports.common import zone_info
from agent.exports.pack import PACK_FORMAT, PACK_VERSION, logbook_files, readme
from agent.exports.pdf import Heading, font_paths, renderer
from agent.exports.proof import SIGNATURE_MEMBER, chain_hashes, check_heads, check_manifest_signature, heads_summary
from agent.logbooks import signatures
from rules.logbooks import LOGBOOKS

# Dutch first (the auditor reads them); one place, for the catalogue.
MESSAGES = {
    "old_format": "manifest.json: pakketformaat {version}; dit kan niet aantonen dat het volledig is — exporteer "
                  "opnieuw met deze versie van ikb-agent (format {version} cannot show it is complete)",
    "wrong_kind": "{name} line {n}: een registratie van logboek {found!r} in de keten van {kind!r}",
    "csv": "{name}: klopt niet met de registraties in de keten ({detail})",
    "xlsx": "logbooks/logbooks.xlsx: {detail} klopt niet met de keten",
    "pdf": "{name}: klopt niet met de registraties in de keten (opnieuw opgemaakt uit de keten is het anders)",
    "pdf_renderer": "{name}: niet te controleren op deze computer: gemaakt met fpdf2 {made} en lettertypen "
                    "{made_fonts}, hier fpdf2 {here} en {here_fonts}; controleer met dezelfde versie",
    "no_fonts": "{name}: niet te controleren: {problem}",
    "members": "{name}: hoort niet in een pakket van deze logboeken (of ontbreekt)",
    "signature": "{name}: de handtekening klopt niet met de bezoekersregistratie ({detail})",
    "readme": "README.txt: klopt niet met het manifest",
}


def _read(zf: zipfile.ZipFile, name: str) -> bytes:
    """Read one member; a damaged member raises ValueError naming it."""
    try:
        return zf.read(name)
    except KeyError:
        raise ValueError(f"{name}: missing from the pack") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ValueError(f"{name}: damaged ({exc})") from None


def _manifest(zf: zipfile.ZipFile) -> tuple[dict, dict[str, bytes], str]:
    """Check the seal, the signature and every member's SHA-256; return the manifest, the members, the signer."""
    seal = _read(zf, "manifest.sha256").decode("utf-8", "replace").splitlines(keepends=True)
    if len(seal) != 2 or hashlib.sha256(seal[0].encode()).hexdigest() != seal[1].split()[0]:
        raise ValueError("manifest.sha256: changed (its check line does not match)")
    manifest_bytes = _read(zf, "manifest.json")
    if hashlib.sha256(manifest_bytes).hexdigest() != seal[0].split()[0]:
        raise ValueError("manifest.json: SHA-256 does not match manifest.sha256")
    try:
        manifest = json.loads(manifest_bytes)
        files, chains = manifest["files"], manifest["chains"]
        if not isinstance(files, dict) or not isinstance(chains, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ValueError("manifest.json: not a valid manifest") from None
    if manifest.get("format") != PACK_FORMAT:
        raise ValueError("manifest.json: not an ikb-agent audit pack")
    signed = check_manifest_signature(manifest, manifest_bytes, _optional(zf, SIGNATURE_MEMBER))
    if manifest.get("version") != PACK_VERSION:
        raise ValueError(MESSAGES["old_format"].format(version=manifest.get("version")))
    for name in (i.filename for i in zf.infolist()):
        if name not in files and name not in ("manifest.json", "manifest.sha256", SIGNATURE_MEMBER):
            raise ValueError(f"{name}: not listed in the manifest")
    data = {}
    for name, digest in files.items():
        data[name] = _read(zf, name)
        if hashlib.sha256(data[name]).hexdigest() != digest:
            raise ValueError(f"{name}: SHA-256 does not match the manifest")
    return manifest, data, signed


def _optional(zf: zipfile.ZipFile, name: str) -> bytes | None:
    """Read a member that older packs do not have; None when absent."""
    return _read(zf, name) if name in zf.namelist() else None


def _verify(zf: zipfile.ZipFile, published: list[dict] | None = None) -> str:
    """Check a pack; return the summary or raise ValueError naming the first mismatch."""
    manifest, data, signed = _manifest(zf)
    chains = manifest["chains"]
    histories, heads, total = {}, {}, 0
    for kind, info in sorted(chains.items()):
        if kind not in LOGBOOKS or not isinstance(info, dict):
            raise ValueError(f"manifest.json: unknown logbook {kind!r}")
        name = f"chains/{kind}.jsonl"
        checked, history = check_chain_file(data.get(name, b""), name)
        if checked.problem:
            raise ValueError(checked.problem)
        if (checked.head, checked.entries) != (info.get("head"), info.get("entries")):
            raise ValueError(f"{name}: chain head or length does not match the manifest")
        for n, row in enumerate(history, start=1):
            if row.kind != kind:
                raise ValueError(MESSAGES["wrong_kind"].format(name=name, n=n, found=row.kind, kind=kind))
        histories[kind], heads[kind] = history, checked.head
        total += checked.entries
    if fingerprint(heads) != manifest.get("fingerprint"):
        raise ValueError("manifest.json: fingerprint does not match the chain heads")
    _check_derived(manifest, data, histories)
    summary = (f"{len(manifest['files']) + 3} bestanden, {len(chains)} logboeken ({total} ketenregels) kloppen "
               f"en zijn volledig; ketenvingerafdruk {manifest['fingerprint'][:16]}; {signed}")
    if published is not None:
        hashes = {kind: chain_hashes(data.get(info["file"], b"")) for kind, info in chains.items()}
        summary += f"; {heads_summary(check_heads(manifest, hashes, published))}"
    return summary


def _check_derived(manifest: dict, data: dict[str, bytes], histories: dict) -> None:
    """Check that README, CSV, XLSX, PDF and signatures are what the chain's rows make of the period."""
    try:
        start, end = date.fromisoformat(manifest["period"]["from"]), date.fromisoformat(manifest["period"]["to"])
        created = datetime.fromisoformat(manifest["generated_at"])
        heading = Heading(manifest["farm"]["name"], manifest["farm"]["kip_number"], start, end,
                          manifest["generated"], manifest["fingerprint"], str(manifest["timezone"]))
        zone_info(heading.zone)
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError):
        raise ValueError("manifest.json: period, farm, time zone or generation time unreadable") from None
    key = (manifest.get("signing") or {}).get("fingerprint", "")
    if data.get("README.txt") != readme(heading, key).encode("utf-8"):
        raise ValueError(MESSAGES["readme"])
    kinds = [k for k in LOGBOOKS if k in histories]  # the order build_pack uses
    try:
        fonts = font_paths()
    except Exception as exc:  # noqa: BLE001 - ExportError: the message says how to install the fonts
        raise ValueError(MESSAGES["no_fonts"].format(name="logbooks/*.pdf", problem=exc)) from None
    # The drawn signatures the PDF shows are the pack's own images, checked against their entries first.
    _check_signatures(data, histories.get("visitors"), start, end)
    images = {int(n[len("signatures/"):-len(".png")]): b for n, b in data.items()
              if n.startswith("signatures/") and n.endswith(".png") and n[len("signatures/"):-len(".png")].isdigit()}
    expected = logbook_files(kinds, histories, start, end, heading, fonts, created, images)
    logbook_members = {n for n in data if n.startswith(("logbooks/", "chains/"))}
    wanted = set(expected) | {f"chains/{k}.jsonl" for k in kinds}
    for name in sorted(logbook_members ^ wanted):
        raise ValueError(MESSAGES["members"].format(name=name))
    for kind in kinds:
        name = f"logbooks/{kind}.csv"
        if data[name] != expected[name]:
            raise ValueError(MESSAGES["csv"].format(name=name, detail=_first_difference(data[name], expected[name])))
    _compare_xlsx(data["logbooks/logbooks.xlsx"], expected["logbooks/logbooks.xlsx"])
    made = manifest.get("renderer") or {}
    for kind in kinds:
        name = f"logbooks/{kind}.pdf"
        if data[name] != expected[name]:
            here = renderer(fonts)
            if made != here:
                raise ValueError(MESSAGES["pdf_renderer"].format(
                    name=name, made=made.get("fpdf2"), made_fonts=str(made.get("fonts_sha256"))[:12],
                    here=here["fpdf2"], here_fonts=here["fonts_sha256"][:12]))
            raise ValueError(MESSAGES["pdf"].format(name=name))


def _first_difference(got: bytes, want: bytes) -> str:
    """Return the first line that differs between two CSV files (what is missing or changed)."""
    a, b = got.decode("utf-8-sig", "replace").splitlines(), want.decode("utf-8-sig", "replace").splitlines()
    for number, (x, y) in enumerate(zip(a, b), start=1):
        if x != y:
            return f"regel {number}: {x[:80]!r}, verwacht {y[:80]!r}"
    if len(a) != len(b):
        return f"{len(a) - 1} registraties, de keten heeft er {len(b) - 1} in de periode"
    return "andere bytes"


# The workbook part openpyxl stamps with the moment of writing (dcterms:modified); no cell is in it.
_XLSX_STAMPED = "docProps/core.xml"


def _same_parts(got: bytes, want: bytes) -> bool:
    """Whether two workbooks hold the same parts, byte for byte, but for the one stamped when it was written.

    The cells are read from those parts alone (sheets, shared strings, styles, comments), so they are the same;
    anything else (another openpyxl, a changed file) is compared cell by cell.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(got)) as a, zipfile.ZipFile(io.BytesIO(want)) as b:
            names = a.namelist()
            if names != b.namelist() or len(set(names)) != len(names):
                return False
            return all(a.read(n) == b.read(n) for n in names if n != _XLSX_STAMPED)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
        return False


def _compare_xlsx(got: bytes, want: bytes) -> None:
    """Compare two workbooks sheet by sheet and cell by cell: value, type, number format, comment."""
    from openpyxl import load_workbook

    if _same_parts(got, want):
        return
    try:
        a = load_workbook(io.BytesIO(got))
    except Exception:  # noqa: BLE001 - any reading error: the file is not what the pack made
        raise ValueError(MESSAGES["xlsx"].format(detail="het bestand")) from None
    b = load_workbook(io.BytesIO(want))
    if a.sheetnames != b.sheetnames:
        raise ValueError(MESSAGES["xlsx"].format(detail=f"de werkbladen {a.sheetnames}"))
    for ws_a, ws_b in zip(a.worksheets, b.worksheets):
        if (ws_a.max_row, ws_a.max_column) != (ws_b.max_row, ws_b.max_column):
            raise ValueError(MESSAGES["xlsx"].format(detail=f"blad {ws_a.title}: {ws_a.max_row - 1} rijen"))
        for row_a, row_b in zip(ws_a.iter_rows(), ws_b.iter_rows()):
            for ca, cb in zip(row_a, row_b):
                same = (ca.value, ca.data_type, ca.number_format, ca.comment and ca.comment.text) == \
                       (cb.value, cb.data_type, cb.number_format, cb.comment and cb.comment.text)
                if not same:
                    raise ValueError(MESSAGES["xlsx"].format(detail=f"blad {ws_a.title} cel {ca.coordinate}"))


def _check_signatures(data: dict[str, bytes], history, start: date, end: date) -> None:
    """Check that the pack holds exactly the period's drawn signatures, each matching its entry's SHA-256."""
    from agent.logbooks import select_entries

    wanted = {}
    for row in select_entries("visitors", history or [], start=start, end=end):
        ref = signatures.parse_reference(row.entry.get("signature"))
        if ref is not None:
            wanted[f"signatures/{ref[0]}.png"] = ref[1]
    present = {n for n in data if n.startswith("signatures/")}
    for name in sorted(present ^ set(wanted)):
        raise ValueError(MESSAGES["signature"].format(name=name, detail="ontbreekt of hoort er niet bij"))
    for name, digest in wanted.items():
        if hashlib.sha256(data[name]).hexdigest() != digest:
            raise ValueError(MESSAGES["signature"].format(name=name, detail="SHA-256"))


def verify_pack(path: Path, heads: list[dict] | None = None) -> tuple[bool, str]:
    """Return (intact, summary or the first file/entry that does not match) for an audit pack.

    ``heads``: chain-heads documents published upstream earlier (already checked by ``read_heads``).
    """
    try:
        with zipfile.ZipFile(path) as zf:
            return True, _verify(zf, heads)
    except zipfile.BadZipFile as exc:
        return False, f"{path.name}: not a readable zip file ({exc})"
    except ValueError as exc:
        return False, str(exc)
