"""Every alert kind docs/ALERTS.md lists reaches a real webhook, through the one engine and outbox.

Each kind has a scenario that makes it happen the way the farm would (a reading, time passing, a
status change the evaluation recorded, a logbook entry another process wrote); a kind without a
scenario fails here, so a new kind cannot be promised without being sent. The two promises the
issue found broken are tested through the web page itself: the kiosk's "ja" ("de pluimveehouder
krijgt direct bericht") and the day sheet's A6.2.2 mortality flag reach the farmer's phone via
the agent's own poll of new logbook rows, the web process writing nothing but the entry.
"""

from __future__ import annotations

import base64
import io
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from agent.alerts import KINDS
from agent.alerts.sources import alerts_for_dues
from agent.logbooks.entries import add_entry
from agent.store.readings import to_ms
from rules.findings import Due
from rules.kinds import GENERATOR_FAULT, MAINS_OFF, VENTILATION_ALARM, VENTILATION_FAULT, VENTILATION_OK

from .alerting import Clock, reading, settings_with
from .conftest import REPO
from .test_alerts import LIGHT, Farm, drain, local, one_channel, receivers  # noqa: F401
from .web_fixtures import PASSWORD, csrf_from

FLOCK = {"house": "2", "placed_on": "2026-01-10", "hatched_on": "2025-09-13", "number_placed": 1000,
         "origin": "Opfok"}
DAY = {"house": "2", "inspected": True, "inspected_by": "Jan", "culls": 0, "water_l": 200.0, "feed_kg": 120}


def _status_change(farm, rule: str, location: str, to: str) -> None:
    """Record what the evaluation writes when a rule's status changes (run's job; read by the alert poll)."""
    with farm.store.transaction() as db:
        db.execute("INSERT INTO status_changes(rule, location, from_status, to_status, at) VALUES (?, ?, 'ok', ?, 'x')",
                   [rule, location, to])


def _day_sheets(farm, days: list[tuple[str, dict]]) -> None:
    """Write a flock and day-sheet lines as the web page or the CLI would (another process)."""
    add_entry(farm.store, farm.settings, "flocks", FLOCK, by="jan", now=farm.clock())
    for day, figures in days:
        add_entry(farm.store, farm.settings, "flock_day", {**DAY, "date": day, **figures}, by="jan", now=farm.clock())


def _egg_room(farm) -> list:
    """Return one round of the egg room's readings: air, humidity and the egg probe."""
    return [reading("temperature", "E", 12.0, farm.clock(), sensor_id=21),
            reading("humidity", "E", 92.0, farm.clock(), sensor_id=22),
            reading("egg_temperature", "E", 11.0, farm.clock(), sensor_id=23)]


def _offline(farm) -> None:
    with farm.store.transaction() as db:
        db.execute("INSERT INTO sensors(id, topic, field, kind, location, created_at) VALUES"
                   " (3, 'ei/t', '', 'temperature', 'E', 0)")
        db.execute("INSERT INTO events(kind, location, sensor_id, start) VALUES ('sensor_offline', 'E', 3, ?)",
                   [to_ms(farm.clock()) - 600_000])


