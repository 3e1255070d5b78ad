"""Shared fixtures: a valid farm configuration, a real SQLite file, the CLI in-process."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.cli.main import main
from agent.config import load_config
from agent.store.connection import open_store

REPO = Path(__file__).resolve().parent.parent
SEED = REPO.parent / "shared" / "seeds" / "004_09b9fb4dd29fc2de.txt"

FARM_TOML = """\
[farm]
name = "Pluimveebedrijf De Hoeve"
kip_number = "123456"
latitude = 52.10
longitude = 5.60
timezone = "Europe/Amsterdam"

[[houses]]
id = "1"
housing = "free_range"
mechanical_ventilation = true

[[houses]]
id = "2"
housing = "barn"
mechanical_ventilation = false

[[egg_rooms]]
id = "E"

[mqtt]
host = "127.0.0.1"
port = 1883

[storage]
path = "{db}"

# Committed within a quarter second instead of the farm's minute (docs/INGEST.md): tests look at what
# was stored; the default is tested in test_sd_writes.
[ingest]
flush_interval_ms = 250

[[sensors]]
topic = "zigbee2mqtt/stal1_lux"
kind = "lux"
location = "1"
field = "illuminance_lux"

[[alerts.channels]]
type = "webhook"
url = "http://127.0.0.1:9000/hook"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """Write a valid two-house configuration whose database lives in tmp_path."""
    path = tmp_path / "ikb-agent.toml"
    path.write_text(FARM_TOML.format(db=tmp_path / "farm.db"), encoding="utf-8")
    return path


@pytest.fixture
def config(config_file: Path):
    """Return the validated configuration of config_file."""
    return load_config(config_file)


@pytest.fixture
def store(tmp_path: Path):
    """Return a fresh, migrated SQLite store in a temp file."""
    s = open_store(tmp_path / "farm.db")
    yield s
    s.close()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(config_file: Path, monkeypatch, capsys):
    """Run `ikb-agent --config <config_file> ARGS` in-process; return code and output."""

    def run(*args: str, stdin: str = "", config: Path | None = config_file) -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        argv = (["--config", str(config)] if config else []) + list(args)
        capsys.readouterr()
        code = main(argv)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


# --------------------------------------------------------------------------- a real mosquitto


def free_port() -> int:
    """Return a TCP port on the loopback interface that is free right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Broker:
    """A private mosquitto on a free loopback port, with persistence, restartable on the same port."""

    def __init__(self, workdir: Path):
        import shutil

        self.exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc = None
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "autosave_interval 1\n"
            "max_queued_messages 1000000\n"
            "max_inflight_messages 100\n"
            "log_dest none\n"
            # As root, mosquitto would drop to the `mosquitto` user and could not write here.
            + ("user root\n" if os.geteuid() == 0 else ""),
            encoding="utf-8",
        )

    def start(self) -> "Broker":
        """Start mosquitto and wait until it accepts connections."""
        import socket
        import subprocess
        import time

        self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"mosquitto exited with {self.proc.returncode}")
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        """Stop mosquitto gracefully (it saves its persistence file)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        """Stop and start again on the same port, keeping persisted sessions."""
        self.stop()
        self.start()


@pytest.fixture
def broker(tmp_path: Path):
    """Yield a running private mosquitto broker."""
    b = Broker(tmp_path / "broker")
    b.start()
    yield b
    b.stop()
