"""Verify an audit pack: the manifest's seal and signature, every file's SHA-256, each chain, the CSV rows
against it, and — given chain heads published upstream earlier — that the chains still contain them."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
import zlib
from pathlib import Path

from agent.exports.chains import check_chain_file, fingerprint
from agent.exports.common import csv_header, csv_rows
from agent.exports.pack import PACK_FORMAT, PACK_VERSION
from agent.exports.proof import SIGNATURE_MEMBER, chain_hashes, check_heads, check_manifest_signature, heads_summary
from agent.logbooks import StoredEntry
from rules.logbooks import LOGBOOKS


def _read(zf: zipfile.ZipFile, name: str) -> bytes:
    """Read one member; a damaged member raises ValueError naming it."""
    try:
        return zf.read(name)
    except KeyError:
        raise ValueError(f"{name}: missing from the pack") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ValueError(f"{name}: damaged ({exc})") from None


def _verify(zf: zipfile.ZipFile, published: list[dict] | None = None) -> str:
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
    if manifest.get("version") != PACK_VERSION:
        # Its CSV files have other columns (field names, UTC times); an older pack is checked by the version
        # that made it. Refusing also keeps a forger from passing a pack off as an old, unsigned one.
        raise ValueError(f"manifest.json: pack format {manifest.get('version')}, this ikb-agent checks format "
                         f"{PACK_VERSION}; export the pack again")
    signed = check_manifest_signature(manifest, manifest_bytes, _optional(zf, SIGNATURE_MEMBER))
    members = [i.filename for i in zf.infolist()]
    for name in members:
        if name not in files and name not in ("manifest.json", "manifest.sha256", SIGNATURE_MEMBER):
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
        _check_csv(kind, data.get(f"logbooks/{kind}.csv"), checked.records, str(manifest.get("timezone")))
    if fingerprint(heads) != manifest.get("fingerprint"):
        raise ValueError("manifest.json: fingerprint does not match the chain heads")
    summary = (f"{len(files) + 2 + (SIGNATURE_MEMBER in members)} bestanden, {len(chains)} logboeken "
               f"({total} ketenregels) kloppen; ketenvingerafdruk {manifest['fingerprint'][:16]}; {signed}")
    if published is not None:
        hashes = {kind: chain_hashes(data.get(info["file"], b"")) for kind, info in chains.items()}
        summary += f"; {heads_summary(check_heads(manifest, hashes, published))}"
    return summary


def _optional(zf: zipfile.ZipFile, name: str) -> bytes | None:
    """Read a member that older packs do not have; None when absent."""
    return _read(zf, name) if name in zf.namelist() else None


def _check_csv(kind: str, data: bytes | None, records: dict[str, dict], zone: str) -> None:
    """Check that every CSV row of a logbook is its chain record rendered as the export renders it.

    The CSV carries Dutch labels, option labels, local times and a running Nr.; the chain carries the raw
    values. Each row names its chain hash (last column): the record with that hash, rendered through
    :mod:`agent.exports.columns` with the row's number, must give the row exactly.
    """
    if data is None or kind not in LOGBOOKS:
        return
    spec = LOGBOOKS[kind]
    name = f"logbooks/{kind}.csv"
    try:
        header = csv_header(spec, zone)
    except (KeyError, ValueError):
        raise ValueError(f"manifest.json: unknown time zone {zone!r}") from None
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    if not rows or rows[0] != header:
        raise ValueError(f"{name}: header does not match the logbook's fields")
    for number, row in enumerate(rows[1:], start=1):
        record = records.get(row[-1]) if row else None
        if record is None:
            raise ValueError(f"{name} row {number + 1}: not in the chain")
        entry = StoredEntry(record["id"], kind, record["entry"], record["recorded_at"], record["recorded_by"],
                            record["supersedes"], record["reason"], record["state"], "", row[-1],
                            record["keep_until"])
        if csv_rows(spec, [entry], zone)[0][1:] != row[1:] or row[0] != str(number):
            raise ValueError(f"{name} row {number + 1} (entry #{record['id']}): does not match the chain")


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
