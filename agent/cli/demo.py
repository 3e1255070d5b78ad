"""`ikb-agent demo`: everything on one machine, no set-up.

In a working directory it writes the simulated farm's configuration
(:func:`sensors.simulator.farm_toml`), starts a private mosquitto on a free
loopback port (persistence in the directory), the agent's run loop, and the
simulator: it first sends the last few days as fast as the agent takes them
(so there is history), then publishes live. The web page is started at the
hook in :func:`start_web`. Ctrl-C stops everything, in order.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from agent.cli.base import _, ngettext
from agent.config import Settings, load_config

# The demo's web account (only created in an empty demo database; never on a farm).
DEMO_USER = "boer"
DEMO_PASSWORD = "demo-wachtwoord"


class DemoError(Exception):
    """The demo cannot start; the message says what is missing."""


def free_port() -> int:
    """Return a TCP port on the loopback interface that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_demo_config(workdir: Path, *, mqtt_port: int = 18830, web_port: int = 8080) -> Path:
    """Write the demo farm's configuration (the simulator's farm) into ``workdir`` and return its path."""
    from sensors.simulator import farm_toml

    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "ikb-agent.toml"
    path.write_text(farm_toml(mqtt_port=mqtt_port, db_path=str(workdir / "demo.db"), web_port=web_port,
                              client_id="ikb-agent-demo"), encoding="utf-8")
    return path


def seed_demo_records(store, now: datetime) -> None:
    """Record a few documents and answers so the demo shows every kind of status."""
    from agent.logbooks import record_answer, record_document
    from agent.store import has_documents
    from rules.catalogue import load_catalogue

    if has_documents(store):
        return
    today = now.date()
    record_document(store, kind="water_test", issued_on=today - timedelta(days=200), recorded_by="demo", now=now)
    record_document(store, kind="health_plan", issued_on=today - timedelta(days=340), recorded_by="demo", now=now)
    record_document(store, kind="hygiene_scan", issued_on=today - timedelta(days=400), recorded_by="demo", now=now)
    record_document(store, kind="stall_measurement_report", issued_on=today - timedelta(days=900),
                    location="1", recorded_by="demo", now=now)
    catalogue = load_catalogue()
    for rule in ("A1.1", "A4.1.1", "A4.1.6", "A4.2.1"):
        record_answer(store, catalogue, rule_id=rule, status="ok", note="", answered_by="demo", now=now)
    record_answer(store, catalogue, rule_id="A4.1.10", status="C", note="Rommel achter stal 2",
                  answered_by="demo", now=now)


class PrivateBroker:
    """A mosquitto of our own on a free loopback port, its configuration and data in one directory."""

    def __init__(self, workdir: Path):
        self.exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not os.path.exists(self.exe):
            raise DemoError("mosquitto is not installed (Debian: apt-get install mosquitto; ./dev demo does it)")
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> "PrivateBroker":
        """Write the configuration, start mosquitto and wait until it listens."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            "max_queued_messages 1000000\n"
            "max_inflight_messages 1000\n"
            f"log_dest file {self.workdir}/mosquitto.log\n"
            # As root, mosquitto would switch to the `mosquitto` user and could not write here.
            + ("user root\n" if os.geteuid() == 0 else ""), encoding="utf-8")
        # Own session: Ctrl-C reaches the whole terminal's process group, and the broker must
        # outlive the agent's last acknowledgements; we stop it ourselves, last.
        self.proc = subprocess.Popen([self.exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise DemoError(f"mosquitto stopped at once (exit {self.proc.returncode}); "
                                    f"see {self.workdir}/mosquitto.log") from None
                time.sleep(0.05)
        self.stop()
        raise DemoError("mosquitto did not start listening")

    def stop(self) -> None:
        """Stop mosquitto (it saves its persistence file)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def start_web(settings: Settings, config_path: Path) -> Callable[[], None] | None:
    """Start the web page for the demo farm in a thread; return a function that stops it.

    The hook for the web page (issue 6): waitress on ``[web] host``/``port``, reading the
    same database (its own connections, WAL), so the page never delays ingestion.
    """
    from webui import make_server

    return make_server(settings, store_path=settings.storage.path).start().stop


