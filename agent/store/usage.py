"""Storage use: database and WAL size, free disk, rows per table; reported daily, nothing deleted."""

from __future__ import annotations

import logging
import os
import shutil
from datetime import datetime
from typing import Callable

from agent.config import Settings
from agent.store.connection import Store

log = logging.getLogger(__name__)


def storage_report(store: Store, now: datetime) -> dict:
    """Return the storage use: database and WAL size, free disk, rows per table, logbook rows per kind.

    A scheduled job logs this daily; nothing here deletes anything (A9.1/E9.4).
    """
    path = store.path
    sizes = {p: os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p)}
    disk = shutil.disk_usage(os.path.dirname(os.path.abspath(path)))
    tables = [r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                             "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    rows = {t: store.query(f'SELECT count(*) AS n FROM "{t}"')[0]["n"] for t in tables}
    kinds = {r["kind"]: {"rows": r["n"], "oldest": r["oldest"], "keep_until_max": r["keep"]}
             for r in store.query("SELECT kind, count(*) AS n, min(recorded_at) AS oldest, max(keep_until) AS keep"
                                  " FROM logbook GROUP BY kind ORDER BY kind")}
    return {"at": now.isoformat(), "database": path, "database_bytes": sizes.get(path, 0),
            "wal_bytes": sizes.get(path + "-wal", 0), "disk_free_bytes": disk.free, "disk_total_bytes": disk.total,
            "rows": rows, "logbooks": kinds}


def format_storage_report(report: dict) -> str:
    """Return the storage report as one log line."""
    mb = 1024 * 1024
    books = ", ".join(f"{k} {v['rows']}" for k, v in report["logbooks"].items()) or "geen"
    return (f"opslag: database {report['database_bytes'] / mb:.1f} MB (+ WAL {report['wal_bytes'] / mb:.1f} MB), "
            f"vrij {report['disk_free_bytes'] / mb:.0f} MB van {report['disk_total_bytes'] / mb:.0f} MB; "
            f"metingen {report['rows'].get('readings', 0)}; logboekregistraties: {books}")


STORAGE_EVERY_S = 24 * 3600


def storage_job(store: Store, config: Settings) -> tuple[str, Callable[[datetime], object], float]:
    """Return (name, function(now), interval) of the daily storage-use report."""

    def run(now: datetime) -> dict:
        report = storage_report(store, now)
        log.info(format_storage_report(report))
        return report

    return "storage-report", run, STORAGE_EVERY_S
