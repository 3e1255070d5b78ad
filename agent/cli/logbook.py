"""`ikb-agent logbook …`, `export` and `verify`: the logbooks from the command line (DESIGN §3.1)."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import date, timedelta
from pathlib import Path

import click

from agent import jsontext
from agent.cli.base import AppContext, CommandFailed, InputError, _, language, ngettext, pass_app
from agent.cli.upstream import broker_options, heads_from_broker
from agent.i18n import LANGUAGES, translate
from rules.logbooks import LOGBOOKS, form_fields
from rules.texts import N_

KINDS = list(LOGBOOKS)
STATE_WORDS = {"confirmed": N_("bevestigd"), "draft": N_("concept"), "withdrawn": N_("ingetrokken")}


def _read_json(text: str, option: str = "--json"):
    """Parse a --json value: literal JSON, @FILE, or - for standard input."""
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(_("{option}: kan {path} niet lezen: {detail}", option=option, path=text[1:],
                               detail=exc.strerror)) from None
    try:
        return jsontext.loads(text)
    except ValueError as exc:
        raise InputError(_("{option}: geen geldige JSON ({detail})", option=option, detail=exc)) from None


def _by(by: str | None) -> str:
    """Return who records: the --by value or the login name."""
    return by or getpass.getuser()


def _report(saved, verb: str, fmt: str) -> None:
    """Print what was stored (``verb``: already in the command's language), and every flag to see at once."""
    if fmt == "json":
        click.echo(json.dumps({"entry": saved.entry.to_json(), "flags": [f.to_json() for f in saved.flags]},
                              ensure_ascii=False, indent=1))
        return
    e = saved.entry
    click.echo(_("{verb}: {kind} #{id} ({state}; keten {hash}…)", verb=verb, kind=e.kind, id=e.id,
                 state=_(STATE_WORDS.get(e.state, e.state)), hash=e.hash[:12]))
    for f in saved.flags:
        label = _("LET OP") if f.level == "alert" else _("waarschuwing")
        click.echo(f"{label} [{f.rule}]: {f.message}")


def _date_opt(value: str | None, name: str) -> date | None:
    """Parse a YYYY-MM-DD option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(_("{name}: verwacht een datum JJJJ-MM-DD (bijv. 2026-03-28), niet '{value}'", name=name,
                           value=value)) from None


@click.group("logbook")
def logbook_group() -> None:
    """Write and read logbook entries (append-only, hash-chained).

    \b
    Kinds: visitors, pest_control, bait_boxes, cleaning, hygienogram, checks,
    flocks, flock_day, free_range, samples, corrective_actions (see `ikb-agent logbook kinds`).

    \b
    Example:
      ikb-agent logbook add checks --json '{"date": "2026-03-01", "item": "alarm", "result": "ok", "checked_by": "Jan"}'
    """


@logbook_group.command("add")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--json", "json_text", required=True, metavar="OBJ", help="The entry: JSON, @FILE or - (stdin).")
@click.option("--by", "by", help="Who records it (default: your login name).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def logbook_add(app: AppContext, kind: str, json_text: str, by: str | None, fmt: str) -> None:
    """Add an entry; it is on disk before `opgeslagen` is printed.

    An invalid entry names every bad field, stores nothing and exits 2.

    \b
    Example:
      ikb-agent logbook add visitors --json '{"date": "2026-03-28", "arrival": "09:15",
        "name": "Piet Jansen", "organisation": "Voerbedrijf", "poultry_contact_48h": false,
        "houses": ["1"], "license_plate": "12-ABC-3", "signature": "PJ"}'
    """
    from agent.logbooks import add_entry

    data = _read_json(json_text)
    if kind == "corrective_actions":
        from agent.cli.repairs import save_repair

        # A repair must name an occurrence of a current deviation: the same check as the page's.
        _report(save_repair(app, data, by=_by(by)), _("opgeslagen"), fmt)
        return
    saved = add_entry(app.store, app.config, kind, data, by=_by(by), now=app.now())
    _report(saved, _("opgeslagen"), fmt)


@logbook_group.command("list")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--history", is_flag=True, help="Every row: corrected, withdrawn and draft entries too.")
@click.option("--from", "start", metavar="YYYY-MM-DD", help="Entries dated on or after this day.")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Entries dated on or before this day.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def logbook_list(app: AppContext, kind: str, history: bool, start: str | None, end: str | None, fmt: str) -> None:
    """List a logbook: the current view, or with --history every correction with who, when and why.

    \b
    Example:
      ikb-agent logbook list pest_control --from 2026-01-01 --format json
    """
    from agent.logbooks import list_entries

    rows = list_entries(app.store, kind, history=history, start=_date_opt(start, "--from"),
                        end=_date_opt(end, "--to"))
    if fmt == "json":
        click.echo(json.dumps([r.to_json() for r in rows], ensure_ascii=False, indent=1))
        return
    spec = LOGBOOKS[kind]
    click.echo(ngettext("{title} ({rules}): {n} registratie", "{title} ({rules}): {n} registraties", len(rows),
                        title=_(spec.title), rules=", ".join(spec.rules)))
    for r in rows:
        marks = []
        if r.state != "confirmed":
            marks.append(_(STATE_WORDS.get(r.state, r.state)))
        if r.superseded_by:
            marks.append(_("vervangen door #{id}", id=r.superseded_by))
        if r.supersedes:
            marks.append(_("corrigeert #{id}: {reason} ({by}, {at})", id=r.supersedes, reason=r.reason,
                           by=r.recorded_by, at=r.recorded_at))
        body = "; ".join(f"{k}={_short(r.entry[k])}" for k in spec.columns()
                         if r.entry.get(k) not in (None, "", []))
        click.echo(f"#{r.id:<5} {body}" + (f"  [{' | '.join(marks)}]" if marks else ""))


def _short(value) -> str:
    """Return a value for one text line (long signatures shortened)."""
    if isinstance(value, list):
        return ",".join(_short(v) for v in value)
    if isinstance(value, dict):
        return "/".join(_short(v) for v in value.values())
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


@logbook_group.command("correct")
@click.argument("entry_id", type=int)
@click.option("--json", "json_text", metavar="OBJ", help="The fields that change (JSON, @FILE or -).")
@click.option("--withdraw", is_flag=True, help="Withdraw the entry instead (it stays in the history).")
@click.option("--reason", required=True, help="Why the entry is corrected or withdrawn.")
@click.option("--by", "by", help="Who corrects it (default: your login name).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def logbook_correct(app: AppContext, entry_id: int, json_text: str | None, withdraw: bool, reason: str,
                    by: str | None, fmt: str) -> None:
    """Correct an entry: a new entry supersedes it, with who, when and why (nothing is overwritten).

    \b
    Example:
      ikb-agent logbook correct 12 --json '{"mortality": 3}' --reason "telfout"
    """
    from agent.logbooks import correct_entry

    if withdraw == bool(json_text):
        raise InputError(_("--json: geef de velden die veranderen, of --withdraw (niet beide)"))
    changes = _read_json(json_text) if json_text else None
    saved = correct_entry(app.store, app.config, entry_id, changes, by=_by(by), now=app.now(), reason=reason,
                          withdraw=withdraw)
    _report(saved, _("ingetrokken") if withdraw else _("gecorrigeerd"), fmt)


@logbook_group.command("confirm")
@click.argument("entry_id", type=int)
@click.option("--json", "json_text", metavar="OBJ", help="Fields to complete or change while confirming.")
@click.option("--by", "by", help="Who confirms (default: your login name).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def logbook_confirm(app: AppContext, entry_id: int, json_text: str | None, by: str | None, fmt: str) -> None:
    """Confirm a draft entry, such as a generator test the sensors detected (A3.6).

    \b
    Example:
      ikb-agent logbook confirm 31 --json '{"checked_by": "Jan"}'
    """
    from agent.logbooks import confirm_draft

    changes = _read_json(json_text) if json_text else None
    saved = confirm_draft(app.store, app.config, entry_id, by=_by(by), now=app.now(), changes=changes)
    _report(saved, _("bevestigd"), fmt)


@logbook_group.command("kinds")
@click.option("--fields", "kind", type=click.Choice(KINDS), help="Show the fields of one logbook.")
@click.option("--lang", type=click.Choice(LANGUAGES), help="Language of the labels (default: the global --lang).")
def logbook_kinds(kind: str | None, lang: str | None) -> None:
    """List the logbooks and the rules they answer, or one logbook's fields.

    \b
    Example:
      ikb-agent logbook kinds --fields flock_day
    """
    lang = lang or language()
    if kind is None:
        for spec in LOGBOOKS.values():
            click.echo(f"{spec.kind:<13} {', '.join(spec.rules):<32} {translate(lang, spec.title)}")
        return
    for f in form_fields(kind):
        need = translate(lang, "verplicht") if f.required else translate(lang, "optioneel")
        options = f" ({', '.join(f.options)})" if f.options else ""
        click.echo(f"{f.name:<20} {need:<10} {f.rule:<8} {translate(lang, f.label)}{options}")


# --------------------------------------------------------------------------- export and verify


@click.command("export")
@click.option("--kind", required=True, type=click.Choice(KINDS + ["all"]), help="One logbook, or all.")
@click.option("--from", "start", metavar="D", help="First day (YYYY-MM-DD); default two years before --to.")
@click.option("--to", "end", metavar="D", help="Last day (YYYY-MM-DD); default today.")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "xlsx", "pdf", "zip"]))
@click.option("--out", required=True, type=click.Path(dir_okay=True), metavar="PATH",
              help="Output file (a directory for --kind all --format csv).")
@pass_app
def export_cmd(app: AppContext, kind: str, start: str | None, end: str | None, fmt: str, out: str) -> None:
    """Export logbooks for the auditor: CSV, XLSX, PDF, or the audit pack (zip).

    CSV is UTF-8 with BOM and `;` as separator (Dutch Excel). The zip audit pack
    holds every logbook as CSV and PDF, the score report, the alarm and generator
    episodes and a manifest with SHA-256 hashes and chain heads; check it with
    `ikb-agent verify`.

    \b
    Example:
      ikb-agent export --kind all --from 2026-01-01 --to 2026-12-31 --format zip --out audit-2026.zip
    """
    from agent.exports import export

    now = app.now()
    today = app.config.farm_view().local_date(now)
    to_day = _date_opt(end, "--to") or today
    from_day = _date_opt(start, "--from") or to_day - timedelta(days=731)
    if from_day > to_day:
        raise InputError(_("--from: ligt na --to"))
    written = export(app.store, app.config, kind=kind, start=from_day, end=to_day, fmt=fmt, out=Path(out), now=now)
    click.echo(_("geschreven: {path}", path=written))


@click.command("verify")
@click.argument("pack", type=click.Path(exists=True, dir_okay=False))
@click.option("--heads", "heads_file", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="Chain heads published upstream earlier (JSON lines, as `fleet --save-heads` keeps them).")
@click.option("--broker", "broker_url", metavar="URL",
              help="Take the farm's latest chain heads from this upstream broker (mqtts://host:port).")
@click.option("--topic-root", default="ikb", show_default=True, help="First level of the farms' topics.")
@broker_options
def verify_cmd(pack: str, heads_file: str | None, broker_url: str | None, topic_root: str, ca_file, cert_file,
               key_file, timeout: float) -> None:
    """Check an audit pack: the manifest's signature, every file's SHA-256, every logbook's chain, and
    (with --heads or --broker) that the chains still hold the chain heads the farm published earlier.

    Exit 0 and one summary line when intact; exit 1 naming the first file or
    entry that does not match.

    \b
    Example:
      ikb-agent verify audit-2026.zip
      ikb-agent verify audit-2026.zip --heads heads.jsonl
    """
    from agent.exports import HeadsError, pack_kip, read_heads, verify_pack

    heads = None
    if heads_file:
        try:
            heads = read_heads(Path(heads_file).read_text(encoding="utf-8"), heads_file)
        except (HeadsError, UnicodeDecodeError) as exc:
            raise InputError(f"--heads: {exc}") from None
    if broker_url:
        kip = pack_kip(Path(pack))
        if kip is None:
            raise CommandFailed(_("{pack}: NIET INTACT: {detail}", pack=pack,
                                  detail=_("manifest.json: onleesbaar, geen KIP-nummer")))
        heads = (heads or []) + heads_from_broker(broker_url, kip, topic_root, ca_file, cert_file, key_file, timeout)
    ok, message = verify_pack(Path(pack), heads)
    if not ok:
        raise CommandFailed(_("{pack}: NIET INTACT: {detail}", pack=pack, detail=message))
    click.echo(_("{pack}: intact: {detail}", pack=pack, detail=message))
