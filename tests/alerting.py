"""Real receivers for the alert tests: an HTTP webhook server, an SMTP server, an MQTT listener; settings."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from agent.config import Settings, config_from_dict
from agent.ingest.ingestor import StoredReading
from agent.store.readings import to_ms

from .conftest import FARM_TOML, free_port

T0 = datetime(2026, 3, 28, 2, 0, tzinfo=timezone.utc)  # 03:00 on the farm


def settings_with(tmp_path: Path, alerts_toml: str, *, panels: bool = False, mqtt_port: int = 1883) -> Settings:
    """Return the two-house test farm with the given [alerts] configuration (TOML text).

    panels: configure a ventilation alarm panel per house (their silence is then watched).
    """
    import tomllib

    return config_from_dict(tomllib.loads(farm_toml(tmp_path, alerts_toml, panels=panels, mqtt_port=mqtt_port)))


def farm_toml(tmp_path: Path, alerts_toml: str, *, panels: bool = False, mqtt_port: int = 1883) -> str:
    """Return the configuration file text of settings_with()."""
    base = FARM_TOML.format(db=tmp_path / "farm.db").split("[[alerts.channels]]")[0]
    base = base.replace("port = 1883", f"port = {mqtt_port}")
    base += PANELS if panels else ""
    return base + "\n" + alerts_toml


PANELS = """
[[sensors]]
topic = "stal1/alarm"
kind = "ventilation_alarm"
location = "1"

[[sensors]]
topic = "stal2/alarm"
kind = "ventilation_alarm"
location = "2"
"""


def reading(kind: str, location: str, value: float, at: datetime, sensor_id: int = 1) -> StoredReading:
    """Return one stored reading as ingestion hands it to listeners."""
    return StoredReading(sensor_id, kind, location, to_ms(at), float(value), f"stal{location}/{kind}")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@dataclass
class Hit:
    path: str
    headers: object
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """A real HTTP server on a free loopback port that records every POST; can go down and come back."""

    status: int = 200
    port: int = field(default_factory=free_port)
    hits: "queue.Queue[Hit]" = field(default_factory=queue.Queue)
    received: list = field(default_factory=list)

    def __post_init__(self):
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.status < 300:
                    hit = Hit(self.path, self.headers, body)  # case-insensitive
                    receiver.received.append(hit)
                    receiver.hits.put(hit)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def wait(self, timeout: float = 10.0) -> Hit:
        """Return the next received request (fails the test after timeout)."""
        return self.hits.get(timeout=timeout)


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """Create a certificate for localhost/127.0.0.1 with openssl; return (cert, key)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


class SmtpReceiver:
    """A real SMTP server (aiosmtpd) on a free port, with STARTTLS and a login, that keeps what it receives."""

    def __init__(self, directory: Path, *, user: str = "boer", password: str = "geheim"):
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.cert, key = self_signed_cert(directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.port = free_port()
        self.messages: "queue.Queue" = queue.Queue()
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                import email

                receiver.messages.put((envelope.rcpt_tos, email.message_from_bytes(envelope.content,
                                                                                    policy=email.policy.default)))
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data == (user.encode(), password.encode())
            return AuthResult(success=ok, handled=False)  # unhandled failure: the server answers 535

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, tls_context=context,
                                     require_starttls=True, authenticator=authenticator, auth_required=True)

    def start(self) -> "SmtpReceiver":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def wait(self, timeout: float = 10.0):
        """Return (recipients, parsed e-mail) of the next message."""
        return self.messages.get(timeout=timeout)


class MqttListener:
    """Subscribe on the test broker and collect (topic, JSON payload, retained?) — through the agent's own link."""

    def __init__(self, port: int, topic: str):
        from sensors.mqtt import MqttLink, MqttOptions

        self.messages: "queue.Queue" = queue.Queue()
        self.link = MqttLink(MqttOptions(port=port), f"test-listener-{port}", subscriptions=[topic],
                             on_message=lambda t, p: self.messages.put((t, json.loads(p) if p else None)))

    def start(self) -> "MqttListener":
        assert self.link.start(wait=5), "test listener could not connect"
        return self

    def stop(self) -> None:
        self.link.stop()

    def wait(self, timeout: float = 10.0):
        return self.messages.get(timeout=timeout)
