"""The upstream job of `ikb-agent run`: publish status, score, open alerts and chain heads on the farm's broker.

Retained, QoS 1, on ``ikb/<kip>/…``; the farm's mosquitto bridges exactly those topics to the integrator's
broker. To keep the SD card quiet (mosquitto persists retained messages), a document goes out only when its
essence changed, status and score also once per ``heartbeat_hours`` (so upstream can tell a quiet farm
from a dead one), the chain heads once per ``chain_hours``. When the bridge reports a new connection
(``ikb/<kip>/connected`` = 1) everything is published again: an upstream broker that lost its retained
store (a restarted RabbitMQ node) is filled again at once. Home Assistant's state and discovery go the same
way when enabled.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from typing import Callable

from agent.config import Settings
from agent.logbooks import canonical
from agent.scheduler import JobSpec
from agent.signing import FarmKey, FarmKeyError, farm_key
from agent.store import Store
from agent.upstream import homeassistant
from agent.upstream.documents import alerts_doc, chain_doc, connected_topic, essence, score_doc, status_doc, topic
from sensors.mqtt import MqttLink, MqttOptions, MqttUnavailable

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes], None]  # (topic, payload) → retained QoS 1 publish, raising on failure


class UpstreamPublisher:
    """Decide which documents are due and publish them; remembers what it sent (in memory only)."""

    def __init__(self, store: Store, settings: Settings, publish: Publish, key: FarmKey, started: datetime):
        self.store = store
        self.settings = settings
        self.publish = publish
        self.key = key
        self.started = started
        self.sent: dict[str, tuple[bytes, datetime]] = {}  # topic → (essence, when)
        self.republish = threading.Event()
        self.published = 0
        self._forced = False

    def on_connected(self, payload: bytes) -> None:
        """Note the bridge's notification: on a new upstream connection, publish everything again."""
        if payload.strip() == b"1":
            self.republish.set()

    def _send(self, name: str, doc: dict, now: datetime, *, every: timedelta | None, kind: str) -> None:
        """Publish a document when its essence changed, when ``every`` has passed, or when forced."""
        body = canonical(essence(kind, doc))
        previous = self.sent.get(name)
        due = (previous is None or previous[0] != body or self._forced
               or (every is not None and now - previous[1] >= every))
        if not due:
            return
        self.publish(name, json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        self.sent[name] = (body, now)
        self.published += 1

    def run(self, now: datetime) -> int:
        """Publish what is due at ``now``; return how many messages went out (failures raise and retry later)."""
        before = self.published
        self._forced = self.republish.is_set()
        self.republish.clear()
        try:
            up = self.settings.upstream
            # Read once a round, for upstream and Home Assistant alike.
            score, alerts = score_doc(self.store, self.settings, now), alerts_doc(self.store, self.settings, now)
            if up.enabled:
                beat = timedelta(hours=up.heartbeat_hours)
                self._send(topic(self.settings, "status"), status_doc(
                    self.store, self.settings, now, started=self.started, fingerprint=self.key.fingerprint),
                    now, every=beat, kind="status")
                self._send(topic(self.settings, "score"), score, now, every=beat, kind="score")
                self._send(topic(self.settings, "alerts"), alerts, now, every=None, kind="alerts")
                name = topic(self.settings, "chain")
                last = self.sent.get(name)
                if last is None or self._forced or now - last[1] >= timedelta(hours=up.chain_hours):
                    self.publish(name, json.dumps(chain_doc(self.store, self.settings, now, self.key),
                                                  ensure_ascii=False, sort_keys=True).encode("utf-8"))
                    self.sent[name] = (b"", now)
                    self.published += 1
            if self.settings.homeassistant.enabled:
                if "homeassistant" not in self.sent or self._forced:
                    for name, doc in homeassistant.discovery(self.settings, self.key.fingerprint):
                        self.publish(name, json.dumps(doc, ensure_ascii=False).encode("utf-8"))
                        self.published += 1
                    self.sent["homeassistant"] = (b"", now)
                self._send(self.settings.homeassistant.state_topic,
                           homeassistant.state(self.store, self.settings, now, score, alerts["open"]), now,
                           every=None, kind="ha")
        except Exception:
            if self._forced:  # a forced round that failed is tried again
                self.republish.set()
            raise
        return self.published - before


def _options(settings: Settings) -> MqttOptions:
    """Return the farm broker's options for the publisher's own client."""
    m = settings.mqtt
    return MqttOptions(host=m.host, port=m.port, username=m.username, password=m.password, tls=m.tls,
                       ca_file=m.ca_file, client_id=f"{m.client_id}-upstream", keepalive=m.keepalive)


def upstream_job(store: Store, settings: Settings, *, started: datetime | None = None) -> JobSpec | None:
    """Return the publishing job of `ikb-agent run` (None when neither upstream nor Home Assistant is on).

    The farm key is created here on the first run if absent, whether or not anything is published.
    """
    from agent import clock

    try:
        key = farm_key(settings.key_path())
    except FarmKeyError as exc:
        log.error("%s", exc)
        return None
    if not (settings.upstream.enabled or settings.homeassistant.enabled):
        return None
    publisher: UpstreamPublisher | None = None

    def on_message(name: str, payload: bytes) -> None:
        if publisher is not None:
            publisher.on_connected(payload)

    link = MqttLink(_options(settings), f"{settings.mqtt.client_id}-upstream",
                    subscriptions=[connected_topic(settings)] if settings.upstream.enabled else [],
                    on_message=on_message)

    def publish(name: str, payload: bytes) -> None:
        try:
            link.publish(name, payload, retain=True)
        except MqttUnavailable as exc:
            raise RuntimeError(f"upstream: {exc}") from None

    publisher = UpstreamPublisher(store, settings, publish, key, started or clock.utcnow())
    link.start()
    return JobSpec("upstream", publisher.run, float(settings.upstream.interval_seconds), first_delay_s=10,
                   close=link.stop)
