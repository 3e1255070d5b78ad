"""Chain files of the audit pack (``chains/<kind>.jsonl``): every row of a logbook from its first entry to its
head — rows dated inside the period with their full record, the others with only their content hash — so the
chain verifies end to end without carrying entries from outside the period."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from agent.logbooks import ChainCheck, chain_head, check_chain, content_hash, entry_date, list_entries
from agent.store import Store

# --------------------------------------------------------------------------- chains


def chain_lines(store: Store, kind: str, start: date, end: date) -> tuple[bytes, str, int]:
    """Return a logbook's chain file (JSON lines), its head and its number of rows."""
    lines = []
    for r in list_entries(store, kind, history=True):
        day = entry_date(kind, r.entry)
        item = {"id": r.id, "prev_hash": r.prev_hash, "hash": r.hash}
        if day is None or start <= day <= end:
            item["record"] = r.envelope()
        else:
            item["content_hash"] = content_hash(r.envelope())
        lines.append(json.dumps(item, ensure_ascii=False, sort_keys=True))
    head, n = chain_head(store, kind)
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"), head, n


def json_lines(text: str) -> list[str]:
    """Return the lines of a JSON-lines text, split at "\\n" only.

    ``str.splitlines`` also splits at U+2028, U+2029, U+0085 and a few controls, which ``json.dumps`` leaves
    unescaped inside strings (``ensure_ascii=False``): a visitor's name holding one would split its line.
    """
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def check_chain_file(data: bytes, name: str) -> ChainCheck:
    """Check a chain file of the pack; problems name the file, line and entry."""
    try:
        lines = json_lines(data.decode("utf-8"))
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