# kind → (clock start or None, extra [alerts] keys, alarm panels configured?, what happens on the farm)
SCENARIOS = {
    "ventilation_alarm": (None, "", False,
                          lambda f: f.feed(reading("ventilation_alarm", "2", VENTILATION_ALARM, f.clock()))),
    "alarm_panel_fault": (None, "", False,
                          lambda f: f.feed(reading("ventilation_alarm", "2", VENTILATION_FAULT, f.clock()))),
    "alarm_panel_silent": (None, "", True, lambda f: (
        f.feed(reading("ventilation_alarm", "1", VENTILATION_OK, f.clock())), f.at(minutes=11))),
    "power_failure": (None, "", False, lambda f: (
        f.feed(reading("mains", "1", MAINS_OFF, f.clock(), sensor_id=5)), f.at(seconds=121))),  # 120 s grace
    "generator_fault": (None, "", False,
                        lambda f: f.feed(reading("generator", "1", GENERATOR_FAULT, f.clock(), sensor_id=6))),
    "sensor_offline": (None, "", False, lambda f: (_offline(f), f.at(seconds=5))),
    "lights_on_after_dark_start": (local(21, 50), LIGHT, False, lambda f: (
        f.feed(reading("lux", "1", 40, f.clock(), sensor_id=9)), f.at(minutes=25))),
    "lights_on_in_dark": (local(23, 0), LIGHT, False, lambda f: (
        f.feed(reading("lux", "1", 0.0, f.clock(), sensor_id=9)), f.at(hours=1),
        f.feed(reading("lux", "1", 30, f.clock(), sensor_id=9)), f.at(minutes=6))),
    "light_too_low": (local(9, 0, day=28), LIGHT, False, lambda f: (
        f.feed(reading("lux", "1", 5, f.clock(), sensor_id=9)), f.at(minutes=6))),
    # 12 °C air at 92 % has its dew point at 10,7 °C: eggs at 11 °C are within the 1 °C margin, for 6 minutes.
    "condensation_risk": (None, "", False, lambda f: (f.feed(*_egg_room(f)), f.at(minutes=6), f.feed(*_egg_room(f)))),
    "dark_too_short": (None, "", False, lambda f: (_status_change(f, "G3.8.9", "1", "D"), f.at(seconds=5))),
    "no_dusk": (None, "", False, lambda f: (_status_change(f, "G3.8.11", "1", "D"), f.at(seconds=5))),
    "condensation": (None, "", False, lambda f: (_status_change(f, "E3.3", "E", "C"), f.at(seconds=5))),
    "deviation_major": (None, "", False, lambda f: (_status_change(f, "A4.2.3", "", "D"), f.at(seconds=5))),
    "deviation_minor": (None, "", False, lambda f: (_status_change(f, "A4.1.10", "", "C"), f.at(seconds=5))),
    # 0.6 % dead on two consecutive days (A6.2.2); eggs down 10 % two days running (A6.2.1).
    "mortality": (None, "", False, lambda f: (
        _day_sheets(f, [("2026-03-26", {"mortality": 6}), ("2026-03-27", {"mortality": 6})]), f.at(seconds=5))),
    "production_drop": (None, "", False, lambda f: (
        _day_sheets(f, [(d, {"mortality": 1, "eggs": e}) for d, e in
                        (("2026-03-25", 900), ("2026-03-26", 810), ("2026-03-27", 720))]), f.at(seconds=5))),
    "visitor_contact": (None, "", False, lambda f: (
        add_entry(f.store, f.settings, "visitors", {
            "date": "2026-03-28", "arrival": "03:00", "name": "Piet", "organisation": "Voerbedrijf",
            "poultry_contact_48h": True, "houses": ["1"], "license_plate": "geen", "signature": "PB"},
            by="tablet", now=f.clock()), f.at(seconds=5))),
    "due_tomorrow": (None, "", False, lambda f: (
        alerts_for_dues(f.service.engine, f.settings, [Due("A3.6", None, date(2026, 3, 29), "Controle")],
                        to_ms(f.clock())), f.at(seconds=1))),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_alert_kind_reaches_the_phone_through_the_outbox(kind, tmp_path, store, receivers):
    assert kind in SCENARIOS, f"alert kind {kind} has no scenario: it is promised but never shown to be sent"
    start, extra, panels, happen = SCENARIOS[kind]
    phone = receivers()
    extra_alerts = "digest_minutes = 0" + ("\n[alerts.light]" + LIGHT if extra else "")
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url, extra_alerts), panels=panels),
                Clock(start or datetime(2026, 3, 28, 2, 0, tzinfo=timezone.utc)))
    farm.at(seconds=5)  # the polls start after what is already stored
    happen(farm)
    messages = [m for m in drain(phone) if m["event"] == "raised"]
    assert kind in [m["alert"]["kind"] for m in messages], [m["summary"] for m in messages]
    rows = [r["event"] for r in farm.outbox("event", "payload") if f'"kind": "{kind}"' in r["payload"]]
    assert rows and set(rows) == {"raised"}  # committed outbox rows, made before the send


