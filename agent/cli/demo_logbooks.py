"""Demo logbooks: a few months of a plausible farm, with one deviation to find in each of some logbooks."""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.config import Settings
from agent.logbooks import add_entry
from agent.store import Store, last_row_id

PRODUCT = {"name": "Virocid", "admission_number": "13288 N"}


def seed_demo_logbooks(store: Store, config: Settings, now: datetime) -> None:
    """Write demo entries once (nothing when the logbooks already hold entries)."""
    if last_row_id(store) is not None:
        return
    today = config.farm_view().local_date(now)

    def day(n: int) -> str:
        return (today - timedelta(days=n)).isoformat()

    def add(kind: str, entry: dict) -> None:
        add_entry(store, config, kind, entry, by="demo", now=now)

    for house, placed, score in (("1", 200, 1.1), ("2", 60, 1.8)):
        add("cleaning", {"house": house, "cleaned_on": day(placed + 10), "disinfected_on": day(placed + 8),
                         "products": [PRODUCT], "performed_by": "IKB PSB Schoonmaakbedrijf"})
        add("hygienogram", {"house": house, "sampled_on": day(placed + 5), "score": score, "sampled_by": "GD",
                            "accredited": True})  # house 2: > 1,5 and not cleaned again → E4.4.2 B
        add("flocks", {"house": house, "placed_on": day(placed), "hatched_on": day(placed + 17 * 7),
                       "number_placed": 20000, "origin": "Opfokbedrijf De Jonge Hen"})
    for number in ("1", "2", "3"):
        add("bait_boxes", {"number": number, "location": f"buitengevel stal {number}", "target_pest": "mice",
                           "product": "Brodifacoum blok", "admission_number": "12345 N", "fixed": True,
                           "placed_on": day(300)})
    for n in (95, 50, 10):
        for number in ("1", "2", "3") if n == 95 else ("1", "2"):  # box 3 missed two checks → A4.5.1 C
            add("pest_control", {"date": day(n), "bait_box": number, "measures": "lokaas gecontroleerd",
                                 "product": "Brodifacoum blok", "admission_number": "12345 N",
                                 "label_location": "kantoor, map plaagdieren", "sds_location": "kantoor",
                                 "volume": "20 g", "uptake": "little", "effect": "weinig vraat",
                                 "checked_by": "company"})
            if number == "1":
                add("visitors", {"date": day(n), "arrival": "09:30", "name": "R. de Vries",
                                 "organisation": "Plaagdierbeheersing Noord", "poultry_contact_48h": False,
                                 "houses": ["1", "2"], "license_plate": "VX-123-B", "signature": "RdV"})
    for n in (151, 46):  # Salmonella at 24 weeks and 15 weeks later (house 1 hatched 319 days ago)
        add("samples", {"house": "1", "sampled_on": day(n), "kind": "salmonella", "method": "boot_swabs",
                        "lab": "GD Deventer", "result": "negative"})
    add("samples", {"house": "1", "sampled_on": day(95), "kind": "dioxin", "method": "eggs", "lab": "WFSR",
                    "result": "compliant"})  # H2.4 at 32 weeks
    for n in (100, 70, 40, 10):
        for item in ("generator", "alarm"):
            add("checks", {"date": day(n), "item": item, "result": "ok", "checked_by": "demo"})
    for n in range(14, 0, -1):
        for house in ("1", "2"):
            add("flock_day", {"date": day(n), "house": house, "inspected": True, "inspected_by": "demo",
                              "mortality": 4 if n != 5 else 9, "eggs": 18500 - n, "water_l": 4000})
        add("free_range", {"date": day(n), "house": "1", "hours": 7.5, "opened": "10:00", "closed": "17:30"})
