"""The channels that reach the farmer: webhook (JSON or ntfy), e-mail (SMTP), MQTT publish.

Each turns an outbox :class:`~agent.alerts.outbox.Message` into what its receiver
expects and raises :class:`~agent.alerts.outbox.DeliveryError` with a readable reason
when the receiver does not confirm. Routing — which severities and houses a
channel takes, which person it reaches — is decided here too, from the
channel's configuration.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Callable
from urllib.parse import urlsplit

from agent.alerts.outbox import Channel, DeliveryError, Message
from agent.config import AlertChannel, Settings
from sensors.mqtt import MqttLink, MqttOptions, MqttUnavailable

# ntfy priorities: 5 = max (breaks through "do not disturb" where allowed), 4 = high, 3 = default.
NTFY_PRIORITY = {"critical": 5, "warning": 4, "info": 3}
NTFY_TAGS = {"critical": ["rotating_light"], "warning": ["warning"], "info": ["information_source"]}
SIGNATURE_HEADER = "X-IKB-Signature"


def message_id(settings: Settings, message: Message) -> str:
    """Return the id a receiver can use to drop a repeated delivery of the same message."""
    return f"ikb-{settings.farm.kip_number}-{message.id}"


def takes(channel: AlertChannel, severity: str, location: str | None) -> bool:
    """Return whether a channel takes messages of this severity about this location."""
    if severity not in channel.severities:
        return False
    # A farm-wide alert (no location) concerns every house.
    return channel.houses is None or not location or location in channel.houses


def sign(secret: str, body: bytes) -> str:
    """Return the signature header value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _tls_context(config: AlertChannel) -> ssl.SSLContext:
    """Return a verifying TLS context trusting the system's CAs or the configured ca_file."""
    return ssl.create_default_context(cafile=config.ca_file)


class WebhookChannel:
    """POST the alert as JSON (generic, Home Assistant) or as an ntfy JSON publish."""

    def __init__(self, config: AlertChannel, settings: Settings):
        self.key = config.key
        self.config = config
        self.settings = settings
        handlers: list = [urllib.request.ProxyHandler({})]  # a farm receiver is reached directly
        if (config.url or "").startswith("https://"):
            handlers.append(urllib.request.HTTPSHandler(context=_tls_context(config)))
        self._opener = urllib.request.build_opener(*handlers)

    def body(self, message: Message) -> tuple[str, bytes]:
        """Return the URL to post to and the JSON body for this message."""
        payload = message.payload
        if self.config.format == "ntfy":
            # ntfy's JSON publishing goes to the server root with the topic inside (UTF-8 safe).
            parts = urlsplit(self.config.url)
            url = f"{parts.scheme}://{parts.netloc}/"
            doc = {"topic": parts.path.strip("/"), "title": payload["summary"], "message": payload["text"],
                   "priority": NTFY_PRIORITY[message.severity], "tags": NTFY_TAGS[message.severity]}
            if payload.get("ack_url"):
                doc["click"] = payload["ack_url"]
                doc["actions"] = [{"action": "view", "label": "Bevestigen", "url": payload["ack_url"]}]
            return url, json.dumps(doc, ensure_ascii=False).encode("utf-8")
        doc = {"message_id": message_id(self.settings, message), **payload}
        return self.config.url, json.dumps(doc, ensure_ascii=False).encode("utf-8")

    def send(self, message: Message) -> str:
        """POST the message; a 2xx answer is delivery."""
        url, body = self.body(message)
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "ikb-agent",
                   "X-IKB-Message-Id": message_id(self.settings, message)}
        if self.config.secret:
            headers[SIGNATURE_HEADER] = sign(self.config.secret, body)
        if self.config.username and self.config.password:
            token = base64.b64encode(f"{self.config.username}:{self.config.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        elif self.config.password:  # e.g. an ntfy access token or a Home Assistant long-lived token
            headers["Authorization"] = f"Bearer {self.config.password}"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.config.timeout) as response:
                return f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"HTTP {exc.code} {exc.reason} van {url}") from None
        except urllib.error.URLError as exc:
            raise DeliveryError(f"{url} niet bereikbaar: {exc.reason}") from None
        except (TimeoutError, socket.timeout):
            raise DeliveryError(f"geen antwoord van {url} binnen {self.config.timeout:g} s") from None
        except OSError as exc:
            raise DeliveryError(f"{url}: {exc}") from None


