"""What the web app holds between requests: configuration, per-thread stores, the clock, the score.

The web process reads; ``ikb-agent run`` writes. Each server thread gets two
SQLite connections, opened on first use:

- :func:`get_store`: read-only (``mode=ro``), for everything the page shows —
  evidence, the score snapshot, logbooks, accounts;
- :func:`get_writer`: for what the web process owns (``agent.store.WEB_WRITES``:
  accounts, logins, API tokens, its settings, what the farmer records, alert
  acknowledgements); its authorizer refuses every other write.

Separate connections per thread, so one slow query never queues the others
behind a lock; the database runs in WAL mode, so readers here never block the
``run`` process writing readings.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, g, request

from agent import clock
from agent.config import Settings
from agent.memory import release_memory
from agent.store import SMALL_CACHE_KIB, WEB_WRITES, Store, open_store
from rules.scoring import Score

log = logging.getLogger(__name__)

SECRET_KV = "web.secret_key"


@dataclass
class Computed:
    """A score the web process computed itself, and when."""

    score: Score
    computed_at: float  # time.monotonic()


class ScoreCache:
    """The web process's own evaluation, recomputed in the background when older than the TTL.

    Used when ``ikb-agent run`` has not stored a recent score snapshot, or when this
    process wrote evidence after it (see :func:`webui.scores.current`): computed in
    memory from the stored evidence, writing nothing.
    """

    def __init__(self, ttl_s: float):
        self.ttl_s = ttl_s
        self.value: Computed | None = None
        self.lock = threading.Lock()
        self.refreshing = False
        self.generation = 0  # bumped by every write: a score computed before it must not be kept
        self.written_at: datetime | None = None  # this process's latest evidence write (the app's clock)

    def invalidate(self, written_at: datetime | None = None) -> None:
        """Drop the cached score after a write from this process (the next page recomputes); ``written_at``:
        the write's moment, so `run`'s snapshots from before it are not shown."""
        with self.lock:
            self.value = None
            self.generation += 1
            if written_at is not None:
                self.written_at = max(self.written_at or written_at, written_at)

    def get(self, app: Flask, now: datetime) -> Computed:
        """Return the cached score; compute now when there is none, refresh in the background when old."""
        value = self.value
        if value is None:
            return self._compute(app, store_for_thread(app), now)
        if time.monotonic() - value.computed_at > self.ttl_s:
            with self.lock:
                start = not self.refreshing
                self.refreshing = True
            if start:
                threading.Thread(target=self._refresh_in_background, args=(app,), daemon=True,
                                 name="ikb-web-score").start()
        return value

    def _compute(self, app: Flask, store: Store, now: datetime) -> Computed:
        """Evaluate every rule over the last 30 days and keep the result."""
        from agent.evaluation import score_window

        config: Settings = app.extensions["ikb"].config
        started = time.monotonic()
        with self.lock:
            generation = self.generation
        result = score_window(store, config, at=now, since=now - timedelta(days=30))
        value = Computed(result, time.monotonic())
        log.debug("score computed in %.0f ms", (value.computed_at - started) * 1000)
        with self.lock:
            # A background refresh that began before a write would otherwise put the old score back.
            if generation == self.generation:
                self.value = value
        return value

    def _refresh_in_background(self, app: Flask) -> None:
        """Recompute on a thread of its own, with its own (read-only) connection."""
        store = open_store(app.extensions["ikb"].store_path, readonly=True)
        try:
            self._compute(app, store, app.config["CLOCK"]())
        except Exception:  # noqa: BLE001 - a failed refresh keeps the old score and is logged
            log.exception("background score refresh failed")
        finally:
            store.close()
            with self.lock:
                self.refreshing = False


class WebState:
    """The per-app state: configuration, database path, thread-local connections, score cache."""

    def __init__(self, config: Settings, store_path: str, score_ttl_s: float):
        self.config = config
        self.store_path = store_path
        self.local = threading.local()
        self.stores: list[Store] = []
        self.stores_lock = threading.Lock()
        self.scores = ScoreCache(score_ttl_s)

    def close(self) -> None:
        """Close every connection this app opened."""
        with self.stores_lock:
            for s in self.stores:
                s.close()
            self.stores.clear()


def init_app(app: Flask, config: Settings, store_path: str) -> None:
    """Attach the state to the app and open the database once (the writer creates and migrates it)."""
    app.config.setdefault("CLOCK", clock.utcnow)
    app.extensions["ikb"] = WebState(config, store_path, app.config["SCORE_TTL_S"])
    writer_for_thread(app)
    store_for_thread(app)
    app.teardown_request(_release_memory)


def _release_memory(exc: BaseException | None) -> None:
    """Hand what a page's work freed back to the system (a dashboard allocates several MB and frees them)."""
    if request.endpoint != "static":
        release_memory()


def _thread_store(app: Flask, name: str, **options) -> Store:
    """Return this thread's connection of one kind, opening it on first use."""
    st: WebState = app.extensions["ikb"]
    store = getattr(st.local, name, None)
    if store is None:
        store = open_store(st.store_path, **options)
        setattr(st.local, name, store)
        with st.stores_lock:
            st.stores.append(store)
    return store


def store_for_thread(app: Flask) -> Store:
    """Return this thread's read-only connection to the farm database."""
    # One reader per waitress thread: a small page cache each (512 KiB) instead of SQLite's 2 MB (5 MB less resident
    # with 4 threads; the dashboard's time unchanged, the pages come from the OS's cache of the file).
    return _thread_store(app, "store", readonly=True, cache_kib=SMALL_CACHE_KIB)


def writer_for_thread(app: Flask) -> Store:
    """Return this thread's connection for the web's own writes (every other write is refused)."""
    return _thread_store(app, "writer", writes=WEB_WRITES, cache_kib=SMALL_CACHE_KIB)


def get_store() -> Store:
    """Return the read-only database for the current request: what the page shows."""
    if "store" not in g:
        g.store = store_for_thread(current_app)
    return g.store


def get_writer() -> Store:
    """Return the connection for what the web owns (``agent.store.WEB_WRITES``); it refuses other writes."""
    if "writer" not in g:
        g.writer = writer_for_thread(current_app)
    return g.writer


def get_config() -> Settings:
    """Return the farm configuration."""
    return current_app.extensions["ikb"].config


def now() -> datetime:
    """Return the current moment (the app's clock; tests pass a fixed one)."""
    return current_app.config["CLOCK"]()


def scores() -> ScoreCache:
    """Return the app's score cache."""
    return current_app.extensions["ikb"].scores


def stored_secret_key(app: Flask) -> str:
    """Return the session signing key kept in the database, generating it on first start."""
    store = writer_for_thread(app)
    # Two processes starting at once both keep the first key written.
    return store.get_kv(SECRET_KV) or store.setdefault_kv(SECRET_KV, secrets.token_hex(32))


def warm_up(app: Flask) -> None:
    """Compute the page's own first score in the background when ``run`` has no fresh snapshot."""
    from webui.scores import needs_own_score

    if not needs_own_score(app, store_for_thread(app), app.config["CLOCK"]()):
        return
    cache = app.extensions["ikb"].scores
    threading.Thread(target=cache._refresh_in_background, args=(app,), daemon=True, name="ikb-web-warmup").start()
