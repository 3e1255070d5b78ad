"""`ikb-agent run`: the long-running agent — MQTT client, ingestor and scheduler, composed here.

Features plug in through two lists, filled below (one line per feature, so this module is the one
place that says what runs):

- ``LISTENER_FACTORIES``: ``factory(store, settings) -> listener``; each listener is
  called with every committed batch of new readings (``list[StoredReading]``),
  in the ingest thread, right after the commit and the MQTT acknowledgements.
  It must be quick (an alarm waits behind it); one that raises is logged.
  A listener with a ``close()`` method is closed when the agent stops.
- ``JOB_FACTORIES``: ``factory(store, settings) -> JobSpec | None``; the job's function
  gets ``now`` and runs every ``interval_s`` in the scheduler's threads. None: the
  feature is switched off in the configuration.

Connections: the ingestor writes through its own SQLite connection, listeners
share a second one (used only in the ingest thread) and jobs a third, so a slow
job never holds the lock an alarm needs. All three open the same WAL database.

Under systemd (``Type=notify``) the agent says READY once started, and its main
loop (:meth:`Agent.wait`) sends keep-alives through a :class:`~agent.health.Watchdog`
only while the ingest loop and the evaluation make progress; it also keeps the
runtime status file that ``ikb-agent status`` reads.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Callable

from agent import clock
from agent.alerts import alert_listener, due_job
from agent.backup import backup_job
from agent.config import Settings
from agent.evaluation import alarm_listener, backfill_job, episodes_job, tick_job
from agent.health import Notifier, Progress, Watchdog, runtime_dir, runtime_file
from agent.ingest import Ingestor, Listener, check_health
from agent.logbooks import draft_job
from agent.scheduler import JobSpec, Scheduler
from agent.store import SMALL_CACHE_KIB, RunLock, Store, open_store, roll_up, roll_up_charts, storage_job
from agent.upstream import upstream_job
from sensors.mqtt import MqttOptions, MqttSubscriber

log = logging.getLogger(__name__)

LISTENER_FACTORIES: list[Callable[[Store, Settings], Listener]] = []
JOB_FACTORIES: list[Callable[[Store, Settings], JobSpec]] = []

# Features plug in here (one line each), so this list is the one place that says what runs.
JOB_FACTORIES += [
    lambda st, s: JobSpec(*episodes_job(st, s), first_delay_s=15),  # generator tests and mains outages → events
    lambda st, s: JobSpec(*draft_job(st, s)),  # A3.6: draft detected generator tests for confirmation
    lambda st, s: JobSpec(*storage_job(st, s)),  # retention: report storage use daily
    # (every rule, each minute: the score snapshot — added in Agent.start, its heartbeat rides on ingestion)
    lambda st, s: JobSpec(*backfill_job(st, s), first_delay_s=90),  # the history's days into the per-day cache
]
LISTENER_FACTORIES += [alert_listener]  # alerts off the farm (issue 7); first, so the alarm waits for nothing
LISTENER_FACTORIES += [alarm_listener]  # A3.4/A3.5 judged the moment an alarm-panel, mains or generator batch lands
JOB_FACTORIES += [due_job]  # info alert for what falls due tomorrow (once a day)
JOB_FACTORIES += [lambda st, s: JobSpec(*backup_job(st, s))]  # the night's checked copy of the database
JOB_FACTORIES += [upstream_job]  # the farm key; status, score, alerts, chain heads upstream; Home Assistant

HEALTH_EVERY_S = 30
ALARM_SESSION_SUFFIX = "-alarms"  # the alarm inputs' session: [mqtt] client_id + this
RETENTION_EVERY_S = 3600


def mqtt_options(settings: Settings) -> MqttOptions:
    """Return the MQTT client options of the configuration."""
    m = settings.mqtt
    return MqttOptions(host=m.host, port=m.port, username=m.username, password=m.password, tls=m.tls,
                       ca_file=m.ca_file, client_id=m.client_id, keepalive=m.keepalive,
                       status_topic=m.status_topic or None, session_expiry=m.session_expiry,
                       receive_maximum=m.receive_maximum)


def retention_step(store: Store, settings: Settings, now: datetime) -> None:
    """Roll old readings up into aggregates (retention), then the aggregates into the charts' hourly roll-ups."""
    storage = settings.storage
    roll_up(store, now, raw_retention_days=storage.raw_retention_days,
            aggregate_retention_days=storage.aggregate_retention_days, max_days=5000)
    roll_up_charts(store)


