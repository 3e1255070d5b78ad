"""Record a repair (herstelmaatregel) of one occurrence of a deviation: checked, with its photos, in the chain.

One function for the page, the API and the CLI: :func:`record_repair`. It validates the entry with the
record model, checks it against the current findings (the occurrence exists, is not repaired yet, is over
unless the farmer declared it), stores the attached photos or documents and then the entry in the
``corrective_actions`` logbook — hash-chained, durable before it returns.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from agent.config import Settings
from agent.logbooks.entries import Saved, _houses, _today, add_entry
from agent.store import DOCUMENT_TYPES, FileError, Store, check_upload, get_file, store_file
from rules.logbooks import FILE_REFERENCE, EntryError, RepairError, repair_problem, validate_entry
from rules.scoring import Score

KIND = "corrective_actions"
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def _reference(file_id: int, data: bytes) -> str:
    """Return the entry's reference to a stored file (its digest puts the file under the chain)."""
    return f"file:{file_id};sha256:{hashlib.sha256(data).hexdigest()}"


def _check_references(store: Store, references: list) -> None:
    """Refuse attachments that do not name a stored file with the same digest."""
    for i, ref in enumerate(references):
        match = FILE_REFERENCE.match(ref) if isinstance(ref, str) else None
        row = get_file(store, int(match.group(1))) if match else None
        if row is None or hashlib.sha256(row["data"]).hexdigest() != match.group(2):
            raise RepairError(("attachments", i), "file")


def record_repair(store: Store, config: Settings, current: Score, data: dict, *, by: str, now: datetime,
                  uploads: list[tuple[str, bytes]] = (), max_bytes: int = MAX_ATTACHMENT_BYTES) -> Saved:
    """Validate a repair against the current score and store it, with its uploads, in the chain.

    ``uploads`` are (file name, bytes): photos or PDF documents, checked by their content. Raises
    EntryError naming the field when the entry does not fit, RepairError when it names no repairable
    occurrence, FileError (at ``attachments``) for an upload it refuses; nothing is stored then.
    """
    if not isinstance(data, dict):
        raise EntryError("", "not_an_object")
    record = validate_entry(KIND, data, houses=_houses(config), today=_today(config, now))
    _check_references(store, record.attachments)
    problem = repair_problem(current.findings, record, current.at, config.farm_view().tz)
    if problem is not None:
        raise problem
    checked = []
    for name, blob in uploads:
        try:
            kind = check_upload(name, blob, allowed=DOCUMENT_TYPES, max_bytes=max_bytes)
        except FileError as exc:
            raise FileError(problems=[replace(p, loc=("attachments",)) for p in exc.problems]) from None
        checked.append((name, blob, kind))
    references = list(record.attachments)
    if checked:
        with store.transaction() as db:
            for name, blob, kind in checked:
                file_id = store_file(db, name=name, content_type=kind, data=blob, uploaded_by=by, now=now)
                references.append(_reference(file_id, blob))
    entry = {**data, "attachments": references}
    return add_entry(store, config, KIND, entry, by=by, now=now)
