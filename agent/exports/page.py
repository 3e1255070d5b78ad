"""The pack's ``index.html``: everything an auditor needs on one page that works offline from the unpacked folder.

It shows the farm, the period, the score, the deviations with their repairs, every logbook (the same Dutch
columns and values as its CSV, drawn signatures as images) and the episodes, and it checks the pack in the
browser (:file:`packcheck.js`, written into the page: a ``file://`` page may not fetch its sibling files, so the
auditor picks the unpacked folder or the zip and the script reads what he picked). The page names no network
address and loads nothing but the pack's own signature images; its Content-Security-Policy allows only its own
script (by hash).

The page is a member of the pack like any other: the manifest lists its SHA-256, so a changed page fails
``ikb-agent verify`` and the check of an unchanged copy of the pack.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from html import escape
from importlib.resources import files as package_files

from agent.exports.columns import columns, text_rows
from agent.exports.common import zone_info
from agent.exports.deviations import CATEGORY, Deviation, moment_of
from agent.exports.pdf import Heading
from agent.logbooks import StoredEntry, signatures
from rules.logbooks import LogbookSpec
from rules.scoring import VERDICT_WORDS

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1400px;padding:0 12px 40px;color:#111}
header{border-bottom:2px solid #333;margin-bottom:8px}h1{font-size:1.5em;margin:.5em 0 .2em}
h2{margin-top:1.6em;border-bottom:1px solid #bbb}h3{margin:1.2em 0 .2em}
nav a{margin-right:.8em}code{font-size:.9em;word-break:break-all}
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;font-size:13px;margin:.4em 0}
th,td{border:1px solid #ccc;padding:2px 5px;text-align:left;vertical-align:top}th{background:#eee}
td img{max-height:48px;max-width:160px}.quiet{color:#555;font-size:.9em}
.cat-KO,.cat-D{color:#a00;font-weight:bold}.cat-C,.cat-B{color:#8a5a00;font-weight:bold}
.repaired{color:#070}#ikb-check-result{padding:8px;margin:8px 0;border:2px solid #999;min-height:1.4em}
#ikb-check-result[data-state=ok]{border-color:#070;background:#efe}
#ikb-check-result[data-state=fail]{border-color:#a00;background:#fee}
#ikb-check-result .verdict{font-weight:bold;margin:0}
label{display:block;margin:.4em 0}
@media print{nav,#controle input{display:none}}
"""


def check_script() -> str:
    """Return the pack checker (JavaScript), as shipped with the package."""
    return package_files("agent.exports").joinpath("packcheck.js").read_text(encoding="utf-8")


def _table(header: list[str], body: list[list[str]]) -> str:
    """Return an HTML table (cells already escaped HTML)."""
    head = "".join(f"<th>{h}</th>" for h in header)
    rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in line) + "</tr>" for line in body)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'


def _logbook(spec: LogbookSpec, rows: list[StoredEntry], corrections: list[str], heading: Heading,
             members: set[str]) -> str:
    """Return one logbook's section: its rules, its files, its entries, its corrections."""
    cols = columns(spec, heading.zone)
    header, body = text_rows(spec, rows, zone_info(heading.zone), heading.zone)
    keep = [i for i, c in enumerate(cols) if c.key != "hash"]  # the chain hash is in the CSV and the chain file
    cells = []
    for row, line in zip(rows, body):
        out = [escape(c) for c in line]
        for i, c in enumerate(cols):
            ref = signatures.parse_reference(row.entry.get(c.key)) if c.widget == "signature" else None
            member = f"signatures/{ref[0]}.png" if ref else None
            if member in members:
                out[i] = f'<img src="{member}" alt="handtekening ({member})">'
        cells.append([out[i] for i in keep])
    header = [header[i] for i in keep]
    parts = [f'<h3 id="logboek-{spec.kind}">{escape(spec.title)}</h3>',
             f'<p class="quiet">Beantwoordt {escape(", ".join(spec.rules))} · '
             f'<a href="logbooks/{spec.kind}.csv">CSV</a> · <a href="logbooks/{spec.kind}.pdf">PDF</a> · '
             f'<a href="chains/{spec.kind}.jsonl">hashketen</a></p>']
    if not rows:
        parts.append("<p>Geen registraties in deze periode.</p>")
    else:
        parts.append(_table([escape(h) for h in header], cells))
    if corrections:
        parts.append("<p><b>Correcties en intrekkingen</b></p><ul>"
                     + "".join(f"<li>{escape(c)}</li>" for c in corrections) + "</ul>")
    return "\n".join(parts)


