"""Plain-text renderings for the terminal: the score report and the rule list."""

from __future__ import annotations

from datetime import timedelta

from rules.catalogue import Catalogue
from rules.evidence import Farm
from rules.findings import SEVERITY
from rules.scoring import Score

VERDICT_NL = {
    "suspension": "schorsing (KO-afwijking)",
    "repair_required": "herstel vereist vóór afgifte certificaat (D-afwijking niet hersteld)",
    "remarks": "opmerkingen (B/C-afwijkingen of herstelde D-afwijkingen)",
    "incomplete": "onvolledig: niet alles is aangetoond",
    "ready": "auditklaar",
}
STATUS_NL = {"ok": "ok", "B": "B", "C": "C", "D": "D", "KO": "KO", "nvt": "nvt", "unknown": "onbekend"}


def _loc(location: str | None) -> str:
    """Return a location label for the report."""
    return location if location else "bedrijf"


def _fmt(moment, farm: Farm) -> str:
    """Return a farm-local timestamp."""
    return moment.astimezone(farm.tz).strftime("%Y-%m-%d %H:%M")


def render_score(result: Score, farm: Farm, catalogue: Catalogue, due_days: int = 30) -> str:
    """Return the readable score report: verdict, deviations first, then what falls due."""
    lines = [
        f"IKB Ei zelfbeoordeling — {farm.name} (KIP {farm.kip_number})",
        f"Periode: {_fmt(result.since, farm)} – {_fmt(result.at, farm)} ({farm.timezone})",
        f"Oordeel: {result.verdict} — {VERDICT_NL[result.verdict]}",
        "Regels: " + " · ".join(f"{STATUS_NL[s]} {n}" for s, n in result.counts.items()),
        "Wegingen (schema): " + " · ".join(f"{w} {text}" for w, text in result.weights.items()),
        "",
    ]
    if result.setup:
        lines.append(f"Instellen van ikb-agent ({len(result.setup)}) — geen afwijking van het bedrijf")
        for task in result.setup:
            lines.append(f"  {task['step']} ({', '.join(task['rules'])})")
        lines.append("")
    deviations = sorted((f for f in result.findings if f.is_deviation),
                        key=lambda f: (-SEVERITY[f.status], f.rule, f.location or ""))
    lines.append(f"Afwijkingen ({len(deviations)})")
    if not deviations:
        lines.append("  geen")
    for f in deviations:
        mark = " (hersteld)" if f.repaired else ""
        lines.append(f"  {f.status:<3} {f.rule:<9} {_loc(f.location):<8} {f.summary}{mark}")
        if f.evidence:
            lines.append(f"      bewijs: {f.evidence}")
        for occ in f.occurrences[:5]:
            end = _fmt(occ.end, farm) if occ.end else "nu"
            lines.append(f"      {_fmt(occ.start, farm)} – {end}: {occ.detail}")
            if occ.repair is not None:
                lines.append(f"        hersteld {occ.repair.date.isoformat()} door {occ.repair.performed_by}: "
                             f"{occ.repair.action} (#{occ.repair.entry})")
        if len(f.occurrences) > 5:
            lines.append(f"      … en nog {len(f.occurrences) - 5} keer")
    lines.append("")
    horizon = result.at.date() + timedelta(days=due_days)
    due = [d for d in result.due if d.due <= horizon]
    lines.append(f"Binnenkort te doen (komende {due_days} dagen: {len(due)})")
    if not due:
        lines.append("  niets")
    for d in due:
        flag = " (te laat)" if d.overdue else ""
        lines.append(f"  {d.due.isoformat()}{flag}  {d.rule:<9} {_loc(d.location):<8} {d.what}")
    lines.append("")
    lines.append("Alle regels")
    order = {r.id: i for i, r in enumerate(catalogue)}
    for f in sorted(result.findings, key=lambda f: (order.get(f.rule, 0), f.location or "")):
        if f.is_deviation:
            continue
        note = " (niet gecontroleerd)" if f.not_checked else ""
        lines.append(f"  {STATUS_NL[f.status]:<8} {f.rule:<9} {_loc(f.location):<8} {f.summary}{note}")
    return "\n".join(lines) + "\n"


def render_rules(catalogue: Catalogue) -> str:
    """Return one line per rule: id, annex, evaluation, housing, title."""
    out = []
    for r in catalogue:
        title = r.title.replace("\n", " ")
        out.append(f"{r.id:<9} {r.annex}  {r.evaluation:<15} {','.join(r.applies_to):<34} "
                   f"{title[:100]}{'…' if len(title) > 100 else ''}")
    return "\n".join(out) + "\n"
