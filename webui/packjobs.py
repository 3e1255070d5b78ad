"""Audit packs built — and uploaded packs checked — in the background of the web process, for the auditor's page.

Building a pack takes seconds (minutes on a Pi with years of logbooks), and so does checking one (``verify``
renders every logbook file again): longer than a request should wait with nothing on screen. A job runs
:func:`agent.exports.build_pack` (reporting each step) or :func:`agent.exports.verify_pack` on a thread of its
own — a pack build with its own read-only connection, since a pack only reads — and keeps the zip (built or
uploaded) in a temporary directory of this process, never in the database. The page polls the job (htmx) and
shows the link or the verdict when it is done.

One build per person and period: asking again while it runs shows the same job. At most :data:`MAX_RUNNING`
jobs work at once (a Pi has few cores and the ``run`` process must keep up); a finished job is kept for
:data:`KEEP_S` and removed then, or when the process stops. An uploaded pack is deleted once checked.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from flask import Flask

from agent.store import open_store

log = logging.getLogger(__name__)

MAX_RUNNING = 1
KEEP_S = 3600


@dataclass
class PackJob:
    """One audit pack being built (or built) for one person and period, or an uploaded pack being checked."""

    id: str
    owner: int
    start: date
    end: date
    kind: str = "build"  # build | check
    created: float = field(default_factory=time.monotonic)
    done: int = 0
    total: int = 1
    step: str = ""
    state: str = "waiting"  # waiting | running | done | failed
    error: Exception | None = None  # why it failed (an ExportError says it in words)
    path: Path | None = None
    filename: str = ""  # the pack's name (built: the download's; checked: the upload's)
    size: int = 0
    verdict: tuple[bool, str] | None = None  # a check's outcome: (intact, summary or first mismatch)

    @property
    def percent(self) -> int:
        """Return how far the build is, 0–100."""
        return 100 if self.state == "done" else int(100 * self.done / max(self.total, 1))

    @property
    def finished(self) -> bool:
        """Return whether the job has ended (done or failed)."""
        return self.state in ("done", "failed")


class PackJobs:
    """The web process's pack jobs and the temporary directory their zips live in."""

    def __init__(self, store_path: str):
        self.store_path = store_path
        self.directory = Path(tempfile.mkdtemp(prefix="ikb-packs-"))
        self.jobs: dict[str, PackJob] = {}
        self.lock = threading.Lock()
        self.slots = threading.Semaphore(MAX_RUNNING)

    def start(self, app: Flask, owner: int, start: date, end: date, now: datetime) -> PackJob:
        """Return the running (or just finished) job of this person and period, or start a new one."""
        self._expire()
        with self.lock:
            for job in self.jobs.values():
                if (job.kind, job.owner, job.start, job.end) == ("build", owner, start, end) and job.state != "failed":
                    return job
            job = PackJob(secrets.token_urlsafe(12), owner, start, end)
            self.jobs[job.id] = job
        threading.Thread(target=self._run, args=(app, job, now), daemon=True, name=f"ikb-pack-{job.id}").start()
        return job

    def check(self, owner: int, upload, filename: str, start: date, end: date) -> PackJob | None:
        """Keep an uploaded pack (a werkzeug FileStorage) and start checking it; return the job (None: empty)."""
        self._expire()
        job = PackJob(secrets.token_urlsafe(12), owner, start, end, kind="check", filename=filename)
        job.path = self.directory / f"{job.id}-upload.zip"
        upload.save(job.path)
        job.size = job.path.stat().st_size
        if job.size == 0:
            job.path.unlink()
            return None
        with self.lock:
            self.jobs[job.id] = job
        threading.Thread(target=self._check, args=(job,), daemon=True, name=f"ikb-check-{job.id}").start()
        return job

    def get(self, job_id: str, owner: int) -> PackJob | None:
        """Return a job of this person (None for someone else's or an unknown id)."""
        job = self.jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def _run(self, app: Flask, job: PackJob, now: datetime) -> None:
        """Build the pack on this thread and keep it in the temporary directory."""
        from agent.exports import ExportError, build_pack
        from rules.logbooks import LOGBOOKS

        config = app.extensions["ikb"].config

        def progress(done: int, total: int, what: str) -> None:
            job.done, job.total, job.step = done, total, what

        with self.slots:
            job.state = "running"
            store = None
            try:
                store = open_store(self.store_path, readonly=True)
                data = build_pack(store, config, list(LOGBOOKS), job.start, job.end, now, progress=progress)
                job.filename = (f"ikb-{config.farm.kip_number}-all-{job.start.isoformat()}-{job.end.isoformat()}"
                                "-auditpakket.zip")
                path = self.directory / f"{job.id}.zip"
                path.write_bytes(data)
                job.path, job.size, job.state = path, len(data), "done"
            except ExportError as exc:  # the message says what to do (e.g. install the PDF font)
                job.error, job.state = exc, "failed"
            except Exception as exc:  # noqa: BLE001 - the page says it failed; the log has the traceback
                log.exception("building the audit pack failed")
                job.error, job.state = exc, "failed"
            finally:
                if store is not None:
                    store.close()

    def _check(self, job: PackJob) -> None:
        """Check an uploaded pack on this thread, then delete it."""
        from agent.exports import verify_pack

        with self.slots:
            job.state = "running"
            try:
                job.verdict = verify_pack(job.path)
                job.state = "done"
            except Exception as exc:  # noqa: BLE001 - the page says it failed; the log has the traceback
                log.exception("checking an uploaded audit pack failed")
                job.error, job.state = exc, "failed"
            finally:
                job.path.unlink(missing_ok=True)
                job.path = None

    def _expire(self) -> None:
        """Forget finished jobs older than KEEP_S and remove their files."""
        limit = time.monotonic() - KEEP_S
        with self.lock:
            for job_id, job in list(self.jobs.items()):
                if job.finished and job.created < limit:
                    if job.path is not None:
                        job.path.unlink(missing_ok=True)
                    del self.jobs[job_id]

    def close(self) -> None:
        """Remove the temporary directory and every pack in it."""
        shutil.rmtree(self.directory, ignore_errors=True)


def init_app(app: Flask) -> PackJobs:
    """Attach the pack jobs to the app (their directory is removed when the process exits)."""
    import atexit

    jobs = PackJobs(app.extensions["ikb"].store_path)
    app.extensions["ikb_packs"] = jobs
    atexit.register(jobs.close)
    return jobs
