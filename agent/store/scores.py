"""The score snapshot: `run`'s last whole score, kept for the web page, the API and the alerts to read.

Three tables (migration ``m008_score_snapshot``), written only by ``ikb-agent run``:

- ``findings``: one row per (rule, location); ``document`` is the finding as the score JSON has it
  (DESIGN §3.5), the other columns keep what the alerts and the rule history query;
- ``score_summary``: the rest of the score (verdict, counts, points, the due list) and the findings' order;
- ``score_window``: the window of the last whole evaluation and its moment (`run`'s heartbeat).

Writes are change-only: a finding row is rewritten when its document changed, the summary when it
changed; an evaluation that changes nothing writes the one small ``score_window`` row. Every status
change of a (rule, location) is appended to ``status_changes`` (the alerts poll it).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Callable

from agent.store.connection import Store
from rules.catalogue import load_catalogue
from rules.findings import Finding, Occurrence
from rules.scoring import Score

WINDOW_KEYS = ("at", "since", "findings")  # what the summary leaves to the other two tables
ORDER_KEY = "finding_order"  # in the summary: the findings' (rule, location) in the evaluation's order


@dataclass(frozen=True)
class StoredScore:
    """The snapshot read back: the score, and when its findings or summary last changed."""

    score: Score
    changed_at: datetime


def _dump(doc: dict) -> str:
    """Return a document as compact JSON (equal documents give equal text)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def record_score(store: Store, result: Score, now: datetime, *, whole: bool = True,
                 later: Callable[[Callable[[sqlite3.Connection], None]], None] | None = None,
                 later_within: timedelta = timedelta(0), kept_within: timedelta = timedelta(0)) -> list[dict]:
    """Keep a score as the snapshot, writing only what changed; return the status changes.

    ``whole``: the result is a whole evaluation of ``[since, at]`` (the minute job); findings that
    left it are removed and the window is stored. Otherwise (an on-arrival evaluation of some rules,
    merged into the last snapshot) only findings and the summary are updated.

    ``later``: when the stored window is younger than ``later_within`` and no status changed
    (no finding came, went or changed its status), the write is handed to it (`run` gives the ingest
    thread's next commit of readings) instead of a transaction of its own: a finding whose text
    changed (a running figure, a new occurrence of the same status) and the window go with the
    readings, one commit where there were two (docs/PERFORMANCE.md, "SD-card writes"); readers see it
    that much later. A status change is written at once: the alerts read it. When nothing but the
    window changed and the stored one is younger than ``kept_within`` it is not written at all: the
    stored snapshot says the same, a little older.
    """
    stamp = now.isoformat()
    window = {"id": 1, "since": result.since.isoformat(), "at": result.at.isoformat()}
    documents = {(f.rule, f.location or ""): _dump(f.to_json()) for f in result.findings}
    # The findings' order (the evaluation's: catalogue, then each rule's locations) goes with the summary.
    summary = _summary_text(result)
    age = _window_age(store, result.at) if whole and later is not None else None
    if age is not None and age < later_within:
        edits = _edits_keeping_statuses(store, result, documents, summary, stamp)
        if edits is not None:
            rows, old_summary = edits
            if rows or old_summary is not None:
                later(lambda conn: _write_later(conn, rows, old_summary, summary, window, stamp))
            elif age >= kept_within:
                later(lambda conn: _advance_window(conn, window))
            return []
    changes = []
    with store.transaction(immediate=True) as db:
        previous = {(rule, location): (status, document) for rule, location, status, document in db.execute(
            "SELECT rule, location, status, document FROM findings").fetchall()}
        for f in result.findings:
            key = (f.rule, f.location or "")
            document = documents[key]
            old_status, old_document = previous.get(key, (None, None))
            if old_document == document:
                continue
            if old_status != f.status:
                changes.append({"rule": f.rule, "location": f.location, "from": old_status, "to": f.status,
                                "at": stamp})
                db.execute("INSERT INTO status_changes(rule, location, from_status, to_status, at)"
                           " VALUES (?, ?, ?, ?, ?)", [f.rule, key[1], old_status, f.status, stamp])
            db["findings"].upsert(_row(f, document, stamp), pk=("rule", "location"))
        if whole:
            # A rule that no longer applies (the farm's housing changed) leaves the current view.
            for key in set(previous) - set(documents):
                db.execute("DELETE FROM findings WHERE rule = ? AND location = ?", list(key))
        old = db.execute("SELECT summary FROM score_summary WHERE id = 1").fetchone()
        if old is None or old[0] != summary:
            db["score_summary"].upsert({"id": 1, "summary": summary, "changed_at": stamp}, pk="id")
        if whole:  # this evaluation's window, also when the clock was set back
            db["score_window"].upsert(window, pk="id")
    return changes


