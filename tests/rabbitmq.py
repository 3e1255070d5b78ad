"""A private RabbitMQ node with its MQTT plugin on a loopback TLS port, and test certificates.

RabbitMQ (Debian's ``rabbitmq-server``) stands for the integrator's clustered broker: the farm's
mosquitto bridges to it with a client certificate, as in production. The node runs as a normal child
process with its own epmd port, data and log directories, so it touches nothing of the machine's.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .conftest import free_port

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
EPMD = shutil.which("epmd") or "/usr/bin/epmd"
START_TIMEOUT_S = 90


# --------------------------------------------------------------------------- certificates


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class CertAuthority:
    """A throw-away certificate authority that issues server and client certificates as PEM files."""

    def __init__(self, workdir: Path):
        self.dir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(_name("ikb test CA")).issuer_name(_name("ikb test CA"))
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                    critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.ca_file = workdir / "ca.crt"
        self.ca_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, cn: str, *, server: bool = False) -> tuple[Path, Path]:
        """Return (certificate file, key file) for a common name; servers get 127.0.0.1/localhost SANs."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(self.cert.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                         else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        cert_file, key_file = self.dir / f"{cn}.crt", self.dir / f"{cn}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_file.chmod(0o600)
        return cert_file, key_file


# --------------------------------------------------------------------------- the node


def farm_user(kip: str) -> dict:
    """Return the upstream ACL of one farm: write its four documents and connection state, read its acks.

    RabbitMQ's MQTT plugin maps topic levels to routing-key words (``/`` → ``.``) on ``amq.topic``.
    """
    return {"user": f"ikb-{kip}", "vhost": "/", "exchange": "amq.topic",
            "write": rf"^ikb\.{kip}\.(status|score|alerts|chain|connected)$", "read": rf"^ikb\.{kip}\.alerts\.ack$"}


class RabbitMQ:
    """A private RabbitMQ node: MQTT over TLS only, client certificates required, the CN is the user."""

    def __init__(self, workdir: Path, ca: CertAuthority, users: list[str], farms: list[str]):
        self.dir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.mqtts_port = free_port()
        self.epmd_port, self.dist_port = free_port(), free_port()
        self.node = f"ikbtest{self.mqtts_port}@localhost"
        server_cert, server_key = ca.issue("localhost", server=True)
        definitions = {
            "vhosts": [{"name": "/"}],
            # No password: these users can only log in with a client certificate carrying their name.
            "users": [{"name": u, "password_hash": "", "hashing_algorithm": "rabbit_password_hashing_sha256",
                       "tags": []} for u in users],
            "permissions": [{"user": u, "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"} for u in users],
            "topic_permissions": [farm_user(kip) for kip in farms],
        }
        (workdir / "definitions.json").write_text(json.dumps(definitions), encoding="utf-8")
        (workdir / "rabbitmq.conf").write_text(
            "listeners.tcp = none\n"
            "mqtt.listeners.tcp = none\n"
            f"mqtt.listeners.ssl.1 = 127.0.0.1:{self.mqtts_port}\n"
            f"ssl_options.cacertfile = {ca.ca_file}\n"
            f"ssl_options.certfile = {server_cert}\n"
            f"ssl_options.keyfile = {server_key}\n"
            "ssl_options.verify = verify_peer\n"
            "ssl_options.fail_if_no_peer_cert = true\n"
            "mqtt.ssl_cert_login = true\n"
            "ssl_cert_login_from = common_name\n"
            "mqtt.allow_anonymous = false\n"
            "disk_free_limit.absolute = 1MB\n"
            f"load_definitions = {workdir / 'definitions.json'}\n",
            encoding="utf-8")
        (workdir / "enabled_plugins").write_text("[rabbitmq_mqtt].\n", encoding="utf-8")
        (workdir / "home").mkdir(exist_ok=True)
        self.env = {**os.environ, "HOME": str(workdir / "home"), "RABBITMQ_NODENAME": self.node,
                    "RABBITMQ_DIST_PORT": str(self.dist_port), "ERL_EPMD_PORT": str(self.epmd_port),
                    "RABBITMQ_MNESIA_BASE": str(workdir / "mnesia"), "RABBITMQ_LOG_BASE": str(workdir / "log"),
                    "RABBITMQ_CONFIG_FILE": str(workdir / "rabbitmq.conf"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(workdir / "enabled_plugins"), "RABBITMQ_LOGS": "-"}
        self.procs: list[subprocess.Popen] = []

    def start(self) -> "RabbitMQ":
        """Start epmd and the node; wait until the MQTT TLS listener accepts connections."""
        log = open(self.dir / "node.log", "wb")
        # Our own epmd on a private port, in the foreground, so that stopping it is ours to do.
        self.procs.append(subprocess.Popen([EPMD, "-port", str(self.epmd_port)], env=self.env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                           start_new_session=True))
        self.procs.append(subprocess.Popen([str(SERVER)], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                           cwd=self.dir, start_new_session=True))
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.mqtts_port), timeout=0.3).close()
                return self
            except OSError:
                if self.procs[-1].poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        tail = (self.dir / "node.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"RabbitMQ did not start within {START_TIMEOUT_S} s:\n{tail}")

    def stop(self) -> None:
        """Stop the node and its epmd (their whole process groups)."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=5)
                except ProcessLookupError:
                    pass
        self.procs = []
