"""The ``ikb-agent`` command line: the composition root (DESIGN §3.1).

Exit codes: 0 success; 2 usage or configuration error, with one line naming the
bad key or argument; 1 any other failure. ``--lang`` (env ``IKB_LANG``) chooses
Dutch (the default) or English for every line shown.
"""

from __future__ import annotations

import getpass
import json
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path

import click

from agent.cli.base import AppContext, CommandFailed, IkbGroup, _, ngettext, parse_when, pass_app, render
from agent.config import ConfigError
from agent.i18n import LANGUAGES, SOURCE_LANGUAGE
from agent.store import storage_error
from rules.catalogue import load_catalogue


@click.group(cls=IkbGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", envvar="IKB_CONFIG", default="ikb-agent.toml", show_default=True,
              metavar="PATH", help="Configuration file (env IKB_CONFIG).")
@click.option("--db", "db_path", metavar="PATH", help="Database file; overrides [storage] path.")
@click.option("--lang", type=click.Choice(LANGUAGES), envvar="IKB_LANG", default=SOURCE_LANGUAGE, show_default=True,
              help="Language of the output: Dutch or English (env IKB_LANG).")
@click.version_option(package_name="ikb-agent")
@click.pass_context
def cli(ctx: click.Context, config_path: str, db_path: str | None, lang: str) -> None:
    """Farm-side sensor and self-assessment agent for IKB Ei laying-hen farms.

    \b
    Example:
      ikb-agent --config /etc/ikb-agent.toml score
    """
    if db_path is not None and not db_path.strip():
        raise click.BadParameter(_("verwacht een bestandspad, niet een leeg"), param_hint="--db")
    ctx.obj = AppContext(config_path, db_path, lang)


# --------------------------------------------------------------------------- rules, score


@cli.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_cmd(fmt: str) -> None:
    """List the IKB Ei rule catalogue (249 rules, texts as in the scheme).

    \b
    Example:
      ikb-agent rules --format json > rules.json
    """
    catalogue = load_catalogue()
    if fmt == "json":
        click.echo(json.dumps([r.public_dict() for r in catalogue], ensure_ascii=False, indent=1))
    else:
        from agent.cli.report import render_rules

        click.echo(render_rules(catalogue), nl=False)


@cli.command("score")
@click.option("--at", "at_text", metavar="T", help="End of the window (ISO date-time or date); default now.")
@click.option("--since", "since_text", metavar="S", help="Start of the window; default T − 30 days.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def score_cmd(app: AppContext, at_text: str | None, since_text: str | None, fmt: str) -> None:
    """Evaluate every applicable rule over [S, T] and print the result.

    \b
    Example:
      ikb-agent score --at 2026-11-01 --since 2026-10-01 --format json
    """
    from agent.cli.report import render_score
    from agent.evaluation import score_window

    tz = app.config.farm_view().tz
    at = parse_when(at_text, tz, end_of_day=True) or app.now()
    since = parse_when(since_text, tz) or at - timedelta(days=30)
    if since >= at:
        raise click.BadParameter(_("ligt niet vóór --at"), param_hint="--since")
    result = score_window(app.store, app.config, at=at, since=since)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=1))
    else:
        click.echo(render_score(result, app.config.farm_view(), load_catalogue()), nl=False)


# --------------------------------------------------------------------------- self-assessment, documents


@cli.command("assess")
@click.argument("rule")
@click.option("--status", type=click.Choice(["ok", "B", "C", "D", "KO", "nvt"]), required=True)
@click.option("--note", default="", help="What you saw; required for a deviation, the reason for nvt.")
@click.option("--location", help="House or egg-room id; farm-wide when absent.")
@click.option("--by", "by", help="Who answers (default: your login name).")
@pass_app
def assess_cmd(app: AppContext, rule: str, status: str, note: str, location: str | None, by: str | None) -> None:
    """Record a self-assessment answer for a rule (kept append-only).

    \b
    Example:
      ikb-agent assess A4.1.6 --status ok --note "kadaverkoeling buiten de stal"
    """
    from agent.logbooks import record_answer

    config = app.config
    locations = {h.id for h in config.houses} | {r.id for r in config.egg_rooms}
    answer = record_answer(app.store, load_catalogue(), rule_id=rule, status=status, note=note,
                           answered_by=by or getpass.getuser(), now=app.now(), location=location,
                           locations=locations)
    click.echo(_("opgeslagen: {rule} {location} = {status}", rule=answer.rule,
                 location=answer.location or _("bedrijf"), status=answer.status))