def _score(score: dict, zone: str) -> str:
    """Return the score's section: verdict and the count per category (with the seed's weight texts, if given)."""
    weights = score.get("weights") or {}
    counts = score.get("counts") or {}
    names = {"ok": "in orde", "B": "B", "C": "C", "D": "D", "KO": "KO", "nvt": "niet van toepassing",
             "unknown": "onbekend (niet aangetoond)"}
    body = [[escape(names.get(k, k)), str(n)] + ([escape(str(weights.get(k, "")))] if weights else [])
            for k, n in counts.items()]
    tz = zone_info(zone)
    return (f"<p><b>Oordeel: {escape(VERDICT_WORDS.get(score.get('verdict'), str(score.get('verdict'))))}</b><br>"
            f'<span class="quiet">Zelfbeoordeling van ikb-agent over {escape(moment_of(score.get("since"), tz))} '
            f"t/m {escape(moment_of(score.get('at'), tz))}, elke regel één keer geteld op zijn zwaarste "
            f"uitkomst; <a href=\"score/score.txt\">verslag</a> · <a href=\"score/score.json\">JSON</a> · "
            f'<a href="score/deviations.csv">afwijkingen met herstel (CSV)</a></span></p>'
            + _table(["Uitkomst", "Regels"] + (["Weging (IKB Ei)"] if weights else []), body))


def _deviations(items: list[Deviation], zone: str) -> str:
    """Return the deviations with, per occurrence, what was found and its repair."""
    if not items:
        return "<p>Geen afwijkingen in de beoordeling.</p>"
    body = []
    for d in items:
        spells = "".join(
            f"<li>{escape(s.start)}{' – ' + escape(s.end) if s.end else ''}: {escape(s.detail)}"
            + (f'<br><span class="repaired">{escape(s.repair_text)}</span>' if s.repair
               else (" <b>— geen herstel geregistreerd</b>" if d.status in ("D", "KO") else ""))
            + "</li>" for s in d.spells)
        state = ' <span class="repaired">(alles hersteld)</span>' if d.repaired else ""
        body.append([escape(d.rule), escape(d.place), f'<span class="cat-{d.status}">{escape(CATEGORY[d.status])}'
                     f"</span>{state}", escape(d.summary) + (f'<br><span class="quiet">{escape(d.title)}</span>'
                                                             if d.title else ""),
                     f"<ul>{spells}</ul>" if spells else ""])
    return (f'<p class="quiet">Tijden in lokale tijd ({escape(zone)}).</p>'
            + _table(["Regel", "Locatie", "Categorie", "Afwijking", "Wanneer, wat en herstel"], body))


