"""Helpers every logbook rule shares: occurrences over local days, gaps between checks, the findings' shapes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from rules.catalogue import Rule
from rules.documents import add_months
from rules.evidence import Evidence
from rules.findings import Finding, Occurrence, worst
from rules.logbooks.flocks import FlockView, flocks_by_house
from rules.logbooks.view import LogbookView
from rules.params import LogbookParams, Params

NO_LOGBOOKS = "Logboeken niet geladen."


# --------------------------------------------------------------------------- helpers


def _lp(params: Params) -> LogbookParams:
    """Return the logbook thresholds (defaults when the params carry none)."""
    return getattr(params, "logbooks", None) or LogbookParams()


def _view(evidence: Evidence) -> LogbookView | None:
    """Return the logbook view the agent loaded, if any."""
    return evidence.inputs.get("logbooks")


def _start(day: date, evidence: Evidence) -> datetime:
    """Return farm-local midnight at the start of a day."""
    return datetime.combine(day, time(0), evidence.farm.tz)


def _occ(day: date, evidence: Evidence, detail: str, end: date | None = None) -> Occurrence:
    """Return an occurrence spanning whole local days."""
    return Occurrence(_start(day, evidence), _start((end or day) + timedelta(days=1), evidence), detail)


def _unknown(rule: Rule, location: str | None, reason: str) -> Finding:
    """Return an `unknown` logbook finding with its reason."""
    return Finding(rule.id, location, "unknown", "logbook", reason)


def _deviation(rule: Rule, location: str | None, weight: str, occurrences: list[Occurrence],
               evidence_line: str | None = None, fallback: str = "") -> Finding:
    """Return a deviation finding carrying the seed's text for its weight."""
    return Finding(rule.id, location, weight, "logbook", rule.deviation_text(weight) or fallback,
                   tuple(occurrences), evidence_line)


def _nvt(rule: Rule, location: str | None, reason: str | None = None) -> Finding:
    """Return an `nvt` finding with the seed's NVT text (or the given reason)."""
    return Finding(rule.id, location, "nvt", "logbook", reason or rule.nvt or "NVT")


def _judge(rule: Rule, location: str | None, weighted: list[tuple[str, Occurrence]],
           ok_line: str) -> Finding:
    """Return the worst weighted deviation (all occurrences listed), or ok with what was seen."""
    if not weighted:
        return Finding(rule.id, location, "ok", "logbook", ok_line, evidence=ok_line)
    status = worst(w for w, _ in weighted)
    return _deviation(rule, location, status, [o for _, o in weighted], ok_line)


def _days(start: date, end: date):
    """Yield every day from start to end inclusive."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _flocks(view: LogbookView) -> dict[str, list[FlockView]]:
    """Return the recorded flocks per house."""
    return flocks_by_house((e.id, e.record) for e in view.of("flocks"))


def _gaps(dates: list[date], anchor: date | None, window_start: date, end: date,
          months: int) -> list[tuple[date, date]]:
    """Return the intervals longer than ``months`` that reach into [window_start, end].

    Intervals run from ``anchor`` (when the thing started, if known) to the first
    date, between dates, and from the last date to ``end`` (still open).
    """
    points = sorted(set(dates))
    if anchor is not None and (not points or anchor < points[0]):
        points = [anchor] + points
    out = []
    for a, b in zip(points, points[1:] + [end]):
        if b > add_months(a, months) and b >= window_start:
            out.append((a, b))
    return out


def _invalid(view: LogbookView, kind: str, since: date, evidence: Evidence) -> list[Occurrence]:
    """Return one occurrence per stored entry of a logbook that lacks required fields."""
    return [_occ(day or since, evidence, f"registratie #{i} onvolledig: {problem}")
            for i, k, problem, day in view.invalid if k == kind and (day is None or day >= since)]