def ingest_jobs(store: Store, settings: Settings, sensor_ids: list[int], started: datetime,
                heard: Callable[[], dict[int, int]] | None = None) -> list[JobSpec]:
    """Return the ingest feature's own jobs: sensor health and the retention roll-up.

    ``heard``: the ingestor's in-memory last-heard moments (it writes ``sensor_health`` every ten minutes).
    """
    ing = settings.ingest
    return [
        JobSpec("sensor-health", lambda now: check_health(
            store, now, sensor_ids=sensor_ids, started=started, offline_after=ing.offline_after,
            offline_min_s=ing.offline_min_s, heard=heard() if heard else None), HEALTH_EVERY_S),
        JobSpec("retention", lambda now: retention_step(store, settings, now), RETENTION_EVERY_S, first_delay_s=60),
    ]


@dataclass
class Agent:
    """The running agent: start it, wait for a stop, stop it."""

    settings: Settings
    db_path: str | None = None
    now: Callable[[], datetime] = clock.utcnow
    stores: list[Store] = field(default_factory=list)
    ingestor: Ingestor | None = None
    subscriber: MqttSubscriber | None = None
    alarm_subscriber: MqttSubscriber | None = None  # the alarm inputs' own session
    scheduler: Scheduler | None = None
    listeners: list = field(default_factory=list)  # a listener with close() is closed on stop
    run_lock: RunLock | None = None
    notifier: Notifier = field(default_factory=lambda: Notifier(None))  # systemd, when it started us
    watchdog: Watchdog | None = None
    scheduler_started: float = 0.0  # monotonic
    _broker: tuple[bool, str] | None = None  # (connected, since) as last seen by describe()
    _alarm_topics: frozenset = frozenset()  # the alarm inputs' session's topics (acks go back on it)

    def start(self) -> None:
        """Take the database's run lock, open the database, start ingesting and the scheduled jobs."""
        path = self.db_path or self.settings.storage.path
        self.run_lock = RunLock(path).acquire()  # StoreError when another `run` has this database
        # Readings acknowledged to the broker and alerts are fsynced with every commit; the jobs write
        # what can be computed again (caches, the score snapshot, roll-ups), fsynced at the next checkpoint
        # or the next commit of the other two (one WAL), except logbook drafts (Store.durable).
        # The ingest connection keeps SQLite's default page cache (its batches are the hot path); the others
        # read a little at a time and keep a small one (docs/PERFORMANCE.md, "Issue 15: memory (RSS)").
        ingest_store = open_store(path)
        listener_store = open_store(path, cache_kib=SMALL_CACHE_KIB)
        job_store = open_store(path, synchronous="NORMAL", cache_kib=SMALL_CACHE_KIB)
        self.stores = [ingest_store, listener_store, job_store]
        started = self.now()
        self.ingestor = Ingestor(ingest_store, self.settings, started)
        for factory in LISTENER_FACTORIES:
            try:
                listener = factory(listener_store, self.settings)
                self.ingestor.add_listener(listener)
                self.listeners.append(listener)
            except Exception as exc:  # noqa: BLE001 - one feature failing to start must not stop ingestion
                log.error("listener %s could not start: %s", getattr(factory, "__qualname__", factory),
                          repr(exc)[:300])
        jobs = ingest_jobs(job_store, self.settings, [s.id for s in self.ingestor.specs], started,
                           heard=self.ingestor.heard)
        # Every rule, each minute: the score snapshot. When no status changed (only the window, or a finding's
        # text), it rides on the next commit of readings instead of a commit of its own (docs/PERFORMANCE.md,
        # "SD-card writes"); a status change is written at once.
        later = partial(self.ingestor.ride_along, "score snapshot")
        jobs.append(JobSpec(*tick_job(job_store, self.settings, later), first_delay_s=5))
        for factory in JOB_FACTORIES:
            try:
                spec = factory(job_store, self.settings)
                if spec is not None:
                    jobs.append(spec)
            except Exception as exc:  # noqa: BLE001
                log.error("job %s could not start: %s", getattr(factory, "__qualname__", factory), repr(exc)[:300])
        # Two persistent sessions: the alarm inputs' own (ventilation alarm, mains, generator) and the rest.
        # A broker delivers a session's queue in order; after an outage the alarms then wait behind their
        # own backlog only, and the ingest thread takes them before anything else (docs/INGEST.md).
        # Receipt times come from the same (injectable) clock as the jobs' `now`.
        options = mqtt_options(self.settings)
        alarm_topics = self.ingestor.alarm_topics
        # (time.time itself when that clock is the real one: it is called for every message)
        receipt_clock = time.time if self.now is clock.utcnow else lambda: self.now().timestamp()
        self.subscriber = MqttSubscriber(options, [t for t in self.ingestor.topics if t not in alarm_topics],
                                         self.ingestor.submit, unsubscribe=alarm_topics, clock=receipt_clock)
        if alarm_topics:
            self._alarm_topics = frozenset(alarm_topics)
            self.alarm_subscriber = MqttSubscriber(
                replace(options, client_id=f"{options.client_id}{ALARM_SESSION_SUFFIX}", status_topic=None),
                alarm_topics, self.ingestor.submit_alarm, clock=receipt_clock)
        self.ingestor.acker = self._ack
        self.ingestor.start()
        if self.alarm_subscriber is not None:
            self.alarm_subscriber.start()
        self.subscriber.start()
        self.scheduler = Scheduler(jobs, now=self.now)
        self.scheduler.start()
        self.scheduler_started = time.monotonic()
        health = self.settings.health
        self.watchdog = Watchdog(self.notifier, self.progress, self.describe,
                                 runtime_file(runtime_dir(health.runtime_dir), path),
                                 ingest_stall_s=health.ingest_stall_seconds,
                                 evaluation_stall_s=health.evaluation_stall_seconds, now=self.now)
        self.watchdog.start()
        summary = (f"{len(self.ingestor.specs)} sensors on {len(self.ingestor.topics)} topics, "
                   f"broker {self.settings.mqtt.host}:{self.settings.mqtt.port}")
        self.notifier.ready(summary)
        log.info("ikb-agent running: %s%s", summary,
                 f"; systemd watchdog {self.notifier.watchdog_s:.0f} s" if self.notifier.watchdog_s else "")

    def progress(self) -> Progress:
        """Return what the watchdog judges: the ingest loop's last turn, the oldest waiting message, the
        last finished evaluation."""
        assert self.ingestor is not None and self.scheduler is not None and self.watchdog is not None
        evaluation = self.scheduler.runs.get("evaluate")
        return Progress(started=self.scheduler_started, ingest_tick=self.ingestor.last_tick,
                        pending_since=self.ingestor.pending_since(),
                        evaluation_finished=evaluation.finished if evaluation else None)

    def describe(self) -> dict:
        """Return the runtime status: broker connection, ingest counts, the last evaluation."""
        assert self.ingestor is not None and self.subscriber is not None and self.scheduler is not None
        # Both sessions: a lost alarm-input session alone would leave the ventilation alarm unheard.
        sessions = {"main": self.subscriber.connected.is_set()}
        if self.alarm_subscriber is not None:
            sessions["alarms"] = self.alarm_subscriber.connected.is_set()
        connected = all(sessions.values())
        if self._broker is None or self._broker[0] != connected:
            self._broker = (connected, self.now().isoformat())
        c = self.ingestor.counts
        run = self.scheduler.runs.get("evaluate")
        return {
            "database": os.path.abspath(self.db_path or self.settings.storage.path),
            "broker": {"address": f"{self.settings.mqtt.host}:{self.settings.mqtt.port}", "connected": connected,
                       "sessions": sessions, "since": self._broker[1],
                       "fatal": self.subscriber.fatal or (self.alarm_subscriber.fatal if self.alarm_subscriber else None)},
            "ingest": {"received": self.ingestor.received, "stored": c.stored, "duplicates": c.duplicates,
                       "rejected": c.rejected},
            "evaluation": {"last_finished_at": run.finished_at.isoformat() if run else None,
                           "seconds": round(run.seconds, 3) if run else None, "last_error": run.error if run else None,
                           "last_ok_at": run.last_ok_at.isoformat() if run and run.last_ok_at else None},
        }

    def wait_connected(self, timeout: float) -> bool:
        """Wait until every MQTT session (the alarm inputs' too) is connected; return whether they are."""
        deadline = time.monotonic() + timeout
        return all(s.wait_connected(max(0.0, deadline - time.monotonic()))
                   for s in (self.subscriber, self.alarm_subscriber) if s is not None)

    def _ack(self, messages: list) -> None:
        """Acknowledge committed messages on the session that delivered them (topics belong to one)."""
        if self.alarm_subscriber is None:
            self.subscriber.ack(messages)
            return
        alarm = self._alarm_topics
        self.alarm_subscriber.ack([m for m in messages if m.topic in alarm])
        self.subscriber.ack([m for m in messages if m.topic not in alarm])

    def wait(self, stop: threading.Event) -> str | None:
        """The main loop: until ``stop`` is set, an MQTT client gave up or the ingest thread died, let the
        watchdog judge progress (and send systemd's keep-alives); return why it ended, if it must."""
        assert self.subscriber is not None and self.ingestor is not None and self.watchdog is not None
        while not stop.wait(0.2):
            for subscriber in (self.subscriber, self.alarm_subscriber):
                if subscriber is not None and subscriber.fatal:
                    return subscriber.fatal
            if not self.ingestor.alive:
                # A dead ingest thread with a live process would look healthy to systemd while
                # nothing is stored and no alarm is sent: end the process so it is restarted.
                return self.ingestor.failure or "ingest thread stopped"
            self.watchdog.poll()
        return None

    def stop(self) -> None:
        """Commit and acknowledge what was received, say offline, stop the jobs, close the database."""
        self.notifier.stopping()
        if self.ingestor is not None:
            self.ingestor.stop()  # acks need the connection: stop ingesting before disconnecting
            c = self.ingestor.counts
            log.info("stopping after %d messages: %d readings stored, %d duplicates, %d rejected",
                     self.ingestor.received, c.stored, c.duplicates, c.rejected)
        if self.subscriber is not None:
            self.subscriber.stop()
        if self.alarm_subscriber is not None:
            self.alarm_subscriber.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        for listener in self.listeners:  # e.g. the alert service's threads
            close = getattr(listener, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - stopping must go on
                    log.exception("listener %r did not close", listener)
        self.listeners = []
        for store in self.stores:
            store.close()
        self.stores = []
        if self.watchdog is not None:
            self.watchdog.stop()
            self.watchdog = None
        if self.run_lock is not None:
            self.run_lock.release()
            self.run_lock = None


def run_agent(settings: Settings, stop: threading.Event, db_path: str | None = None,
              notifier: Notifier | None = None) -> str | None:
    """Run until ``stop`` is set; return a fatal error message (bad credentials) or None."""
    agent = Agent(settings, db_path, notifier=notifier or Notifier(None))
    try:
        agent.start()
        return agent.wait(stop)
    finally:
        agent.stop()