@cli.group("document")
def document_group() -> None:
    """Certificates, reports and plans with a validity (document rules).

    \b
    Example:
      ikb-agent document add water_test --issued 2026-03-01
    """


@document_group.command("add")
@click.argument("kind")
@click.option("--issued", required=True, metavar="YYYY-MM-DD", help="Issue or inspection date.")
@click.option("--valid-until", metavar="YYYY-MM-DD", help="End date printed on the document, if any.")
@click.option("--location", help="House id for per-house documents (stalmeetrapport).")
@click.option("--title", help="Title; defaults to the document's name.")
@click.option("--note", default="")
@click.option("--by", "by", help="Who records it (default: your login name).")
@pass_app
def document_add(app: AppContext, kind: str, issued: str, valid_until: str | None, location: str | None,
                 title: str | None, note: str, by: str | None) -> None:
    """Record a document. KIND is a document kind or its rule id (see `document kinds`).

    \b
    Example:
      ikb-agent document add G1.1 --issued 2025-05-01 --location 1
    """
    from agent.logbooks import record_document

    doc = record_document(app.store, kind=kind, issued_on=issued, valid_until=valid_until, title=title,
                          location=location, note=note, recorded_by=by or getpass.getuser(), now=app.now(),
                          house_ids={h.id for h in app.config.houses})
    click.echo(_("opgeslagen: {rule} {title} ({date})", rule=doc.rule, title=doc.title,
                 date=doc.issued_on.isoformat()))


@document_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def document_list(app: AppContext, fmt: str) -> None:
    """List recorded documents, oldest first.

    \b
    Example:
      ikb-agent document list --format json
    """
    from agent.logbooks import load_documents

    docs = load_documents(app.store)
    if fmt == "json":
        click.echo(json.dumps([{
            "id": d.id, "rule": d.rule, "kind": d.kind, "title": d.title, "issued_on": d.issued_on.isoformat(),
            "valid_until": d.valid_until.isoformat() if d.valid_until else None, "location": d.location,
            "recorded_at": d.recorded_at.isoformat(), "note": d.note} for d in docs], ensure_ascii=False, indent=1))
        return
    for d in docs:
        until = " " + _("t/m {date}", date=d.valid_until.isoformat()) if d.valid_until else ""
        where = d.location or _("bedrijf")
        click.echo(f"{d.id:>4}  {d.rule:<7} {d.issued_on.isoformat()}{until}  {where:<8} {d.title}")


@document_group.command("kinds")
def document_kinds() -> None:
    """List the document kinds, their rule and how long they stay valid.

    \b
    Example:
      ikb-agent document kinds
    """
    from rules.documents import SPECS

    for spec in SPECS.values():
        validity = (ngettext("{n} maand", "{n} maanden", spec.months) if spec.months
                    else ngettext("{n} dag", "{n} dagen", spec.days) if spec.days
                    else _("tot einddatum op document") if spec.needs_valid_until
                    else _("zolang de stal ongewijzigd is"))
        click.echo(f"{spec.kind:<26} {spec.rule:<7} {validity:<28} {spec.label}")


# --------------------------------------------------------------------------- users


@cli.group("user")
def user_group() -> None:
    """Web accounts.

    \b
    Example:
      echo 'a long password' | ikb-agent user add jan --role farmer
    """


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["farmer", "auditor", "kiosk"]), required=True)
@pass_app
def user_add(app: AppContext, name: str, role: str) -> None:
    """Create a web account; the password is read from standard input.

    \b
    Example:
      printf '%s\\n' 'correct horse battery' | ikb-agent user add auditor1 --role auditor
    """
    from agent.cli.users import read_password
    from agent.store import add_user

    add_user(app.store, name, role, read_password(), app.now())
    click.echo(_("account {name} ({role}) aangemaakt", name=name, role=role))


