"""The shipped broker configuration (deploy/mosquitto.conf + mosquitto.acl) as Debian runs it, on a loopback port.

Debian's own /etc/mosquitto/mosquitto.conf (persistence, its location, include_dir) is imitated in a main file;
the shipped file goes into its conf.d with only the port and the paths of the password and ACL files changed.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.conftest import REPO, Broker, free_port

ACCOUNTS = {"ikb-agent": "agent-pw-1", "sensors": "sensor-pw-2", "homeassistant": "ha-pw-3", "kiezer": "kiezer-pw-4"}


class ShippedBroker(Broker):
    """mosquitto with deploy/mosquitto.conf included the way Debian includes it, and generated accounts."""

    def __init__(self, workdir: Path, accounts: dict[str, str] = ACCOUNTS):
        import shutil

        self.exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.workdir = workdir
        (workdir / "conf.d").mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc = None
        self.accounts = dict(accounts)
        self.passwd = workdir / "ikb-agent.passwd"
        self.write_passwords(self.accounts)
        acl = workdir / "ikb-agent.acl"
        acl.write_text((REPO / "deploy" / "mosquitto.acl").read_text(encoding="utf-8"), encoding="utf-8")
        shipped = (REPO / "deploy" / "mosquitto.conf").read_text(encoding="utf-8")
        assert "listener 1883 127.0.0.1\n" in shipped
        shipped = (shipped.replace("listener 1883 127.0.0.1\n", f"listener {self.port} 127.0.0.1\n")
                   .replace("/etc/mosquitto/ikb-agent.passwd", str(self.passwd))
                   .replace("/etc/mosquitto/ikb-agent.acl", str(acl)))
        (workdir / "conf.d" / "ikb-agent.conf").write_text(shipped, encoding="utf-8")
        self.conf = workdir / "mosquitto.conf"
        # As Debian's main file: persistence on, its location, then conf.d.
        self.conf.write_text(
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "log_dest none\n"
            f"include_dir {workdir / 'conf.d'}\n"
            + ("user root\n" if os.geteuid() == 0 else ""), encoding="utf-8")

    def write_passwords(self, accounts: dict[str, str]) -> None:
        """(Re)write the password file with these accounts (mosquitto_passwd hashes them)."""
        self.passwd.unlink(missing_ok=True)
        self.passwd.touch()
        for name, password in accounts.items():
            subprocess.run(["mosquitto_passwd", "-b", str(self.passwd), name, password], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        """SIGKILL the broker: no chance to save (a crash, or a power cut as far as the broker can tell)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
