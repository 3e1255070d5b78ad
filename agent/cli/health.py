"""`ikb-agent status`, `backup` and `restore`: the agent's health, and copies of its database."""

from __future__ import annotations

import json
from pathlib import Path

import click

from agent.cli.base import AppContext, CommandFailed, _, ngettext, pass_app, render


def _runtime(app: AppContext) -> dict | None:
    """Return the runtime file of an agent running on this database, or None."""
    from agent.health import running_agent

    return running_agent(app.config, app.db_path or app.config.storage.path, app.now())


def _mb(n: int | None) -> str:
    """Return bytes as megabytes with one decimal."""
    return f"{(n or 0) / 1_000_000:.1f} MB"


def _row(label: str, value: str) -> str:
    """Return one line of the overview: a label column, then the value."""
    return f"{label:<13}{value}"


def render_status(status: dict) -> str:
    """Return the status as text for the terminal, in the command's language."""
    from agent.health import REASONS, problem_text
    from rules.kinds import KIND_WORDS

    a, w, b = status["agent"], status["watchdog"], status["backup"]
    # The calls to _ stand outside the f-strings: pybabel does not see into an f-string.
    healthy = _("GEZOND") if status["healthy"] else _("NIET GEZOND")
    lines = [f"ikb-agent: {healthy}  ({status['at']})"]
    for p in status["problems"]:
        level = _("FOUT") if p["level"] == "error" else _("let op")
        lines.append(f"  {level}: {problem_text(p['code'], p['values'], _)}")
    lines.append("")
    lines.append(_row(_("agent"), _("draait, proces {pid} sinds {since}", pid=a["pid"], since=a["started_at"])
                      if a["running"] else _("draait niet")))
    conn = status["broker"]["connected"]
    lines.append(_row(_("broker"), f"{status['broker']['address']}: "
                      + (_("onbekend") if conn is None else _("verbonden") if conn else _("NIET verbonden"))))
    if w.get("systemd") is None:
        watch = _("onbekend (de agent draait niet)")
    else:
        watch = _("voortgang") if w.get("progress") else _("GEEN voortgang: {problem}", problem=w.get("problem"))
        watch += "; " + (_("systemd-watchdog {s} s, laatste keep-alive {at}", s=round(w["watchdog_s"]),
                           at=w.get("last_keep_alive_at")) if w.get("watchdog_s") else _("geen systemd-watchdog"))
    lines.append(_row(_("watchdog"), watch))
    ev = status["evaluation"]
    lines.append(_row(_("beoordeling"), _("laatst {at}", at=ev["last_at"]) if ev.get("last_at") else _("nog nooit"))
                 + (" (" + _("fout: {error}", error=ev["last_error"]) + ")" if ev.get("last_error") else ""))
    ing = status["ingest"]
    if ing:
        lines.append(_row(_("ontvangen"), ngettext(
            "{n} bericht sinds de start: {stored} opgeslagen, {duplicates} dubbel, {rejected} afgewezen",
            "{n} berichten sinds de start: {stored} opgeslagen, {duplicates} dubbel, {rejected} afgewezen",
            ing.get("received", 0), stored=ing.get("stored", 0), duplicates=ing.get("duplicates", 0),
            rejected=ing.get("rejected", 0))))
    rej = status["rejected"]
    lines.append(_row(_("afgewezen"), _("{n} in totaal", n=rej["total"])
                      + "".join(f"; {_(REASONS.get(reason, reason))}: {n}" for reason, n in rej["reasons"].items())))
    o = status["outbox"]
    lines.append(_row(_("uitgaand"), _("{pending} te versturen, {held} voor de verzamelmelding", pending=o["pending"],
                                       held=o["held"])
                      + ("; " + _("oudste sinds {at}", at=o["oldest_pending_at"]) if o["oldest_pending_at"] else "")))
    d = status["database"]
    lines.append(_row(_("database"), _("{path}: {size} + WAL {wal}; vrij {free}", path=d["path"], size=_mb(d["bytes"]),
                                       wal=_mb(d["wal_bytes"]), free=_mb(d["disk_free_bytes"]))))
    last = b.get("last")
    if not b["enabled"]:
        backup = _("uit ([backup] enabled = false)")
    else:
        backup = ngettext("{directory} ({n} kopie, dagelijks na {at}): ", "{directory} ({n} kopieën, dagelijks na {at}): ",
                          b["copies"], directory=b["directory"], at=b["at"])
        backup += _("laatste {at}, {size}", at=last["at"], size=_mb(last.get("bytes"))) if last else _("nog geen")
    lines.append(_row(_("back-up"), backup))
    lines.append("")
    header = (_("sensor"), _("soort"), _("plaats"), _("laatste bericht"), _("waarde"))
    lines.append("{:<41} {:<18} {:<7} {:<27} {}".format(*header))
    for s in status["sensors"]:
        name = s["topic"] + (f" [{s['field']}]" if s["field"] else "")
        flag = "  " + _("STIL") if s["offline_since"] else ""
        value = "" if s["last_value"] is None else f"{s['last_value']:g}"
        kind = _(KIND_WORDS.get(s["kind"], s["kind"]))
        seen = s["last_seen"] or _("nooit")
        lines.append(f"{name[:41]:<41} {kind[:18]:<18} {s['location']:<7} {seen:<27} "
                     f"{value}{flag}")
    return "\n".join(lines) + "\n"


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
    from agent.health import agent_status
    from agent.store import open_store

    path = app.db_path or app.config.storage.path
    if not Path(path).exists():
        raise CommandFailed(_("{path}: nog geen database (de agent is op deze configuratie nog niet gestart)",
                              path=path))
    store = open_store(path, readonly=True)  # status never migrates or writes
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
        raise CommandFailed(render(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=1))
        return
    click.echo(_("back-up gemaakt: {file} ({size}, {seconds} s); gecontroleerd: integriteit, {entries} "
                 "logboekregels in hun keten, {files} bestanden", file=result.path, size=_mb(result.bytes),
                 seconds=round(result.seconds, 1), entries=result.entries, files=result.files))
    if result.key:
        click.echo(_("bedrijfssleutel bewaard als {file}", file=target / "farm.key"))
    for old in result.removed:
        click.echo(_("oude back-up verwijderd: {file}", file=old))


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
        raise CommandFailed(render(exc)) from None
    click.echo(_("hersteld: {db} uit {file} (gecontroleerd: integriteit, {entries} logboekregels in hun keten, "
                 "{files} bestanden)", db=result.database, file=result.source, entries=result.check.entries,
                 files=result.check.files))
    for aside in result.set_aside:
        click.echo(_("vorige database bewaard als {file}", file=aside))
    click.echo(_("start de agent weer: systemctl start ikb-agent ikb-agent-web"))


COMMANDS = [status_cmd, backup_cmd, restore_cmd]
