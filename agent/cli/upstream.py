"""`ikb-agent key …` (the farm key), `fleet` (the farms on an upstream broker) and the broker options that
`verify --broker` shares with `fleet` (docs/UPSTREAM.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from agent.cli.base import AppContext, CommandFailed, InputError, _, ngettext, pass_app


def broker_options(command):
    """Add --ca/--cert/--key/--timeout (TLS client certificate for the upstream broker) to a command."""
    for option in reversed([
        click.option("--ca", "ca_file", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
                     help="CA certificates to trust for mqtts:// (default: the system's)."),
        click.option("--cert", "cert_file", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
                     help="Client certificate (PEM) for brokers that want one."),
        click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
                     help="The client certificate's private key (PEM)."),
        click.option("--timeout", type=click.FloatRange(min=0.5, max=120), default=10, show_default=True,
                     help="Seconds to wait for the broker."),
    ]):
        command = option(command)
    return command


def mqtt_options(url: str, ca_file: str | None, cert_file: str | None, key_file: str | None, client_id: str):
    """Return MQTT options for a broker URL; a bad URL is a usage error naming --broker."""
    from sensors.mqtt import options_from_url

    if cert_file and not key_file or key_file and not cert_file:
        raise InputError(_("--cert en --key horen bij elkaar: geef ze allebei"))
    try:
        return options_from_url(url, ca_file=ca_file, cert_file=cert_file, key_file=key_file, client_id=client_id)
    except ValueError as exc:
        raise InputError(f"--broker: {exc}") from None


def heads_from_broker(url: str, kip: str, root: str, ca_file, cert_file, key_file, timeout: float) -> list[dict]:
    """Return the chain heads retained for one farm on an upstream broker (checked like --heads)."""
    from agent.exports import HeadsError, read_heads
    from agent.upstream import FleetError, collect_fleet

    options = mqtt_options(url, ca_file, cert_file, key_file, f"ikb-verify-{kip}")
    try:
        farm = collect_fleet(options, root, [kip], timeout=timeout).get(kip, {})
    except FleetError as exc:
        raise CommandFailed(f"--broker: {exc}") from None
    for problem in farm.get("bad", []):
        raise InputError(f"--broker: {problem}")
    try:
        return read_heads(json.dumps([farm["chain"]]) if "chain" in farm else "", url)
    except HeadsError as exc:
        raise InputError(str(exc)) from None


# --------------------------------------------------------------------------- key


@click.group("key")
def key_group() -> None:
    """The farm key that signs audit packs and chain heads (Ed25519, in the data directory).

    \b
    Example:
      ikb-agent key init
    """


@key_group.command("init")
@pass_app
def key_init(app: AppContext) -> None:
    """Create the farm key if absent and print its fingerprint (the installer calls this).

    \b
    Example:
      sudo -u ikb ikb-agent --config /etc/ikb-agent/ikb-agent.toml key init
    """
    from agent.signing import FarmKeyError, farm_key

    path = app.config.key_path()
    existed = path.exists()
    try:
        key = farm_key(path)
    except FarmKeyError as exc:
        raise CommandFailed(str(exc)) from None
    click.echo(_("bestaande bedrijfssleutel {path}", path=path) if existed else
               _("nieuwe bedrijfssleutel {path}", path=path))
    click.echo(_("vingerafdruk: {fingerprint}", fingerprint=key.fingerprint))


@key_group.command("show")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def key_show(app: AppContext, fmt: str) -> None:
    """Print the farm key's fingerprint and public key (never the private key).

    \b
    Example:
      ikb-agent key show --format json
    """
    from agent.signing import FarmKeyError, load_key

    try:
        key = load_key(app.config.key_path())
    except FarmKeyError as exc:
        raise CommandFailed(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps({**key.public_info(), "path": str(key.path)}, indent=1))
    else:
        click.echo(_("vingerafdruk: {fingerprint}", fingerprint=key.fingerprint))
        click.echo(_("publieke sleutel (Ed25519): {key}", key=key.public_key))
        click.echo(_("bestand: {path}", path=key.path))


# --------------------------------------------------------------------------- fleet


@click.command("fleet")
@click.option("--broker", "url", required=True, metavar="URL", help="mqtt://host:port or mqtts://host:port.")
@click.option("--kip", "kips", multiple=True, metavar="NUMBER",
              help="Only these farms (repeat); needed on brokers without retained wildcard delivery (RabbitMQ).")
@click.option("--topic-root", default="ikb", show_default=True, help="First level of the farms' topics.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--save-heads", type=click.Path(dir_okay=False), metavar="FILE",
              help="Append each farm's signed chain heads to FILE (JSON lines) for later `verify --heads`.")
@broker_options
def fleet_cmd(url: str, kips: tuple[str, ...], topic_root: str, fmt: str, save_heads: str | None,
              ca_file, cert_file, key_file, timeout: float) -> None:
    """List the farms' retained status, score, open alerts and chain heads on the upstream broker.

    Run it daily with --save-heads to keep every farm's chain heads: an audit pack
    can later be checked against them (`ikb-agent verify PACK --heads FILE`).

    \b
    Example:
      ikb-agent fleet --broker mqtts://mqtt.coop.example:8883 --ca ca.crt --cert me.crt --key me.key
    """
    from agent import clock
    from agent.upstream import FleetError, collect_fleet, fleet_rows, render_fleet
    from agent.upstream import save_heads as save

    for kip in kips:
        if not kip.isdigit():
            raise InputError(_("--kip: verwacht een KIP-nummer (cijfers), niet '{kip}'", kip=kip))
    options = mqtt_options(url, ca_file, cert_file, key_file, "ikb-fleet")
    try:
        farms = collect_fleet(options, topic_root, list(kips) or None, timeout=timeout)
    except FleetError as exc:
        raise CommandFailed(str(exc)) from None
    rows = fleet_rows(farms, clock.utcnow())
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        click.echo(render_fleet(rows), nl=False)
    if save_heads:
        try:
            n = save(farms, Path(save_heads))
        except OSError as exc:
            raise CommandFailed(f"--save-heads: {save_heads}: {exc.strerror}") from None
        click.echo(ngettext("{n} nieuw ketenhoofd bewaard in {file}", "{n} nieuwe ketenhoofden bewaard in {file}", n,
                            file=save_heads), err=True)