def _row(f: Finding, document: str, stamp: str) -> dict:
    """Return the findings row of a finding and its document."""
    return {"rule": f.rule, "location": f.location or "", "status": f.status, "source": f.source,
            "summary": f.summary, "occurrences": json.dumps([o.to_json() for o in f.occurrences], ensure_ascii=False),
            "evaluated_at": stamp, "evidence": f.evidence, "document": document}


def _edits_keeping_statuses(store: Store, result: Score, documents: dict[tuple[str, str], str], summary: str,
                            stamp: str) -> tuple[list[tuple[str, dict]], str | None] | None:
    """Return what a whole score changes in the stored snapshot when no status changes (read only).

    That is the changed findings rows, each with the document it replaces, and the summary it replaces
    (None when the summary is the same); None when a status changes, a finding comes or goes, or there
    is no summary yet: that is written at once.
    """
    stored = {(rule, location): (status, document) for rule, location, status, document in store.execute(
        "SELECT rule, location, status, document FROM findings").fetchall()}
    if stored.keys() != documents.keys():
        return None
    rows = []
    for f in result.findings:
        key = (f.rule, f.location or "")
        status, document = stored[key]
        if status != f.status:
            return None
        if document != documents[key]:
            rows.append((document, _row(f, documents[key], stamp)))
    row = store.execute("SELECT summary FROM score_summary WHERE id = 1").fetchone()
    if row is None:
        return None
    return rows, (row[0] if row[0] != summary else None)


def _write_later(conn: sqlite3.Connection, rows: list[tuple[str, dict]], old_summary: str | None, summary: str,
                 window: dict, stamp: str) -> None:
    """Store a handed-over snapshot inside a later commit (record_score): each finding and the summary only
    where the stored one is still the one it replaces (a newer write of another kind — the alarm rules judged
    on arrival, the minute job writing for itself — is never undone), and the window unless a later one is
    stored."""
    for old, row in rows:
        columns = [c for c in row if c not in ("rule", "location")]
        conn.execute(f"UPDATE findings SET {', '.join(f'{c} = ?' for c in columns)}"
                     " WHERE rule = ? AND location = ? AND document IS ?",
                     [row[c] for c in columns] + [row["rule"], row["location"], old])
    if old_summary is not None:
        conn.execute("UPDATE score_summary SET summary = ?, changed_at = ? WHERE id = 1 AND summary = ?",
                     [summary, stamp, old_summary])
    _advance_window(conn, window)


def _summary_text(result: Score) -> str:
    """Return the summary row of a score: all but its window and findings, and the findings' order."""
    return _dump({**{k: v for k, v in result.to_json().items() if k not in WINDOW_KEYS},
                  ORDER_KEY: [[f.rule, f.location] for f in result.findings]})


def _window_age(store: Store, at: datetime) -> timedelta | None:
    """Return how long before ``at`` the stored window ends; None when there is none or it ends after ``at``
    (a window from the future — the clock was set back — is replaced at once, not by a late hand-over)."""
    row = store.execute("SELECT at FROM score_window WHERE id = 1").fetchone()
    if row is None:
        return None
    age = at - datetime.fromisoformat(row[0])
    return age if age >= timedelta(0) else None


