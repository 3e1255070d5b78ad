"""The running alert system: engine, sensor watch, dispatcher threads, MQTT acknowledgements.

``ikb-agent run`` builds one :class:`AlertService` through
:func:`alert_listener` (registered in ``agent.cli.runner.LISTENER_FACTORIES``):
ingestion calls its listener after every committed batch; a clock thread
ticks every few seconds for what happens with time (escalation, repeats,
closing, digests, panel silence, power grace); one worker thread per channel
delivers the outbox. This is the one place the alert code reads the clock.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Callable

from agent import clock
from agent.alerts.channels import broker_of, build_channels
from agent.alerts.engine import AckResult, AlertEngine, acknowledge_mqtt, mqtt_ack_user
from agent.alerts.messages import local_text
from agent.alerts.outbox import Dispatcher, Message, with_payload
from agent.alerts.sources import (
    SensorWatch,
    alerts_for_dues,
    poll_logbook_flags,
    poll_sensor_events,
    poll_status_changes,
)
from agent.config import AlertChannel, Settings
from agent.ingest import StoredReading
from agent.store import SMALL_CACHE_KIB, Store, latest_score, open_store, to_ms
from sensors.mqtt import MqttLink

log = logging.getLogger(__name__)


class AlertService:
    """Everything alerts need at run time, wired together; tests drive it with a clock of their own."""

    def __init__(self, store: Store, settings: Settings, *, clock_fn: Callable[[], datetime] = clock.utcnow,
                 tick_seconds: float = 5.0, mqtt_ack: bool = True, background_store: Store | None = None):
        # The listener's connection serves only the alarm path; the clock thread, the channel
        # workers and MQTT acknowledgements use the background one, so they never hold its lock.
        self.store = background_store or store
        self._own_store = background_store is not None
        self.settings = settings
        self.clock = clock_fn
        self.tick_seconds = tick_seconds
        self.engine = AlertEngine(self.store, settings)
        self.watch = SensorWatch(AlertEngine(store, settings), settings, store, to_ms(clock_fn()))
        self._lock = threading.Lock()
        self._links: dict[tuple, MqttLink] = {}
        self.ack_link: MqttLink | None = None
        if mqtt_ack:
            # The farm broker's link also carries the MQTT channels that name no broker of their own.
            broker = broker_of(settings)
            self.ack_link = MqttLink(broker, f"{settings.mqtt.client_id}-alerts",
                                     subscriptions=[settings.alerts.ack_topic.rstrip("/") + "/+"],
                                     on_message=self._on_ack,
                                     persistent=True)
            self._links[(broker.host, broker.port, broker.username)] = self.ack_link
        self.dispatcher = Dispatcher(self.store, build_channels(settings, self._link_for),
                                     retry_base=settings.alerts.retry_base_seconds,
                                     retry_max=settings.alerts.retry_max_seconds,
                                     before_send=self._before_send, clock_fn=clock_fn)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ inputs

    def listener(self, batch: list[StoredReading]) -> None:
        """Ingestion listener: evaluate a committed batch; wake the dispatcher when messages were written."""
        try:
            with self._lock:
                sent = self.watch.on_batch(batch, to_ms(self.clock()))
        except Exception:  # noqa: BLE001 — an alert bug must never stop ingestion
            log.exception("alert listener failed on a batch of %d readings", len(batch))
            return
        if sent:
            self.dispatcher.wake()

    def tick(self, now: datetime) -> None:
        """Do what time brings: silence, power grace, light clock, polls, closing, escalation, digests."""
        now_ms = to_ms(now)
        with self._lock:  # only the watch's in-memory state is shared with the listener
            self.watch.tick(now_ms)
        poll_status_changes(self.engine, self.store, now_ms)
        poll_sensor_events(self.engine, self.store, self.settings, now_ms)
        poll_logbook_flags(self.engine, self.store, now_ms)
        self.engine.tick(now_ms)
        self.dispatcher.wake()

    def _on_ack(self, topic: str, payload: bytes) -> None:
        """Acknowledge from ``<ack_topic>/<broker account>`` (an alarm dialer, Home Assistant)."""
        user = mqtt_ack_user(self.settings.alerts.ack_topic, topic)
        if user is None:
            log.warning("MQTT acknowledgement on %r ignored: expected %s/<account>", topic[:100],
                        self.settings.alerts.ack_topic)
            return
        result: AckResult = acknowledge_mqtt(self.store, payload, self.clock(), user=user)
        log.info("MQTT acknowledgement by %s: %s", user, result.status)

    # ------------------------------------------------------------------ delivery

    def _link_for(self, channel: AlertChannel) -> MqttLink:
        """Return the MQTT link an MQTT channel publishes through (one per broker and login)."""
        broker = broker_of(self.settings, channel)
        key = (broker.host, broker.port, broker.username)
        if key not in self._links:
            self._links[key] = MqttLink(broker, f"{self.settings.mqtt.client_id}-alerts-{len(self._links)}")
        return self._links[key]

    def _before_send(self, message: Message) -> Message | None:
        """Drop repeats made moot by an acknowledgement; note on a late message what happened meanwhile."""
        if message.alert_id is None:
            return message
        rows = self.store.query("SELECT state, closed_at, acked_at, acked_by FROM alerts WHERE id = ?",
                                [message.alert_id])
        if not rows:
            return message
        alert = rows[0]
        if message.event in ("repeat", "escalated") and (alert["acked_at"] or alert["state"] == "closed"):
            return None
        if message.event == "raised":
            notes = []
            if alert["acked_at"]:
                notes.append(f"bevestigd door {alert['acked_by']} om {local_text(self.settings, alert['acked_at'])}")
            if alert["state"] == "closed":
                notes.append(f"opgelost om {local_text(self.settings, alert['closed_at'])}")
            if notes:
                return with_payload(message, late_note="; ".join(notes))
        return message

    # ------------------------------------------------------------------ threads

    def start(self) -> None:
        """Connect to MQTT, start the channel workers and the clock thread."""
        for link in self._links.values():
            link.start()
        self.dispatcher.start()
        self._thread = threading.Thread(target=self._run_clock, name="alerts-clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the threads; whatever is pending stays in the outbox."""
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        self.dispatcher.stop()
        for link in self._links.values():
            link.stop()
        if self._own_store:
            self.store.close()
            self._own_store = False

    # As an agent.cli.runner listener: called with each batch, closed when the agent stops.
    __call__ = listener
    close = stop

    def _run_clock(self) -> None:
        """Tick every tick_seconds until stopped; a failing tick is logged, never fatal."""
        while not self._stop.is_set():
            try:
                self.tick(self.clock())
            except Exception:  # noqa: BLE001
                log.exception("alert tick failed")
            self._stop.wait(self.tick_seconds)


