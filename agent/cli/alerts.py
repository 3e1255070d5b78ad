"""``ikb-agent alert``: list and acknowledge alerts, show the outbox, test every channel (A3.4)."""

from __future__ import annotations

import getpass
import json

import click

from agent.cli.base import AppContext, CommandFailed, InputError, _, ngettext, pass_app
from rules.texts import N_

STATE_WORDS = {"pending": N_("wacht"), "held": N_("voor overzicht"), "delivered": N_("afgeleverd"),
               "cancelled": N_("vervallen"), "failed": N_("MISLUKT"), "digested": N_("in overzicht")}


@click.group("alert")
def alert_group() -> None:
    """Alerts that reach the farmer off the farm: list, acknowledge, test the channels.

    \b
    Example:
      ikb-agent alert test --monthly
    """


@alert_group.command("list")
@click.option("--all", "include_closed", is_flag=True, help="Also closed alerts (newest first).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def alert_list(app: AppContext, include_closed: bool, limit: int, fmt: str) -> None:
    """List open alerts (with --all also closed ones), open first.

    \b
    Example:
      ikb-agent alert list --all --format json
    """
    from agent.alerts import KINDS, SEVERITY_WORDS, list_alerts, location_name
    from agent.store import to_ms

    alerts = list_alerts(app.store, include_closed=include_closed, limit=limit)
    if fmt == "json":
        click.echo(json.dumps([a.to_json() for a in alerts], ensure_ascii=False, indent=1))
        return
    if not alerts:
        click.echo(_("geen open meldingen") if not include_closed else _("geen meldingen"))
        return
    from agent.alerts import local_text

    for a in alerts:
        state = _("open") if a.state == "open" else _("opgelost {at}", at=local_text(app.config, to_ms(a.closed_at)))
        ack = "; " + _("bevestigd door {who}", who=a.acked_by) if a.acked_by else ""
        what = _(KINDS[a.kind].label) + (f" {a.subject}" if a.subject and a.kind.startswith("deviation") else "")
        click.echo(f"{a.id:>5}  {_(SEVERITY_WORDS[a.severity]):<12} {local_text(app.config, to_ms(a.opened_at))}  "
                   f"{location_name(app.config, a.location):<16} {what} ({state}{ack}, {a.count}x)")


@alert_group.command("ack")
@click.argument("alert_id", type=int)
@click.option("--by", "by", help="Who acknowledges (default: your login name).")
@pass_app
def alert_ack(app: AppContext, alert_id: int, by: str | None) -> None:
    """Acknowledge an alert: its repeats and escalation stop.

    \b
    Example:
      ikb-agent alert ack 7 --by jan
    """
    from agent.alerts import acknowledge

    result = acknowledge(app.store, alert_id, by=by or getpass.getuser(), via="cli", now=app.now())
    if result.status == "unknown":
        raise InputError(_("ALERT_ID: melding {id} bestaat niet (zie `ikb-agent alert list --all`)", id=alert_id))
    if result.status == "already":
        click.echo(_("melding {id} was al bevestigd door {who}", id=alert_id, who=result.alert.acked_by))
        return
    click.echo(_("melding {id} bevestigd door {who}", id=alert_id, who=result.alert.acked_by))


@alert_group.command("outbox")
@click.option("--undelivered", is_flag=True, help="Only messages not (yet) delivered.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def alert_outbox(app: AppContext, undelivered: bool, limit: int, fmt: str) -> None:
    """Show sent and waiting messages with their attempts (newest first).

    \b
    Example:
      ikb-agent alert outbox --undelivered
    """
    from agent.alerts import iso, local_text, outbox_rows

    rows = outbox_rows(app.store, undelivered=undelivered, limit=limit)
    if fmt == "json":
        for r in rows:
            r["created_at"], r["delivered_at"] = iso(r["created_at"]), iso(r["delivered_at"])
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for r in rows:
        error = f" — {r['last_error']}" if r["last_error"] and r["state"] != "delivered" else ""
        click.echo(f"{r['id']:>6}  {local_text(app.config, r['created_at'])}  {r['channel']:<14} "
                   f"{_(STATE_WORDS[r['state']]):<14} {r['attempts']}x  {r['summary']}{error}")


@alert_group.command("test")
@click.option("--channel", "names", multiple=True, metavar="NAME", help="Only this channel (repeatable).")
@click.option("--monthly", is_flag=True,
              help="Mark this as the monthly test of the channels (a channel test, not an alarm check).")
@click.option("--by", "by", help="Who tests (default: your login name).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def alert_test(app: AppContext, names: tuple[str, ...], monthly: bool, by: str | None, fmt: str) -> None:
    """Send a test through every channel and record whether it was delivered (A3.4).

    Each channel gets one attempt; the result is kept in the channel test
    log that A3.4 reads (no delivered test in 2 months: C). It tests the
    channels only: the alarm installation is tested on the panel (its test
    alarm, seen on the sensor, becomes a draft in the checks logbook) or
    registered by hand (`logbook add checks`, item alarm, A3.6).
    Exit 1 when a channel failed.

    \b
    Example:
      ikb-agent alert test --monthly
    """
    from agent.alerts import run_channel_tests

    config = app.config
    keys = [c.key for c in config.alerts.channels]
    unknown = [n for n in names if n not in keys]
    if unknown:
        raise InputError(_("--channel: onbekend kanaal {name}; ingesteld: {channels}", name=unknown[0],
                           channels=", ".join(keys) or _("geen")))
    if not keys:
        raise InputError(_("alerts.channels: geen kanaal ingesteld (zie deploy/ikb-agent.example.toml)"))
    now = app.now()
    results = run_channel_tests(app.store, config, now, names=list(names) or None, monthly=monthly)
    if fmt == "json":
        click.echo(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=1))
    else:
        for r in results:
            click.echo(f"{r.channel:<20} {_(STATE_WORDS['delivered' if r.delivered else 'failed']):<11} {r.detail}")
        click.echo(_("vastgelegd in het testlogboek van de meldkanalen (A3.4); de alarminstallatie zelf is hiermee "
                     "niet getest: geef een testalarm op de alarminstallatie of registreer de controle in het "
                     "controlelogboek (A3.6)"))
        routes = [c.key for c in config.alerts.channels if "critical" in c.severities]
        if len(routes) < 2:
            # Dutch law (since 2023) asks for two independent signalling routes for the ventilation alarm.
            click.echo(ngettext("let op: {n} kanaal voor kritieke meldingen; de wet vraagt twee signaleringsroutes",
                                "let op: {n} kanalen voor kritieke meldingen; de wet vraagt twee signaleringsroutes",
                                len(routes)))
    failed = [r.channel for r in results if not r.delivered]
    if failed:
        raise CommandFailed(_("alarmtest mislukt via {channels}", channels=", ".join(failed)))
