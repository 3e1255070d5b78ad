"""The MQTT boundary: the only module that imports paho (paho-mqtt ≥ 2, callback API v2, MQTT v5).

Subscriber (:class:`MqttSubscriber`): a persistent session (clean start off,
session expiry from the configuration) so the broker keeps QoS 1 messages while
the agent is away; QoS 1 subscriptions; ``manual_ack`` so a message is
acknowledged only when the caller says it is committed; reconnect with
backoff; TLS and username/password from the configuration; a retained
``online``/``offline`` status topic with a last will. Bad credentials stop the
client with a clear error instead of retrying forever.

Every raw message becomes a frozen :class:`~sensors.model.RawMessage` before
anyone else sees it; a handler that raises is logged with a truncated
description and never kills the network thread.

Publisher (:class:`MqttPublisher`): what the simulator uses to publish.

Link (:class:`MqttLink`): the alerts' and the upstream publisher's client — publish
with QoS 1 and wait for the PUBACK, and receive a few subscribed topics.

:func:`fetch_retained`: what a newcomer sees — the retained messages of some topics
(``ikb-agent fleet``, ``verify --broker``), with :func:`options_from_url` for
``mqtt://`` / ``mqtts://`` addresses and client certificates.
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from sensors.model import RawMessage

log = logging.getLogger(__name__)

# Reconnect backoff (seconds); module-level so tests can shorten it.
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 60
# MQTT v5 CONNACK reason codes that no retry can fix.
_AUTH_FAILURES = {134: "bad user name or password", 135: "not authorized"}


@dataclass(frozen=True, slots=True)
class MqttOptions:
    """How to reach the broker (the [mqtt] section of the configuration)."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None  # a client certificate (TLS client authentication, e.g. an upstream broker)
    key_file: str | None = None
    client_id: str = "ikb-agent"
    keepalive: int = 30
    status_topic: str | None = "ikb-agent/status"
    session_expiry: int = 7 * 24 * 3600
    receive_maximum: int = 1000
    mqtt_version: int = 5  # 4 = MQTT 3.1.1, for brokers without MQTT 5 (RabbitMQ before 3.13)


def _client(options: MqttOptions, client_id: str, *, manual_ack: bool) -> mqtt.Client:
    """Return a configured (not yet connected) paho client."""
    protocol = mqtt.MQTTv5 if options.mqtt_version == 5 else mqtt.MQTTv311
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol, manual_ack=manual_ack)
    if options.username is not None:
        client.username_pw_set(options.username, options.password)
    if options.tls:
        client.tls_set(ca_certs=options.ca_file, certfile=options.cert_file, keyfile=options.key_file,
                       cert_reqs=ssl.CERT_REQUIRED)
    client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
    return client


