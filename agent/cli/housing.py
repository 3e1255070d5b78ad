"""CLI for the sensor rules' own record: the housing order (ophokplicht, H3.12.11)."""

from __future__ import annotations

import getpass
import json

import click

from agent.cli.base import AppContext, _, pass_app


@click.group("housing-order")
def housing_order_group() -> None:
    """Housing orders (ophokplicht): free-range access not required, 16-week limit (H3.12.8, H3.12.11).

    \b
    Example:
      ikb-agent housing-order add --from 2026-11-03
    """


@housing_order_group.command("add")
@click.option("--from", "starts_on", required=True, metavar="YYYY-MM-DD", help="First day of the housing order.")
@click.option("--to", "ends_on", metavar="YYYY-MM-DD", help="Last day, when known.")
@click.option("--note", default="", help="E.g. the ministry's order or region.")
@click.option("--by", "by", help="Who records it (default: your login name).")
@pass_app
def housing_order_add(app: AppContext, starts_on: str, ends_on: str | None, note: str, by: str | None) -> None:
    """Record a housing order; without --to it is in force until ended.

    \b
    Example:
      ikb-agent housing-order add --from 2026-11-03 --note "ophokplicht heel Nederland"
    """
    from agent.logbooks import add_housing_order

    order = add_housing_order(app.store, starts_on=starts_on, ends_on=ends_on, note=note,
                              recorded_by=by or getpass.getuser(), now=app.now())
    until = order.end.isoformat() if order.end else _("nader te bepalen")
    click.echo(_("opgeslagen: ophokplicht {id} van {start} tot en met {end}", id=order.id,
                 start=order.start.isoformat(), end=until))


@housing_order_group.command("end")
@click.argument("order_id", type=int)
@click.option("--on", "ends_on", required=True, metavar="YYYY-MM-DD", help="Last day of the housing order.")
@click.option("--by", "by", help="Who records it (default: your login name).")
@pass_app
def housing_order_end(app: AppContext, order_id: int, ends_on: str, by: str | None) -> None:
    """Record the last day of a housing order (kept append-only: a new record supersedes the old).

    \b
    Example:
      ikb-agent housing-order end 1 --on 2027-01-15
    """
    from agent.logbooks import end_housing_order

    order = end_housing_order(app.store, order_id, ends_on=ends_on, recorded_by=by or getpass.getuser(),
                              now=app.now())
    click.echo(_("opgeslagen: ophokplicht van {start} tot en met {end} (nummer {id})",
                 start=order.start.isoformat(), end=order.end.isoformat(), id=order.id))


@housing_order_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def housing_order_list(app: AppContext, fmt: str) -> None:
    """List the housing orders in force as recorded.

    \b
    Example:
      ikb-agent housing-order list --format json
    """
    from agent.logbooks import load_housing_orders

    orders = load_housing_orders(app.store)
    if fmt == "json":
        click.echo(json.dumps([{"id": o.id, "from": o.start.isoformat(), "to": o.end.isoformat() if o.end else None,
                                "note": o.note} for o in orders], ensure_ascii=False, indent=1))
        return
    if not orders:
        click.echo(_("geen ophokplicht geregistreerd"))
    for o in orders:
        end = o.end.isoformat() if o.end else _("heden")
        click.echo(f"{o.id:>4}  {o.start.isoformat()} – {end:<10}  {o.note}")