# ---------------------------------------------------------------------- composition with `ikb-agent run`

def alert_listener(store: Store, settings: Settings) -> AlertService:
    """Listener factory for agent.cli.runner: start the alert service; it is the batch listener."""
    service = AlertService(store, settings, background_store=open_store(store.path, cache_kib=SMALL_CACHE_KIB))
    service.start()
    return service


def raise_due_alerts(store: Store, settings: Settings, now: datetime) -> bool:
    """Raise an info alert for each item of the score's due list falling due tomorrow (once per local day).

    The due list is the score snapshot's (the minute job's). Before the first snapshot nothing is sent and the
    day is not marked done: the job looks again in 15 minutes rather than scoring the farm a second time.
    """
    local = now.astimezone(settings.farm_view().tz)
    day = local.date().isoformat()
    # Once a day, in the afternoon: "tomorrow" is then the next working day the farmer plans for.
    if local.hour < settings.alerts.due_reminder_hour or store.get_kv("alerts.dues.day") == day:
        return False
    stored = latest_score(store)
    if stored is None:
        return False
    sent = alerts_for_dues(AlertEngine(store, settings), settings, stored.score.due, to_ms(now))
    store.set_kv("alerts.dues.day", day)
    return sent


def due_job(store: Store, settings: Settings):
    """Job factory for agent.cli.runner: look for tomorrow's due items every 15 minutes (acts once a day)."""
    from agent.scheduler import JobSpec

    return JobSpec("alerts-due-tomorrow", lambda now: raise_due_alerts(store, settings, now), 900)
