"""The alert engine end to end through a real webhook receiver, with the clock passed in.

Ingestion's pipeline is driven through the listener contract: batches of
StoredReading-shaped readings, as agent/ingest.py hands them over.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from agent.alerts.engine import acknowledge, acknowledge_by_token, acknowledge_mqtt, list_alerts, peek_token
from agent.alerts.service import AlertService
from agent.alerts.sources import alerts_for_dues, alerts_from_flags
from agent.store.readings import to_ms
from rules.catalogue import load_catalogue
from rules.findings import Due
from rules.logbooks import Flag

from .alerting import Clock, WebhookReceiver, reading, settings_with


@pytest.fixture
def receivers():
    made = []

    def make():
        r = WebhookReceiver().start()
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


class Farm:
    """An alert service on the test farm, its clock, and helpers to feed readings and let time pass."""

    def __init__(self, store, settings, clock):
        self.store, self.settings, self.clock = store, settings, clock
        self.service = AlertService(store, settings, clock_fn=clock, mqtt_ack=False)

    def feed(self, *readings):
        self.service.listener(list(readings))
        self.service.dispatcher.run_once(self.clock())

    def at(self, **kw):
        """Advance the clock, tick, and deliver what is due."""
        self.clock.advance(**kw)
        self.service.tick(self.clock())
        self.service.dispatcher.run_once(self.clock())

    def alerts(self, **kw):
        return list_alerts(self.store, **kw)

    def outbox(self, *cols):
        return self.store.query(f"SELECT {', '.join(cols) or '*'} FROM outbox ORDER BY id")


def one_channel(url, extra_alerts="", extra_channel=""):
    """Return [alerts] with one webhook channel; extra_alerts keys override the defaults here."""
    defaults = {"clear_seconds": "300", "repeat_minutes": "15", "digest_minutes": "60"}
    head, _, tables = extra_alerts.partition("\n[")
    head_keys = {line.split("=")[0].strip() for line in head.splitlines() if "=" in line}
    keys = "\n".join(f"{k} = {v}" for k, v in defaults.items() if k not in head_keys)
    return f"""
[alerts]
{keys}
{head}

[[alerts.channels]]
type = "webhook"
name = "telefoon"
url = "{url}"
{extra_channel}
""" + (f"\n[{tables}" if tables else "")


def drain(receiver):
    out = []
    while not receiver.hits.empty():
        out.append(receiver.hits.get_nowait().json)
    return out


def test_a_ventilation_alarm_reaches_the_phone_with_a_clear_subject(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url)), Clock())
    farm.feed(reading("ventilation_alarm", "2", 1, farm.clock()))
    msg = phone.wait().json
    assert msg["summary"] == "[KRITIEK] Stal 2: ventilatie-alarm"
    assert msg["severity"] == "critical" and msg["event"] == "raised"
    assert msg["alert"]["kind"] == "ventilation_alarm" and msg["alert"]["location"] == "2"
    assert "Sinds: 28-03-2026 03:00" in msg["text"]  # farm-local time
    assert "Bevestigen: ikb-agent alert ack" in msg["text"]
    [alert] = farm.alerts()
    assert alert.state == "open" and alert.severity == "critical"


def test_a_repeat_updates_the_open_alert_and_it_closes_when_clear_long_enough(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url)), Clock())
    farm.feed(reading("ventilation_alarm", "1", 1, farm.clock()))
    farm.clock.advance(seconds=90)
    farm.feed(reading("ventilation_alarm", "1", 1, farm.clock()))  # the panel repeats its alarm
    [alert] = farm.alerts()
    assert alert.last_seen == farm.clock() and alert.opened_at == farm.clock() - timedelta(seconds=90)
    farm.clock.advance(seconds=30)
    farm.feed(reading("ventilation_alarm", "1", 0, farm.clock()))  # ventilation back
    farm.at(seconds=299)
    assert farm.alerts()[0].state == "open"  # not yet clear for 5 minutes
    farm.at(seconds=1)
    assert farm.alerts() == []
    [closed] = farm.alerts(include_closed=True)
    assert closed.state == "closed"
    events = [m["event"] for m in drain(phone)]
    assert events == ["raised", "resolved"]


def test_a_flapping_input_gives_one_alert_not_fifty(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url)), Clock())
    for i in range(50):  # alarm, ok, alarm, ok … every 3 seconds for 2.5 minutes
        farm.feed(reading("ventilation_alarm", "1", 1 if i % 2 == 0 else 0, farm.clock()))
        farm.at(seconds=3)
    farm.at(minutes=10)
    alerts = farm.alerts(include_closed=True)
    assert len(alerts) == 1
    assert alerts[0].count == 25 and alerts[0].flaps == 24 and alerts[0].state == "closed"
    assert [m["event"] for m in drain(phone)] == ["raised", "resolved"]


def test_an_unacknowledged_critical_alert_escalates_to_the_second_person_after_the_delay(tmp_path, store, receivers):
    jan, els, piet = receivers(), receivers(), receivers()
    settings = settings_with(tmp_path, f"""
