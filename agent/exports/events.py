"""The episodes section of the audit pack (``episodes/events.csv``): the mains outages, generator tests and
silent sensors the agent recorded in ``events``, each as a Dutch sentence with local times.

The ``detail`` column of ``events`` is JSON for the program; the auditor reads what it says: what happened,
where, from when to when, and the outcome the sensor rules wrote down.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, time, timedelta

from agent.exports.columns import MOMENT
from agent.exports.common import cell
from agent.exports.deviations import place_name
from agent.store import events_between

KINDS = {"mains_outage": "Stroomuitval", "generator_test": "Proefdraaien noodstroomaggregaat",
         "sensor_offline": "Sensor niet gehoord"}
SENSOR_KINDS = {"lux": "lichtsterkte", "temperature": "temperatuur", "humidity": "luchtvochtigheid",
                "nh3": "ammoniak", "co2": "CO2", "egg_temperature": "eitemperatuur",
                "ventilation_alarm": "ventilatiealarm", "generator": "noodstroomaggregaat", "mains": "netspanning",
                "pophole": "uitloopluik", "lamp": "verlichting"}
OUTCOMES = {"mains_outage": {"ok": "het aggregaat nam het over", "failed": "het aggregaat nam het niet over",
                             "unknown": "niet vast te stellen of het aggregaat het overnam",
                             "short": "korter dan de opstarttijd van het aggregaat"},
            "generator_test": {"ok": "in orde", "fault": "storing"}}


def duration_text(ms: int) -> str:
    """Return a duration as "45 min" or "2 u 05 min"."""
    minutes = round(ms / 60000)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} u {minutes % 60:02d} min"


def sentence(kind: str, place: str, start: str, end: str, duration: str, detail: dict) -> str:
    """Return one episode as a Dutch sentence."""
    span = f"van {start} tot {end} ({duration})" if end else f"sinds {start}, nog niet afgelopen"
    if kind == "sensor_offline":
        what = SENSOR_KINDS.get(str(detail.get("kind")), str(detail.get("kind") or "sensor"))
        return f"Sensor {detail.get('topic', '?')} ({what}), {place}, niet gehoord {span}."
    text = f"{KINDS.get(kind, kind.replace('_', ' ').capitalize())}, {place}, {span}"
    outcome = OUTCOMES.get(kind, {}).get(str(detail.get("result")))
    if outcome:
        text += f": {outcome}"
    if detail.get("detail"):
        text += f" ({detail['detail']})"
    return text + "."


def events_section(ctx) -> dict[str, bytes]:
    """Audit-pack section: the episodes recorded in ``events`` that started in the period, as sentences."""
    tz = ctx.config.farm_view().tz
    lo = int(datetime.combine(ctx.start, time(0), tz).timestamp() * 1000)
    hi = int(datetime.combine(ctx.end + timedelta(days=1), time(0), tz).timestamp() * 1000)
    rows = events_between(ctx.store, lo, hi)
    if not rows:
        return {}
    zone = ctx.config.farm.timezone

    def local(ms):
        return "" if ms is None else datetime.fromtimestamp(ms / 1000, tz).strftime(MOMENT)

    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Nr.", "Soort", "Locatie", f"Begin ({zone})", f"Einde ({zone})", "Duur", "Beschrijving",
                     "Gebeurtenis-id"])
    for number, r in enumerate(rows, start=1):
        try:
            detail = json.loads(r["detail"] or "{}")
        except ValueError:
            detail = {"detail": r["detail"]}
        detail = detail if isinstance(detail, dict) else {"detail": str(detail)}
        place = place_name(ctx.config, r["location"])
        start, end = local(r["start"]), local(r["end"])
        duration = "" if r["end"] is None else duration_text(r["end"] - r["start"])
        kind = KINDS.get(r["kind"], r["kind"].replace("_", " "))
        writer.writerow([number, cell(kind), cell(place), start, end, duration,
                         cell(sentence(r["kind"], place, start, end, duration, detail)), r["id"]])
    return {"episodes/events.csv": ("\ufeff" + buf.getvalue()).encode("utf-8")}
