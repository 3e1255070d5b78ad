"""systemd notification and the watchdog (issue 16): keep-alives only while ingestion and evaluation make
progress; a hung agent gets none and is restarted by systemd. A real datagram socket stands in for systemd."""

from __future__ import annotations

import os
import socket
import threading
from datetime import datetime, timezone

import pytest

from agent.cli.runner import Agent
from agent.config import ConfigError, config_from_dict
from agent.health import Notifier, Progress, Watchdog, read_runtime, runtime_file, stall
from sensors.mqtt import MqttOptions, MqttPublisher

from .farmconfig import farm_dict
from .test_mqtt_ingest import wait_for

AT = datetime(2026, 11, 2, 3, 0, tzinfo=timezone.utc)


class FakeSystemd:
    """The receiving end of $NOTIFY_SOCKET: a real AF_UNIX datagram socket that collects every notification."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.05)
        self.messages: list[list[str]] = []

    def drain(self) -> list[list[str]]:
        """Return the notifications received since the last call."""
        new = []
        while True:
            try:
                new.append(self.sock.recv(4096).decode().split("\n"))
            except (socket.timeout, BlockingIOError):
                break
        self.messages += new
        return new

    def close(self):
        self.sock.close()


@pytest.fixture
def systemd(tmp_path):
    fake = FakeSystemd(tmp_path / "notify.sock")
    yield fake
    fake.close()


def keep_alives(messages) -> int:
    return sum("WATCHDOG=1" in m for m in messages)


# --------------------------------------------------------------------------- what counts as progress


@pytest.mark.parametrize("now, progress, expected", [
    (100, Progress(started=0, ingest_tick=99, pending_since=None, evaluation_finished=60), None),
    (100, Progress(started=0, ingest_tick=70, pending_since=None, evaluation_finished=60), "ingest loop"),
    # The loop turns, but a batch has waited uncommitted too long (a commit that keeps failing).
    (100, Progress(started=0, ingest_tick=99, pending_since=60, evaluation_finished=60), "uncommitted"),
    (100, Progress(started=0, ingest_tick=99, pending_since=90, evaluation_finished=60), None),
    # Before the first evaluation the start counts; after it, the last finished one.
    (50, Progress(started=0, ingest_tick=49, pending_since=None, evaluation_finished=None), None),
    (70, Progress(started=0, ingest_tick=69, pending_since=None, evaluation_finished=None), "evaluation"),
    (200, Progress(started=0, ingest_tick=199, pending_since=None, evaluation_finished=130), "evaluation"),
])
def test_progress_means_the_ingest_loop_turns_and_evaluations_finish(now, progress, expected):
    problem = stall(now, progress, ingest_stall_s=20, evaluation_stall_s=60)
    assert (problem is None) if expected is None else (expected in problem)


def test_keep_alives_stop_while_there_is_no_progress_and_resume_after(tmp_path, systemd):
    clock = {"mono": 1000.0}
    state = {"tick": 1000.0, "evaluated": 1000.0}
    notifier = Notifier(systemd.path, watchdog_usec=30_000_000)
    dog = Watchdog(notifier, lambda: Progress(900.0, state["tick"], None, state["evaluated"]), lambda: {},
                   tmp_path / "agent.json", ingest_stall_s=60, evaluation_stall_s=300, now=lambda: AT,
                   monotonic=lambda: clock["mono"])
    assert dog.period_s == 10  # half of WatchdogSec=30, at most the status period
    assert dog.check() is None
    assert keep_alives(systemd.drain()) == 1
    clock["mono"] += 61  # the ingest loop stopped turning (a listener hangs)
    assert "ingest loop has not turned for 61 s" == dog.check()
    sent = systemd.drain()
    assert keep_alives(sent) == 0 and ["STATUS=no progress: ingest loop has not turned for 61 s"] in sent
    state["tick"] = clock["mono"]  # it turns again
    assert dog.check() is None and keep_alives(systemd.drain()) == 1
    clock["mono"] += 250
    state["tick"] = clock["mono"]  # ingestion goes on, but the evaluation has hung for 311 s
    assert "no evaluation has finished" in dog.check()
    assert keep_alives(systemd.drain()) == 0
    written = read_runtime(tmp_path / "agent.json", AT)
    assert written["watchdog"]["progress"] is False and "evaluation" in written["watchdog"]["problem"]


def test_without_a_watchdog_nothing_is_sent_but_progress_is_still_judged(tmp_path, systemd):
    dog = Watchdog(Notifier(systemd.path), lambda: Progress(0, 0, None, None), lambda: {}, tmp_path / "a.json",
                   ingest_stall_s=60, evaluation_stall_s=300, now=lambda: AT, monotonic=lambda: 100.0)
    assert dog.check() == "ingest loop has not turned for 100 s"
    assert keep_alives(systemd.drain()) == 0


@pytest.mark.parametrize("environ, address, watchdog_s", [
    ({}, None, None),
    ({"NOTIFY_SOCKET": "/run/systemd/notify"}, "/run/systemd/notify", None),
    ({"NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "60000000"}, "/run/systemd/notify", 60.0),
    # The watchdog is meant for another process (a child of ours would inherit the variables).
    ({"NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}, "/n", None),
    ({"NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())}, "/n", 60.0),
    ({"NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "soon"}, "/n", None),
])
def test_the_notifier_reads_systemds_environment(environ, address, watchdog_s):
    n = Notifier.from_environ(environ)
    assert (n.address, n.watchdog_s) == (address, watchdog_s)


def test_an_abstract_notify_socket_is_reached():
    name = f"ikb-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        assert Notifier("@" + name).ready("ok")
        assert sock.recv(100).decode() == "READY=1\nSTATUS=ok"
    finally:
        sock.close()


def test_the_stall_limits_are_checked_against_the_evaluation_interval(tmp_path):
    data = farm_dict(tmp_path)
    data["evaluation"] = {"interval_seconds": 600}
    with pytest.raises(ConfigError, match="health.evaluation_stall_seconds"):
        config_from_dict(data)
    data["health"] = {"evaluation_stall_seconds": 1800}
    assert config_from_dict(data).health.evaluation_stall_seconds == 1800


# --------------------------------------------------------------------------- the running agent


def test_a_hung_agent_gets_no_keep_alives(tmp_path, broker, systemd):
    """READY once started; keep-alives while running; none while the ingest thread hangs in a listener."""
    data = farm_dict(tmp_path, mqtt={"port": broker.port, "client_id": f"a-{tmp_path.name}"})
    data["health"] = {"ingest_stall_seconds": 2, "runtime_dir": str(tmp_path / "run")}
    settings = config_from_dict(data)
    agent = Agent(settings, notifier=Notifier(systemd.path, watchdog_usec=1_000_000))  # WatchdogSec=1
    agent.start()
    release, stop = threading.Event(), threading.Event()
    main_loop = threading.Thread(target=agent.wait, args=(stop,))  # as `run` does in its main thread
    main_loop.start()
    try:
        assert agent.watchdog.period_s == 0.5
        assert wait_for(lambda: any("READY=1" in m for m in systemd.drain() + systemd.messages), 5)
        assert wait_for(lambda: systemd.drain() is not None and keep_alives(systemd.messages) >= 2, 5)
        runtime = read_runtime(runtime_file(tmp_path / "run", settings.storage.path), datetime.now(timezone.utc))
        assert runtime["pid"] == os.getpid() and runtime["broker"]["connected"] is True
        assert runtime["watchdog"]["progress"] is True and runtime["watchdog"]["watchdog_s"] == 1
        # A listener that never returns: the ingest thread hangs after its next commit.
        agent.ingestor.add_listener(lambda batch: release.wait(30))
        pub = MqttPublisher(MqttOptions(port=broker.port), client_id=f"pub-{tmp_path.name}")
        pub.connect()
        pub.publish("ikb/1/lux", "12")
        pub.close()
        assert wait_for(lambda: any(l.startswith("STATUS=no progress: ingest loop") for m in systemd.drain()
                                    for l in m), 8)
        systemd.drain()
        threading.Event().wait(1.5)
        assert keep_alives(systemd.drain()) == 0  # for longer than WatchdogSec: systemd would restart us now
        release.set()
        assert wait_for(lambda: keep_alives(systemd.drain()) >= 1, 5)
    finally:
        release.set()
        stop.set()
        main_loop.join(5)
        agent.stop()
    assert any("STOPPING=1" in m for m in systemd.drain() + systemd.messages)
    assert read_runtime(runtime_file(tmp_path / "run", settings.storage.path), datetime.now(timezone.utc)) is None


def test_the_main_loop_polls_and_the_watchdog_checks_once_a_period(tmp_path, systemd):
    clock = {"mono": 0.0}
    notifier = Notifier(systemd.path, watchdog_usec=4_000_000)  # WatchdogSec=4: every 2 s
    dog = Watchdog(notifier, lambda: Progress(0.0, clock["mono"], None, None), lambda: {}, tmp_path / "a.json",
                   ingest_stall_s=60, evaluation_stall_s=300, now=lambda: AT, monotonic=lambda: clock["mono"])
    for _ in range(8):  # the main loop turns every 0.25 s
        dog.poll()
        clock["mono"] += 0.25
    assert keep_alives(systemd.drain()) == 1  # at 0 s; the next is due at 2 s
    dog.poll()
    assert keep_alives(systemd.drain()) == 1
