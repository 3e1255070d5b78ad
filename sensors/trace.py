"""Trace files (DESIGN §3.4): JSON Lines of ``{"ts", "topic", "payload"}``, read and written.

A line's ``ts`` is the moment of receipt; timestamps inside payloads are judged
against it, never against the wall clock, so a trace from any date replays the
same way. ``payload`` is what the broker would deliver: a string as is, any
other JSON value JSON-encoded. A malformed line becomes a counted rejection.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import IO, Iterable, Iterator

from sensors.decode import HEAD_BYTES
from sensors.model import RawMessage, Rejection


def parse_line(line: str, last_ms: int = 0) -> RawMessage | Rejection:
    """Return one trace line as a RawMessage, or a malformed_line Rejection saying why."""
    def bad(why: str, topic: str = "") -> Rejection:
        return Rejection("malformed_line", topic, line[:HEAD_BYTES].rstrip("\n"), last_ms, why)

    try:
        obj = json.loads(line)
    except RecursionError:
        return bad("nested too deeply")
    except ValueError:
        return bad("not JSON")
    if not isinstance(obj, dict):
        return bad("not a JSON object")
    topic = obj.get("topic")
    if not isinstance(topic, str) or not topic:
        return bad("topic missing or not a string")
    if "payload" not in obj:
        return bad("payload missing", topic)
    received = _receipt_ms(obj.get("ts"))
    if received is None:
        return bad("ts missing or not an ISO 8601 moment with offset", topic)
    payload = obj["payload"]
    try:
        data = payload.encode("utf-8", errors="surrogateescape") if isinstance(payload, str) else \
            json.dumps(payload, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # a lone surrogate from \ud800, or nesting json cannot write back
        return bad("payload cannot be encoded", topic)
    return RawMessage(topic, data, received)


# A receipt time outside these years is no recording of this farm (and would not fit SQLite's integers).
_RECEIPT_MIN_MS = 946_684_800_000  # 2000-01-01
_RECEIPT_MAX_MS = 4_102_444_800_000  # 2100-01-01


def _receipt_ms(ts) -> int | None:
    """Return the ms of a line's receipt time: ISO 8601 with offset, or epoch seconds (2000–2100)."""
    ms = None
    if isinstance(ts, str):
        try:
            moment = datetime.fromisoformat(ts.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            return None  # a receipt time without offset is ambiguous: refuse it
        try:
            ms = int(moment.timestamp() * 1000)
        except (OverflowError, ValueError):
            return None
    elif isinstance(ts, (int, float)) and not isinstance(ts, bool) and 0 < ts < 1e15:  # NaN fails the comparison
        ms = int(ts) if ts >= 100_000_000_000 else int(round(ts * 1000))
    return ms if ms is not None and _RECEIPT_MIN_MS <= ms < _RECEIPT_MAX_MS else None


def read_trace(lines: Iterable[str]) -> Iterator[RawMessage | Rejection]:
    """Yield a message or a rejection per non-blank line, lazily (bounded memory)."""
    last_ms = 0
    for line in lines:
        if not line.strip():
            continue
        item = parse_line(line, last_ms)
        if isinstance(item, RawMessage):
            last_ms = item.received_ms
        yield item


def trace_line(ts_ms: int, topic: str, payload) -> str:
    """Return one trace line (without newline) for a message received at ``ts_ms``."""
    moment = datetime.fromtimestamp(ts_ms / 1000, timezone.utc)
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    return json.dumps({"ts": moment.isoformat(timespec="milliseconds"), "topic": topic, "payload": payload},
                      ensure_ascii=False, separators=(",", ":"))


def write_trace(out: IO[str], messages: Iterable[tuple[int, str, object]]) -> int:
    """Write (ts_ms, topic, payload) messages as trace lines; return how many."""
    n = 0
    for ts_ms, topic, payload in messages:
        out.write(trace_line(ts_ms, topic, payload) + "\n")
        n += 1
    return n
