"""Documents with a validity (certificates, reports, plans): recorded append-only; refusals are DocumentError."""

from __future__ import annotations

from datetime import date, datetime

from agent.clock import keep_until, parse_moment
from agent.store import Store, document_rows, insert_document
from rules.catalogue import normalise_rule_id
from rules.documents import KINDS, SPECS, DocumentError, check_document
from rules.evidence import Document


def _date(field: str, value: str | date | None, required: bool) -> date | None:
    """Parse a YYYY-MM-DD field or raise a DocumentError naming it."""
    if value in (None, ""):
        if required:
            raise DocumentError(field, "date_missing")
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise DocumentError(field, "date_got", {"value": value}) from None


def record_document(store: Store, *, kind: str, issued_on, recorded_by: str, now: datetime,
                    valid_until=None, title: str | None = None, location: str | None = None,
                    note: str = "", house_ids: set[str] | None = None, file_id: int | None = None) -> Document:
    """Validate and durably store one document record; return it as the rules see it."""
    spec = KINDS.get(kind) or SPECS.get(normalise_rule_id(kind))
    if spec is None:
        raise DocumentError("kind", "choose", {"options": sorted(KINDS)})
    issued = _date("issued_on", issued_on, True)
    until = _date("valid_until", valid_until, False)
    if issued > now.date():
        raise DocumentError("issued_on", "future")
    if spec.per_house and location is None:
        raise DocumentError("location", "per_house", {"label": spec.label})
    if location is not None and house_ids is not None and location not in house_ids:
        raise DocumentError("location", "choose", {"options": sorted(house_ids)})
    if not recorded_by.strip():
        raise DocumentError("recorded_by", "missing")
    check_document(spec, issued, until, location)
    title = (title or spec.label).strip()
    with store.transaction() as db:
        document_id = insert_document(
            db, rule=spec.rule, kind=spec.kind, title=title, issued_on=issued.isoformat(),
            valid_until=until.isoformat() if until else None, location=location, note=note, file_id=file_id,
            recorded_by=recorded_by.strip(), recorded_at=now.isoformat(), keep_until=keep_until(now))
    return Document(document_id, spec.rule, spec.kind, title, issued, until, location, now, note)


def _to_document(row: dict) -> Document:
    """Turn a documents row into the rules' Document."""
    return Document(
        id=row["id"], rule=row["rule"], kind=row["kind"], title=row["title"],
        issued_on=date.fromisoformat(row["issued_on"]),
        valid_until=date.fromisoformat(row["valid_until"]) if row["valid_until"] else None,
        location=row["location"], recorded_at=parse_moment(row["recorded_at"]), note=row["note"],
    )


def load_documents(store: Store) -> list[Document]:
    """Return every recorded document, oldest first."""
    return [_to_document(r) for r in document_rows(store)]
