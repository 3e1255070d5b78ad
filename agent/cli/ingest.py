"""CLI commands of the ingest feature: `run`, `replay`, `simulate` (DESIGN §3.1)."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import click

from agent.cli.base import AppContext, CommandFailed, InputError, _, ngettext, pass_app

LOG_LEVELS = ["debug", "info", "warning", "error"]


def setup_logging(level: str) -> None:
    """Log to standard error with times (systemd's journal keeps them)."""
    logging.basicConfig(level=getattr(logging, level.upper()), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "debug":
        # APScheduler logs two lines per job run at INFO (a few dozen a minute): the journal on the SD
        # card would keep them for nothing; our jobs log what they did themselves, failures included.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


@contextmanager
def stop_on_signals():
    """Yield an Event set by SIGTERM or SIGINT (Ctrl-C), restoring the handlers afterwards."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command("run")
@click.option("--log-level", type=click.Choice(LOG_LEVELS), default="info", show_default=True)
@pass_app
def run_cmd(app: AppContext, log_level: str) -> None:
    """Run the agent: MQTT ingest, sensor health, retention, and the features' jobs and listeners.

    Runs until SIGTERM or Ctrl-C. Exits with 1 when the broker refuses the
    configured username/password (retrying would not help). Under systemd
    (Type=notify) it says READY and sends watchdog keep-alives while ingestion
    and evaluation make progress ([health]); it also takes the nightly backup.

    \b
    Example:
      ikb-agent --config /etc/ikb-agent/ikb-agent.toml run
    """
    from agent.cli.runner import run_agent
    from agent.health import Notifier

    setup_logging(log_level)
    settings = app.config
    if not settings.sensors:
        logging.getLogger("agent").warning("no [[sensors]] configured: nothing will be ingested")
    with stop_on_signals() as stop:
        # systemd (Type=notify) hands us its socket and watchdog timeout in the environment.
        error = run_agent(settings, stop, db_path=app.db_path, notifier=Notifier.from_environ(os.environ))
    if error:
        raise CommandFailed(error)


@click.command("replay")
@click.argument("trace", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def replay_cmd(app: AppContext, trace: str, fmt: str) -> None:
    """Feed a recorded trace (JSON Lines) through the same decoding, validation and storage as live MQTT.

    Each line is {"ts": receipt time, "topic": ..., "payload": ...}. Malformed
    lines are counted as rejected and skipped. Replaying a trace twice stores
    nothing new (the second time, every reading is a duplicate). Listeners
    (alerts) are not called: a replay is history, not news.

    \b
    Example:
      ikb-agent replay night.jsonl --format json
    """
    from agent.ingest import Ingestor, ingest_all
    from sensors.trace import read_trace

    settings = app.config
    try:
        handle = sys.stdin if trace == "-" else open(trace, encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise InputError(_("TRACE: kan {path} niet lezen: {detail}", path=trace, detail=exc.strerror)) from None
    with handle:
        ingestor = Ingestor(app.store, settings, app.now(), live=False, batch_size=max(5000, settings.ingest.batch_size))
        try:
            counts = ingest_all(ingestor, read_trace(handle))
        except UnicodeDecodeError as exc:
            raise InputError(_("TRACE: geen UTF-8-tekst ({detail})", detail=exc)) from None
    if fmt == "json":
        click.echo(json.dumps(counts.to_json()))
        return
    click.echo(_("opgeslagen: {stored}  afgewezen: {rejected}  dubbel: {duplicates}", stored=counts.stored,
                 rejected=counts.rejected, duplicates=counts.duplicates))
    for reason, n in sorted(counts.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        click.echo(f"  {n:>8}  {reason}")


COMMANDS = [run_cmd, replay_cmd]


@click.command("simulate")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write a trace file (JSON Lines) instead of publishing to a broker.")
@click.option("--write-config", "config_out", type=click.Path(dir_okay=False),
              help="Write the simulated farm's configuration (houses, egg room, every sensor) and stop.")
@click.option("--start", "start_text", metavar="T", help="Simulated start (ISO date-time or date); default now.")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), help="Simulated days (default: --out 3, "
              "broker: until Ctrl-C).")
@click.option("--backfill", type=click.FloatRange(min=0), default=0, show_default=True,
              help="Start this many days before now (the history is sent first).")
@click.option("--speed", type=click.FloatRange(min=0), default=60, show_default=True,
              help="Catch up with the present this many times faster than real time (0: at once); then live.")
@click.option("--faulty-house", default="2", show_default=True,
              help="House whose light program misbehaves in turn (no dusk, lights on at night, short night); "
                   "'none' for none.")
@click.option("--host", help="Broker host (default: [mqtt] host of the configuration).")
@click.option("--port", type=int, help="Broker port (default: [mqtt] port of the configuration).")
@click.option("--mqtt-port", type=int, default=1883, show_default=True, help="Broker port for --write-config.")
@click.option("--db", "db_out", default="ikb-agent.db", show_default=True, help="Database path for --write-config.")
@pass_app
def simulate_cmd(app: AppContext, out_path: str | None, config_out: str | None, start_text: str | None,
                 days: float | None, backfill: float, speed: float, faulty_house: str, host: str | None,
                 port: int | None, mqtt_port: int, db_out: str) -> None:
    """Simulate a laying-hen farm's sensors: publish to a broker, or write a trace.

    Two houses and an egg room with Zigbee2MQTT, Tasmota, ESPHome and Shelly
    devices: light programs with dawn and dusk (one house's misbehaving), the
    alarm panels' heartbeat and an occasional alarm, a weekly generator test
    and a mains outage, egg-room climate with a condensation spell, barn
    climate, a pop-hole. Use --write-config to get the matching configuration.

    \b
    Example:
      ikb-agent simulate --write-config farm.toml --mqtt-port 1883
      ikb-agent --config farm.toml simulate --backfill 3 --speed 0
      ikb-agent simulate --start 2026-03-01 --days 7 --out week.jsonl
    """
    from datetime import timedelta

    from agent.cli.base import parse_when
    from sensors.simulator import TZ, FarmModel, farm_toml, trace_messages
    from sensors.trace import write_trace

    if config_out:
        Path(config_out).write_text(farm_toml(mqtt_port=mqtt_port, db_path=db_out), encoding="utf-8")
        click.echo(_("configuratie geschreven: {path}", path=config_out))
        return
    model = FarmModel(faulty_house=None if faulty_house.lower() == "none" else faulty_house)
    now = app.now()
    start = parse_when(start_text, TZ) or now - timedelta(days=backfill)
    if out_path:
        end = start + timedelta(days=days or 3)
        handle = sys.stdout if out_path == "-" else open(out_path, "w", encoding="utf-8")
        with handle:
            n = write_trace(handle, trace_messages(model, start, end))
        if out_path != "-":
            click.echo(ngettext("{n} bericht geschreven naar {path} ({start} .. {end})",
                                "{n} berichten geschreven naar {path} ({start} .. {end})", n, path=out_path,
                                start=start.isoformat(), end=end.isoformat()))
        return
    settings = app.config
    _publish(settings, model, start, speed=speed, end=start + timedelta(days=days) if days else None,
             host=host, port=port)


def _publish(settings, model, start, *, speed: float, end, host: str | None, port: int | None) -> None:
    """Publish the simulated stream to the broker until done or interrupted."""
    from dataclasses import replace

    from agent.cli.runner import mqtt_options
    from sensors.mqtt import MqttPublisher
    from sensors.simulator import publish_stream

    options = replace(mqtt_options(settings), **{k: v for k, v in (("host", host), ("port", port)) if v})
    publisher = MqttPublisher(options, client_id=f"{options.client_id}-simulator")
    try:
        publisher.connect()
    except ConnectionError as exc:
        raise CommandFailed(str(exc)) from None
    click.echo(_("simulatie naar {host}:{port} vanaf {start} (Ctrl-C stopt)", host=options.host, port=options.port,
                 start=start.isoformat()))
    with stop_on_signals() as stop:
        stats = publish_stream(publisher.publish, model, start, speed=speed, stop=stop, end=end,
                               on_caught_up=lambda s: click.echo(ngettext(
                                   "bij: {n} bericht verstuurd; nu live", "bij: {n} berichten verstuurd; nu live",
                                   s.published)))
    publisher.close()
    click.echo(ngettext("{n} bericht verstuurd", "{n} berichten verstuurd", stats.published))


COMMANDS.append(simulate_cmd)