# --------------------------------------------------------------------------- demo


@cli.command("demo")
@click.option("--dir", "workdir", type=click.Path(file_okay=False), default="demo-data", show_default=True,
              help="Where the demo farm's configuration, database and broker live.")
@click.option("--history", type=click.FloatRange(min=0), default=3, show_default=True,
              help="Days of history the simulator sends first.")
@click.option("--speed", type=click.FloatRange(min=0), default=0, show_default=True,
              help="How much faster than real time the history is sent (0: as fast as the agent takes it).")
@click.option("--port", "web_port", type=int, default=8080, show_default=True, help="Port of the web page.")
def demo_cmd(workdir: str, history: float, speed: float, web_port: int) -> None:
    """Run the demo farm on this machine, no set-up needed: broker, simulator, agent, web page.

    Runs until Ctrl-C.

    \b
    Example:
      ikb-agent demo --dir /tmp/ikb-demo
    """
    from agent.cli.demo import DemoError, run_demo
    from agent.cli.ingest import setup_logging, stop_on_signals

    setup_logging("warning")
    with stop_on_signals() as stop:
        try:
            run_demo(Path(workdir).resolve(), stop, history_days=history, speed=speed, web_port=web_port,
                     echo=click.echo)
        except (DemoError, ConnectionError) as exc:
            raise CommandFailed(f"demo: {exc}") from None  # the broker's or the network's own words


# --------------------------------------------------------------------------- feature modules

from agent.cli.logbook import export_cmd, logbook_group, verify_cmd  # noqa: E402

cli.add_command(logbook_group)
cli.add_command(export_cmd)
cli.add_command(verify_cmd)

from agent.cli.alerts import alert_group  # noqa: E402

cli.add_command(alert_group)

from agent.cli.repairs import repair_group  # noqa: E402

cli.add_command(repair_group)

# --------------------------------------------------------------------------- web (issue 6)

from agent.cli.web import token_cmd, web_cmd  # noqa: E402

cli.add_command(web_cmd)
user_group.add_command(token_cmd)

from agent.cli.users import USER_COMMANDS, token_group  # noqa: E402

for _command in USER_COMMANDS:
    user_group.add_command(_command)
cli.add_command(token_group)


# --------------------------------------------------------------------------- ingest (issue 3)

from agent.cli.ingest import COMMANDS as _INGEST_COMMANDS  # noqa: E402

for _command in _INGEST_COMMANDS:
    cli.add_command(_command)


# --------------------------------------------------------------------------- beyond one farm (issue 16)

from agent.cli.upstream import fleet_cmd, key_group  # noqa: E402

cli.add_command(key_group)
cli.add_command(fleet_cmd)


# --------------------------------------------------------------------------- sensor rules (issue 4)

from agent.cli.housing import housing_order_group  # noqa: E402

cli.add_command(housing_order_group)


# --------------------------------------------------------------------------- health and backups (issue 16)

from agent.cli.health import COMMANDS as _HEALTH_COMMANDS  # noqa: E402

for _command in _HEALTH_COMMANDS:
    cli.add_command(_command)


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and map failures to exit codes (2: usage/config, 1: other)."""
    try:
        result = cli.main(args=argv, prog_name="ikb-agent", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo(_("afgebroken"), err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ConfigError as exc:  # in English, like the configuration file's keys and comments
        click.echo(f"ikb-agent: configuration error: {exc}", err=True)
        return 2
    except CommandFailed as exc:
        click.echo(f"ikb-agent: {exc}", err=True)
        return 1
    except (sqlite3.Error, OSError) as exc:
        # A full disk, a locked or damaged database: one line saying what it means, never a traceback.
        problem = storage_error(exc)
        if problem is None:
            raise
        click.echo(f"ikb-agent: {render(problem)}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    return result if isinstance(result, int) else 0


def entry_point() -> None:
    """Console-script entry: exit with main()'s code."""
    sys.exit(main())