def _advance_window(conn: sqlite3.Connection, window: dict) -> None:
    """Store a window handed over for a later commit, unless a later one was stored meanwhile (record_score)."""
    row = conn.execute("SELECT at FROM score_window WHERE id = 1").fetchone()
    if row is not None and datetime.fromisoformat(row[0]) >= datetime.fromisoformat(window["at"]):
        return
    conn.execute("INSERT INTO score_window(id, since, at) VALUES (1, ?, ?)"
                 " ON CONFLICT(id) DO UPDATE SET since = excluded.since, at = excluded.at",
                 [window["since"], window["at"]])


def _finding(row) -> Finding:
    """Return a findings row as a Finding (rows written before m008 have no document)."""
    rule, location, status, source, summary, occurrences, evidence, document = row
    if document:
        return Finding.from_json(json.loads(document))
    return Finding(rule, location or None, status, source, summary,
                   tuple(Occurrence.from_json(o) for o in json.loads(occurrences or "[]")), evidence)


def latest_score(store: Store) -> StoredScore | None:
    """Return the snapshot `run` stored last, or None when it never stored a whole score."""
    with store.transaction() as db:  # one read transaction: findings, summary and window of one moment
        window = db.execute("SELECT since, at FROM score_window WHERE id = 1").fetchone()
        summary = db.execute("SELECT summary, changed_at FROM score_summary WHERE id = 1").fetchone()
        rows = db.execute("SELECT rule, location, status, source, summary, occurrences, evidence, document"
                          " FROM findings").fetchall()
        changed = db.execute("SELECT max(evaluated_at) FROM findings").fetchone()[0]
    if window is None or summary is None:
        return None
    document = json.loads(summary[0])
    findings = _in_order([_finding(r) for r in rows], document.pop(ORDER_KEY, []))
    last = max(summary[1], changed or summary[1])
    score = replace(Score.from_json({**document, "since": window[0], "at": window[1], "findings": []}),
                    findings=findings)
    return StoredScore(score, datetime.fromisoformat(last))


def _in_order(findings: list[Finding], keys: list) -> list[Finding]:
    """Return findings in the stored order of (rule, location) keys; others after them, in the catalogue's order."""
    position = {(rule, location): i for i, (rule, location) in enumerate(keys)}
    catalogue = {r.id: i for i, r in enumerate(load_catalogue())}
    return sorted(findings, key=lambda f: (position.get((f.rule, f.location), len(position)),
                                           catalogue.get(f.rule, len(catalogue)), f.location or ""))


def stored_findings(store: Store) -> list[Finding]:
    """Return the findings of the snapshot (also those an on-arrival evaluation updated), in the scheme's order."""
    rows = store.execute("SELECT rule, location, status, source, summary, occurrences, evidence, document"
                         " FROM findings").fetchall()
    return _in_order([_finding(r) for r in rows], [])


def status_history(store: Store, rule: str, limit: int = 100) -> list[dict]:
    """Return a rule's recorded status changes, newest first."""
    return store.query("SELECT * FROM status_changes WHERE rule = ? ORDER BY at DESC, id DESC LIMIT ?",
                       [rule, limit])


def status_changes_after(store: Store, last_id: int, limit: int = 1000) -> list[dict]:
    """Return the status changes recorded after row ``last_id``, oldest first."""
    return store.query("SELECT id, rule, location, from_status, to_status, at FROM status_changes WHERE id > ?"
                       " ORDER BY id LIMIT ?", [last_id, limit])


def finding_occurrences(store: Store, rule: str, location: str) -> list[dict]:
    """Return the stored occurrences of one finding (empty when there is none)."""
    rows = store.query("SELECT occurrences FROM findings WHERE rule = ? AND location = ?", [rule, location])
    if not rows:
        return []
    try:
        found = json.loads(rows[0]["occurrences"] or "[]")
    except ValueError:
        return []
    return found if isinstance(found, list) else []


def last_evaluated(store: Store) -> str | None:
    """Return the moment (ISO) of the last whole evaluation `run` stored, or None before the first."""
    row = store.execute("SELECT at FROM score_window WHERE id = 1").fetchone()
    return row[0] if row else None