def web_url(settings: Settings) -> str:
    """Return the address the web page serves."""
    return f"http://{settings.web.host}:{settings.web.port}/"


def run_demo(workdir: Path, stop: threading.Event, *, history_days: float = 3, speed: float = 0,
             web_port: int = 8080, echo: Callable[[str], None] = print) -> None:
    """Run broker, agent, simulator and web page until ``stop`` is set; stop them in order."""
    from agent.cli.demo_logbooks import seed_demo_logbooks
    from agent.cli.runner import Agent, mqtt_options
    from agent.history import HistoryLoad
    from agent.store import count_users, newest_reading_ms, open_store
    from sensors.mqtt import MqttPublisher
    from sensors.simulator import FarmModel, publish_stream

    broker = PrivateBroker(workdir / "mosquitto").start()
    agent: Agent | None = None
    publisher: MqttPublisher | None = None
    stop_web: Callable[[], None] | None = None
    sim_thread: threading.Thread | None = None
    history: HistoryLoad | None = None
    try:
        config_path = write_demo_config(workdir, mqtt_port=broker.port, web_port=web_port)
        settings = load_config(config_path)
        now = datetime.now().astimezone()
        store = open_store(settings.storage.path)
        seed_demo_records(store, now)
        seed_demo_logbooks(store, settings, now)
        if not count_users(store):
            from agent.store import add_user

            add_user(store, DEMO_USER, "farmer", DEMO_PASSWORD, now)
        last = newest_reading_ms(store)
        store.close()
        agent = Agent(settings)
        agent.start()
        if not agent.wait_connected(10):
            raise DemoError(agent.subscriber.fatal or "the agent could not connect to the demo broker")
        # Continue where an earlier demo run in this directory stopped, at most history_days back.
        start = now - timedelta(days=history_days)
        if last is not None:
            start = max(start, datetime.fromtimestamp(last / 1000 + 1, now.tzinfo))
        publisher = MqttPublisher(mqtt_options(settings), client_id="ikb-demo-simulator")
        publisher.connect()
        echo(_("Demo-bedrijf: {path}", path=config_path))
        echo(_("Broker: mqtt://127.0.0.1:{port}  (database {path})", port=broker.port, path=settings.storage.path))
        echo(_("Geschiedenis vanaf {start} wordt verstuurd, daarna live…", start=start.strftime("%Y-%m-%d %H:%M")))

        # The page says "geschiedenis laden… 40 %" until the history is stored and judged: until then
        # its verdict is that of part of the history, and will change.
        history = HistoryLoad(str(settings.storage.path), start, lambda: datetime.now().astimezone())

        def caught_up(stats) -> None:
            history.caught_up()
            echo(ngettext("Geschiedenis verstuurd ({n} bericht); de simulatie loopt nu live.",
                          "Geschiedenis verstuurd ({n} berichten); de simulatie loopt nu live.", stats.published))

        def progress(state) -> None:
            if state.state == "done":
                echo(_("Geschiedenis opgeslagen en beoordeeld: het oordeel op de pagina is dat van de hele periode."))

        sim_thread = threading.Thread(target=publish_stream, name="ikb-demo-simulator", daemon=True,
                                      args=(publisher.publish, FarmModel(), start),
                                      kwargs={"speed": speed, "stop": stop, "on_caught_up": caught_up})
        sim_thread.start()
        history.start_thread(progress)
        stop_web = start_web(settings, config_path)
        url = web_url(settings)
        echo(_("Webpagina: {url}  (inloggen: {user} / {password}, als er geen ander account is)", url=url,
               user=DEMO_USER, password=DEMO_PASSWORD))
        echo(_("Score: ikb-agent --config {path} score", path=config_path))
        echo(_("Stoppen: Ctrl-C"))
        error = agent.wait(stop)  # the agent's main loop: watchdog and runtime status, as in `run`
        if error:
            raise DemoError(error)
    finally:
        stop.set()
        if history is not None:
            history.stop()
        if sim_thread is not None:
            sim_thread.join(5)
        if publisher is not None:
            publisher.close(timeout=5)
        if stop_web is not None:
            stop_web()
        if agent is not None:
            agent.stop()
        broker.stop()
        echo(_("Demo gestopt."))