def test_the_alerts_document_lists_exactly_the_kinds_that_are_sent():
    text = (REPO / "docs" / "ALERTS.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z_0-9]+)` \|", text, flags=re.M))
    assert listed == set(KINDS)


# --------------------------------------------------------------------------- the promises the web page makes


def _signature() -> str:
    """Return a finger-drawn signature as the kiosk's canvas sends it: a PNG data URL with ink."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (400, 160), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(20, 120), (120, 30), (220, 130), (360, 40)], fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def web_and_agent(tmp_path, store, receivers):
    """Return (web test client maker, the agent's alert service, the phone) on one farm database."""
    from agent.store.users import add_user
    from webui import create_app

    phone = receivers()
    settings = settings_with(tmp_path, one_channel(phone.url))
    clock = Clock()
    for name, role in (("jan", "farmer"), ("tablet", "kiosk")):
        add_user(store, name, role, PASSWORD, clock())
    app = create_app(settings, tmp_path / "farm.db", {"CLOCK": clock, "TESTING": True})
    farm = Farm(store, settings, clock)
    farm.at(seconds=5)

    def client(name):
        c = app.test_client()
        c.post("/login", data={"name": name, "password": PASSWORD,
                               "csrf_token": csrf_from(c.get("/login").get_data(as_text=True))})
        return c

    yield client, farm, phone
    app.extensions["ikb"].close()


def test_kiosk_ja_reaches_the_farmer_off_the_farm(web_and_agent):
    client, farm, phone = web_and_agent
    tablet = client("tablet")
    page = tablet.get("/kiosk/").get_data(as_text=True)
    assert "De pluimveehouder krijgt direct bericht" in page  # the promise
    response = tablet.post("/kiosk/", data={
        "csrf_token": csrf_from(page), "lang": "nl", "poultry_contact_48h": "ja", "name": "Piet Bakker",
        "organisation": "Voerbedrijf", "houses": ["1"], "license_plate": "12-abc-3", "signature": _signature()})
    assert response.status_code == 302
    assert farm.store.query("SELECT count(*) AS n FROM alerts")[0]["n"] == 0  # the web wrote only the entry
    farm.at(seconds=5)  # the agent's next tick
    [msg] = drain(phone)
    assert msg["summary"] == "[WAARSCHUWING] Pluimveebedrijf De Hoeve: bezoeker met pluimveecontact (48 uur)"
    assert "Piet Bakker (Voerbedrijf)" in msg["text"] and "dierenarts" in msg["text"]
    # Reporting the departure corrects the visit; it does not tell the farmer a second time.
    farm.at(minutes=30)
    assert drain(phone) == []


def test_a6_2_2_mortality_flag_from_the_day_sheet_reaches_the_farmer(web_and_agent):
    client, farm, phone = web_and_agent
    add_entry(farm.store, farm.settings, "flocks", FLOCK, by="jan", now=farm.clock())
    yesterday = (farm.clock().date() - timedelta(days=1)).isoformat()
    add_entry(farm.store, farm.settings, "flock_day", {**DAY, "date": yesterday, "mortality": 6, "eggs": 900},
              by="jan", now=farm.clock())
    farm.at(seconds=5)
    assert drain(phone) == []  # one day at 0.6 % is not yet A6.2.2
    jan = client("jan")
    page = jan.get("/daysheet/2").get_data(as_text=True)
    response = jan.post("/daysheet/2", data={"csrf_token": csrf_from(page), "mortality": "6", "eggs": "900",
                                             "inspected": "ja", "dead_removed": "ja", "inspected_by": "Jan",
                                             "vet_consulted": "nee", "nvwa_reported": "nee"},
                        follow_redirects=True)
    assert "[A6.2.2]" in response.get_data(as_text=True)  # the page shows the flag at once
    farm.at(seconds=5)  # and within one tick of the agent it is on the phone
    [msg] = drain(phone)
    assert msg["summary"] == "[WAARSCHUWING] Stal 2: verhoogde sterfte"
    assert "045-5463188" in msg["text"]
