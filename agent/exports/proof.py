"""What an audit pack proves beyond its own hashes: the farm key's signature on the manifest, and that its
chains still hold the chain heads the farm published upstream earlier (docs/UPSTREAM.md).

The hashes inside a pack only show that nobody changed it after export. The signature shows which farm key
made it. The heads show that the logbooks were not rewritten after those heads left the farm: whoever holds
the Pi can edit the database and export again, but cannot recall what the integrator's broker received.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from agent.signing import ALGORITHM, check_signature, key_fingerprint
from agent.upstream import check_chain_doc

SIGNATURE_MEMBER = "manifest.sig"


def check_manifest_signature(manifest: dict, manifest_bytes: bytes, signature: bytes | None) -> str:
    """Check ``manifest.sig`` against the key the manifest names; return a summary or raise ValueError."""
    info = manifest.get("signing")
    if info is None:
        if manifest.get("version", 1) >= 2:
            raise ValueError("manifest.json: the signature was removed (packs of version 2 and later are signed)")
        if signature is not None:
            raise ValueError(f"{SIGNATURE_MEMBER}: present, but manifest.json names no key")
        return "niet ondertekend (pakket van vóór de bedrijfssleutel)"
    if signature is None:
        raise ValueError(f"{SIGNATURE_MEMBER}: missing (manifest.json says it is signed)")
    if not isinstance(info, dict) or info.get("algorithm") != ALGORITHM:
        raise ValueError("manifest.json: unknown signing algorithm")
    fingerprint = key_fingerprint(str(info.get("public_key", "")))
    if fingerprint is None or fingerprint != info.get("fingerprint"):
        raise ValueError("manifest.json: the key's fingerprint does not belong to its public key")
    problem = check_signature(info["public_key"], signature.decode("ascii", "replace"), manifest_bytes)
    if problem:
        raise ValueError(f"{SIGNATURE_MEMBER}: {problem} — manifest.json was changed after signing")
    return f"ondertekend met bedrijfssleutel {fingerprint}"


class HeadsError(Exception):
    """A chain-heads input (file or broker message) is unreadable or badly signed; the message says which."""


def read_heads(text: str, source: str) -> list[dict]:
    """Parse chain-heads documents: JSON lines, or one JSON list/object; each must be validly signed."""
    text = text.strip()
    if not text:
        return []
    try:
        docs = json.loads(text)
        docs = docs if isinstance(docs, list) else [docs]
        numbered = list(enumerate(docs, start=1))
    except ValueError:
        numbered = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                numbered.append((number, json.loads(line)))
            except ValueError:
                raise HeadsError(f"{source} line {number}: not valid JSON") from None
    for number, doc in numbered:
        problem = check_chain_doc(doc)
        if problem:
            raise HeadsError(f"{source} item {number}: chain heads not accepted: {problem}")
    return [doc for _n, doc in numbered]


@dataclass
class HeadsCheck:
    """The outcome of comparing a pack with published chain heads."""

    checked: list[str] = field(default_factory=list)  # times of the heads found in the pack
    skipped: list[str] = field(default_factory=list)  # why a head could not be compared
    notes: list[str] = field(default_factory=list)


def chain_hashes(data: bytes) -> list[str]:
    """Return the hash of every row of an (already verified) chain file, in order."""
    from agent.exports.chains import json_lines

    return [json.loads(line)["hash"] for line in json_lines(data.decode("utf-8")) if line.strip()]


def check_heads(manifest: dict, chains: dict[str, list[str]], heads: list[dict]) -> HeadsCheck:
    """Check that the pack's chains still contain every published head of this farm; raise ValueError if not.

    ``chains`` maps a logbook to its rows' hashes. A head of N entries is in the pack when row N has the
    head's hash. A chain shorter than a head published before the pack was made lost rows; a head published
    after the pack was made cannot be compared and is skipped.
    """
    out = HeadsCheck()
    kip = str(manifest.get("farm", {}).get("kip_number"))
    made = datetime.fromisoformat(manifest["generated_at"])
    pack_key = (manifest.get("signing") or {}).get("fingerprint")
    for doc in sorted(heads, key=lambda d: d["time"]):
        if str(doc["kip_number"]) != kip:
            continue
        when = datetime.fromisoformat(doc["time"])
        fingerprint = doc["key"]["fingerprint"]
        if pack_key and fingerprint != pack_key:
            out.notes.append(f"ketenhoofden van {doc['time']} zijn ondertekend met sleutel {fingerprint}, "
                             f"het pakket met {pack_key} (de bedrijfssleutel is vervangen)")
        compared = False
        for kind, head in sorted(doc["heads"].items()):
            hashes = chains.get(kind)
            if hashes is None or head["entries"] == 0:
                continue
            n = int(head["entries"])
            if len(hashes) >= n:
                if hashes[n - 1] != head["hash"]:
                    raise ValueError(
                        f"chains/{kind}.jsonl: row {n} differs from the chain head published upstream at "
                        f"{doc['time']} — the logbook was rewritten after that moment")
                compared = True
            elif when <= made:
                raise ValueError(
                    f"chains/{kind}.jsonl: {len(hashes)} rows, but {n} were published upstream at {doc['time']} "
                    "— rows were removed after that moment")
            else:
                out.skipped.append(f"{kind} van {doc['time']} (na het pakket gepubliceerd)")
        if compared:
            out.checked.append(doc["time"])
    return out


def heads_summary(result: HeadsCheck) -> str:
    """Return one line on the heads comparison for the verify summary."""
    if not result.checked:
        text = "geen eerder gepubliceerde ketenhoofden van dit bedrijf om mee te vergelijken"
    else:
        text = (f"{len(result.checked)} eerder gepubliceerde ketenhoofden ({result.checked[0]} t/m "
                f"{result.checked[-1]}) staan ongewijzigd in het pakket")
    for note in result.notes + [f"niet vergeleken: {s}" for s in result.skipped]:
        text += f"; {note}"
    return text


def pack_kip(path: Path) -> str | None:
    """Return the KIP number a pack's manifest names, or None when it cannot be read."""
    try:
        with zipfile.ZipFile(path) as zf:
            return str(json.loads(zf.read("manifest.json"))["farm"]["kip_number"])
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile):
        return None
