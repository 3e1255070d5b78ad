"""How far a history being loaded has come (the demo's days of simulated readings), for the page to say so.

The demo sends days of history through the broker before it runs live; until the agent has stored
them and judged them once, the dashboard's verdict is the verdict of a partial history and will
change. :class:`HistoryLoad` follows it — sent, stored, judged — and keeps its state in the ``kv``
table (``demo.history``); the dashboard shows "geschiedenis laden… 40 %" until the state is done.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from agent.store import Store, last_evaluated, newest_reading_ms, open_store, to_ms

log = logging.getLogger(__name__)

HISTORY_KV = "demo.history"
STORED_SLACK = timedelta(minutes=2)  # the newest stored reading may lag the last message sent this much


@dataclass(frozen=True)
class HistoryState:
    """Where the history stands: ``loading`` (percent stored), ``judging`` (stored, not yet scored), ``done``."""

    state: str
    percent: int

    @property
    def loading(self) -> bool:
        """Return whether the verdict on the page may still change because of the history."""
        return self.state != "done"


def read_history(store: Store) -> HistoryState | None:
    """Return the state of a history being loaded, or None when none was (a farm, not the demo)."""
    text = store.get_kv(HISTORY_KV)
    if not text:
        return None
    try:
        doc = json.loads(text)
        return HistoryState(str(doc["state"]), int(doc["percent"]))
    except (ValueError, KeyError, TypeError):
        return None


def history_state(start_ms: int, target_ms: int, newest_ms: int | None, sent: bool,
                  judged_at_ms: int | None) -> HistoryState:
    """Return the state from the stored history and the last score (pure: the moments are passed in).

    ``target_ms`` is the moment the history reaches (when the sender caught up with the present, else
    now); it is stored once the newest reading is within :data:`STORED_SLACK` of it, and judged once a
    score was evaluated at or after it.
    """
    span = max(1, target_ms - start_ms)
    percent = 0 if newest_ms is None else max(0, min(99, int(100 * (newest_ms - start_ms) / span)))
    stored = sent and newest_ms is not None and newest_ms >= target_ms - STORED_SLACK.total_seconds() * 1000
    if not stored:
        return HistoryState("loading", percent)
    if judged_at_ms is None or judged_at_ms < target_ms:
        return HistoryState("judging", 99)
    return HistoryState("done", 100)


class HistoryLoad:
    """Follow a history from ``start`` while it is sent, stored and judged; keep its state in the kv table."""

    def __init__(self, db_path: str, start: datetime, clock: Callable[[], datetime], *, every_s: float = 1.0):
        self.db_path, self.start, self.clock, self.every_s = db_path, start, clock, every_s
        self.sent_at: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.state = HistoryState("loading", 0)

    def caught_up(self) -> None:
        """Note that the sender has sent the whole history (it runs live from now)."""
        self.sent_at = self.clock()

    def check(self, store: Store) -> HistoryState:
        """Work out the state now and store it when it changed (this runs every second)."""
        target = self.sent_at or self.clock()
        judged = last_evaluated(store)  # the snapshot's moment only: the score itself is not needed here
        state = history_state(to_ms(self.start), to_ms(target), newest_reading_ms(store),
                              self.sent_at is not None, to_ms(datetime.fromisoformat(judged)) if judged else None)
        if state != self.state or store.get_kv(HISTORY_KV) is None:
            store.set_kv(HISTORY_KV, json.dumps({"state": state.state, "percent": state.percent}))
        self.state = state
        return state

    def start_thread(self, on_change: Callable[[HistoryState], None] | None = None) -> "HistoryLoad":
        """Check every second in a thread of its own until the history is judged."""

        def loop() -> None:
            store = open_store(self.db_path)
            last = None
            try:
                while not self._stop.is_set():
                    try:
                        state = self.check(store)
                    except Exception:  # noqa: BLE001 — a progress line must never stop the demo
                        log.exception("history progress check failed")
                        state = self.state
                    if on_change and state != last:
                        on_change(state)
                    last = state
                    if not state.loading:
                        return
                    self._stop.wait(self.every_s)
            finally:
                store.close()

        self._thread = threading.Thread(target=loop, name="ikb-demo-history", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop following (the state stays as it was last stored)."""
        self._stop.set()
        if self._thread:
            self._thread.join(5)
