"""systemd's notification protocol (sd_notify): READY, WATCHDOG keep-alives, STATUS, STOPPING.

The protocol is one datagram of ``KEY=value`` lines to the AF_UNIX socket named in
``$NOTIFY_SOCKET`` (a leading ``@`` means the abstract namespace); see sd_notify(3).
Written here with the standard library rather than a dependency: the PyPI package
``sdnotify`` is these same lines, unreleased since 2017, and ``systemd-python``
needs libsystemd headers and a compiler (no wheels for armhf).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Send state lines to systemd; does nothing where the process was not started by systemd."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None):
        self.address = address
        self.watchdog_usec = watchdog_usec
        self._sock: socket.socket | None = None
        self._warned = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "Notifier":
        """Return the notifier systemd's environment asks for (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID)."""
        usec = None
        pid = environ.get("WATCHDOG_PID")
        if environ.get("WATCHDOG_USEC", "").isdigit() and (pid is None or pid == str(os.getpid())):
            usec = int(environ["WATCHDOG_USEC"]) or None
        return cls(environ.get("NOTIFY_SOCKET") or None, usec)

    @property
    def enabled(self) -> bool:
        """Return whether systemd listens."""
        return self.address is not None

    @property
    def watchdog_s(self) -> float | None:
        """Return systemd's watchdog timeout in seconds (WatchdogSec=), or None when no watchdog is set."""
        return self.watchdog_usec / 1e6 if self.watchdog_usec and self.enabled else None

    def send(self, *lines: str) -> bool:
        """Send one notification of ``KEY=value`` lines; return whether it went out."""
        if self.address is None:
            return False
        address = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto("\n".join(lines).encode("utf-8"), address)
            return True
        except OSError as exc:
            if not self._warned:  # once: a vanished socket would otherwise fill the journal
                log.warning("cannot notify systemd at %s: %s", self.address, exc)
                self._warned = True
            return False

    def ready(self, status: str) -> bool:
        """Say that start-up is complete."""
        return self.send("READY=1", f"STATUS={status}")

    def keep_alive(self, status: str) -> bool:
        """Reset systemd's watchdog timer."""
        return self.send("WATCHDOG=1", f"STATUS={status}")

    def status(self, status: str) -> bool:
        """Show a one-line state in `systemctl status`."""
        return self.send(f"STATUS={status}")

    def stopping(self) -> bool:
        """Say that a clean stop has begun."""
        return self.send("STOPPING=1")

    def close(self) -> None:
        """Close the socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