[alerts]
repeat_minutes = 0
[[alerts.people]]
name = "Jan"
[[alerts.people]]
name = "Els"
after_minutes = 10
[[alerts.people]]
name = "Piet"
after_minutes = 20
[[alerts.channels]]
type = "webhook"
name = "jan"
person = "Jan"
url = "{jan.url}"
[[alerts.channels]]
type = "webhook"
name = "els"
person = "Els"
url = "{els.url}"
[[alerts.channels]]
type = "webhook"
name = "piet"
person = "Piet"
url = "{piet.url}"
""")
    farm = Farm(store, settings, Clock())
    farm.feed(reading("ventilation_alarm", "1", 1, farm.clock()))
    assert jan.wait().json["event"] == "raised"
    farm.at(minutes=9, seconds=59)
    assert els.hits.empty()
    farm.at(seconds=1)
    msg = els.wait().json
    assert msg["event"] == "escalated" and msg["person"] == "Els"
    assert msg["summary"] == "[KRITIEK] Stal 1: ventilatie-alarm (escalatie, nog niet bevestigd)"
    assert "na 10 minuten nog niet is bevestigd" in msg["text"]
    # Els acknowledges through the link in her message: Piet is never called.
    assert acknowledge_by_token(store, msg["ack_token"], farm.clock()).status == "acknowledged"
    farm.at(minutes=30)
    assert piet.hits.empty()
    # Jan learns that Els took care of it.
    told = [m for m in drain(jan) if m["event"] == "acknowledged"]
    assert [m["summary"] for m in told] == ["[BEVESTIGD] Stal 1: ventilatie-alarm"]
    assert "Bevestigd door link (els) om 28-03-2026 03:10" in told[0]["text"]
    assert farm.alerts()[0].acked_by == "link (els)"


def test_an_acknowledgement_stops_the_repeats(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url)), Clock())
    farm.feed(reading("ventilation_alarm", "1", 1, farm.clock()))
    farm.at(minutes=15)
    farm.at(minutes=15)
    assert [m["event"] for m in drain(phone)] == ["raised", "repeat", "repeat"]
    acknowledge(store, farm.alerts()[0].id, by="jan", via="cli", now=farm.clock())
    farm.at(minutes=15)
    farm.at(minutes=60)
    assert drain(phone) == []
    assert farm.alerts()[0].acked_by == "jan"


def test_a_repeat_still_waiting_for_a_dead_receiver_is_cancelled_by_the_acknowledgement(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url)), Clock())
    farm.feed(reading("ventilation_alarm", "1", 1, farm.clock()))
    phone.stop()
    farm.at(minutes=15)  # the repeat cannot be delivered
    acknowledge(store, farm.alerts()[0].id, by="jan", via="web", now=farm.clock())
    phone.start()
    farm.at(minutes=5)
    events = drain(phone)
    assert [m["event"] for m in events] == ["raised"]
    states = {r["event"]: r["state"] for r in farm.outbox("event", "state")}
    assert states == {"raised": "delivered", "repeat": "cancelled"}


def test_ack_links_are_one_time_and_unknown_tokens_are_refused(tmp_path, store, receivers):
    phone = receivers()
    settings = settings_with(tmp_path, one_channel(phone.url, 'ack_base_url = "http://192.168.1.10:8080/"'))
    farm = Farm(store, settings, Clock())
    farm.feed(reading("ventilation_alarm", "1", 1, farm.clock()))
    msg = phone.wait().json
    token = msg["ack_token"]
    assert msg["ack_url"] == f"http://192.168.1.10:8080/alerts/ack/{token}"
    assert f"Bevestigen: http://192.168.1.10:8080/alerts/ack/{token}" in msg["text"]
    peek = peek_token(store, token)  # the confirm page (GET) shows the alert without acknowledging it
    assert peek.status == "valid" and peek.alert.kind == "ventilation_alarm" and peek.alert.acked_at is None
    first = acknowledge_by_token(store, token, farm.clock())
    assert first.status == "acknowledged" and first.alert.acked_via == "link"
    assert acknowledge_by_token(store, token, farm.clock()).status == "used"
    assert acknowledge_by_token(store, "made-up", farm.clock()).status == "unknown"
    assert peek_token(store, token).status == "used" and peek_token(store, "made-up").status == "unknown"


def test_mqtt_ack_payloads(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url)), Clock())
    farm.feed(reading("ventilation_alarm", "1", 1, farm.clock()), reading("ventilation_alarm", "2", 1, farm.clock()))
    a2, a1 = farm.alerts()  # newest first… same moment: by id descending is not promised, so sort
    a1, a2 = sorted((a1, a2), key=lambda a: a.id)
    assert acknowledge_mqtt(store, b"not json {", farm.clock(), user="kiezer").status == "unknown"
    assert acknowledge_mqtt(store, b'{"id": "x"}', farm.clock(), user="kiezer").status == "unknown"
    assert acknowledge_mqtt(store, b"9" * 401, farm.clock(), user="kiezer").status == "unknown"
    # The payload cannot say who acknowledged: the broker account (the topic's last level) does.
    assert acknowledge_mqtt(store, json.dumps({"id": a1.id, "by": "iemand"}).encode(), farm.clock(), user="kiezer").ok
    assert acknowledge_mqtt(store, str(a2.id).encode(), farm.clock(), user="ha").status == "acknowledged"
    assert {a.acked_by for a in farm.alerts()} == {"kiezer (mqtt)", "ha (mqtt)"}


def test_the_mqtt_ack_topic_names_the_broker_account():
    from agent.alerts.engine import mqtt_ack_user

    assert mqtt_ack_user("ikb-agent/alerts/ack", "ikb-agent/alerts/ack/kiezer") == "kiezer"
    assert mqtt_ack_user("ikb-agent/alerts/ack/", "ikb-agent/alerts/ack/kiezer") == "kiezer"
    assert mqtt_ack_user("ikb-agent/alerts/ack", "ikb-agent/alerts/ack") is None
    assert mqtt_ack_user("ikb-agent/alerts/ack", "ikb-agent/alerts/ack/a/b") is None
    assert mqtt_ack_user("ikb-agent/alerts/ack", "other/kiezer") is None


def test_severity_is_configurable_per_kind_and_channels_filter_severity_and_house(tmp_path, store, receivers):
    critical_only, house2 = receivers(), receivers()
    settings = settings_with(tmp_path, f"""
