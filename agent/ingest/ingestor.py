"""The ingest sink: decode, validate, store in batches, then acknowledge, then tell the listeners.

Order matters for zero loss (DESIGN §5): a batch of messages is committed (WAL,
``synchronous=FULL``) *before* any of its MQTT messages is acknowledged, so a
crash at any point leaves every unacknowledged message with the broker, which
delivers it again. What was committed but not yet acknowledged comes back
marked as a duplicate (DUP flag, same packet id); the ingestor remembers the
packet ids and payload checksums of its last ``receive_maximum`` committed
messages (the ring ``ingest_deliveries``, written in the same transaction) and drops such
redeliveries, so every message is stored exactly once.

Batches are bounded by size (``[ingest] batch_size``) and age
(``flush_interval_ms``): SD cards die of tiny transactions. Alarm-class
readings (:func:`rules.kinds.is_alarm`) are committed at once. A broker that
waits for our acknowledgements stops sending, so a burst followed by a short
silence is committed without waiting for the age bound.

After each commit, every listener gets the newly stored readings, in this
(the ingest) thread; one that raises is logged and ingestion goes on.

No message can stop ingestion: whatever decoding a message raises, or storing
one of its readings, dead-letters that message with the reason (``decode_failed``,
``store_failed``), and it is acknowledged like any rejection — so a poisonous
message is never redelivered into a loop. Only the database itself failing
(disk full, I/O error) holds a batch back; it is retried and nothing is
acknowledged meanwhile. If the ingest thread dies all the same, :attr:`Ingestor.failure`
says why and ``ikb-agent run`` exits non-zero so systemd restarts it.
See docs/INGEST.md.
"""

from __future__ import annotations

import functools
import logging
import queue
import sqlite3
import struct
import threading
import time
import zlib
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from agent.config import Settings
from agent.store import Store, close_offline_events, last_reading, last_seen, recent_id, recent_key, sync_sensors
from rules.kinds import KINDS, STATE_HEARTBEAT_MS, is_alarm
from sensors.decode import Decoder, Limits, head_of, printable
from sensors.model import RawMessage, Reading, Rejection, SensorSpec

log = logging.getLogger(__name__)

# The broker waits for our acknowledgements (it has sent its whole window): commit without waiting for
# flush_interval. Seen as at least BURST_MIN messages waiting that came in one burst (within BURST_SPAN_S)
# and then nothing for IDLE_GAP_S (a backlog draining), or nothing at all for STALL_GAP_S (a broker whose
# window is smaller than a flush interval of live traffic).
BURST_MIN = 20
BURST_SPAN_S = 0.25
IDLE_GAP_S = 0.005
STALL_GAP_S = 1.0
ALARM_KINDS = frozenset({"ventilation_alarm", "mains", "generator"})  # a change of these is committed at once
# Messages waiting for the ingest thread; paho blocks (TCP backpressure: the broker keeps them) beyond. During a
# backlog the queue stays full; 20,000 held 6.6 MB of messages at `run`'s peak (issue 15) and drained no faster
# than 2,000 (bench/ingest.py, docs/PERFORMANCE.md).
QUEUE_MAX = 2_000
RETRY_DELAYS_S = (0.5, 1, 2, 5, 10, 30)  # after a failed commit; the batch is kept and retried
LEARN_GAPS = 32  # gaps remembered per sensor to learn its interval
LEARN_MIN = 8  # gaps needed before an interval is learned
# Live, sensor_health (last heard, last value, learned interval) is written with a commit at most this
# often: it is not evidence (the readings are), `run`'s own health check reads the moments in memory
# (:meth:`Ingestor.heard`), and what other processes show takes the newest stored reading when later
# (agent.store.events.sensor_health_rows). Its page in every minute's commit was a frame a minute.
HEALTH_WRITE_S = 600
IDLE_TICK_S = 1.0  # an idle ingest loop still turns this often: the watchdog's sign that it is alive


@dataclass(frozen=True, slots=True)
class StoredReading:
    """A reading as committed to the database, as listeners receive it."""

    sensor_id: int
    kind: str
    location: str
    ts_ms: int
    value: float
    topic: str


Listener = Callable[[list[StoredReading]], None]
Acker = Callable[[list[RawMessage]], None]


@dataclass
class IngestCounts:
    """Running totals: readings stored, rejections, duplicates, and rejections by reason."""

    stored: int = 0
    rejected: int = 0
    duplicates: int = 0
    reasons: Counter = field(default_factory=Counter)

    def to_json(self) -> dict:
        """Return the replay contract's object (DESIGN §3.1)."""
        return {"stored": self.stored, "rejected": self.rejected, "duplicates": self.duplicates,
                "reasons": dict(sorted(self.reasons.items()))}


def sensor_specs(store: Store, settings: Settings, now: datetime) -> list[SensorSpec]:
    """Register the configured sensors and return them as the decoder sees them."""
    rows = sync_sensors(store, settings.sensors, now)
    specs = []
    for s in settings.sensors:
        row = rows[(s.topic, s.field or "")]
        specs.append(SensorSpec(row.id, s.topic, s.field or "", s.kind, s.location, s.ts_field, s.invert))
    return specs


def decoder_for(settings: Settings, specs: list[SensorSpec]) -> Decoder:
    """Return a decoder with the configured limits and the farm's time zone."""
    ing = settings.ingest
    limits = Limits(max_payload_bytes=ing.max_payload_bytes, max_future_ms=ing.max_future_s * 1000,
                    max_age_ms=int(ing.max_age_days * 86_400_000))
    return Decoder(specs, limits, settings.farm_view().tz)


