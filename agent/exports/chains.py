"""Chain files of the audit pack (``chains/<kind>.jsonl``): every row of a logbook, from its first entry to its
head, each with its full record, so that the chain proves the pack complete.

A pack of format 1 carried rows outside the period as a digest only; but then a row *inside* the period could
be turned into a digest too, taken out of the CSV, XLSX and PDF, and the chain head — the fingerprint — stayed
the same. A digest does not say its entry's date. So every row carries its record now, and a digest-only line
is refused by the verifier (the pack cannot show that it is complete).

:func:`snapshot` is also where an export checks the database's chain before it writes anything: rows edited
outside ikb-agent break it, and no export is made of them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from agent.exports.common import ExportError
from agent.logbooks import GENESIS, ChainCheck, StoredEntry, check_chain, list_entries, with_successors
from agent.store import Store

# Dutch first (the auditor reads it in verify's output, like verify's other lines); one place, for the catalogue.
MESSAGES = {
    "digest_only": ("{where}: alleen een digest, geen registratie: het pakket kan niet aantonen dat het volledig is "
                    "(gemaakt vóór pakketformaat 3?); exporteer opnieuw"),
}


@dataclass(frozen=True)
class Snapshot:
    """One logbook's whole history as read once for an export, its chain checked."""

    kind: str
    history: list[StoredEntry]

    @property
    def head(self) -> str:
        """Return the chain head (GENESIS for an empty logbook)."""
        return self.history[-1].hash if self.history else GENESIS

    @property
    def entries(self) -> int:
        """Return the number of rows in the chain."""
        return len(self.history)


def snapshot(store: Store, kind: str) -> Snapshot:
    """Read a logbook's history once and check its chain; raise ExportError when it is broken."""
    history = list_entries(store, kind, history=True)
    items = ({"id": r.id, "prev_hash": r.prev_hash, "hash": r.hash, "record": r.envelope()} for r in history)
    problem = check_chain(items, lambda n, item: f"regel #{item.get('id')}").problem
    if problem:
        raise ExportError(kind, "chain_broken", {"problem": problem})
    return Snapshot(kind, history)


def chain_file(snap: Snapshot) -> bytes:
    """Return a logbook's chain file (JSON lines): every row with its links and its full record."""
    lines = [json.dumps({"id": r.id, "prev_hash": r.prev_hash, "hash": r.hash, "record": r.envelope()},
                        ensure_ascii=False, sort_keys=True) for r in snap.history]
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")


def json_lines(text: str) -> list[str]:
    """Return the lines of a JSON-lines text, split at "\\n" only.

    ``str.splitlines`` also splits at U+2028, U+2029, U+0085 and a few controls, which ``json.dumps`` leaves
    unescaped inside strings (``ensure_ascii=False``): a visitor's name holding one would split its line.
    """
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def check_chain_file(data: bytes, name: str) -> tuple[ChainCheck, list[StoredEntry]]:
    """Check a chain file of the pack; return the check and the history it carries (problems name file and line)."""
    try:
        lines = json_lines(data.decode("utf-8"))
    except UnicodeDecodeError:
        return ChainCheck(f"{name}: not UTF-8 text"), []
    items = []
    for number, line in enumerate(lines, start=1):
        try:
            item = json.loads(line)
        except (ValueError, RecursionError):
            return ChainCheck(f"{name} line {number}: not valid JSON"), []
        if not isinstance(item, dict):
            item = {}
        if "record" not in item:
            return ChainCheck(MESSAGES["digest_only"].format(where=f"{name} line {number}")), []
        items.append(item)
    checked = check_chain(items, lambda n, item: f"{name} line {n} (entry #{item.get('id')})")
    if checked.problem:
        return checked, []
    history = [StoredEntry(r["id"], r["kind"], r["entry"], r["recorded_at"], r["recorded_by"], r["supersedes"],
                           r["reason"], r["state"], item["prev_hash"], item["hash"], r["keep_until"])
               for item in items for r in (item["record"],)]
    return checked, with_successors(history)


def fingerprint(heads: dict[str, str]) -> str:
    """Return one hash over every logbook's chain head: compare it with the printed copy or the device."""
    return hashlib.sha256("".join(f"{k}:{v}\n" for k, v in sorted(heads.items())).encode()).hexdigest()
