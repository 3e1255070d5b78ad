"""The running agent's own account of itself: a small JSON file on tmpfs, rewritten every few seconds.

What only the ``run`` process knows — is the broker connected, does the ingest loop
turn, did the last evaluation finish, does systemd's watchdog get its keep-alives —
is written to ``<runtime dir>/agent-<hash of the database path>.json`` so that
``ikb-agent status``, the web page and ``ikb-agent restore`` (other processes)
can read it. The runtime directory is on tmpfs (``/run/ikb-agent``, systemd's
``RuntimeDirectory=``): nothing here wears the SD card, and the file is gone
after a reboot, as is the process it describes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

SYSTEM_RUNTIME_DIR = Path("/run/ikb-agent")
STALE_AFTER_S = 60  # a file not rewritten for this long describes an agent that hangs or is gone


def runtime_dir(configured: str | None) -> Path:
    """Return the directory of runtime files: configured, else /run/ikb-agent when present, else a temp dir."""
    if configured:
        return Path(configured)
    if SYSTEM_RUNTIME_DIR.is_dir():
        return SYSTEM_RUNTIME_DIR
    return Path(tempfile.gettempdir()) / "ikb-agent"


def runtime_file(directory: Path, db_path: str) -> Path:
    """Return the runtime file of the agent that runs on the database ``db_path``."""
    key = hashlib.sha256(os.path.abspath(db_path).encode()).hexdigest()[:12]
    return directory / f"agent-{key}.json"


def write_runtime(path: Path, data: dict) -> None:
    """Replace the runtime file atomically (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def remove_runtime(path: Path) -> None:
    """Remove the runtime file (the agent stopped cleanly)."""
    path.unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """Return whether a process with this id exists (also when it belongs to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_runtime(path: Path, now: datetime) -> dict | None:
    """Return the runtime file of a live agent with ``stale`` set when not rewritten lately; None when no agent."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int) or not pid_alive(data["pid"]):
        return None
    try:
        age = (now - datetime.fromisoformat(data["written_at"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None
    data["age_s"] = age
    data["stale"] = age > STALE_AFTER_S
    return data
