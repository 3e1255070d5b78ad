"""Flocks and their day sheet: who is in which house, how old, and what the numbers say.

A6.2.2: "Indien op twee opeenvolgende dagen op koppelniveau sterfte 0,5% of
meer bedraagt of de sterfte meer dan 3% per week bedraagt, meldt de
pluimveehouder dit bij de NVWA" — mortality includes culls (interpretation).
A6.2.1: a reduction of feed or water intake of more than 5 % per day, or of egg
production of 5 % or more per day, on two consecutive days → consult the vet.

Pure: records in, facts out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MORTALITY_DAY = 0.005  # A6.2.2: 0,5 % or more on each of two consecutive days
MORTALITY_WEEK = 0.03  # A6.2.2: more than 3 % in a week
DROP = 0.05  # A6.2.1: 5 % per day
NVWA_PHONE = "045-5463188"  # A6.2.2 interpretation: "Meldnummer"


@dataclass(frozen=True, slots=True)
class FlockView:
    """A flock placed in a house (from the `flocks` logbook)."""

    entry_id: int
    house: str
    placed_on: date
    hatched_on: date
    number_placed: int
    origin: str
    depopulated_on: date | None = None
    largest_compartment: int | None = None  # G3.1.2 / I1.3: hens in the largest compartment

    def present(self, day: date) -> bool:
        """Return whether the flock is in its house on a day."""
        return self.placed_on <= day and (self.depopulated_on is None or day <= self.depopulated_on)

    def at_age(self, weeks: int) -> date:
        """Return the day the flock is exactly ``weeks`` weeks old."""
        return self.hatched_on + timedelta(weeks=weeks)

    def label(self) -> str:
        """Return how the farmer names the flock: house and placement date."""
        return f"koppel stal {self.house}, opgezet {self.placed_on.isoformat()}"


def flocks_by_house(records_with_ids) -> dict[str, list[FlockView]]:
    """Return each house's flocks, oldest placement first, from (entry id, Flock record) pairs."""
    out: dict[str, list[FlockView]] = {}
    for entry_id, r in records_with_ids:
        out.setdefault(r.house, []).append(FlockView(entry_id, r.house, r.placed_on, r.hatched_on, r.number_placed,
                                                     r.origin, r.depopulated_on,
                                                     getattr(r, "largest_compartment", None)))
    for flocks in out.values():
        flocks.sort(key=lambda f: f.placed_on)
    return out


def flock_on(flocks: list[FlockView], day: date) -> FlockView | None:
    """Return the flock in the house on a day (the latest placement on or before it that is still present)."""
    current = None
    for f in flocks:
        if f.placed_on <= day:
            current = f
    return current if current is not None and current.present(day) else None


def previous_flock(flocks: list[FlockView], flock: FlockView) -> FlockView | None:
    """Return the flock placed in the house before this one."""
    earlier = [f for f in flocks if f.placed_on < flock.placed_on]
    return earlier[-1] if earlier else None


def empty_since(flocks: list[FlockView], flock: FlockView, lookback_days: int) -> date:
    """Return from when the house was empty before a placement (A4.4.5: R&O lies between).

    The previous flock's last day when recorded; else the day after its
    placement; with no earlier flock, ``lookback_days`` before the placement.
    """
    before = previous_flock(flocks, flock)
    if before is None:
        return flock.placed_on - timedelta(days=lookback_days)
    if before.depopulated_on is not None:
        return before.depopulated_on
    return before.placed_on + timedelta(days=1)


def sheet(days, flock: FlockView) -> dict[date, object]:
    """Return the flock's day-sheet records by date (only days it was in its house)."""
    return {d.date: d for d in days if d.house == flock.house and flock.present(d.date)}


@dataclass(frozen=True, slots=True)
class Trigger:
    """A day on which a threshold of A6.2.1 or A6.2.2 was reached, and why."""

    day: date
    rule: str  # A6.2.1 | A6.2.2
    detail: str


def mortality_rates(flock: FlockView, days: dict[date, object]) -> dict[date, tuple[int, int, float]]:
    """Return (dead incl. culls, hens at the start of the day, fraction) per recorded day."""
    alive = flock.number_placed
    out = {}
    for day in sorted(days):
        r = days[day]
        dead = r.mortality + r.culls
        out[day] = (dead, alive, dead / alive if alive > 0 else 0.0)
        alive -= dead
    return out


def _pct(x: float) -> str:
    """Return a fraction as a Dutch percentage with two decimals."""
    return f"{x * 100:.2f}".replace(".", ",") + " %"


def mortality_triggers(flock: FlockView, days: dict[date, object]) -> list[Trigger]:
    """Return the days on which A6.2.2's mortality thresholds are reached."""
    rates = mortality_rates(flock, days)
    out = []
    for day, (dead, alive, frac) in rates.items():
        prev = rates.get(day - timedelta(days=1))
        if prev is not None and prev[2] >= MORTALITY_DAY and frac >= MORTALITY_DAY:
            out.append(Trigger(day, "A6.2.2", f"sterfte {_pct(prev[2])} op {(day - timedelta(days=1)).isoformat()} "
                                              f"en {_pct(frac)} op {day.isoformat()} (≥ 0,5 % twee dagen na elkaar)"))
            continue
        week = [rates.get(day - timedelta(days=i)) for i in range(7)]
        if all(w is not None for w in week):
            start_alive = week[-1][1]
            dead_week = sum(w[0] for w in week)
            if start_alive > 0 and dead_week / start_alive > MORTALITY_WEEK:
                out.append(Trigger(day, "A6.2.2", f"sterfte {_pct(dead_week / start_alive)} in de week t/m "
                                                  f"{day.isoformat()} (> 3 % per week)"))
    return out


_SERIES = (("eggs", "eiproductie", True), ("water_l", "wateropname", False), ("feed_kg", "voeropname", False))


def drop_triggers(days: dict[date, object]) -> list[Trigger]:
    """Return the days on which A6.2.1's two-day drop in eggs, water or feed is reached.

    Eggs: a reduction "van 5% of meer per dag"; feed and water: "meer dan 5%".
    """
    out = []
    for day in sorted(days):
        d1, d2 = day - timedelta(days=1), day - timedelta(days=2)
        if d1 not in days or d2 not in days:
            continue
        reasons = []
        for name, label, inclusive in _SERIES:
            v0, v1, v2 = (getattr(days[d], name) for d in (d2, d1, day))
            if v0 is None or v1 is None or v2 is None or v0 <= 0 or v1 <= 0:
                continue
            r1, r2 = 1 - v1 / v0, 1 - v2 / v1
            hit = (r1 >= DROP and r2 >= DROP) if inclusive else (r1 > DROP and r2 > DROP)
            if hit:
                reasons.append(f"{label} −{_pct(r1)} op {d1.isoformat()} en −{_pct(r2)} op {day.isoformat()}")
        if reasons:
            out.append(Trigger(day, "A6.2.1", "; ".join(reasons)))
    return out


def episodes(triggers: list[Trigger]) -> list[list[Trigger]]:
    """Group trigger days into runs of consecutive days: one report or consultation per run."""
    runs: list[list[Trigger]] = []
    for t in sorted(triggers, key=lambda t: t.day):
        if runs and (t.day - runs[-1][-1].day).days <= 1:
            runs[-1].append(t)
        else:
            runs.append([t])
    return runs


def response_day(days: dict[date, object], start: date, field: str) -> date | None:
    """Return the first day from ``start`` on whose sheet ``field`` (vet_consulted, nvwa_reported) is yes."""
    hits = [d for d, r in days.items() if d >= start and getattr(r, field)]
    return min(hits) if hits else None