class EmailChannel:
    """Send the alert as a plain-text e-mail in Dutch (SMTP, STARTTLS or implicit TLS, optional login)."""

    def __init__(self, config: AlertChannel, settings: Settings):
        self.key = config.key
        self.config = config
        self.settings = settings

    def compose(self, message: Message) -> EmailMessage:
        """Return the e-mail for a message: subject ``[KRITIEK] Stal 2: ventilatie-alarm``."""
        sender = self.config.sender or self.config.username or f"ikb-agent@{socket.gethostname()}"
        mail = EmailMessage()
        mail["Subject"] = message.payload["summary"]
        mail["From"] = sender
        mail["To"] = ", ".join(self.config.to)
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = make_msgid("ikb", domain=sender.rpartition("@")[2] or None)
        mail["X-IKB-Message-Id"] = message_id(self.settings, message)
        if message.severity == "critical":
            mail["X-Priority"] = "1"
            mail["Importance"] = "high"
        mail.set_content(message.payload["text"] + _late_note(message))
        return mail

    def send(self, message: Message) -> str:
        """Hand the e-mail to the SMTP server; its acceptance is delivery."""
        config = self.config
        mail = self.compose(message)
        try:
            if config.smtp_ssl:
                smtp = smtplib.SMTP_SSL(config.smtp_host, config.smtp_port, timeout=config.timeout,
                                        context=_tls_context(config))
            else:
                smtp = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout)
            with smtp:
                if config.starttls and not config.smtp_ssl:
                    smtp.starttls(context=_tls_context(config))
                if config.username:
                    smtp.login(config.username, config.password or "")
                refused = smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP-login geweigerd door {config.smtp_host}: {exc.smtp_code}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"alle ontvangers geweigerd: {', '.join(exc.recipients)}") from None
        except smtplib.SMTPException as exc:
            raise DeliveryError(f"SMTP {config.smtp_host}:{config.smtp_port}: {exc}") from None
        except ssl.SSLError as exc:
            raise DeliveryError(f"TLS met {config.smtp_host} mislukt: {exc.reason or exc}") from None
        except OSError as exc:
            raise DeliveryError(f"SMTP-server {config.smtp_host}:{config.smtp_port} niet bereikbaar: {exc}") from None
        if refused:
            return f"geaccepteerd, behalve {', '.join(refused)}"
        return f"geaccepteerd door {config.smtp_host}"


def _late_note(message: Message) -> str:
    """Return the note added at send time when the alert changed while the message waited."""
    note = message.payload.get("late_note")
    return f"\n\nIntussen: {note}\n" if note else ""


def state_topic(base: str, alert: dict) -> str:
    """Return the retained per-alert topic: ``base/state/<kind>/<location>[/<rule>]``."""
    parts = [alert["kind"], alert.get("location") or "bedrijf"]
    if alert.get("subject"):
        parts.append(alert["subject"])
    return base.rstrip("/") + "/state/" + "/".join(re.sub(r"[+#/\s]", "_", p) for p in parts)


class MqttChannel:
    """Publish every message on ``topic/events`` and each alert's current state, retained, per alert."""

    def __init__(self, config: AlertChannel, settings: Settings, link: MqttLink):
        self.key = config.key
        self.config = config
        self.settings = settings
        self.link = link

    def send(self, message: Message) -> str:
        """Publish with QoS 1; the broker's PUBACK is delivery."""
        base = self.config.topic.rstrip("/")
        doc = {"message_id": message_id(self.settings, message), **message.payload}
        body = json.dumps(doc, ensure_ascii=False)
        try:
            alert = message.payload.get("alert")
            if alert is not None:
                # Retained: a dialer or Home Assistant that (re)connects sees every alert's current state.
                self.link.publish(state_topic(base, alert), body, retain=True, timeout=self.config.timeout)
            self.link.publish(f"{base}/events", body, timeout=self.config.timeout)
        except MqttUnavailable as exc:
            raise DeliveryError(str(exc)) from None
        return f"PUBACK van {self.link.host}:{self.link.port}"


LinkFactory = Callable[[AlertChannel], MqttLink]


def broker_of(settings: Settings, channel: AlertChannel | None = None) -> MqttOptions:
    """Return the broker an MQTT channel publishes to: its own ``url``, else the farm's [mqtt] broker."""
    mqtt = settings.mqtt
    if channel is None or not channel.url:
        return MqttOptions(host=mqtt.host, port=mqtt.port, tls=mqtt.tls, keepalive=mqtt.keepalive,
                           username=(channel and channel.username) or mqtt.username,
                           password=(channel and channel.password) or mqtt.password,
                           ca_file=(channel and channel.ca_file) or mqtt.ca_file,
                           client_id=mqtt.client_id, session_expiry=mqtt.session_expiry)
    tls = channel.url.startswith("mqtts://")
    host, _, port = channel.url.split("://", 1)[1].strip("/").partition(":")
    return MqttOptions(host=host, port=int(port) if port else (8883 if tls else 1883), tls=tls,
                       username=channel.username, password=channel.password, ca_file=channel.ca_file,
                       client_id=mqtt.client_id)


def build_channels(settings: Settings, link_for: LinkFactory) -> dict[str, Channel]:
    """Return every configured channel by its key; MQTT channels get their link from ``link_for``."""
    out: dict[str, Channel] = {}
    for config in settings.alerts.channels:
        if config.type == "webhook":
            out[config.key] = WebhookChannel(config, settings)
        elif config.type == "email":
            out[config.key] = EmailChannel(config, settings)
        else:
            out[config.key] = MqttChannel(config, settings, link_for(config))
    return out
