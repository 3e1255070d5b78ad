"""Tests of the off-farm alert channels (``channel_tests``): written by the alerts, read as A3.4 evidence."""

from __future__ import annotations

from agent.store.connection import Store


def channel_tests(store: Store) -> list[dict]:
    """Return every recorded channel test (channel, sent_at ISO text, delivered)."""
    return store.query("SELECT channel, sent_at, delivered FROM channel_tests")


def record_channel_test(db, channel: str, sent_at: str, delivered: bool, detail: str) -> None:
    """Append a channel test inside the caller's transaction."""
    db.execute("INSERT INTO channel_tests(channel, sent_at, delivered, detail) VALUES (?, ?, ?, ?)",
               [channel, sent_at, int(delivered), detail])
