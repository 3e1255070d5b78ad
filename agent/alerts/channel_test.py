"""Test the alarm chain: one test message through each channel, its delivery recorded (A3.4).

Each test is an outbox row (so the attempt log holds it like any alert) and
one ``channel_tests`` row: ``(channel, sent_at ISO, delivered 0/1, detail)``.
The A3.4 evaluator reads that table: no delivered test in two months is C
("Alarmvoorziening onvoldoende"). ``--monthly`` marks the row as the monthly
test of the channel. A channel test is a channel test: it is logged here and
never as an alarm check in the checks logbook (A3.6), because the alarm
installation itself was not tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent.alerts.channels import broker_of, build_channels
from agent.alerts.messages import channel_test_payload
from agent.alerts.outbox import Dispatcher, Message, enqueue
from agent.config import AlertChannel, Settings
from agent.store import Store, record_channel_test, to_ms
from sensors.mqtt import MqttLink

MONTHLY_PREFIX = "maandelijkse kanaaltest: "


@dataclass(frozen=True)
class ChannelTestResult:
    """The outcome of one channel's test."""

    channel: str
    delivered: bool
    detail: str
    sent_at: str

    def to_json(self) -> dict:
        """Return the result as JSON."""
        return {"channel": self.channel, "delivered": self.delivered, "detail": self.detail, "sent_at": self.sent_at}


@dataclass(frozen=True)
class ChannelState:
    """A configured channel as the alerts page names it: where it reaches, what it carries, its last test."""

    key: str
    label: str  # what the page calls it: its name, else where it reaches (a URL may carry a token: never shown)
    type: str  # webhook | email | mqtt
    target: str  # the receiver's host, the addresses or the topic (never a secret or a token in a URL)
    severities: tuple[str, ...]
    houses: tuple[str, ...] | None
    person: str | None
    last_test: ChannelTestResult | None
    last_delivered_ms: int | None


def _target(channel: AlertChannel) -> str:
    """Return where a channel reaches, without the secrets a URL may carry."""
    from urllib.parse import urlsplit

    if channel.type == "email":
        return ", ".join(channel.to)
    if channel.type == "mqtt":
        return channel.topic or ""
    return urlsplit(channel.url or "").hostname or ""


def channel_states(store: Store, settings: Settings) -> list[ChannelState]:
    """Return every configured off-farm channel with its last test and its last delivered message."""
    out = []
    for c in settings.alerts.channels:
        tests = store.query("SELECT channel, sent_at, delivered, detail FROM channel_tests WHERE channel = ?"
                            " ORDER BY id DESC LIMIT 1", [c.key])
        last = store.query("SELECT max(delivered_at) AS at FROM outbox WHERE channel = ? AND state = 'delivered'",
                           [c.key])[0]["at"]
        test = ChannelTestResult(tests[0]["channel"], bool(tests[0]["delivered"]), tests[0]["detail"] or "",
                                 tests[0]["sent_at"]) if tests else None
        out.append(ChannelState(c.key, c.name or _target(c) or c.type, c.type, _target(c), tuple(c.severities),
                                tuple(c.houses) if c.houses else None, c.person, test, last))
    return out


def run_channel_tests(store: Store, settings: Settings, now: datetime, *, names: list[str] | None = None,
                      monthly: bool = False) -> list[ChannelTestResult]:
    """Send one test message per channel (one attempt each); record and return the outcomes."""
    links: list[MqttLink] = []

    def link_for(channel: AlertChannel) -> MqttLink:
        link = MqttLink(broker_of(settings, channel), f"{settings.mqtt.client_id}-alerttest")
        link.start(wait=channel.timeout)
        links.append(link)
        return link

    wanted = [c for c in settings.alerts.channels if names is None or c.key in names]
    now_ms = to_ms(now)
    results = []
    try:
        channels = build_channels(settings.model_copy(update={"alerts": settings.alerts.model_copy(
            update={"channels": wanted})}), link_for)
        dispatcher = Dispatcher(store, channels)
        for config in wanted:
            payload = channel_test_payload(settings, config.key, now_ms, monthly=monthly)
            with store.transaction(immediate=True) as db:
                # Due a minute from now: this command attempts it first; should it die halfway,
                # the running agent still delivers it.
                msg_id = enqueue(db, channel=config.key, event="test", severity="info", payload=payload,
                                 now_ms=now_ms, not_before_ms=now_ms + 60_000)
            message = Message(msg_id, None, config.key, "test", "info", payload, 0, now_ms)
            delivered = dispatcher.deliver(message, now, retry=False)
            detail = store.query("SELECT detail FROM delivery_attempts WHERE outbox_id = ? ORDER BY id DESC LIMIT 1",
                                 [msg_id])[0]["detail"]
            detail = (MONTHLY_PREFIX if monthly else "") + detail
            with store.transaction(immediate=True) as db:
                record_channel_test(db, config.key, now.isoformat(), delivered, detail)
            results.append(ChannelTestResult(config.key, delivered, detail, now.isoformat()))
    finally:
        for link in links:
            link.stop()
    return results
