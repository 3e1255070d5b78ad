"""`ikb-agent status`, `backup` and `restore`: the agent's health, and copies of its database."""

from __future__ import annotations

import json
from pathlib import Path

import click

from agent.cli.base import AppContext, CommandFailed, pass_app


def _runtime(app: AppContext) -> dict | None:
    """Return the runtime file of an agent running on this database, or None."""
    from agent.health import running_agent

    return running_agent(app.config, app.db_path or app.config.storage.path, app.now())


@click.command("status")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def status_cmd(app: AppContext, fmt: str) -> int:
    """Show the agent's health: broker, sensors, rejected messages, outbox, evaluation, database, backup, watchdog.

    Exits 0 when healthy, 1 when not (the agent is down or hangs, no broker
    connection, the last backup failed): usable from a monitoring script.

    \b
    Example:
      ikb-agent --config /etc/ikb-agent/ikb-agent.toml status --format json
    """
    from agent.health import agent_status, render_status
    from agent.store import StoreError, open_store

    path = app.db_path or app.config.storage.path
    if not Path(path).exists():
        raise CommandFailed(f"{path}: no database yet (the agent has not started on this configuration)")
    try:
        store = open_store(path, readonly=True)  # status never migrates or writes
    except StoreError as exc:
        raise CommandFailed(str(exc)) from None
    try:
        status = agent_status(store, app.config, app.now())
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps(status, ensure_ascii=False, indent=1))
    else:
        click.echo(render_status(status), nl=False)
    return 0 if status["healthy"] else 1


@click.command("backup")
@click.option("--to", "directory", type=click.Path(file_okay=False), metavar="DIR",
              help="Directory for the copy (default: [backup] directory).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def backup_cmd(app: AppContext, directory: str | None, fmt: str) -> None:
    """Copy the database now (also while the agent runs), check the copy, rotate old copies.

    The agent makes the same copy every night after [backup] at.

    \b
    Example:
      ikb-agent backup --to /media/usb/ikb-agent
    """
    from agent.backup import BackupError, take_backup

    settings = app.config
    target = Path(directory) if directory else settings.backup.directory_for(app.store.path)
    try:
        result = take_backup(app.store, target, settings.backup.keep, app.now(),
                             require_other_device=settings.backup.require_other_device and not directory,
                             key_path=settings.key_path())
    except BackupError as exc:
        raise CommandFailed(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=1))
        return
    click.echo(f"back-up gemaakt: {result.path} ({result.bytes / 1_000_000:.1f} MB, {result.seconds:.1f} s); "
               f"gecontroleerd: integriteit, {result.entries} logboekregels in hun keten, {result.files} bestanden")
    if result.key:
        click.echo(f"bedrijfssleutel bewaard als {target / 'farm.key'}")
    for old in result.removed:
        click.echo(f"oude back-up verwijderd: {old}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@pass_app
def restore_cmd(app: AppContext, file: str) -> None:
    """Replace the database with a backup, after checking it; the replaced database is kept aside.

    Refuses a damaged copy (integrity check, logbook chains, stored files) and
    refuses while the agent or the web page has the database open: stop them
    first. Exits 1 when refused; nothing is changed then.

    \b
    Example:
      systemctl stop ikb-agent ikb-agent-web
      ikb-agent --config /etc/ikb-agent/ikb-agent.toml restore /media/usb/ikb-agent/ikb-agent-20261101T023000Z.db
      systemctl start ikb-agent ikb-agent-web
    """
    from agent.backup import RestoreError, restore_database

    path = app.db_path or app.config.storage.path
    running = _runtime(app)
    try:
        result = restore_database(file, path, now=app.now(), agent_pid=running["pid"] if running else None)
    except RestoreError as exc:
        raise CommandFailed(str(exc)) from None
    click.echo(f"hersteld: {result.database} uit {result.source} (gecontroleerd: integriteit, "
               f"{result.check.entries} logboekregels in hun keten, {result.check.files} bestanden)")
    for aside in result.set_aside:
        click.echo(f"vorige database bewaard als {aside}")
    click.echo("start de agent weer: systemctl start ikb-agent ikb-agent-web")


COMMANDS = [status_cmd, backup_cmd, restore_cmd]