# Live readings are appended to readings_recent (one or two pages a commit, whatever the sensors) and
# moved into readings_main, clustered by sensor, every FOLD_EVERY_S (agent.store.schema m010). A
# trace replay's big batches go to readings_main at once. Either way a (sensor, ts) is stored once.
@functools.lru_cache(maxsize=64)
def _values(rows: int, width: int) -> str:
    """Return ``(?,?,…),(?,?,…),…``: ``rows`` rows of ``width`` parameters."""
    return ",".join(["(" + ",".join("?" * width) + ")"] * rows)


@functools.lru_cache(maxsize=32)
def insert_sql(table: str, rows: int = 1) -> str:
    """Return an INSERT of ``rows`` readings (sensor, ts, value) into ``table``, each only when the other
    table does not hold its (sensor, ts): a reading is stored once (readings_recent or readings_main)."""
    values = f"FROM (VALUES {_values(rows, 3)}) AS v WHERE NOT EXISTS"
    if table == "readings_recent":  # keyed by moment and sensor (agent.store.schema m011)
        return (f"INSERT OR IGNORE INTO readings_recent(id, sensor_id, ts, value) SELECT"
                f" {recent_id('column2', 'column1')}, column1, column2, column3 {values}"
                f" (SELECT 1 FROM readings_main AS o WHERE o.sensor_id = v.column1 AND o.ts = v.column2)")
    return (f"INSERT OR IGNORE INTO readings_main(sensor_id, ts, value) SELECT column1, column2, column3 {values}"
            f" (SELECT 1 FROM readings_recent AS o WHERE o.id = {recent_id('v.column2', 'v.column1')})")


# A batch's rows go in with multi-row statements instead of executemany: executemany steps once per row,
# and every step lets go of the GIL, a hand-over to paho's network thread and back each time (500 a batch;
# bench/ingest.py). Each statement takes a power of two rows and at most 999 parameters (SQLite's oldest
# limit), so a handful of statements, prepared once and cached by the sqlite3 module, covers any batch.
MAX_PARAMS = 999