class MqttSubscriber:
    """Receive QoS 1 messages on fixed topics into a handler; acknowledge them when told."""

    def __init__(self, options: MqttOptions, topics: Iterable[str], handler: Callable[[RawMessage], None],
                 clock: Callable[[], float] = time.time, *, unsubscribe: Iterable[str] = ()):
        self.options = options
        self.topics = sorted(set(topics))
        # Topics this (persistent) session may still be subscribed to from an earlier version and must
        # no longer receive: they moved to another session, which would otherwise get them too.
        self.unsubscribe = sorted(set(unsubscribe) - set(self.topics))
        self.handler = handler
        self.clock = clock
        self.generation = 0  # incremented per successful connection; acks go to the one that delivered
        self.connected = threading.Event()
        self.stopped = threading.Event()  # set when the client gave up (fatal) or was stopped
        self.fatal: str | None = None
        self.session_present = False
        self._started = False
        self.client = _client(options, options.client_id, manual_ack=True)
        if options.status_topic:
            # Last will: the broker announces us offline when we vanish without saying goodbye.
            self.client.will_set(options.status_topic, b"offline", qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def start(self) -> None:
        """Connect in the background (retrying with backoff until the broker answers)."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.options.session_expiry
        # At most this many unacknowledged messages in flight to us: bounds memory, and the
        # redelivery guard in agent.ingest.ingestor remembers exactly this many deliveries.
        props.ReceiveMaximum = self.options.receive_maximum
        self.client.connect_async(self.options.host, self.options.port, keepalive=self.options.keepalive,
                                  clean_start=False, properties=props)
        self.client.loop_start()
        self._started = True

    def wait_connected(self, timeout: float) -> bool:
        """Wait until connected (or the client gave up); return whether it is connected."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopped.is_set():
            if self.connected.wait(0.05):
                return True
        return self.connected.is_set()

    def ack(self, messages: Iterable[RawMessage]) -> None:
        """Acknowledge committed messages (only those delivered on the current connection)."""
        generation = self.generation
        for m in messages:
            # A message from an earlier connection is redelivered by the broker on this one
            # (and recognised as a duplicate); acknowledging its old packet id here would be wrong.
            if m.qos and m.generation == generation:
                self.client.ack(m.mid, m.qos)

    def stop(self) -> None:
        """Say offline, disconnect cleanly (the session stays with the broker) and stop the thread."""
        self.stopped.set()
        if self._started:
            if self.connected.is_set() and self.options.status_topic:
                info = self.client.publish(self.options.status_topic, b"offline", qos=1, retain=True)
                try:
                    info.wait_for_publish(2)
                except (RuntimeError, ValueError):
                    pass
            self.client.disconnect()
            self.client.loop_stop()
            self._started = False
        self.connected.clear()

    # ------------------------------------------------------------------ paho callbacks (network thread)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        """Subscribe and announce ourselves; give up on refused credentials."""
        if reason_code.is_failure:
            code = reason_code.value
            if code in _AUTH_FAILURES:
                self.fatal = (f"MQTT broker {self.options.host}:{self.options.port} refused the connection: "
                              f"{_AUTH_FAILURES[code]} (check [mqtt] username and password)")
                log.critical(self.fatal)
                # No retry can fix this: stop the loop instead of hammering the broker.
                client.disconnect()
                self.stopped.set()
                threading.Thread(target=client.loop_stop, daemon=True).start()
            else:
                log.error("MQTT broker refused the connection: %s; retrying", reason_code)
            return
        self.generation += 1
        self.session_present = bool(flags.session_present)
        log.info("connected to MQTT broker %s:%s (session %s)", self.options.host, self.options.port,
                 "resumed" if self.session_present else "new")
        if self.topics:
            # retainHandling=2: no retained messages on subscribe. A retained value is old
            # state of unknown age; storing it with the receive time would invent a reading.
            client.subscribe([(t, SubscribeOptions(qos=1, retainHandling=2)) for t in self.topics])
        if self.unsubscribe and self.session_present:
            client.unsubscribe(self.unsubscribe)
        if self.options.status_topic:
            client.publish(self.options.status_topic, b"online", qos=1, retain=True)
        self.connected.set()

    def _on_connect_fail(self, client, userdata) -> None:
        """Log an unreachable broker (paho retries with backoff)."""
        log.warning("MQTT broker %s:%s unreachable; retrying (backoff up to %s s)", self.options.host,
                    self.options.port, RECONNECT_MAX_S)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        """Note the lost connection (paho reconnects; the broker keeps our session)."""
        was_connected = self.connected.is_set()
        self.connected.clear()
        if was_connected and not self.stopped.is_set():
            log.warning("disconnected from MQTT broker (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        """Turn a paho message into a RawMessage and hand it on; never raise into paho."""
        try:
            # Positional: this runs once a message in paho's network thread, which sets the ingest ceiling.
            # Fields: topic, payload, received_ms, mid, qos, dup, retain, generation.
            self.handler(RawMessage(message.topic, bytes(message.payload), int(self.clock() * 1000), message.mid,
                                    message.qos, bool(message.dup), bool(message.retain), self.generation))
        except Exception as exc:  # noqa: BLE001 - the network thread must survive any handler
            log.error("message handler failed on %r: %s", bytes(message.payload[:80]), repr(exc)[:300])


class MqttPublisher:
    """Publish QoS 1 messages (the simulator's side of the broker), with bounded memory."""

    MAX_UNCONFIRMED = 5000  # publish() waits while this many are not yet confirmed by the broker

    def __init__(self, options: MqttOptions, client_id: str = "ikb-simulator"):
        self.options = options
        self.client = _client(options, client_id, manual_ack=False)
        self.client.max_inflight_messages_set(200)
        self.connected = threading.Event()
        self.fatal: str | None = None
        self.sent = 0
        self.confirmed = 0
        self._lock = threading.Lock()
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        """Note the connection (or why it was refused)."""
        if reason_code.is_failure:
            self.fatal = f"MQTT broker refused the simulator: {reason_code}"
            log.error(self.fatal)
            return
        self.connected.set()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        """Count a message the broker confirmed."""
        with self._lock:
            self.confirmed += 1

    def connect(self, timeout: float = 10) -> None:
        """Connect and wait until the broker accepted us; raise ConnectionError otherwise."""
        try:
            self.client.connect(self.options.host, self.options.port, keepalive=self.options.keepalive)
        except OSError as exc:
            raise ConnectionError(f"cannot reach MQTT broker {self.options.host}:{self.options.port}: {exc}") from None
        self.client.loop_start()
        if not self.connected.wait(timeout):
            self.client.loop_stop()
            raise ConnectionError(self.fatal or f"MQTT broker {self.options.host}:{self.options.port} did not answer")

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        """Queue one message; wait first while too many are unconfirmed."""
        while self.sent - self.confirmed >= self.MAX_UNCONFIRMED:
            time.sleep(0.001)
        self.client.publish(topic, payload, qos=qos, retain=retain)
        if qos:
            self.sent += 1

    def flush(self, timeout: float = 30) -> bool:
        """Wait until the broker confirmed every QoS 1 message; return False on timeout."""
        deadline = time.monotonic() + timeout
        while self.confirmed < self.sent:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def close(self, timeout: float = 30) -> None:
        """Wait until everything is confirmed, then disconnect."""
        if not self.flush(timeout):
            log.warning("simulator: %d messages not confirmed by the broker", self.sent - self.confirmed)
        self.client.disconnect()
        self.client.loop_stop()


OnMessage = Callable[[str, bytes], None]


class MqttUnavailable(Exception):
    """The broker cannot be reached or did not confirm a message; the text says which."""


class MqttLink:
    """The alerts' client: publish with QoS 1 and wait for PUBACK; receive a few subscribed topics.

    Kept connected by paho's network thread (reconnect with backoff). With
    ``persistent`` the broker keeps the session, so an acknowledgement sent
    while the agent was away still arrives.
    """

    def __init__(self, options: MqttOptions, client_id: str, *, subscriptions: Iterable[str] = (),
                 on_message: OnMessage | None = None, persistent: bool = False):
        self.options = options
        self.host, self.port = options.host, options.port
        self.subscriptions = tuple(subscriptions)
        self.on_message = on_message
        self.persistent = persistent
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._started = False
        self.client = _client(options, client_id, manual_ack=False)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def start(self, wait: float = 0.0) -> bool:
        """Connect in the background (retrying forever); wait up to ``wait`` s; return whether ready."""
        if not self._started:
            self._started = True
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self.options.session_expiry if self.persistent else 0
            self.client.connect_async(self.host, self.port, keepalive=self.options.keepalive,
                                      clean_start=not self.persistent, properties=props)
            self.client.loop_start()
        return self.wait_ready(wait)

    def wait_ready(self, timeout: float) -> bool:
        """Wait until connected with every subscription confirmed; return whether it is."""
        return self._subscribed.wait(timeout) if timeout else self._subscribed.is_set()

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        if self._started:
            self.client.disconnect()
            self.client.loop_stop()
            self._started = False

    @property
    def connected(self) -> bool:
        """Return whether the broker connection is up."""
        return self._connected.is_set()

    def publish(self, topic: str, payload: bytes | str, *, retain: bool = False, timeout: float = 10.0) -> None:
        """Publish with QoS 1 and wait for the broker's PUBACK; raise MqttUnavailable otherwise."""
        # Not connected: refuse rather than let paho queue it, so the caller's retry is the only copy.
        if not self._connected.wait(min(timeout, 2.0)):
            raise MqttUnavailable(f"geen verbinding met MQTT-broker {self.host}:{self.port}")
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as exc:
            raise MqttUnavailable(f"MQTT-broker {self.host}:{self.port}: {exc}") from None
        if not info.is_published():
            raise MqttUnavailable(f"MQTT-broker {self.host}:{self.port} bevestigde niet binnen {timeout:g} s")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        """Subscribe (again) once connected; a refused login is logged loudly."""
        if reason_code.is_failure:
            log.error("MQTT broker %s:%s refused the alert link: %s", self.host, self.port, reason_code)
            return
        if self.subscriptions:
            client.subscribe([(t, SubscribeOptions(qos=1)) for t in self.subscriptions])
        else:
            self._subscribed.set()
        self._connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        """Note that the broker confirmed our subscriptions."""
        self._subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        """Note the lost connection; paho reconnects by itself."""
        self._connected.clear()
        self._subscribed.clear()

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        """Hand a subscribed message on; a failing handler is logged, never kills the network thread."""
        if self.on_message is None:
            return
        try:
            self.on_message(message.topic, bytes(message.payload))
        except Exception as exc:  # noqa: BLE001
            log.error("MQTT handler failed on %s (payload %r): %s", message.topic, bytes(message.payload)[:80],
                      repr(exc)[:300])


def options_from_url(url: str, **extra) -> MqttOptions:
    """Return options for ``mqtt://host[:port]`` or ``mqtts://host[:port]``; ValueError naming what is wrong.

    MQTT 3.1.1 unless ``mqtt_version`` is given: every upstream broker speaks it.
    """
    extra.setdefault("mqtt_version", 4)
    match = re.fullmatch(r"(mqtts?)://([^/:\s]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?/?", url.strip())
    if not match:
        raise ValueError(f"expected mqtt://host:port or mqtts://host:port, got {url!r}")
    tls = match.group(1) == "mqtts"
    port = int(match.group(3)) if match.group(3) else (8883 if tls else 1883)
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} out of range")
    return MqttOptions(host=match.group(2).strip("[]"), port=port, tls=tls, **extra)


def fetch_retained(options: MqttOptions, topics: Iterable[str], *, timeout: float = 10.0,
                   quiet: float = 0.5) -> list[tuple[str, bytes]]:
    """Return the retained messages of ``topics`` (filters allowed), as a newcomer subscriber gets them.

    Connects with a clean session, subscribes, and collects until no message came for ``quiet`` seconds
    after the broker confirmed the subscription. Raises MqttUnavailable when the broker cannot be reached,
    refuses us, or does not answer within ``timeout``.
    """
    got: list[tuple[str, bytes]] = []
    last = [0.0]
    subscribed = threading.Event()
    refused: list[str] = []
    client = _client(options, options.client_id, manual_ack=False)

    def on_connect(c, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            refused.append(str(reason_code))
            subscribed.set()
            return
        c.subscribe([(t, SubscribeOptions(qos=1) if options.mqtt_version == 5 else 1) for t in topics])

    def on_subscribe(c, userdata, mid, reason_codes, properties):
        last[0] = time.monotonic()
        subscribed.set()

    def on_message(c, userdata, message):
        if message.retain:
            got.append((message.topic, bytes(message.payload)))
            last[0] = time.monotonic()

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    where = f"{options.host}:{options.port}"
    try:
        if options.mqtt_version == 5:
            client.connect(options.host, options.port, keepalive=options.keepalive, clean_start=True)
        else:
            client.connect(options.host, options.port, keepalive=options.keepalive)
    except (OSError, ssl.SSLError) as exc:
        raise MqttUnavailable(f"MQTT-broker {where} niet bereikbaar: {exc}") from None
    client.loop_start()
    try:
        if not subscribed.wait(timeout):
            raise MqttUnavailable(f"MQTT-broker {where} antwoordde niet binnen {timeout:g} s")
        if refused:
            raise MqttUnavailable(f"MQTT-broker {where} weigerde de verbinding: {refused[0]}")
        deadline = time.monotonic() + timeout
        while time.monotonic() - last[0] < quiet and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.disconnect()
        client.loop_stop()
    return got
