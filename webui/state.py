"""What the web app holds between requests: configuration, per-thread stores, the clock, the score.

Each server thread gets its own SQLite connection, so one slow query never
queues the others behind a lock; the database runs in WAL mode, so readers here
never block the ``run`` process writing readings.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, g

from agent import clock
from agent.config import Settings
from agent.store import Store, open_store
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

    The run loop's ``findings`` table is preferred when fresher (see
    :func:`webui.scores.current`); this cache provides the due list and
    covers a farm where ``ikb-agent run`` is not (yet) running.
    """

    def __init__(self, ttl_s: float):
        self.ttl_s = ttl_s
        self.value: Computed | None = None
        self.lock = threading.Lock()
        self.refreshing = False
        self.generation = 0  # bumped by every write: a score computed before it must not be kept

    def invalidate(self) -> None:
        """Drop the cached score after a write from this process (the next page recomputes)."""
        with self.lock:
            self.value = None
            self.generation += 1

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
        """Recompute on a thread of its own, with its own connection."""
        store = open_store(app.extensions["ikb"].store_path)
        try:
            self._compute(app, store, app.config["CLOCK"]())
        except Exception:  # noqa: BLE001 - a failed refresh keeps the old score and is logged
            log.exception("background score refresh failed")
        finally:
            store.close()
            with self.lock:
                self.refreshing = False


class WebState:
    """The per-app state: configuration, database path, thread-local stores, score cache."""

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
    """Attach the state to the app and open (creating and migrating) the database once."""
    app.config.setdefault("CLOCK", clock.utcnow)
    app.extensions["ikb"] = WebState(config, store_path, app.config["SCORE_TTL_S"])
    store_for_thread(app)


def store_for_thread(app: Flask) -> Store:
    """Return this thread's connection to the farm database, opening it on first use."""
    st: WebState = app.extensions["ikb"]
    store = getattr(st.local, "store", None)
    if store is None:
        store = open_store(st.store_path)
        st.local.store = store
        with st.stores_lock:
            st.stores.append(store)
    return store


def get_store() -> Store:
    """Return the database for the current request."""
    if "store" not in g:
        g.store = store_for_thread(current_app)
    return g.store


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
    store = store_for_thread(app)
    key = store.get_kv(SECRET_KV)
    if key is None:
        with store.transaction() as db:
            # Two processes starting at once both keep the first key written.
            db.execute("INSERT OR IGNORE INTO kv(key, value) VALUES (?, ?)", [SECRET_KV, secrets.token_hex(32)])
        key = store.get_kv(SECRET_KV)
    return key


def warm_up(app: Flask) -> None:
    """Compute the first score and bring the chart roll-ups up to date, in the background."""
    cache = app.extensions["ikb"].scores
    threading.Thread(target=cache._refresh_in_background, args=(app,), daemon=True, name="ikb-web-warmup").start()
    threading.Thread(target=_roll_up_all, args=(app.extensions["ikb"].store_path,), daemon=True,
                     name="ikb-web-rollups").start()


def _roll_up_all(store_path: str) -> None:
    """Build the hourly roll-ups of every sensor so that the first long chart is fast."""
    from agent.store import ensure_rollups

    store = open_store(store_path)
    try:
        for row in store.query("SELECT id FROM sensors"):
            ensure_rollups(store, row["id"])
    except Exception:  # noqa: BLE001 - a cache that is not built yet is built on first use
        log.exception("building chart roll-ups failed")
    finally:
        store.close()
