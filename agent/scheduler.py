"""Periodic jobs: the only module that imports APScheduler (3.x, BackgroundScheduler).

A job is a :class:`JobSpec`: a name, a function taking ``now`` (an aware UTC
datetime) and an interval in seconds. The function does the work with its
dependencies already bound, so tests call it directly with a fixed clock.
A job that raises is logged and runs again at its next interval; it never
stops ingestion or the other jobs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from agent import clock
from agent.memory import release_memory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobRun:
    """How a job's last run ended: when (monotonic seconds and the moment), how long, and its error."""

    finished: float
    finished_at: datetime
    seconds: float
    error: str | None = None
    last_ok_at: datetime | None = None  # the last run without error, this one or an earlier one


@dataclass(frozen=True)
class JobSpec:
    """One periodic job: ``function(now)`` every ``interval_s`` seconds."""

    name: str
    function: Callable[[datetime], object]
    interval_s: float
    first_delay_s: float | None = None  # wait before the first run; default one interval
    close: Callable[[], None] | None = None  # called once when the agent stops (e.g. the job's MQTT client)


class Scheduler:
    """Run JobSpecs in background threads."""

    def __init__(self, jobs: list[JobSpec], now: Callable[[], datetime] = clock.utcnow,
                 monotonic: Callable[[], float] = time.monotonic):
        # ``now`` is what the jobs are told; APScheduler itself runs on the wall clock.
        self.jobs = list(jobs)
        self.now = now
        self.monotonic = monotonic
        self.failures: dict[str, int] = {}
        self.runs: dict[str, JobRun] = {}  # each job's last finished run (the watchdog reads it)
        # APScheduler (and the multiprocessing it pulls in) loads where jobs run, not where JobSpec is named.
        from apscheduler.schedulers.background import BackgroundScheduler

        self._scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
            "coalesce": True,  # after a stall, run once, not once per missed interval
            "max_instances": 1,  # a slow job is skipped, never run twice at once
            "misfire_grace_time": None,
        })
        for job in self.jobs:
            delay = job.interval_s if job.first_delay_s is None else job.first_delay_s
            self._scheduler.add_job(self._run, "interval", seconds=job.interval_s, args=[job], id=job.name,
                                    name=job.name, next_run_time=clock.utcnow() + timedelta(seconds=delay))

    def _run(self, job: JobSpec) -> None:
        """Run one job with the current time; log (never raise) its failure; remember how it ended."""
        started = self.monotonic()
        error = None
        try:
            job.function(self.now())
        except Exception as exc:  # noqa: BLE001 - one job's crash must not stop the others
            self.failures[job.name] = self.failures.get(job.name, 0) + 1
            error = repr(exc)[:300]
            log.error("job %s failed: %s", job.name, error)
            log.debug("job failure", exc_info=True)
        finished, finished_at = self.monotonic(), self.now()
        previous = self.runs.get(job.name)
        last_ok = finished_at if error is None else (previous.last_ok_at if previous else None)
        self.runs[job.name] = JobRun(finished, finished_at, finished - started, error, last_ok)
        # What the job's peak freed (the minute's evaluation: several MB) goes back to the system at once,
        # instead of staying in malloc's arenas until the next peak (docs/PERFORMANCE.md, issue 15).
        release_memory()

    def run_now(self, name: str) -> None:
        """Run one job immediately in the caller's thread (used at start-up and in tests)."""
        for job in self.jobs:
            if job.name == name:
                self._run(job)
                return
        raise KeyError(name)

    def start(self) -> None:
        """Start the background threads."""
        self._scheduler.start()

    def stop(self) -> None:
        """Stop, waiting for running jobs to finish; then close what the jobs hold open."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        for job in self.jobs:
            if job.close is not None:
                try:
                    job.close()
                except Exception as exc:  # noqa: BLE001 - stopping must go on
                    log.error("job %s did not close: %s", job.name, repr(exc)[:300])
