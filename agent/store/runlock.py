"""One ``ikb-agent run`` per database: an exclusive lock on a file beside it, held while the agent runs.

Two agents on one database take turns on the broker with the same client id (each connection throws the
other off) and store a reading without a device timestamp once per agent. The lock is the kernel's
(``flock``): it goes with the process, also when it is killed, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from agent.store.connection import StoreError


class RunLock:
    """Hold the database's run lock; raise StoreError naming the holder when another process has it."""

    def __init__(self, db_path: str | Path):
        self.path = Path(f"{db_path}.run-lock")
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        """Take the lock (at once, or StoreError)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise StoreError(str(self.path).removesuffix(".run-lock"), "run_lock", {"pid": holder}) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Let go of the lock."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
