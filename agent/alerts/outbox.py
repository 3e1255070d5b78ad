"""The persistent outbox: every notification is a committed row before anything is sent.

A :class:`Dispatcher` delivers due rows through their channel and records
every attempt (``delivery_attempts``). A failed attempt is retried after a
backoff that doubles from ``retry_base`` up to ``retry_max`` — forever: a dead
channel delays an alert, it never drops it, and a restart picks up whatever
is still pending. Each channel has its own worker thread, so a receiver that
hangs until its timeout never holds up the others.

Delivery is at least once: a receiver that answered but whose answer was
lost gets the message again, with the same ``message_id``.

States of a row: ``pending`` (to send), ``held`` (an info message waiting for
the digest), ``digested`` (sent inside a digest row), ``delivered``,
``cancelled`` (a repeat or escalation that an acknowledgement made moot),
``failed`` (only for channel tests, which are attempted once).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable, Mapping, Protocol

from agent import clock
from agent.store import Store, to_ms

log = logging.getLogger(__name__)

# Critical first, then warning, then info; oldest first within a severity.
_ORDER = "CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, id"
_COLUMNS = "id, alert_id, channel, event, severity, payload, attempts, created_at"


class DeliveryError(Exception):
    """A channel could not deliver a message; the message says why (shown in the attempt log)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One outbox row as a channel sees it."""

    id: int
    alert_id: int | None
    channel: str
    event: str  # raised | repeat | escalated | resolved | digest | test
    severity: str
    payload: dict
    attempts: int
    created_at: int


class Channel(Protocol):
    """A way to reach someone: delivers one message or raises DeliveryError."""

    key: str

    def send(self, message: Message) -> str:
        """Deliver the message; return what the receiver answered (e.g. ``HTTP 200``)."""


# A hook run just before sending: return the message (possibly annotated) or None to cancel it.
BeforeSend = Callable[[Message], "Message | None"]


def enqueue(db, *, channel: str, event: str, severity: str, payload: dict, now_ms: int,
            alert_id: int | None = None, held: bool = False, not_before_ms: int | None = None) -> int:
    """Insert one message inside the caller's transaction; return its id."""
    cursor = db.execute(
        "INSERT INTO outbox(alert_id, channel, event, severity, payload, state, created_at, next_attempt_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [alert_id, channel, event, severity, json.dumps(payload, ensure_ascii=False),
         "held" if held else "pending", now_ms, now_ms if not_before_ms is None else not_before_ms])
    return cursor.lastrowid


def _message(row) -> Message:
    """Build a Message from an outbox row tuple in _COLUMNS order."""
    return Message(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7])


def due_messages(store: Store, channel: str | None, now_ms: int, limit: int = 100) -> list[Message]:
    """Return pending messages whose next attempt is due, most urgent first."""
    where = "state = 'pending' AND next_attempt_at <= ?"
    params: list = [now_ms]
    if channel is not None:
        where += " AND channel = ?"
        params.append(channel)
    with store.lock:
        rows = store.execute(f"SELECT {_COLUMNS} FROM outbox WHERE {where} ORDER BY {_ORDER} LIMIT ?",
                             params + [limit]).fetchall()
    return [_message(r) for r in rows]


def next_due_ms(store: Store, channel: str) -> int | None:
    """Return when the channel's next pending message is due (ms), or None."""
    with store.lock:
        row = store.execute("SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending' AND channel = ?",
                            [channel]).fetchone()
    return row[0]


def outbox_rows(store: Store, *, undelivered: bool = False, limit: int = 50) -> list[dict]:
    """Return the newest messages (only those not delivered yet, when asked) with their summary."""
    where = "WHERE state IN ('pending', 'failed', 'held')" if undelivered else ""
    return store.query(
        f"SELECT id, alert_id, channel, event, severity, state, created_at, attempts, delivered_at, last_error,"
        f" json_extract(payload, '$.summary') AS summary FROM outbox {where} ORDER BY id DESC LIMIT ?", [limit])


def backoff_ms(attempts: int, base_s: float, max_s: float) -> int:
    """Return the wait before retry number ``attempts`` (1 = first retry): doubling, capped."""
    return int(min(base_s * 2 ** max(attempts - 1, 0), max_s) * 1000)


