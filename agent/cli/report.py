"""Plain-text renderings for the terminal: the score report and the rule list (in the command's language;
the findings' own texts stay in the scheme's Dutch)."""

from __future__ import annotations

from datetime import timedelta

from agent.cli.base import _, ngettext
from rules.catalogue import HOUSING_WORDS, Catalogue
from rules.evidence import Farm
from rules.findings import SEVERITY
from rules.scoring import VERDICT_WORDS, Score
from rules.texts import N_

EVALUATIONS = {"sensor": N_("sensor"), "logbook": N_("logboek"), "document": N_("document"),
               "self_assessment": N_("zelfbeoordeling")}
STATUSES = {"ok": "ok", "B": "B", "C": "C", "D": "D", "KO": "KO", "nvt": "nvt", "unknown": N_("onbekend")}


def unknown_line(counts: dict[str, int]) -> str:
    """Return how many rules are still unknown, beside the verdict: 'Onbekend: 216 van 249 regels (87 %)'."""
    total, unknown = sum(counts.values()), counts.get("unknown", 0)
    percent = -(-100 * unknown // total) if total else 0
    return ngettext("Onbekend: {unknown} van {n} regel ({percent} %)", "Onbekend: {unknown} van {n} regels ({percent} %)",
                    total, unknown=unknown, percent=percent)


def _loc(location: str | None) -> str:
    """Return a location label for the report."""
    return location if location else _("bedrijf")


def _fmt(moment, farm: Farm) -> str:
    """Return a farm-local timestamp."""
    return moment.astimezone(farm.tz).strftime("%Y-%m-%d %H:%M")


def render_score(result: Score, farm: Farm, catalogue: Catalogue, due_days: int = 30) -> str:
    """Return the readable score report: verdict, deviations first, then what falls due."""
    lines = [
        _("IKB Ei zelfbeoordeling — {farm} (KIP {kip})", farm=farm.name, kip=farm.kip_number),
        _("Periode: {since} – {at} ({timezone})", since=_fmt(result.since, farm), at=_fmt(result.at, farm),
          timezone=farm.timezone),
        _("Oordeel: {words}", words=_(VERDICT_WORDS[result.verdict])),
        unknown_line(result.counts),
        _("Regels: {counts}", counts=" · ".join(f"{_(STATUSES[s])} {n}" for s, n in result.counts.items())),
        # The weights are the seed's own header texts: the scheme's Dutch, as the auditor reads them.
        _("Wegingen (schema): {weights}", weights=" · ".join(f"{w} {text}" for w, text in result.weights.items())),
        "",
    ]
    if result.setup:
        lines.append(_("Instellen van ikb-agent ({n}) — geen afwijking van het bedrijf", n=len(result.setup)))
        for task in result.setup:
            lines.append(f"  {task['step']} ({', '.join(task['rules'])})")
        lines.append("")
    deviations = sorted((f for f in result.findings if f.is_deviation),
                        key=lambda f: (-SEVERITY[f.status], f.rule, f.location or ""))
    lines.append(_("Afwijkingen ({n})", n=len(deviations)))
    if not deviations:
        lines.append("  " + _("geen"))
    for f in deviations:
        mark = " (" + _("hersteld") + ")" if f.repaired else ""
        lines.append(f"  {f.status:<3} {f.rule:<9} {_loc(f.location):<8} {f.summary}{mark}")
        if f.evidence:
            lines.append("      " + _("bewijs: {evidence}", evidence=f.evidence))
        for occ in f.occurrences[:5]:
            end = _fmt(occ.end, farm) if occ.end else _("nu")
            lines.append(f"      {_fmt(occ.start, farm)} – {end}: {occ.detail}")
            if occ.repair is not None:
                lines.append("        " + _("hersteld {date} door {who}: {action} (#{id})",
                                              date=occ.repair.date.isoformat(), who=occ.repair.performed_by,
                                              action=occ.repair.action, id=occ.repair.entry))
        if len(f.occurrences) > 5:
            lines.append("      " + ngettext("… en nog {n} keer", "… en nog {n} keer", len(f.occurrences) - 5))
    lines.append("")
    horizon = result.at.date() + timedelta(days=due_days)
    due = [d for d in result.due if d.due <= horizon]
    lines.append(ngettext("Binnenkort te doen (komende {n} dag: {count})",
                          "Binnenkort te doen (komende {n} dagen: {count})", due_days, count=len(due)))
    if not due:
        lines.append("  " + _("niets"))
    for d in due:
        flag = " (" + _("te laat") + ")" if d.overdue else ""
        lines.append(f"  {d.due.isoformat()}{flag}  {d.rule:<9} {_loc(d.location):<8} {d.what}")
    lines.append("")
    lines.append(_("Alle regels"))
    order = {r.id: i for i, r in enumerate(catalogue)}
    for f in sorted(result.findings, key=lambda f: (order.get(f.rule, 0), f.location or "")):
        if f.is_deviation:
            continue
        note = " (" + _("niet gecontroleerd") + ")" if f.not_checked else ""
        lines.append(f"  {_(STATUSES[f.status]):<8} {f.rule:<9} {_loc(f.location):<8} {f.summary}{note}")
    return "\n".join(lines) + "\n"


def render_rules(catalogue: Catalogue) -> str:
    """Return one line per rule: id, annex, evaluation, housing, title."""
    out = []
    for r in catalogue:
        title = r.title.replace("\n", " ")
        housing = ", ".join(_(HOUSING_WORDS[h]) for h in r.applies_to)
        out.append(f"{r.id:<9} {r.annex}  {_(EVALUATIONS[r.evaluation]):<15} {housing:<50} "
                   f"{title[:100]}{'…' if len(title) > 100 else ''}")
    return "\n".join(out) + "\n"