[alerts.severity]
alarm_panel_fault = "warning"
[[alerts.channels]]
type = "webhook"
name = "alleen-kritiek"
url = "{critical_only.url}"
severities = ["critical"]
[[alerts.channels]]
type = "webhook"
name = "stal2"
url = "{house2.url}"
houses = ["2"]
""")
    farm = Farm(store, settings, Clock())
    farm.feed(reading("ventilation_alarm", "1", 2, farm.clock()))  # panel fault, configured as warning
    farm.feed(reading("ventilation_alarm", "2", 1, farm.clock()))
    assert [m["summary"] for m in drain(critical_only)] == ["[KRITIEK] Stal 2: ventilatie-alarm"]
    assert [m["summary"] for m in drain(house2)] == ["[KRITIEK] Stal 2: ventilatie-alarm"]
    assert {a.kind: a.severity for a in farm.alerts()} == {"alarm_panel_fault": "warning",
                                                          "ventilation_alarm": "critical"}


def test_info_alerts_are_collected_into_one_digest(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url)), Clock())
    changes = [{"rule": "A4.2.1", "location": None, "from": "ok", "to": "C", "at": "x"},
               {"rule": "A4.5.1", "location": None, "from": "ok", "to": "B", "at": "x"}]
    from agent.alerts.sources import alerts_from_changes

    alerts_from_changes(farm.service.engine, changes, to_ms(farm.clock()))
    farm.at(minutes=59)
    assert drain(phone) == []
    farm.at(minutes=1)
    [digest] = drain(phone)
    assert digest["event"] == "digest" and digest["summary"] == "[INFO] Pluimveebedrijf De Hoeve: 2 meldingen"
    assert len(digest["items"]) == 2


def test_a_warning_that_returns_soon_is_reopened_quietly_but_critical_always_speaks(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url, "clear_seconds = 0")), Clock())
    for _ in range(2):
        farm.feed(reading("ventilation_alarm", "1", 2, farm.clock()), reading("ventilation_alarm", "2", 1, farm.clock()))
        farm.feed(reading("ventilation_alarm", "1", 0, farm.clock()), reading("ventilation_alarm", "2", 0, farm.clock()))
        farm.at(minutes=20)
    summaries = [m["summary"] for m in drain(phone) if m["event"] == "raised"]
    assert summaries.count("[KRITIEK] Stal 2: ventilatie-alarm") == 2
    assert summaries.count("[KRITIEK] Stal 1: storing alarminstallatie") == 2  # critical by default: not held back
    farm2 = Farm(store, settings_with(tmp_path, one_channel(phone.url, 'clear_seconds = 0\n[alerts.severity]\n'
                                                                       'alarm_panel_fault = "warning"')), farm.clock)
    for _ in range(2):
        farm2.feed(reading("ventilation_alarm", "2", 2, farm.clock()))
        farm2.feed(reading("ventilation_alarm", "2", 0, farm.clock()))
        farm2.at(minutes=20)
    warnings = [m for m in drain(phone) if m["summary"].startswith("[WAARSCHUWING]") and m["event"] == "raised"]
    assert len(warnings) == 1


POWER_GRACE_60 = """
[sensor_rules.generator]
start_grace_seconds = 60
"""


def test_mains_loss_without_generator_after_the_grace_time_is_critical(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url) + POWER_GRACE_60), Clock())
    farm.feed(reading("mains", "1", 0, farm.clock(), sensor_id=5))
    farm.at(seconds=59)
    assert farm.alerts() == []
    farm.at(seconds=1)
    assert [a.kind for a in farm.alerts()] == ["power_failure"]
    assert phone.wait().json["summary"] == "[KRITIEK] Stal 1: stroomuitval zonder noodstroom"
    farm.feed(reading("generator", "1", 1, farm.clock(), sensor_id=6))  # generator starts
    assert farm.alerts()[0].state == "open"
    farm.at(minutes=5)
    assert farm.alerts() == []


def test_a_generator_that_starts_within_the_grace_time_raises_nothing(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url)), Clock())
    farm.feed(reading("mains", "1", 0, farm.clock(), sensor_id=5))
    farm.at(seconds=20)
    farm.feed(reading("generator", "1", 1, farm.clock(), sensor_id=6))
    farm.at(minutes=10)
    assert farm.alerts(include_closed=True) == []


def test_a_silent_alarm_panel_is_critical_and_clears_when_heard_again(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url), panels=True), Clock())
    farm.feed(reading("ventilation_alarm", "1", 0, farm.clock()), reading("ventilation_alarm", "2", 0, farm.clock()))
    farm.at(minutes=9)
    farm.feed(reading("ventilation_alarm", "2", 0, farm.clock()))  # only house 2's panel keeps talking
    farm.at(minutes=1, seconds=1)
    assert [(a.kind, a.location) for a in farm.alerts()] == [("alarm_panel_silent", "1")]
    assert phone.wait().json["summary"] == "[KRITIEK] Stal 1: alarminstallatie geeft geen signaal"
    farm.feed(reading("ventilation_alarm", "1", 0, farm.clock()))
    farm.at(minutes=5)
    assert farm.alerts() == []
    assert [m["event"] for m in drain(phone)] == ["resolved"]


LIGHT = """
hold_minutes = 5
grace_minutes = 15
[[alerts.light.schedules]]
house = "1"
dark_start = "22:00"
dark_end = "06:00"
"""


def local(h, m, day=27):
    from zoneinfo import ZoneInfo

    return datetime(2026, 3, day, h, m, tzinfo=ZoneInfo("Europe/Amsterdam")).astimezone(timezone.utc)


def test_lights_still_on_past_the_planned_dark_start(tmp_path, store, receivers):
    phone = receivers()
    settings = settings_with(tmp_path, one_channel(phone.url) + "\n[alerts.light]" + LIGHT)
    farm = Farm(store, settings, Clock(local(21, 50)))
    farm.feed(reading("lux", "1", 40, farm.clock(), sensor_id=9))  # Zigbee reports on change only
    farm.at(minutes=24)  # 22:14: within the grace time
    assert farm.alerts() == []
    farm.at(minutes=1)  # 22:15
    [alert] = farm.alerts()
    assert alert.kind == "lights_on_after_dark_start" and alert.severity == "warning"
    msg = phone.wait().json
    assert msg["summary"] == "[WAARSCHUWING] Stal 1: licht nog aan na begin donkerperiode"
    assert "de donkerperiode begon om 22:00" in msg["text"]
    farm.feed(reading("lux", "1", 0.1, farm.clock(), sensor_id=9))
    farm.at(minutes=5)
    assert farm.alerts() == []


def test_lights_on_in_the_dark_needs_to_last_the_hold_time(tmp_path, store, receivers):
    phone = receivers()
    settings = settings_with(tmp_path, one_channel(phone.url) + "\n[alerts.light]" + LIGHT)
    farm = Farm(store, settings, Clock(local(23, 0)))
    farm.feed(reading("lux", "1", 0.0, farm.clock(), sensor_id=9))
    farm.at(hours=2)
    farm.feed(reading("lux", "1", 30, farm.clock(), sensor_id=9))  # 01:00, someone's torch? wait and see
    farm.at(minutes=2)
    farm.feed(reading("lux", "1", 0.0, farm.clock(), sensor_id=9))
    assert farm.alerts() == []
    farm.feed(reading("lux", "1", 30, farm.clock(), sensor_id=9))
    farm.at(minutes=5)
    assert [a.kind for a in farm.alerts()] == ["lights_on_in_dark"]
    assert "30 lux om 01:07" in phone.wait().json["text"]


def test_too_little_light_in_the_light_period_but_not_in_the_dawn_ramp(tmp_path, store, receivers):
    phone = receivers()
    settings = settings_with(tmp_path, one_channel(phone.url) + "\n[alerts.light]" + LIGHT)
    farm = Farm(store, settings, Clock(local(6, 0, day=28)))
    farm.feed(reading("lux", "1", 5, farm.clock(), sensor_id=9))  # dawn ramp: dimmed on purpose
    farm.at(minutes=59)  # the ramp is the light rules' own: [sensor_rules.light] dusk_max_minutes (60)
    assert farm.alerts() == []
    for _ in range(5):  # 07:04: light period since 07:00, below 20 lux for 4 minutes
        farm.at(minutes=1)
    assert farm.alerts() == []
    farm.at(minutes=1)
    assert [a.kind for a in farm.alerts()] == ["light_too_low"]


def test_a_newly_appearing_deviation_quotes_the_scheme_and_clears_when_ok(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url)), Clock())
    with store.transaction() as db:  # history before the agent started: no alerts for it
        db.execute("INSERT INTO status_changes(rule, location, from_status, to_status, at) VALUES"
                   " ('A3.6', '', NULL, 'D', 'x')")
    farm.at(seconds=5)
    with store.transaction() as db:
        db.execute("INSERT INTO status_changes(rule, location, from_status, to_status, at) VALUES"
                   " ('G3.8.9', '1', 'ok', 'D', 'x'), ('A4.2.3', '', 'ok', 'D', 'x'), ('E3.3', 'E', 'ok', 'C', 'x'),"
                   " ('A1.2', '', NULL, 'B', 'x')")  # a first evaluation: the starting state, no alert
    farm.at(seconds=5)
    by_kind = {a.kind: a for a in farm.alerts()}
    assert set(by_kind) == {"dark_too_short", "deviation_major", "condensation"}
    g389 = load_catalogue().get("G3.8.9").deviation_text("D")
    assert by_kind["dark_too_short"].title == f"G3.8.9 (D): {g389}"
    assert by_kind["deviation_major"].subject == "A4.2.3"
    summaries = sorted(m["summary"] for m in drain(phone))
    assert summaries == ["[WAARSCHUWING] Eierlokaal E: condens op de eieren",
                         "[WAARSCHUWING] Pluimveebedrijf De Hoeve: nieuwe afwijking A4.2.3",
                         "[WAARSCHUWING] Stal 1: donkerperiode te kort"]
    with store.transaction() as db:
        db.execute("INSERT INTO status_changes(rule, location, from_status, to_status, at) VALUES"
                   " ('G3.8.9', '1', 'D', 'ok', 'x')")
    farm.at(seconds=5)
    farm.at(minutes=5)
    assert {a.kind for a in farm.alerts()} == {"deviation_major", "condensation"}


def test_sensor_offline_events_from_ingestion_raise_and_clear(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url)), Clock())
    farm.at(seconds=5)  # first poll sets the watermark
    with store.transaction() as db:
        db.execute("INSERT INTO sensors(id, topic, field, kind, location, created_at) VALUES"
                   " (3, 'tele/eierlokaal/SENSOR', 'AM2301.Temperature', 'temperature', 'E', 0)")
        db.execute("INSERT INTO events(kind, location, sensor_id, start) VALUES ('sensor_offline', 'E', 3, ?)",
                   [to_ms(farm.clock()) - 600_000])
    farm.at(seconds=5)
    [alert] = farm.alerts()
    assert (alert.kind, alert.location, alert.severity) == ("sensor_offline", "E", "warning")
    assert "laatste bericht 28-03-2026 02:50" in alert.detail
    with store.transaction() as db:
        db.execute('UPDATE events SET "end" = ?', [to_ms(farm.clock())])
    farm.at(seconds=5)
    farm.at(minutes=5)
    assert farm.alerts() == []


def test_day_sheet_flags_raise_mortality_and_production_alerts(tmp_path, store, receivers):
    from agent.logbooks.entries import add_entry

    phone = receivers()
    settings = settings_with(tmp_path, one_channel(phone.url))
    farm = Farm(store, settings, Clock())
    farm.at(seconds=5)  # the first poll starts after what is already there
    # Written by the web page or the CLI (another process): the agent's poll picks them up.
    day = {"house": "2", "inspected": True, "inspected_by": "Jan", "mortality": 6, "culls": 0, "eggs": 900,
           "water_l": 200.0, "feed_kg": 120}
    add_entry(store, settings, "flocks", {"house": "2", "placed_on": "2026-01-10", "hatched_on": "2025-09-13",
                                          "number_placed": 1000, "origin": "Opfok"}, by="jan", now=farm.clock())
    for date in ("2026-03-26", "2026-03-27"):  # 0.6 % on two consecutive days (A6.2.2)
        add_entry(store, settings, "flock_day", {**day, "date": date}, by="jan", now=farm.clock())
    farm.at(seconds=5)
    [msg] = drain(phone)
    assert msg["summary"] == "[WAARSCHUWING] Stal 2: verhoogde sterfte"
    assert "045-5463188" in msg["text"]
    # A6.2.1 raises its own alert; a flag that promises no message (a hygienogram's) raises none.
    alerts_from_flags(farm.service.engine, "flock_day", {"date": "2026-03-27", "house": "2"},
                      [Flag("consult_vet", "A6.2.1", "alert", "eiproductie -6% twee dagen", "2"),
                       Flag("hygienogram_reclean", "E4.4.2", "warning", "opnieuw reinigen", "2")], to_ms(farm.clock()))
    farm.service.dispatcher.run_once(farm.clock())
    assert [m["summary"] for m in drain(phone)] == ["[WAARSCHUWING] Stal 2: daling voer-, water- of eiproductie"]
    farm.at(hours=48)
    assert farm.alerts() == []  # a flag lasts two days unless a new day sheet flags it again


def test_something_falling_due_tomorrow_is_an_info_alert(tmp_path, store, receivers):
    phone = receivers()
    farm = Farm(store, settings_with(tmp_path, one_channel(phone.url, "digest_minutes = 0")), Clock())
    dues = [Due("A3.6", None, datetime(2026, 3, 29).date(), "Controle aggregaat en alarm"),
            Due("A6.3.1", None, datetime(2026, 4, 20).date(), "Hygiëneplan")]
    alerts_for_dues(farm.service.engine, farm.settings, dues, to_ms(farm.clock()))
    farm.service.dispatcher.run_once(farm.clock())
    [msg] = drain(phone)
    assert msg["summary"] == "[INFO] Pluimveebedrijf De Hoeve: morgen te doen"
    assert msg["alert"]["title"] == "A3.6: Controle aggregaat en alarm"


def test_a_restart_keeps_open_alerts_and_can_still_close_them(tmp_path, receivers):
    from agent.store.connection import open_store

    phone = receivers()
    settings = settings_with(tmp_path, one_channel(phone.url))
    clock = Clock()
    first = open_store(tmp_path / "farm.db")
    Farm(first, settings, clock).feed(reading("ventilation_alarm", "1", 1, clock()))
    first.close()
    second = open_store(tmp_path / "farm.db")
    farm = Farm(second, settings, clock)
    farm.feed(reading("ventilation_alarm", "1", 0, clock.advance(minutes=1)))
    farm.at(minutes=6)
    assert farm.alerts() == []
    assert [m["event"] for m in drain(phone)] == ["raised", "resolved"]
    second.close()


def test_the_daily_due_job_raises_tomorrows_items_once_in_the_afternoon(tmp_path, store, receivers):
    from datetime import date

    from agent.alerts.service import raise_due_alerts
    from agent.evaluation import score_window
    from agent.logbooks.documents import record_document
    from agent.store import record_score

    phone = receivers()
    settings = settings_with(tmp_path, one_channel(phone.url, "digest_minutes = 0"))
    # The pest-control licence (A4.5.2) runs until the date printed on it: tomorrow, 29 March 2026.
    record_document(store, kind="A4.5.2", issued_on="2025-03-01", valid_until="2026-03-29", recorded_by="jan",
                    now=local(9, 0, day=27))
    assert raise_due_alerts(store, settings, local(10, 0, day=28)) is False  # morning: not yet
    # No score snapshot yet (`run` just started): nothing is sent, and the day is not used up.
    assert raise_due_alerts(store, settings, local(17, 15, day=28)) is False
    assert list_alerts(store) == []
    at = local(17, 20, day=28)
    record_score(store, score_window(store, settings, at=at, since=at - timedelta(days=30)), at)  # `run`'s snapshot
    assert raise_due_alerts(store, settings, local(17, 30, day=28)) is True
    [alert] = list_alerts(store)
    assert (alert.kind, alert.subject, alert.severity) == ("due_tomorrow", "A4.5.2", "info")
    assert raise_due_alerts(store, settings, local(18, 30, day=28)) is False  # once a day
    assert date(2026, 3, 29).strftime("%d-%m-%Y") in alert.detail


def test_the_alarm_path_waits_for_a_busy_database_instead_of_failing(tmp_path, store, receivers):
    """The listener's connection and the background one write at once (as under `ikb-agent run`)."""
    import threading

    from agent.store.connection import open_store

    phone = receivers()
    settings = settings_with(tmp_path, one_channel(phone.url, "clear_seconds = 0"))
    background = open_store(tmp_path / "farm.db")
    clock = Clock()
    service = AlertService(store, settings, clock_fn=clock, mqtt_ack=False, background_store=background)
    stop = threading.Event()

    def busy_writer():
        other = open_store(tmp_path / "farm.db")
        n = 0
        while not stop.is_set():
            other.set_kv("busy", str(n))
            n += 1
        other.close()

    writer = threading.Thread(target=busy_writer)
    writer.start()
    try:
        for i in range(60):
            service.listener([reading("ventilation_alarm", str(i % 2 + 1), i // 2 % 2 == 0, clock())])
            service.tick(clock.advance(seconds=1))
    finally:
        stop.set()
        writer.join()
    assert len(list_alerts(store, include_closed=True)) == 30  # 15 alarms in each of two houses, none lost
    background.close()


def test_an_open_alert_still_present_is_rewritten_once_a_minute_not_every_clock_tick(tmp_path, store):
    """The alert clock says "still there" every few seconds; each said so was a fsynced commit (SD card)."""
    from agent.alerts.engine import AlertEngine

    engine = AlertEngine(store, settings_with(tmp_path, ""))
    t0 = to_ms(datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc))
    engine.raise_alert("ventilation_alarm", "1", t0)
    changes = store.conn.total_changes
    for seconds in (4, 8, 30, 59):
        engine.touch("ventilation_alarm", "1", t0 + seconds * 1000)
    assert store.conn.total_changes == changes, "no row rewritten within the minute"
    assert list_alerts(store)[0].last_seen == datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
    engine.touch("ventilation_alarm", "1", t0 + 60_000)
    assert list_alerts(store)[0].last_seen == datetime(2026, 11, 30, 3, 1, tzinfo=timezone.utc)
