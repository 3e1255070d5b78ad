"""Plausibility of a day-sheet line: a jump from the day before that is more likely a typing error than a fact.

Not a judgement of the farm — A6.2.1 and A6.2.2 judge real drops and real mortality — but a question
the page asks before it stores the line ("130 dood, gisteren 4: klopt dat?"), because a line once
in the hash chain can only be corrected, never edited. The farmer confirms and the line is stored
as typed. The thresholds are our choice (the scheme gives none), see docs/LOGBOOKS.md:

- mortality at least five times the day before's (and at least ``MORTALITY_FLOOR`` times five:
  2 → 10 asks, 0 → 3 does not);
- eggs, water or feed 30 % or more below the day before's, or 50 % or more above it (a digit
  too many or too few).
"""

from __future__ import annotations

from dataclasses import dataclass

MORTALITY_FACTOR = 5
MORTALITY_FLOOR = 2
DROP = 0.30
RISE = 0.50
FIGURES = ("eggs", "water_l", "feed_kg")


@dataclass(frozen=True)
class Jump:
    """A figure that changed implausibly much since the day before."""

    field: str
    today: float
    yesterday: float

    @property
    def change(self) -> int:
        """Return the change in whole per cent (-32, +140)."""
        return round(100 * (self.today - self.yesterday) / self.yesterday) if self.yesterday else 0


def _number(value) -> float | None:
    """Return a figure as a number, None when absent or not a number (the model refuses those)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def jumps(today: dict, yesterday: dict | None) -> list[Jump]:
    """Return the figures of a day-sheet line that jumped implausibly from the day before's line."""
    if not yesterday:
        return []
    out = []
    dead, dead_before = _number(today.get("mortality")), _number(yesterday.get("mortality"))
    if dead is not None and dead_before is not None and dead >= MORTALITY_FACTOR * max(dead_before, MORTALITY_FLOOR):
        out.append(Jump("mortality", dead, dead_before))
    for name in FIGURES:
        value, before = _number(today.get(name)), _number(yesterday.get(name))
        if value is None or not before:
            continue
        if value <= before * (1 - DROP) or value >= before * (1 + RISE):
            out.append(Jump(name, value, before))
    return out
