"""The logbooks in the JSON API: ``/api/v1/logbooks/{kind}`` to read and add, corrections and confirmations.

Each logbook has its own path with its record model as the documented request
body, so the OpenAPI document shows every field with its rule. Writes go
through ``agent.logbooks.entries`` like the CLI and the page: the same validation
(``validate_entry`` with the farm's houses and today), the messages per field
(Dutch, or English when the session chose it), durable before 201 is sent,
append-only (a correction supersedes; nothing is edited or deleted).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from flask import g
from pydantic import BaseModel, ConfigDict, Field

from agent.i18n import translations
from agent.logbooks import (
    LogbookError,
    StoredEntry,
    add_entry,
    confirm_draft,
    correct_entry,
    get_entry,
    list_entries,
    record_repair,
)
from rules.logbooks import LOGBOOKS, EntryError, RepairError, form_fields
from webui.api.core import _Query, api
from webui.api.openapi import ApiError, refused
from webui.i18n import gettext as _
from webui.logbooks import versions
from webui.scores import current
from webui.state import get_config, get_store, get_writer, now, scores

TAG = "logbooks"
MAX_ID = 2**62


class FieldOut(BaseModel):
    """One field of a logbook's record: its label, widget, the rule that demands it."""

    name: str
    label: str
    widget: str
    required: bool
    rule: str | None
    options: dict[str, str] | None


class LogbookOut(BaseModel):
    """A logbook: its record's fields, the rules it answers, how long it is kept."""

    kind: str
    title_nl: str
    title_en: str
    rules: list[str]
    date_field: str
    keep_years: int
    fields: list[FieldOut]


class EntryOut(BaseModel):
    """A stored logbook row with who, when and why, and its links in the hash chain."""

    id: int
    kind: str
    entry: dict[str, Any]
    recorded_at: datetime
    recorded_by: str
    supersedes: int | None
    reason: str | None
    state: Literal["confirmed", "draft", "withdrawn"]
    superseded_by: int | None
    keep_until: date
    prev_hash: str
    hash: str


class FlagOut(BaseModel):
    """Something the farmer must act on at once (A6.2.2 report to the NVWA, a 48-hour visitor…)."""

    code: str
    rule: str
    level: Literal["alert", "warning"]
    message: str
    location: str | None


class SavedOut(BaseModel):
    """A write: the stored row and its flags."""

    entry: EntryOut
    flags: list[FlagOut]


class EntryHistoryOut(BaseModel):
    """One row and every version of its entry, oldest first."""

    entry: EntryOut
    versions: list[EntryOut]


class LogbookQuery(_Query):
    """Which rows: a period by the entry's own date, a house, the whole history."""

    since: date | None = Field(None, description="Entries dated on or after this day (YYYY-MM-DD)")
    until: date | None = Field(None, description="Entries dated on or before this day (YYYY-MM-DD)")
    house: str | None = Field(None, max_length=32, description="Only entries of this house")
    history: bool = Field(False, description="Every row: corrected, withdrawn and draft ones too")


class CorrectionBody(BaseModel):
    """A correction (the fields that change) or a withdrawal, with the reason."""

    model_config = ConfigDict(extra="forbid")
    changes: dict[str, Any] | None = Field(None, description="Only the fields that change; null clears one")
    reason: str = Field(min_length=1, max_length=500, description="Why (kept with the correction)")
    withdraw: bool = Field(False, description="Withdraw the entry instead of correcting it")


class ConfirmationBody(BaseModel):
    """The confirmation of a draft (a generator test the sensors detected), optionally completing it."""

    model_config = ConfigDict(extra="forbid")
    changes: dict[str, Any] | None = Field(None, description="Fields to complete or change while confirming")


def entry_out(row: StoredEntry) -> dict:
    """Return a stored row in the API's shape."""
    return row.to_json()


def _saved(saved) -> dict:
    """Return a write's result and drop the cached score (the evidence changed)."""
    scores().invalidate(now())
    return {"entry": entry_out(saved.entry), "flags": [f.to_json() for f in saved.flags]}


def _row(kind: str, entry_id: int) -> StoredEntry | None:
    """Return a row of this logbook, or None."""
    if kind not in LOGBOOKS or not 1 <= entry_id <= MAX_ID:
        return None
    try:
        row = get_entry(get_store(), entry_id)
    except LogbookError:
        return None
    return row if row.kind == kind else None


@api.route("/api/v1/logbooks", summary="The logbooks and their fields", response=list[LogbookOut], tag=TAG)
def logbooks():
    """Return every logbook with its record's fields."""
    english = translations("en")
    return [{"kind": kind, "title_nl": spec.title, "title_en": english.gettext(spec.title), "rules": list(spec.rules),
             "date_field": spec.date_field, "keep_years": spec.keep_years,
             "fields": [{"name": f.name, "label": _(f.label), "widget": f.widget, "required": f.required,
                         "rule": f.rule, "options": {v: _(label) for v, label in f.options.items()} if f.options else None}
                        for f in form_fields(kind)]}
            for kind, spec in LOGBOOKS.items()]


