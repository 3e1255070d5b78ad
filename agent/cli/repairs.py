"""``ikb-agent repair``: list the occurrences of deviations that can take a repair, and record one (DESIGN §3.5 v2)."""

from __future__ import annotations

import getpass
import json
from datetime import timedelta
from pathlib import Path

import click

from agent.cli.base import AppContext, InputError, _, pass_app


def current_score(app: AppContext):
    """Return the score over the agent's evaluation window ending now (what the page and `run` show)."""
    from agent.evaluation import score_window

    now = app.now()
    return score_window(app.store, app.config, at=now, since=now - timedelta(days=app.config.evaluation.window_days))


def save_repair(app: AppContext, data, *, by: str | None, attach: tuple[str, ...] = ()):
    """Record a repair through the one API the page uses; exit 2 naming the field when it does not fit."""
    from agent.logbooks import record_repair

    uploads = []
    for path in attach:
        try:
            uploads.append((Path(path).name, Path(path).read_bytes()))
        except OSError as exc:
            raise InputError(_("--attach: kan {path} niet lezen: {detail}", path=path, detail=exc.strerror)) from None
    # A refusal (the entry, the occurrence it names, an upload) is an IkbError: IkbGroup renders it, exit 2.
    return record_repair(app.store, app.config, current_score(app), data, by=by or getpass.getuser(),
                         now=app.now(), uploads=uploads)


@click.group("repair")
def repair_group() -> None:
    """Repairs (herstelmaatregelen) of deviations: a D needs its repair before the certificate.

    \b
    Example:
      ikb-agent repair list
    """


@repair_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also occurrences already repaired or still going on.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def repair_list(app: AppContext, show_all: bool, fmt: str) -> None:
    """List the occurrences of deviations in the window that can take a repair, with the start to name.

    \b
    Example:
      ikb-agent repair list --format json
    """
    from rules.logbooks import repairable

    result = current_score(app)
    rows = []
    for f in result.findings:
        if f.status not in ("B", "C", "D"):
            continue
        for o in f.occurrences:
            can = repairable(f, o, result.at)
            if show_all or (can and o.repair is None):
                rows.append({"rule": f.rule, "location": f.location, "status": f.status, "start": o.start.isoformat(),
                             "end": o.end.isoformat() if o.end else None, "detail": o.detail,
                             "repairable": can, "repair": o.repair.to_json() if o.repair else None})
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo(_("geen afwijkingen die op herstel wachten"))
    for r in rows:
        state = _("hersteld") if r["repair"] else (_("te herstellen") if r["repairable"] else _("duurt nog voort"))
        where = r["location"] or _("bedrijf")
        click.echo(f"{r['status']:<2} {r['rule']:<9} {where:<8} {r['start']}  {state}: {r['detail']}")


@repair_group.command("add")
@click.argument("rule")
@click.option("--start", required=True, metavar="T", help="The occurrence's start, as `repair list` shows it.")
@click.option("--location", help="House or egg-room id; farm-wide when absent.")
@click.option("--action", required=True, help="What was repaired.")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="When it was repaired (default: today).")
@click.option("--time", "clock", metavar="HH:MM", help="At what time (optional).")
@click.option("--by", "by", help="Who repaired it (default: your login name).")
@click.option("--attach", multiple=True, metavar="FILE", help="A photo or PDF document (repeatable).")
@pass_app
def repair_add(app: AppContext, rule: str, start: str, location: str | None, action: str, day: str | None,
               clock: str | None, by: str | None, attach: tuple[str, ...]) -> None:
    """Record the repair of one occurrence in the corrective-actions logbook (hash-chained).

    \b
    Example:
      ikb-agent repair add A3.4 --location 1 --start 2026-03-28T03:10:00+01:00 \\
        --action "voeding alarmpaneel vervangen" --by Jan --attach foto.jpg
    """
    who = by or getpass.getuser()
    data = {"rule": rule, "location": location, "deviation_start": start, "action": action, "performed_by": who,
            "date": day or app.config.farm_view().local_date(app.now()).isoformat()}
    if clock:
        data["time"] = clock
    saved = save_repair(app, data, by=who, attach=attach)
    click.echo(_("herstel vastgelegd: corrective_actions #{id} (keten {hash}…)", id=saved.entry.id,
                 hash=saved.entry.hash[:12]))