def _csv_table(data: bytes) -> str:
    """Return a CSV member of the pack (``;``-separated, with a header) as a table."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    if not rows:
        return ""
    return _table([escape(h) for h in rows[0]], [[escape(c) for c in r] for r in rows[1:]])


def index_page(heading: Heading, key_fingerprint: str,
               logbooks: list[tuple[LogbookSpec, list[StoredEntry], list[str]]], score: dict,
               items: list[Deviation], members: dict[str, bytes]) -> bytes:
    """Return the pack's ``index.html`` (UTF-8)."""
    script = check_script()
    script_hash = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    names = set(members)
    title = f"Auditpakket {heading.farm} (KIP {heading.kip}), {heading.start.isoformat()} t/m {heading.end.isoformat()}"
    nav = ['<a href="#controle">Controle</a>', '<a href="#beoordeling">Beoordeling</a>',
           '<a href="#afwijkingen">Afwijkingen</a>', '<a href="#logboeken">Logboeken</a>']
    light = sorted(n for n in names if n.startswith("light/") and n.endswith(".csv"))
    if light:
        nav.append('<a href="#licht">Lichtschema</a>')
    if "episodes/events.csv" in names:
        nav.append('<a href="#episodes">Episodes</a>')
    nav.append('<a href="#bestanden">Bestanden</a>')
    toc = " · ".join(f'<a href="#logboek-{spec.kind}">{escape(spec.title)}</a> ({len(rows)})'
                     for spec, rows, _c in logbooks)
    sections = [
        f"<header><h1>IKB Ei auditpakket</h1><p><b>{escape(heading.farm)}</b> · KIP {escape(heading.kip)} · "
        f"periode {heading.start.isoformat()} t/m {heading.end.isoformat()} · gegenereerd {escape(heading.generated)}"
        f" · alle tijden in lokale tijd ({escape(heading.zone)}) tenzij anders vermeld</p>"
        f"<p>Ketenvingerafdruk <code>{escape(heading.fingerprint)}</code><br>Bedrijfssleutel "
        f"<code>{escape(key_fingerprint)}</code> (vergelijk met de QR-poster op het bedrijf)</p></header>",
        "<nav>" + "".join(nav) + "</nav>",
        '<section id="controle"><h2>Controle</h2>'
        "<p>Controleer of dit pakket nog is zoals ikb-agent het maakte: kies hieronder de uitgepakte map (de map "
        "met dit bestand) of het zip-bestand. De controle gebeurt in deze browser, zonder internet: de SHA-256 van "
        "elk bestand, de handtekening van het bedrijf op het manifest en de hashketen van elk logboek. Het eerste "
        "bestand of de eerste registratie die gewijzigd is, wordt genoemd.</p>"
        '<label>Uitgepakte map: <input type="file" id="ikb-pick-folder" webkitdirectory></label>'
        '<label>Of het zip-bestand: <input type="file" id="ikb-pick-zip" accept=".zip,application/zip"></label>'
        f'<div id="ikb-check-result" role="status" aria-live="polite" data-fingerprint="{escape(heading.fingerprint)}">'
        "Nog niet gecontroleerd.</div>"
        '<p class="quiet">Vergelijk de ketenvingerafdruk ook met die op een eerder afgedrukte PDF of op het '
        "bedrijfssysteem: wie de database herschrijft en opnieuw exporteert, krijgt een andere vingerafdruk.</p>"
        "</section>",
        f'<section id="beoordeling"><h2>Beoordeling</h2>{_score(score, heading.zone)}</section>',
        f'<section id="afwijkingen"><h2>Afwijkingen en herstel</h2>{_deviations(items, heading.zone)}</section>',
        f'<section id="logboeken"><h2>Logboeken</h2><p class="quiet">{toc}</p><p class="quiet">Nr. telt de '
        "registraties van dit logboek in deze periode zonder gaten; de registratie-id verwijst naar de regel in de "
        "hashketen. Correcties staan onder elk logboek.</p>"
        + "\n".join(_logbook(spec, rows, corr, heading, names) for spec, rows, corr in logbooks) + "</section>",
    ]
    if light:
        sections.append('<section id="licht"><h2>Lichtschema per stal (G3.8.7–G3.8.11)</h2>'
                        + "".join(f'<details><summary><a href="{escape(n)}">{escape(n)}</a></summary>'
                                  f"{_csv_table(members[n])}</details>" for n in light) + "</section>")
    if "episodes/events.csv" in names:
        sections.append('<section id="episodes"><h2>Episodes (stroomuitval, aggregaat, sensoren)</h2>'
                        + _csv_table(members["episodes/events.csv"]) + "</section>")
    listing = "".join(f'<li><a href="{escape(n)}">{escape(n)}</a></li>' for n in sorted(names))
    sections.append(f'<section id="bestanden"><h2>Bestanden</h2><ul>{listing}'
                    "<li>manifest.json, manifest.sha256, manifest.sig — SHA-256 van elk bestand, verzegeld en "
                    "ondertekend</li></ul></section>")
    csp = ("default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'; "
           f"script-src 'sha256-{script_hash}'; connect-src 'none'; form-action 'none'; base-uri 'none'")
    html = (f'<!doctype html>\n<html lang="nl"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(sections) + f"\n<script>{script}</script>\n</body></html>\n")
    return html.encode("utf-8")