def _register(kind: str) -> None:
    """Register the list and add operations of one logbook (its record model documents the body)."""
    spec = LOGBOOKS[kind]

    def read(query: LogbookQuery):
        if query.since and query.until and query.since > query.until:
            return refused(422, "invalid", ApiError("since", "before", {"other": "until"}))
        rows = list_entries(get_store(), kind, history=query.history, start=query.since, end=query.until)
        if query.house:
            rows = [r for r in rows if query.house in (r.entry.get("house"), *(r.entry.get("houses") or ()))]
        return [entry_out(r) for r in rows]

    def add(body: dict):
        config, moment = get_config(), now()
        try:
            if kind == "corrective_actions":
                # A repair must name an occurrence of a current deviation: the page's and the CLI's check.
                return _saved(record_repair(get_writer(), config, current(get_store(), config, moment).score, body,
                                            by=g.user["name"], now=moment))
            return _saved(add_entry(get_writer(), config, kind, body, by=g.user["name"], now=moment))
        except (EntryError, RepairError) as exc:
            return refused(422, "invalid", exc)

    read.__name__, add.__name__ = f"list_{kind}", f"add_{kind}"
    read.__doc__ = f"Return the {kind} logbook's entries."
    add.__doc__ = f"Validate and durably store a {kind} entry; return it with its flags."
    title = translations("en").gettext(spec.title)  # the OpenAPI document is in English
    api.route(f"/api/v1/logbooks/{kind}", summary=f"{title} ({', '.join(spec.rules)}): entries",
              query=LogbookQuery, response=list[EntryOut], tag=TAG)(read)
    api.route(f"/api/v1/logbooks/{kind}", "POST", summary=f"{title}: add an entry", body=spec.model,
              raw_body=True, response=SavedOut, status=201, tag=TAG)(add)


for _kind in LOGBOOKS:
    _register(_kind)


@api.route("/api/v1/logbooks/<kind>/<int:entry_id>", summary="One entry with every version of it",
           response=EntryHistoryOut, tag=TAG)
def logbook_entry(kind: str, entry_id: int):
    """Return a row and the versions of its entry (who, when, why)."""
    row = _row(kind, entry_id)
    if row is None:
        return refused(404, "not_found", ApiError("entry_id", "no_entry", {"kind": kind, "id": entry_id}))
    return {"entry": entry_out(row), "versions": [entry_out(v) for v in versions(kind, row)]}


@api.route("/api/v1/logbooks/<kind>/<int:entry_id>/corrections", "POST",
           summary="Correct or withdraw an entry (a new row supersedes it)", body=CorrectionBody,
           response=SavedOut, status=201, tag=TAG,
           errors={409: "The entry was already corrected or withdrawn: correct its newest version."})
def correct_logbook_entry(kind: str, entry_id: int, body: CorrectionBody):
    """Store a correction or withdrawal with who, when and why."""
    if _row(kind, entry_id) is None:
        return refused(404, "not_found", ApiError("entry_id", "no_entry", {"kind": kind, "id": entry_id}))
    if body.withdraw == bool(body.changes):
        return refused(422, "invalid", ApiError("changes", "changes_or_withdraw"))
    try:
        return _saved(correct_entry(get_writer(), get_config(), entry_id, body.changes, by=g.user["name"], now=now(),
                                    reason=body.reason, withdraw=body.withdraw))
    except EntryError as exc:
        return refused(422, "invalid", exc)
    except LogbookError as exc:
        return refused(409, "conflict", exc)


@api.route("/api/v1/logbooks/<kind>/<int:entry_id>/confirmation", "POST",
           summary="Confirm a draft, optionally completing it", body=ConfirmationBody, response=SavedOut,
           status=201, tag=TAG, errors={409: "The entry is not a draft waiting for confirmation."})
def confirm_logbook_entry(kind: str, entry_id: int, body: ConfirmationBody):
    """Confirm a draft entry (a detected generator test, A3.6)."""
    if _row(kind, entry_id) is None:
        return refused(404, "not_found", ApiError("entry_id", "no_entry", {"kind": kind, "id": entry_id}))
    try:
        return _saved(confirm_draft(get_writer(), get_config(), entry_id, by=g.user["name"], now=now(),
                                    changes=body.changes))
    except EntryError as exc:
        return refused(422, "invalid", exc)
    except LogbookError as exc:
        return refused(409, "conflict", exc)
