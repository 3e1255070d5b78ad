"""The agent's watchdog: keep-alives to systemd only while ingestion and evaluation make progress.

Progress (``[health]`` in the configuration):

- **ingestion**: the ingest loop turned within ``ingest_stall_seconds`` (it turns at
  least once a second when idle) and no received message has waited uncommitted that
  long (a commit that keeps failing, a listener that never returns);
- **evaluation**: the scheduled evaluation finished — with or without an error: a
  failing evaluation is logged and shown, only a hung one is a reason to restart —
  within ``evaluation_stall_seconds`` (counted from the start before the first one).

While both hold, a keep-alive (``WATCHDOG=1``) goes out every half of systemd's
``WatchdogSec=``; when one stops holding the keep-alives stop and systemd kills and
restarts the agent once ``WatchdogSec`` has passed. A lost broker connection is not a
lack of progress: paho reconnects by itself and a restart would not bring the broker back.

The agent's main loop calls :meth:`Watchdog.poll` (no thread of its own: a main loop
that hangs sends nothing either), which also rewrites the runtime status file
(:mod:`agent.health.runtime`).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from agent.health.notify import Notifier
from agent.health.runtime import remove_runtime, write_runtime

log = logging.getLogger(__name__)

STATUS_EVERY_S = 10.0  # the runtime file is rewritten (and progress judged) at least this often


@dataclass(frozen=True)
class Progress:
    """What the watchdog reads, all in monotonic seconds: the ingest loop's last turn, the oldest
    uncommitted message, the last finished evaluation (None before the first) and the start."""

    started: float
    ingest_tick: float
    pending_since: float | None
    evaluation_finished: float | None


def stall(now: float, progress: Progress, *, ingest_stall_s: float, evaluation_stall_s: float) -> str | None:
    """Return why the agent makes no progress at monotonic time ``now``, or None when it does."""
    quiet = now - progress.ingest_tick
    if quiet > ingest_stall_s:
        return f"ingest loop has not turned for {quiet:.0f} s"
    if progress.pending_since is not None and now - progress.pending_since > ingest_stall_s:
        return f"received messages have waited {now - progress.pending_since:.0f} s uncommitted"
    last = progress.evaluation_finished if progress.evaluation_finished is not None else progress.started
    if now - last > evaluation_stall_s:
        return f"no evaluation has finished for {now - last:.0f} s"
    return None


class Watchdog:
    """Judge progress, send systemd its keep-alives and write the runtime file, when polled."""

    def __init__(self, notifier: Notifier, progress: Callable[[], Progress], describe: Callable[[], dict],
                 runtime_path, *, ingest_stall_s: float, evaluation_stall_s: float,
                 now: Callable[[], datetime], monotonic: Callable[[], float] = time.monotonic):
        self.notifier = notifier
        self.progress = progress
        self.describe = describe
        self.runtime_path = runtime_path
        self.ingest_stall_s = ingest_stall_s
        self.evaluation_stall_s = evaluation_stall_s
        self.now = now
        self.monotonic = monotonic
        watchdog_s = notifier.watchdog_s
        self.period_s = min(STATUS_EVERY_S, watchdog_s / 2) if watchdog_s else STATUS_EVERY_S
        self.problem: str | None = None
        self.last_keep_alive: datetime | None = None
        self.started_at = now()
        self._last_check: float | None = None

    def check(self) -> str | None:
        """Judge progress once: send a keep-alive when there is progress, say why not when there is none."""
        problem = stall(self.monotonic(), self.progress(), ingest_stall_s=self.ingest_stall_s,
                        evaluation_stall_s=self.evaluation_stall_s)
        if problem and not self.problem:
            log.error("no progress: %s; %s", problem, "systemd's watchdog will restart the agent"
                      if self.notifier.watchdog_s else "no watchdog watches this process")
        elif self.problem and not problem:
            log.warning("progress again after: %s", self.problem)
        self.problem = problem
        if problem is None:
            if self.notifier.watchdog_s and self.notifier.keep_alive("running"):
                self.last_keep_alive = self.now()
        else:
            self.notifier.status(f"no progress: {problem}")
        self.write()
        return problem

    def state(self) -> dict:
        """Return the watchdog's part of the runtime file."""
        return {"systemd": self.notifier.enabled, "watchdog_s": self.notifier.watchdog_s,
                "progress": self.problem is None, "problem": self.problem,
                "last_keep_alive_at": self.last_keep_alive.isoformat() if self.last_keep_alive else None,
                "ingest_stall_s": self.ingest_stall_s, "evaluation_stall_s": self.evaluation_stall_s}

    def write(self) -> None:
        """Rewrite the runtime status file; a failure is logged, never fatal."""
        try:
            data = {"pid": os.getpid(), "written_at": self.now().isoformat(),
                    "started_at": self.started_at.isoformat(), **self.describe(), "watchdog": self.state()}
            write_runtime(self.runtime_path, data)
        except Exception as exc:  # noqa: BLE001 - the status file must never stop the agent
            log.warning("cannot write the runtime status %s: %s", self.runtime_path, repr(exc)[:200])

    def poll(self) -> str | None:
        """Check once a period has passed since the last check (the main loop calls this often)."""
        if self._last_check is not None and self.monotonic() - self._last_check < self.period_s:
            return self.problem
        self._last_check = self.monotonic()
        try:
            return self.check()
        except Exception:  # noqa: BLE001 - no keep-alive then: systemd restarts a broken agent
            log.exception("watchdog check failed")
            return "watchdog check failed"

    def start(self) -> None:
        """Write the first runtime status."""
        self.write()

    def stop(self) -> None:
        """Remove the runtime file (the agent stops)."""
        remove_runtime(self.runtime_path)