def record_attempt(store: Store, message: Message, *, ok: bool, detail: str, at_ms: int, duration_ms: int,
                   retry: tuple[float, float] | None) -> None:
    """Log one attempt and move the row on: delivered, retry later, or (retry None) failed."""
    attempts = message.attempts + 1
    with store.transaction(immediate=True) as db:
        db.execute("INSERT INTO delivery_attempts(outbox_id, channel, at, ok, detail, duration_ms)"
                   " VALUES (?, ?, ?, ?, ?, ?)", [message.id, message.channel, at_ms, int(ok), detail[:500],
                                                  duration_ms])
        if ok:
            db.execute("UPDATE outbox SET state = 'delivered', attempts = ?, delivered_at = ?, last_error = NULL"
                       " WHERE id = ?", [attempts, at_ms, message.id])
        elif retry is None:
            db.execute("UPDATE outbox SET state = 'failed', attempts = ?, last_error = ? WHERE id = ?",
                       [attempts, detail[:500], message.id])
        else:
            db.execute("UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                       [attempts, at_ms + backoff_ms(attempts, *retry), detail[:500], message.id])


def cancel(store: Store, message: Message, reason: str, at_ms: int) -> None:
    """Mark a message that no longer needs sending as cancelled, saying why."""
    with store.transaction(immediate=True) as db:
        db.execute("UPDATE outbox SET state = 'cancelled', last_error = ? WHERE id = ? AND state = 'pending'",
                   [reason, message.id])


class Dispatcher:
    """Deliver due outbox rows through their channels, one worker thread per channel."""

    def __init__(self, store: Store, channels: Mapping[str, Channel], *, retry_base: float = 5,
                 retry_max: float = 300, before_send: BeforeSend | None = None,
                 clock_fn: Callable[[], datetime] = clock.utcnow, poll_seconds: float = 2.0):
        self.store = store
        self.channels = dict(channels)
        self.retry = (retry_base, retry_max)
        self.before_send = before_send
        self.clock = clock_fn
        # Rows written by another process (the CLI, the web page) are found by polling this often.
        self.poll_seconds = poll_seconds
        self._wake = {key: threading.Event() for key in self.channels}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def deliver(self, message: Message, now: datetime, *, retry: bool = True) -> bool:
        """Attempt one message now and record the attempt; return whether it was delivered."""
        at_ms = to_ms(now)
        if self.before_send is not None:
            checked = self.before_send(message)
            if checked is None:
                cancel(self.store, message, "niet meer nodig: bevestigd of opgelost", at_ms)
                return False
            message = checked
        channel = self.channels.get(message.channel)
        started = time.monotonic()
        if channel is None:
            ok, detail = False, f"kanaal {message.channel!r} staat niet (meer) in de configuratie"
        else:
            try:
                detail, ok = channel.send(message), True
            except DeliveryError as exc:
                ok, detail = False, str(exc) or type(exc).__name__
            except Exception as exc:  # noqa: BLE001 — a channel bug must not kill the worker; it is logged
                log.exception("channel %s failed on message %s", message.channel, message.id)
                ok, detail = False, f"{type(exc).__name__}: {exc}"
        duration = int((time.monotonic() - started) * 1000)
        record_attempt(self.store, message, ok=ok, detail=detail, at_ms=at_ms, duration_ms=duration,
                       retry=self.retry if retry else None)
        if not ok:
            log.warning("delivery of message %s via %s failed (attempt %s): %s", message.id, message.channel,
                        message.attempts + 1, detail)
        return ok

    def run_once(self, now: datetime, channel: str | None = None) -> int:
        """Attempt every message due at ``now`` (of one channel, or all); return how many were delivered."""
        delivered = 0
        failed_channels: set[str] = set()
        for message in due_messages(self.store, channel, to_ms(now)):
            # After one failure, the channel's other messages wait for their own retry time
            # instead of each waiting out the same dead receiver's timeout now.
            if message.channel in failed_channels:
                continue
            if self.deliver(message, now):
                delivered += 1
            elif message.channel in self.channels:
                failed_channels.add(message.channel)
        return delivered

    # ------------------------------------------------------------------ threads

    def wake(self) -> None:
        """Make every worker look for due messages now."""
        for event in self._wake.values():
            event.set()

    def start(self) -> None:
        """Start one daemon worker per channel."""
        for key in self.channels:
            thread = threading.Thread(target=self._work, args=(key,), name=f"alerts-{key}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the workers (pending rows stay in the outbox for the next start)."""
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _work(self, key: str) -> None:
        """Worker loop of one channel: deliver what is due, then sleep until the next due row or a wake."""
        wake = self._wake[key]
        while not self._stop.is_set():
            wake.clear()
            wait = self.poll_seconds
            try:
                now = self.clock()
                self.run_once(now, key)
                nxt = next_due_ms(self.store, key)
                if nxt is not None:
                    wait = min(wait, max(0.0, (nxt - to_ms(self.clock())) / 1000))
            except Exception:  # noqa: BLE001 — e.g. a locked database: log, back off, go on
                log.exception("alert worker %s", key)
            wake.wait(wait)


def with_payload(message: Message, **extra) -> Message:
    """Return a copy of the message with keys added to its payload."""
    return replace(message, payload={**message.payload, **extra})


def outbox_depth(store: Store) -> dict:
    """Return how many messages wait to be sent (pending; held for a digest), the oldest, and the last error."""
    row = store.query(
        "SELECT count(*) FILTER (WHERE state = 'pending') AS pending, count(*) FILTER (WHERE state = 'held') AS held,"
        " min(created_at) FILTER (WHERE state = 'pending') AS oldest,"
        " max(attempts) FILTER (WHERE state = 'pending') AS attempts FROM outbox WHERE state IN ('pending', 'held')")[0]
    error = store.query("SELECT channel, last_error FROM outbox WHERE state = 'pending' AND last_error IS NOT NULL"
                        " ORDER BY id LIMIT 1")
    return {"pending": row["pending"], "held": row["held"], "oldest_pending_ms": row["oldest"],
            "attempts": row["attempts"] or 0,
            "last_error": {"channel": error[0]["channel"], "error": error[0]["last_error"]} if error else None}
