"""The hash chain of the logbooks: every row links to the previous row of the same logbook.

``content_hash`` = SHA-256 of the row's canonical JSON envelope (id, kind, entry, recorded_at, recorded_by,
supersedes, reason, state, keep_until); ``hash`` = SHA-256 of ``prev_hash + content_hash`` (hex strings).
Hashing the content's digest rather than the content lets an export prove the whole chain while carrying only
the digests of entries outside its period. Pure: no database here."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable

GENESIS = "0" * 64


@dataclass(frozen=True)
class StoredEntry:
    """One logbook row as stored, with who/when/why and its place in the chain."""

    id: int
    kind: str
    entry: dict
    recorded_at: str
    recorded_by: str
    supersedes: int | None
    reason: str | None
    state: str
    prev_hash: str
    hash: str
    keep_until: str
    superseded_by: int | None = None

    def envelope(self) -> dict:
        """Return what the chain hashes: everything but the chain links themselves."""
        return envelope_of(self.id, self.kind, self.entry, self.recorded_at, self.recorded_by, self.supersedes,
                           self.reason, self.state, self.keep_until)

    def to_json(self) -> dict:
        """Return the entry with its metadata, as `logbook list --format json` prints it."""
        return {"id": self.id, "kind": self.kind, "entry": self.entry, "recorded_at": self.recorded_at,
                "recorded_by": self.recorded_by, "supersedes": self.supersedes, "reason": self.reason,
                "state": self.state, "superseded_by": self.superseded_by, "keep_until": self.keep_until,
                "prev_hash": self.prev_hash, "hash": self.hash}


def envelope_of(id: int, kind: str, entry: dict, recorded_at: str, recorded_by: str, supersedes: int | None,
                reason: str | None, state: str, keep_until: str) -> dict:
    """Return the hashed envelope of a row."""
    return {"id": id, "kind": kind, "entry": entry, "recorded_at": recorded_at, "recorded_by": recorded_by,
            "supersedes": supersedes, "reason": reason, "state": state, "keep_until": keep_until}


def canonical(obj: Any) -> bytes:
    """Return the canonical JSON bytes of an object: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def content_hash(envelope: dict) -> str:
    """Return the SHA-256 (hex) of an envelope's canonical JSON."""
    return hashlib.sha256(canonical(envelope)).hexdigest()


def link_hash(prev_hash: str, content: str) -> str:
    """Return the chain hash of a row from the previous row's hash and its content hash."""
    return hashlib.sha256((prev_hash + content).encode("ascii")).hexdigest()


@dataclass
class ChainCheck:
    """The outcome of checking a chain: the first problem (None when intact), its head and length."""

    problem: str | None
    head: str = GENESIS
    entries: int = 0
    records: dict = field(default_factory=dict)  # hash → envelope, for the rows that carry one


def check_chain(items, where: Callable[[int, dict], str]) -> ChainCheck:
    """Check chain items in order: each {"id", "prev_hash", "hash"} with its "record" envelope or "content_hash".

    ``where(number, item)`` names an item in a problem message.
    """
    out = ChainCheck(None)
    for number, item in enumerate(items, start=1):
        try:
            if "record" in item:
                r = item["record"]
                env = envelope_of(r["id"], r["kind"], r["entry"], r["recorded_at"], r["recorded_by"],
                                  r["supersedes"], r["reason"], r["state"], r["keep_until"])
                digest = content_hash(env)
            else:
                digest = item["content_hash"]
            if item["prev_hash"] != out.head:
                out.problem = f"{where(number, item)}: prev_hash does not match the previous entry's hash"
            elif link_hash(out.head, digest) != item["hash"]:
                out.problem = f"{where(number, item)}: hash does not match its content"
        except (KeyError, TypeError, ValueError) as exc:
            out.problem = f"{where(number, item)}: unreadable ({exc.__class__.__name__})"
        if out.problem:
            return out
        if "record" in item:
            out.records[item["hash"]] = item["record"]
        out.head, out.entries = item["hash"], out.entries + 1
    return out
