"""Dutch law's tests of the ventilation alarm and the emergency generator, as reminders beside IKB's A3.6.

The Besluit houders van dieren (amended 2023/2024, ventilation-dependent livestock) asks for a monthly test
of the alarm installation, a monthly test run of the emergency generator without load, a yearly test under
load, and their records kept 13 months. These are reminders (due dates), not IKB deviations; IKB's own
two-monthly checks are A3.6 (:data:`rules.logbooks.CHECK_MONTHS`). One definition here; the generator
(A3.5) and ventilation (A3.4) rules list the reminders from it.
"""

from __future__ import annotations

from datetime import date

from rules.evidence import Evidence

LEGAL_TEST_MONTHS = 1  # monthly alarm test and monthly unloaded generator test
LOAD_TEST_MONTHS = 12  # yearly generator test under load
RECORDS_MONTHS = 13  # how long the test records are kept


def check_dates(evidence: Evidence, items: tuple[str, ...], location: str | None = None) -> list[date]:
    """Return the days of confirmed checks-logbook entries of these items up to today, for a location.

    Reads the sensor inputs' copy of the logbook when the agent loaded it, else the logbook view. A check
    without a house counts for every house; ``location`` None takes every check.
    """
    checks = evidence.inputs.get("checks")
    if checks is not None:
        rows = [(c.day, c.item, c.house) for c in checks]
    else:
        view = evidence.inputs.get("logbooks")
        rows = [(c.date, c.item, c.house) for c in view.records("checks")] if view is not None else []
    return sorted(day for day, item, house in rows if item in items and day <= evidence.today
                  and (location is None or house in (None, location)))