def execute_rows(conn: sqlite3.Connection, sql: Callable[[int], str], rows: list[tuple]) -> int:
    """Run ``sql(n)`` (a statement of n rows of VALUES) over ``rows`` in chunks; return the rows changed."""
    if not rows:
        return 0
    width = len(rows[0])
    most = 1 << ((MAX_PARAMS // width).bit_length() - 1)
    changed, start, left = 0, 0, len(rows)
    while left:
        n = most if left >= most else 1 << (left.bit_length() - 1)
        chunk = rows[start:start + n]
        # rowcount is sqlite3_changes() of this statement: rows written by triggers are not counted
        changed += conn.execute(sql(n), [x for row in chunk for x in row]).rowcount
        start += n
        left -= n
    return changed


@functools.lru_cache(maxsize=16)
def delivery_upsert(rows: int = 1) -> str:
    """Return an upsert of ``rows`` remembered deliveries (slot, seq, packet id, checksum) into the ring."""
    return (f"INSERT INTO ingest_deliveries(slot, seq, mid, crc) VALUES {_values(rows, 4)} ON CONFLICT(slot)"
            " DO UPDATE SET seq = excluded.seq, mid = excluded.mid, crc = excluded.crc")


# A fold writes at least one page of readings_main per sensor (and splits what is full), whatever it
# moves, so fewer folds write fewer pages: 16 sensors, folded hourly, 66 frames a fold; every six
# hours, 129: 21.5 frames an hour instead of 66 (bench/fold_cost.py). A large
# farm folds by rows (100 sensors every 10 s reach FOLD_ROWS in about 10 minutes, as before). Readers
# scan readings_recent by time, so FOLD_ROWS bounds their work (docs/PERFORMANCE.md, "SD-card writes").
FOLD_EVERY_S = 6 * 3600
FOLD_ROWS = 6_000


def fold_recent(conn: sqlite3.Connection) -> int:
    """Move every row of readings_recent into readings_main inside the caller's transaction; return how many."""
    conn.execute("INSERT OR IGNORE INTO readings_main(sensor_id, ts, value)"
                 " SELECT sensor_id, ts, value FROM readings_recent ORDER BY sensor_id, ts")
    return conn.execute("DELETE FROM readings_recent").rowcount


def staged_count(store: Store) -> int:
    """Return how many live readings wait in readings_recent."""
    return store.execute("SELECT count(*) FROM readings_recent").fetchone()[0]


def load_deliveries(store: Store) -> list[tuple[int, int, int, int]]:
    """Return the remembered deliveries (slot, seq, packet id, checksum), oldest first."""
    return store.execute("SELECT slot, seq, mid, crc FROM ingest_deliveries ORDER BY seq").fetchall()


# A live batch of at most this many deliveries carries its guard on its newest row of readings_recent
# (schema m012): 8 + 6 bytes each, well inside a page. A bigger batch writes the ring.
DELIVERY_TAG_MAX = 128
_TAG_HEAD = struct.Struct("<q")
_TAG_ITEM = struct.Struct("<HI")


def pack_deliveries(first_seq: int, delivered: list[tuple[int, int]]) -> bytes:
    """Return the tag of a batch: the sequence number of its first delivery, then (packet id, checksum) each."""
    return _TAG_HEAD.pack(first_seq) + b"".join(_TAG_ITEM.pack(mid & 0xFFFF, crc) for mid, crc in delivered)


def unpack_deliveries(blob: bytes) -> list[tuple[int, int, int]]:
    """Return (seq, packet id, checksum) of each delivery of a tag; a damaged tag gives none (and is logged)."""
    if not isinstance(blob, bytes) or len(blob) < _TAG_HEAD.size or (len(blob) - _TAG_HEAD.size) % _TAG_ITEM.size:
        log.warning("a damaged delivery guard on readings_recent (%r) was ignored: a redelivery of its batch after"
                    " a crash would be stored again", blob[:40] if isinstance(blob, bytes) else type(blob).__name__)
        return []
    (first,) = _TAG_HEAD.unpack_from(blob)
    return [(first + i, mid, crc) for i, (mid, crc) in enumerate(_TAG_ITEM.iter_unpack(blob[_TAG_HEAD.size:]))]


def load_tagged(store: Store) -> list[tuple[int, int, int]]:
    """Return (seq, packet id, checksum) of the deliveries carried by rows of readings_recent."""
    return [d for (blob,) in store.execute("SELECT deliveries FROM readings_recent WHERE deliveries IS NOT NULL")
            for d in unpack_deliveries(blob)]


def ring_rows(first_seq: int, delivered: Iterable[tuple[int, int]], window: int) -> list[tuple[int, int, int, int]]:
    """Return the ring's rows (slot, seq, packet id, checksum) of deliveries numbered from ``first_seq``."""
    return [((first_seq + i) % window, first_seq + i, mid & 0xFFFF, crc) for i, (mid, crc) in enumerate(delivered)]


def write_deliveries(store: Store, rows: list[tuple[int, int, int, int]], *, replace: bool = False) -> None:
    """Store deliveries (slot, seq, packet id, checksum) in the ring; ``replace``: instead of what is there
    (and of the tags on readings_recent, which the rows then hold)."""
    with store.transaction() as db:
        if replace:
            db.execute("DELETE FROM ingest_deliveries")
            db.execute("UPDATE readings_recent SET deliveries = NULL WHERE deliveries IS NOT NULL")
        execute_rows(db.conn, delivery_upsert, rows)


class Inbox:
    """The ingest thread's queue: alarm inputs first, everything else in arrival order; each kind bounded.

    Each bound (``maxsize``) holds up only the network thread of the session that filled it (TCP
    backpressure to the broker, which keeps the messages): a full queue of the rest never holds up the
    alarm session, and an alarm session's own backlog (a catch-up after an outage: mosquitto 2.0 then
    sends a persistent session's queue past its Receive Maximum) waits with the broker instead of in
    memory. A C ``SimpleQueue`` carries the rest (a lock-free put and get per message: the priority queue
    and semaphore this replaced cost a fifth of the ingest path, bench/ingest.py); an alarm goes into
    its own deque, taken first, and one wake token at a time in the queue rouses a waiting ingest thread.
    """

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._fifo: queue.SimpleQueue = queue.SimpleQueue()
        self._urgent: deque[RawMessage] = deque()
        self._wake_queued = False  # a wake token is in the queue and not yet taken

    def put(self, msg: RawMessage, *, urgent: bool = False) -> None:
        """Queue a message, waiting while its kind (alarm inputs or the rest) fills its bound."""
        size = self._urgent.__len__ if urgent else self._fifo.qsize
        while size() >= self.maxsize:
            time.sleep(INBOX_FULL_WAIT_S)
        if not urgent:
            self._fifo.put(msg)
            return
        self._urgent.append(msg)
        if not self._wake_queued:  # checked after the append: see get()
            self._wake_queued = True
            self._fifo.put(_WAKE)

    def put_stop(self) -> None:
        """Queue the end: taken after every message queued before it."""
        self._fifo.put(None)

    def get(self, timeout: float | None = None) -> RawMessage | None:
        """Take the next message (alarm inputs first); raise queue.Empty after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._urgent:
                return self._urgent.popleft()
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            item = self._fifo.get(timeout=wait)
            if item is not _WAKE:
                return item
            # Cleared before the deque is looked at again: an alarm appended meanwhile is either seen
            # there or puts a new token.
            self._wake_queued = False

    def get_nowait(self) -> RawMessage | None:
        """Take the next message without waiting; raise queue.Empty when there is none."""
        while True:
            if self._urgent:
                return self._urgent.popleft()
            item = self._fifo.get_nowait()
            if item is not _WAKE:
                return item
            self._wake_queued = False


_WAKE = object()  # in the Inbox's queue: an alarm input waits in its deque
INBOX_FULL_WAIT_S = 0.005


def _crc(msg: RawMessage) -> int:
    """Return a checksum of a message's topic and payload (recognises a redelivery)."""
    return zlib.crc32(msg.payload, zlib.crc32(msg.topic.encode()))


class Ingestor:
    """Decode, validate and store messages in batches; acknowledge after commit; notify listeners.

    Feed it with :meth:`submit` from the MQTT thread after :meth:`start`, or call
    :meth:`process` and :meth:`flush` directly (trace replay).
    """

    def __init__(self, store: Store, settings: Settings, now: datetime, *, acker: Acker | None = None,
                 live: bool = True, batch_size: int | None = None):
        self.store = store
        self.settings = settings
        self.options = settings.ingest
        self.specs = sensor_specs(store, settings, now)
        self.decoder = decoder_for(settings, self.specs)
        self.topics = self.decoder.topics
        # Topics carrying an alarm input: `run` receives them in a session of their own (docs/INGEST.md).
        self.alarm_topics = sorted(t for t in self.topics
                                   if any(spec.kind in ALARM_KINDS for spec in self.decoder.by_topic.get(t, ())))
        self.acker = acker
        self.live = live
        self.batch_size = batch_size or self.options.batch_size
        self.flush_after_s = self.options.flush_interval_ms / 1000
        self.listeners: list[Listener] = []
        self.counts = IngestCounts()
        self._specs_by_id = {s.id: s for s in self.specs}
        self._configured_interval = {
            self.specs[i].id: s.interval for i, s in enumerate(settings.sensors) if s.interval}
        # The batch being built: messages to acknowledge, readings and rejections to store.
        self._msgs: list[RawMessage] = []
        self._readings: list[Reading] = []
        self._rejections: list[Rejection] = []
        # (packet id, checksum) of uncommitted deliveries: two sessions (alarm inputs, the rest) number
        # their packets each, and the checksum covers the topic, which belongs to one session only.
        self._pending_ids: set[tuple[int, int]] = set()
        self._delivered: list[tuple[int, int]] = []  # (packet id, checksum) of this batch, in order
        self._dups = 0
        self._urgent = False
        self._oldest = 0.0
        # Caches of what is committed (rebuilt from the database after a failed commit).
        self._last_state: dict[int, tuple[int, float]] = {}  # state sensor → latest stored (ts, value)
        self._last_assigned: dict[int, int] = {}  # sensor → last receive-time stamp given (live)
        self._gaps: dict[int, deque] = {}
        self._heard: dict[int, int] = {}  # sensor → latest ts heard
        self._health_due: dict[int, tuple[int, float]] = {}  # sensor → (ts, value) heard, not yet in sensor_health
        self._health_written = 0.0  # monotonic moment sensor_health was last written (live)
        self._riders: dict[str, Callable[[sqlite3.Connection], None]] = {}  # ride_along: key → latest write
        self._riders_lock = threading.Lock()
        self._staged = 0  # readings in readings_recent (live)
        self._arrivals: deque[float] = deque(maxlen=BURST_MIN)  # when the last messages were taken
        self._alarm_inputs: dict[int, float] = {}  # alarm-class sensor → last value taken
        self._folded_at = time.monotonic()
        window = settings.mqtt.receive_maximum
        self._recent: deque[tuple[int, int]] = deque(maxlen=window)
        self._seq = 0  # deliveries remembered so far (the ring's last sequence number)
        self._recent_before: tuple[list[tuple[int, int]], int, bool] | None = None
        self._tagged = False  # a delivery guard rides on a row of readings_recent (the next fold writes the ring)
        if live:
            self._load_recent()
            self._staged = staged_count(store)  # left by a process that stopped without folding: the first flush moves them
            for spec in self.specs:  # a change of an alarm input is judged against what is stored
                if spec.kind in ALARM_KINDS and (last := last_reading(store, spec.id)) is not None:
                    self._alarm_inputs[spec.id] = last[1]
            if self._staged:
                self._folded_at = 0.0
        self._init_health()
        # Threaded operation.
        self._queue = Inbox(QUEUE_MAX)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        # Messages handed to submit() and submit_alarm(): each counter has one writer (one session's network
        # thread), so neither needs a lock in the per-message path.
        self._received = 0
        self._received_alarms = 0
        self.finished = 0  # of those, committed (or rejected) and acknowledged
        self.failure: str | None = None  # why the ingest thread died (the agent then exits non-zero)
        self.last_tick = time.monotonic()  # when the ingest loop last turned (the watchdog reads it)

    # ------------------------------------------------------------------ set-up

    def add_listener(self, listener: Listener) -> None:
        """Register a function called with each committed batch of new readings."""
        self.listeners.append(listener)

    def _load_recent(self) -> None:
        """Load the packet ids and checksums of the last committed deliveries (the ring ``ingest_deliveries``)."""
        window = self._recent.maxlen
        rows = load_deliveries(self.store)
        tagged = load_tagged(self.store)
        # Sequence numbers run on across the ring and the tags: the last `window` of them are the guard.
        by_seq = {seq: (mid, crc) for _slot, seq, mid, crc in rows}
        by_seq.update((seq, (mid, crc)) for seq, mid, crc in tagged)
        self._seq = max(by_seq, default=0)
        first = max(self._seq - window + 1, min(by_seq, default=1))
        self._recent.extend(by_seq[seq] for seq in range(first, self._seq + 1) if seq in by_seq)
        if tagged or len(self._recent) < len(rows) or any(slot != seq % window for slot, seq, _mid, _crc in rows):
            # Tags left by the last run, receive_maximum changed, or an older version's guard carried over:
            # lay the ring out again with the whole guard.
            write_deliveries(self.store, ring_rows(self._seq - len(self._recent) + 1, self._recent, window),
                             replace=True)

    def _init_health(self) -> None:
        """Write configured intervals and read what is known about each sensor."""
        with self.store.transaction() as db:
            db["sensor_health"].upsert_all(({"sensor_id": sid, "interval_s": interval}
                                            for sid, interval in self._configured_interval.items()), pk="sensor_id")
        ids = list(self._specs_by_id)
        self._heard.update(last_seen(self.store, ids))
        if self.live:
            # Receive-time stamps continue after the last stored one: stamps kept distinct in a
            # burst may run ahead of the clock, and a restart must not collide with them.
            for sid in ids:
                last = last_reading(self.store, sid)
                if last is not None:
                    self._last_assigned[sid] = last[0]

    # ------------------------------------------------------------------ synchronous use

    def process(self, msg: RawMessage) -> None:
        """Take one message; commit when the batch is full or holds an alarm."""
        self._accept(msg)
        if self._urgent or len(self._msgs) >= self.batch_size:
            self.flush()

    def reject(self, rejection: Rejection) -> None:
        """Record input rejected before decoding (a malformed trace line)."""
        if not self._msgs and not self._readings and not self._rejections:
            self._oldest = time.monotonic()
        self._rejections.append(rejection)
        if len(self._rejections) >= self.batch_size:
            self.flush()

    def flush(self) -> bool:
        """Commit the batch, acknowledge it, notify listeners; return False when the commit failed."""
        if not (self._msgs or self._readings or self._rejections):
            return True
        try:
            stored, new, duplicates = self._commit()
        except sqlite3.Error as exc:
            log.error("could not store a batch of %d messages (kept, will retry): %s", len(self._msgs), exc)
            self._last_state.clear()
            return False
        if self.acker is not None:
            to_ack = [m for m in self._msgs if m.qos]
            if to_ack:
                self.acker(to_ack)
        self.counts.stored += len(stored) + new
        self.counts.duplicates += duplicates + self._dups
        self.counts.rejected += len(self._rejections)
        self.counts.reasons.update(r.reason for r in self._rejections)
        self.finished += len(self._msgs)
        self._msgs, self._readings, self._rejections = [], [], []
        self._pending_ids.clear()
        self._delivered = []
        self._dups, self._urgent = 0, False
        if self.live:
            self._staged += len(stored) + new
        if stored:
            self._notify(stored)
        if self._staged and (self._staged >= FOLD_ROWS or time.monotonic() - self._folded_at >= FOLD_EVERY_S):
            self.fold()
        return True

    def fold(self) -> int:
        """Move the live readings of ``readings_recent`` into ``readings_main``; return how many moved.

        One transaction: each sensor's page of ``readings_main`` is written once per fold instead of
        once per commit, and a reader (through the ``readings`` view) sees every reading before and after.
        """
        try:
            with self.store.transaction(immediate=True):
                if self._tagged:
                    self._guard_to_ring(self.store.conn)
                moved = fold_recent(self.store.conn)
        except sqlite3.Error as exc:
            log.warning("recent readings not moved yet (they stay where they are): %s", exc)
            return 0
        self._staged, self._tagged = 0, False
        self._folded_at = time.monotonic()
        return moved

    # ------------------------------------------------------------------ threaded use

    def start(self) -> None:
        """Start the ingest thread."""
        self._thread = threading.Thread(target=self._guarded_loop, name="ikb-ingest", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Return whether the ingest thread runs (False after it died or was stopped)."""
        return self._thread is not None and self._thread.is_alive()

    def _guarded_loop(self) -> None:
        """Run the loop; if it dies, say why (the agent exits non-zero: systemd restarts it)."""
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - record it; the agent's watchdog ends the process
            self.failure = f"ingest thread stopped: {exc!r}"[:500]
            log.critical("%s; uncommitted messages stay with the broker", self.failure, exc_info=True)

    def submit(self, msg: RawMessage) -> None:
        """Hand a message to the ingest thread (called from the MQTT network thread)."""
        self._received += 1
        self._queue.put(msg)

    def submit_alarm(self, msg: RawMessage) -> None:
        """Hand a message of an alarm input to the ingest thread, ahead of every other waiting message.

        Called from the network thread of the alarm inputs' own MQTT session (``run``): a backlog of
        other readings, in their session and in this queue, never delays an alarm.
        """
        self._received_alarms += 1
        self._queue.put(msg, urgent=True)

    @property
    def received(self) -> int:
        """Return how many messages were handed to the ingest thread."""
        return self._received + self._received_alarms

    def pending_since(self) -> float | None:
        """Return when (monotonic) the oldest message not yet committed arrived, or None when none waits."""
        return self._oldest if (self._msgs or self._rejections) else None

    def wait_idle(self, timeout: float = 10) -> bool:
        """Wait until every submitted message is committed; return False on timeout."""
        deadline = time.monotonic() + timeout
        while self.finished < self.received:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def stop(self, timeout: float = 10) -> None:
        """Commit what is waiting and stop the ingest thread."""
        if self._thread is None:
            return
        self._stopping.set()
        self._queue.put_stop()
        self._thread.join(timeout)
        self._thread = None

    def _loop(self) -> None:
        """Take messages from the queue and commit them in bounded batches."""
        failures = 0
        while True:
            self.last_tick = time.monotonic()
            pending = len(self._msgs) + len(self._rejections)
            timeout = IDLE_TICK_S
            if pending:
                timeout = max(0.0, self._oldest + self.flush_after_s - time.monotonic())
                if pending >= BURST_MIN:
                    burst = self._arrivals[-1] - self._arrivals[0] <= BURST_SPAN_S
                    timeout = min(timeout, IDLE_GAP_S if burst else STALL_GAP_S)
            try:
                msg = self._queue.get(timeout=timeout)
            except queue.Empty:
                msg = ...
            if msg is None:
                self._flush_until_done()
                return
            if msg is not ...:
                self._accept(msg)
                if not (self._urgent or len(self._msgs) >= self.batch_size):
                    continue
            if not self.flush():
                delay = RETRY_DELAYS_S[min(failures, len(RETRY_DELAYS_S) - 1)]
                failures += 1
                if self._stopping.wait(delay):
                    self._flush_until_done()
                    return
            else:
                failures = 0

    def _flush_until_done(self) -> None:
        """Commit the rest while stopping; uncommitted messages stay unacknowledged (the broker keeps them)."""
        while True:
            try:
                msg = self._queue.get_nowait()
            except queue.Empty:
                break
            if msg is not None:
                self._accept(msg)
        if not self.flush():
            log.error("stopping with %d uncommitted messages; the broker delivers them again", len(self._msgs))
        self.write_health()
        if self._staged:
            self.fold()

    # ------------------------------------------------------------------ the work

    def _accept(self, msg: RawMessage) -> None:
        """Decode one message into the current batch; whatever it raises dead-letters it, never stops us."""
        now = time.monotonic()
        if not (self._msgs or self._readings or self._rejections):
            self._oldest = now
        self._arrivals.append(now)
        self._msgs.append(msg)
        mark = (len(self._readings), len(self._rejections), self._urgent)
        try:
            self._decode_into_batch(msg)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop ingestion (nor loop)
            del self._readings[mark[0]:]
            del self._rejections[mark[1]:]
            self._urgent = mark[2]
            log.error("decoding a message on %r failed: %r", printable(msg.topic[:100]), exc)
            self._rejections.append(Rejection("decode_failed", msg.topic, head_of(msg.payload), msg.received_ms,
                                              repr(exc)[:200]))

    def _decode_into_batch(self, msg: RawMessage) -> None:
        """Decode one message and add its readings and rejections to the batch."""
        if msg.qos and self.live:
            crc = _crc(msg)
            if msg.dup and ((msg.mid, crc) in self._pending_ids or (msg.mid, crc) in self._recent):
                # Redelivered after a reconnect: already committed (or waiting in this batch).
                self._dups += len(self.decoder.by_topic.get(msg.topic, ())) or 1
                return
            self._pending_ids.add((msg.mid, crc))
            self._delivered.append((msg.mid, crc))
        decoded = self.decoder.decode(msg)
        self._rejections.extend(decoded.rejections)
        for reading in decoded.readings:
            sid = reading.sensor.id
            if self.live and not reading.device_time:
                # A broker draining a backlog delivers many messages of one sensor within a
                # millisecond: keep receive-time stamps distinct so none is taken for a duplicate.
                last = self._last_assigned.get(sid, 0)
                if reading.ts_ms <= last:
                    reading = Reading(reading.sensor, last + 1, reading.value, False)
                self._last_assigned[sid] = reading.ts_ms
            self._readings.append(reading)
            kind = reading.sensor.kind
            if kind in ALARM_KINDS:
                # An alarm, and any change of an alarm input (the alarm over, power back), is committed and
                # passed on at once; the rest waits for the batch (SD-card writes, docs/INGEST.md).
                before = self._alarm_inputs.get(sid)
                if is_alarm(kind, reading.value) or (before is not None and before != reading.value):
                    self._urgent = True
                self._alarm_inputs[sid] = reading.value

    def _commit(self) -> tuple[list[StoredReading], int, int]:
        """Write the batch in one transaction; return the new readings (or, without listeners, their count)."""
        conn = self.store.conn
        self._recent_before = None
        stored: list[StoredReading] = []
        notify = bool(self.listeners)  # without listeners, only count (no objects per reading)
        new = 0
        duplicates = 0
        heard: dict[int, tuple[int, float]] = {}
        rejections_before = len(self._rejections)
        riders: dict[str, Callable[[sqlite3.Connection], None]] = {}
        newest = -1  # key of this batch's newest new row of readings_recent (live): it carries the guard
        tagging = self.live and 0 < len(self._delivered) <= DELIVERY_TAG_MAX  # a big batch keeps it in the ring
        try:
            with self.store.transaction(immediate=True):
                table = "readings_recent" if self.live else "readings_main"
                insert = insert_sql(table)
                fast = self._insert_all(conn, table)
                for r in self._readings:
                    spec = r.sensor
                    if fast:
                        fresh = True
                    else:
                        try:
                            if spec.kind in _STATE_KINDS and not self._state_worth_storing(conn, r):
                                fresh = False
                            else:
                                fresh = bool(conn.execute(insert, (spec.id, r.ts_ms, r.value)).rowcount)
                        except _VALUE_ERRORS as exc:  # this reading, not the database: dead-letter it
                            self._rejections.append(Rejection("store_failed", spec.topic,
                                                              f"{r.value!r} at {r.ts_ms}",
                                                              r.ts_ms if isinstance(r.ts_ms, int) else 0,
                                                              repr(exc)[:200]))
                            continue
                    if fresh:
                        if tagging and (key := recent_key(r.ts_ms, spec.id)) > newest:
                            newest = key
                        if notify:
                            stored.append(StoredReading(spec.id, spec.kind, spec.location, r.ts_ms, r.value,
                                                        spec.topic))
                        else:
                            new += 1
                        if spec.kind in _STATE_KINDS and r.ts_ms > self._last_state[spec.id][0]:
                            self._last_state[spec.id] = (r.ts_ms, r.value)
                    else:
                        duplicates += 1
                    prev = heard.get(spec.id)
                    if prev is None or r.ts_ms >= prev[0]:
                        heard[spec.id] = (r.ts_ms, r.value)
                    self._learn_gap(spec.id, r.ts_ms)
                health = self._note_health(conn, heard)
                self._write_rejections(conn)
                if self._delivered:
                    self._write_recent(conn, newest)
                riders = self._take_riders()
                self._write_riders(conn, riders)
        except BaseException:
            self._return_riders(riders)
            self._recent_rollback()
            del self._rejections[rejections_before:]  # the retry dead-letters them again
            raise
        if health:
            self._health_due.clear()
            self._health_written = time.monotonic()
        return stored, new, duplicates

    def ride_along(self, key: str, write: Callable[[sqlite3.Connection], None]) -> None:
        """Have ``write(conn)`` done inside the next commit of readings (only the latest one per ``key``).

        A small write that may wait for that commit (the score snapshot's window, or a finding whose text
        changed while its status did not; docs/PERFORMANCE.md "SD-card writes") then costs no commit of its
        own: on the SD card every commit also rewrites pages of the WAL index. ``write`` must be idempotent
        and must not go back in time: it may run after a newer write of the same row by another connection.
        Nothing is promised when no reading arrives; the caller writes for itself when the row grows old.
        """
        with self._riders_lock:
            self._riders[key] = write

    def _write_riders(self, conn: sqlite3.Connection, riders: dict[str, Callable[[sqlite3.Connection], None]]) -> None:
        """Do the handed-over writes inside the commit; one that fails is undone, logged and dropped: it must
        never keep the readings (and an alarm) from being committed."""
        for key, write in riders.items():
            conn.execute("SAVEPOINT ride_along")
            try:
                write(conn)
            except Exception as exc:  # noqa: BLE001 - the readings matter more than the rider
                conn.execute("ROLLBACK TO ride_along")
                log.warning("%s not written with the readings: %s", key, repr(exc)[:200])
            conn.execute("RELEASE ride_along")

    def _take_riders(self) -> dict[str, Callable[[sqlite3.Connection], None]]:
        with self._riders_lock:
            riders, self._riders = self._riders, {}
        return riders

    def _return_riders(self, riders: dict[str, Callable[[sqlite3.Connection], None]]) -> None:
        """Keep the writes of a failed commit for the next one, unless a newer one of the same key came."""
        with self._riders_lock:
            self._riders = {**riders, **self._riders}

    def _insert_all(self, conn: sqlite3.Connection, table: str) -> bool:
        """Insert the whole batch with a few multi-row INSERTs; return whether every reading was new.

        The common case, and a third of the commit's cost saved (bench/ingest.py). When the batch holds a
        state reading (stored only when it changed), or not every row went in (a duplicate, a bad value),
        it is undone to its savepoint and the caller inserts reading by reading to know which were new.
        """
        readings = self._readings
        if not readings or any(r.sensor.kind in _STATE_KINDS for r in readings):
            return False
        conn.execute("SAVEPOINT ingest_batch")
        try:
            done = execute_rows(conn, functools.partial(insert_sql, table),
                                [(r.sensor.id, r.ts_ms, r.value) for r in readings])
        except _VALUE_ERRORS:
            done = -1
        if done != len(readings):
            conn.execute("ROLLBACK TO ingest_batch")
        conn.execute("RELEASE ingest_batch")
        return done == len(readings)

    def _state_worth_storing(self, conn: sqlite3.Connection, r: Reading) -> bool:
        """Return whether a state reading is a change, or the first unchanged one in a heartbeat interval."""
        sid = r.sensor.id
        if sid not in self._last_state:
            self._last_state[sid] = last_reading(conn, sid) or (-1, None)
        last = self._last_state[sid]
        if r.ts_ms > last[0]:
            prev = last if last[1] is not None else None
        else:  # out of order: compare with the stored reading just before it
            prev = last_reading(conn, sid, r.ts_ms)
        if prev is None:
            return True
        if prev[0] == r.ts_ms:
            return False  # the same moment again: a redelivery
        return prev[1] != r.value or r.ts_ms - prev[0] >= STATE_HEARTBEAT_MS

    def _learn_gap(self, sid: int, ts_ms: int) -> None:
        """Remember the gap since this sensor was last heard (to learn its interval)."""
        last = self._heard.get(sid)
        if last is None:
            self._heard[sid] = ts_ms
        elif ts_ms > last:
            gaps = self._gaps.get(sid)
            if gaps is None:  # not setdefault: a new deque per reading was a tenth of the decode path
                gaps = self._gaps[sid] = deque(maxlen=LEARN_GAPS)
            gaps.append(ts_ms - last)
            self._heard[sid] = ts_ms

    def learned_interval(self, sid: int) -> float | None:
        """Return a sensor's interval in seconds: configured, or the 90th percentile of recent gaps."""
        if sid in self._configured_interval:
            return self._configured_interval[sid]
        gaps = self._gaps.get(sid)
        if not gaps or len(gaps) < LEARN_MIN:
            return None
        ordered = sorted(gaps)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))] / 1000

    def _note_health(self, conn: sqlite3.Connection, heard: dict[int, tuple[int, float]]) -> bool:
        """Close the open offline events of heard sensors; write sensor_health when due; return whether written."""
        if heard:
            for sid in close_offline_events(conn, {sid: ts for sid, (ts, _value) in heard.items()}):
                log.info("sensor %s heard again",
                         self._specs_by_id[sid].topic if sid in self._specs_by_id else sid)
        for sid, (ts, value) in heard.items():
            prev = self._health_due.get(sid)
            if prev is None or ts >= prev[0]:
                self._health_due[sid] = (ts, value)
        if not self._health_due or (self.live and time.monotonic() - self._health_written < HEALTH_WRITE_S):
            return False
        self._write_health(conn, self._health_due)
        return True

    def _write_health(self, conn: sqlite3.Connection, heard: dict[int, tuple[int, float]]) -> None:
        """Update each heard sensor's last-seen moment, last value and learned interval."""
        conn.executemany(
            "INSERT INTO sensor_health(sensor_id, last_seen, last_value, interval_s) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(sensor_id) DO UPDATE SET"
            " last_value = CASE WHEN excluded.last_seen >= coalesce(last_seen, 0) THEN excluded.last_value"
            " ELSE last_value END,"
            " last_seen = max(coalesce(last_seen, 0), excluded.last_seen),"
            " interval_s = coalesce(excluded.interval_s, interval_s)",
            [(sid, ts, value, self.learned_interval(sid)) for sid, (ts, value) in heard.items()])

    def write_health(self) -> None:
        """Write what was heard since sensor_health was last written, and what waits to ride along with the
        next commit of readings (when stopping: no such commit comes, and the last score handed over is the
        newest; the next ``run`` starts from it)."""
        riders = self._take_riders()
        if not (self._health_due or riders):
            return
        try:
            with self.store.transaction(immediate=True):
                if self._health_due:
                    self._write_health(self.store.conn, self._health_due)
                self._write_riders(self.store.conn, riders)
        except sqlite3.Error as exc:
            log.warning("sensor health not written: %s", exc)
            self._return_riders(riders)  # kept for a later commit, as after a failed commit of readings
            return
        self._health_due.clear()
        self._health_written = time.monotonic()

    def heard(self) -> dict[int, int]:
        """Return when each sensor was last heard (ms), as this ingestor knows it: fresher than sensor_health."""
        return dict(self._heard)

    def _write_rejections(self, conn: sqlite3.Connection) -> None:
        """Keep rejected input in the bounded dead-letter table and count it by reason."""
        if not self._rejections:
            return
        conn.executemany("INSERT INTO rejections(at, topic, head, reason) VALUES (?, ?, ?, ?)",
                         [(_bounded_ms(r.at_ms), printable(r.topic[:200]),
                           printable((r.head + (f" [{r.detail}]" if r.detail else ""))[:400]), r.reason)
                          for r in self._rejections])
        for reason, n in Counter(r.reason for r in self._rejections).items():
            last = max(_bounded_ms(r.at_ms) for r in self._rejections if r.reason == reason)
            conn.execute("INSERT INTO rejection_counts(reason, n, last_at) VALUES (?, ?, ?) ON CONFLICT(reason)"
                         " DO UPDATE SET n = n + excluded.n, last_at = max(last_at, excluded.last_at)",
                         (reason, n, last))
        conn.execute("DELETE FROM rejections WHERE id <= (SELECT max(id) FROM rejections) - ?",
                     (self.options.dead_letter_max,))

    def _write_recent(self, conn: sqlite3.Connection, newest: int) -> None:
        """Remember the packet ids and checksums of this batch's deliveries, with the batch.

        A live batch of at most DELIVERY_TAG_MAX deliveries that stored a new row packs them into that
        row's ``deliveries`` (``newest``, its key in readings_recent, or -1 when the batch is not tagged:
        see ``tagging`` in :meth:`_commit`): the page the commit writes anyway.
        Otherwise each delivery takes the next slot of a ring of ``receive_maximum`` rows, updated in
        place: a commit rewrites the page holding its own slots, not the whole guard.
        """
        self._recent_before = (list(self._recent), self._seq, self._tagged)
        window = self._recent.maxlen
        first = self._seq + 1
        self._seq += len(self._delivered)
        self._recent.extend(self._delivered)
        if newest >= 0 and conn.execute(
                "UPDATE readings_recent SET deliveries = ? WHERE id = ?",
                (pack_deliveries(first, self._delivered), newest)).rowcount:
            self._tagged = True
            return
        execute_rows(conn, delivery_upsert, ring_rows(first, self._delivered, window))

    def _guard_to_ring(self, conn: sqlite3.Connection) -> None:
        """Write the whole guard into the ring (before a fold empties readings_recent, and its tags)."""
        execute_rows(conn, delivery_upsert,
                     ring_rows(self._seq - len(self._recent) + 1, self._recent, self._recent.maxlen))

    def _recent_rollback(self) -> None:
        """Forget the deliveries of a batch whose commit failed."""
        before = self._recent_before
        if before is not None:
            self._recent.clear()
            self._recent.extend(before[0])
            self._seq, self._tagged = before[1], before[2]
            self._recent_before = None

    def _notify(self, stored: list[StoredReading]) -> None:
        """Call every listener with the committed readings; a failing listener is logged, never fatal."""
        for listener in self.listeners:
            try:
                listener(stored)
            except Exception as exc:  # noqa: BLE001 - a listener must never stop ingestion
                name = getattr(listener, "__name__", None) or type(listener).__name__
                log.error("listener %s failed on %d readings: %s", name, len(stored), repr(exc)[:200])
                log.debug("listener failure", exc_info=True)


_STATE_KINDS = frozenset(k for k, v in KINDS.items() if v.is_state)
_MS_MAX = 2**62  # SQLite integers are 64-bit
# Errors one reading's values can cause; any other sqlite3 error is the database itself (disk full, I/O,
# corruption): the batch is kept and retried, nothing acknowledged.
_VALUE_ERRORS = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.ProgrammingError, sqlite3.InterfaceError,
                 ArithmeticError, ValueError, TypeError, KeyError, AttributeError)


def _bounded_ms(ms) -> int:
    """Return a moment in ms that SQLite can store (a rejection's moment may come from hostile input)."""
    return ms if isinstance(ms, int) and -_MS_MAX < ms < _MS_MAX else 0


def ingest_all(ingestor: Ingestor, messages: Iterable[RawMessage | Rejection]) -> IngestCounts:
    """Run messages (and pre-decoding rejections) through a synchronous ingestor; return the totals."""
    for item in messages:
        if isinstance(item, Rejection):
            ingestor.reject(item)
        else:
            ingestor.process(item)
    if not ingestor.flush():
        raise sqlite3.OperationalError("the last batch could not be stored")
    return ingestor.counts

