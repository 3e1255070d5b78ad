"""Decoding and validation of every payload style, and every rejection reason (table-driven)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from rules.kinds import KINDS
from sensors.decode import REASONS, Decoder, Limits
from sensors.model import RawMessage, SensorSpec
from sensors.trace import parse_line

RECEIVED = datetime(2026, 3, 28, 21, 59, tzinfo=timezone(timedelta(hours=1)))
RECEIVED_MS = int(RECEIVED.timestamp() * 1000)
AMS = ZoneInfo("Europe/Amsterdam")


def spec(topic, kind, field="", ts_field="ts", invert=False, sid=1):
    """Return a sensor spec."""
    return SensorSpec(sid, topic, field, kind, "1", ts_field, invert)


def decode(spec_or_specs, payload, *, topic=None, limits=Limits()):
    """Decode one payload for the given sensor(s)."""
    specs = spec_or_specs if isinstance(spec_or_specs, list) else [spec_or_specs]
    data = payload if isinstance(payload, bytes) else (
        payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
    msg = RawMessage(topic or specs[0].topic, data, RECEIVED_MS)
    return Decoder(specs, limits, AMS).decode(msg)


def ms(text):
    """Return epoch ms of an ISO moment."""
    return int(datetime.fromisoformat(text).timestamp() * 1000)


# Real payloads as the firmwares publish them.
Z2M_LUX = {"battery": 97, "illuminance": 1020, "illuminance_lux": 312, "linkquality": 120,
           "voltage": 2995, "last_seen": "2026-03-28T21:58:59+01:00"}
Z2M_CONTACT = {"battery": 100, "contact": True, "linkquality": 87, "tamper": False, "voltage": 3005}
TASMOTA = {"Time": "2026-03-28T21:58:30", "AM2301": {"Temperature": 4.1, "Humidity": 88.3, "DewPoint": 2.3},
           "TempUnit": "C"}
TASMOTA_DS = {"Time": "2026-03-28T21:58:30", "DS18B20-1": {"Id": "01144A0CB2AA", "Temperature": 5.2},
              "TempUnit": "C"}
SHELLY_RPC = {"src": "shellyhtg3-84fce63ad204", "dst": "shellyhtg3-84fce63ad204/events", "method": "NotifyStatus",
              "params": {"ts": 1774731530.52, "temperature:0": {"id": 0, "tC": 3.9, "tF": 39.0}}}
SHELLY_STATUS = {"id": 0, "tC": 4.4, "tF": 39.9}

PAYLOAD_STYLES = [
    # (name, sensor, payload, expected value, expected ts (None = receive time))
    ("bare number", spec("ikb/1/lux", "lux"), "0.2", 0.2, None),
    ("JSON number", spec("ikb/1/lux", "lux"), 17, 17.0, None),
    ("JSON string of a number", spec("ikb/1/lux", "lux"), '"21.5"', 21.5, None),
    ("object with value", spec("ikb/1/lux", "lux"), {"value": 35}, 35.0, None),
    ("object with value and ISO ts", spec("ikb/1/lux", "lux"), {"value": 3, "ts": "2026-03-28T21:58:00+01:00"},
     3.0, ms("2026-03-28T21:58:00+01:00")),
    ("object with epoch-seconds ts", spec("ikb/1/lux", "lux"), {"value": 3, "ts": 1774731480},
     3.0, 1774731480000),
    ("object with epoch-milliseconds ts", spec("ikb/1/lux", "lux"), {"value": 3, "ts": 1774731480123},
     3.0, 1774731480123),
    ("Zigbee2MQTT lux", spec("zigbee2mqtt/stal1_lux", "lux", "illuminance_lux"), Z2M_LUX, 312.0, None),
    ("Zigbee2MQTT lux, last_seen as device time",
     spec("zigbee2mqtt/stal1_lux", "lux", "illuminance_lux", ts_field="last_seen"), Z2M_LUX, 312.0,
     ms("2026-03-28T21:58:59+01:00")),
    ("Zigbee2MQTT door contact as pop-hole (true = closed)",
     spec("zigbee2mqtt/pophole1", "pophole", "contact", invert=True), Z2M_CONTACT, 0.0, None),
    ("Tasmota tele SENSOR nested, local Time",
     spec("tele/eierlokaal/SENSOR", "temperature", "AM2301.Temperature", ts_field="Time"), TASMOTA, 4.1,
     ms("2026-03-28T21:58:30+01:00")),
    ("Tasmota DS18B20 egg probe", spec("tele/eierlokaal/SENSOR", "egg_temperature", "DS18B20-1.Temperature"),
     TASMOTA_DS, 5.2, None),
    ("ESPHome bare string", spec("stal1/sensor/temperatuur/state", "temperature"), "21.4", 21.4, None),
    ("ESPHome binary sensor ON", spec("stal1/binary_sensor/alarm/state", "ventilation_alarm"), "ON", 1.0, None),
    ("ESPHome binary sensor OFF", spec("stal1/binary_sensor/alarm/state", "ventilation_alarm"), "OFF", 0.0, None),
    ("Shelly Gen2 NotifyStatus", spec("shellyhtg3-84fce63ad204/events/rpc", "temperature", "params.temperature:0.tC",
                                      ts_field="params.ts"), SHELLY_RPC, 3.9, 1774731530520),
    ("Shelly Gen2 status topic", spec("shellyhtg3-84fce63ad204/status/temperature:0", "temperature", "tC"),
     SHELLY_STATUS, 4.4, None),
    ("state word", spec("stal1/alarm", "ventilation_alarm"), "alarm", 1.0, None),
    ("state word, any case", spec("stal1/alarm", "ventilation_alarm"), "Fault", 2.0, None),
    ("JSON string state word", spec("gen", "generator"), '"running"', 1.0, None),
    ("boolean true = alarm", spec("stal1/alarm", "ventilation_alarm"), "true", 1.0, None),
    ("boolean false = grid absent", spec("mains", "mains"), {"value": False}, 0.0, None),
    ("boolean true = generator running", spec("gen", "generator"), True, 1.0, None),
    ("on/off words for mains", spec("mains", "mains"), "off", 0.0, None),
    ("pop-hole words", spec("ph", "pophole"), "OPEN", 1.0, None),
    ("state code number", spec("gen", "generator"), "2", 2.0, None),
    ("surrounding whitespace", spec("ikb/1/lux", "lux"), " 12.5\n", 12.5, None),
    ("list index in path", spec("arr", "co2", "values.1"), {"values": [400, 1250]}, 1250.0, None),
]


@pytest.mark.parametrize("name, sensor, payload, value, ts", PAYLOAD_STYLES, ids=[p[0] for p in PAYLOAD_STYLES])
def test_every_payload_style_decodes(name, sensor, payload, value, ts):
    result = decode(sensor, payload)
    assert result.rejections == ()
    (reading,) = result.readings
    assert reading.value == pytest.approx(value)
    assert reading.ts_ms == (ts if ts is not None else RECEIVED_MS)
    assert reading.device_time == (ts is not None)


def test_one_tasmota_message_feeds_two_sensors_on_one_topic():
    t = spec("tele/eierlokaal/SENSOR", "temperature", "AM2301.Temperature", sid=1)
    h = spec("tele/eierlokaal/SENSOR", "humidity", "AM2301.Humidity", sid=2)
    result = decode([t, h], TASMOTA)
    assert [(r.sensor.id, r.value) for r in result.readings] == [(1, 4.1), (2, 88.3)]


def test_a_field_missing_from_a_partial_update_is_not_a_rejection():
    # Shelly sends only the component that changed; the humidity sensor is simply not in this one.
    t = spec("shelly/events/rpc", "temperature", "params.temperature:0.tC", sid=1)
    h = spec("shelly/events/rpc", "humidity", "params.humidity:0.rh", sid=2)
    result = decode([t, h], {"params": {"temperature:0": {"tC": 4.0}}})
    assert [r.sensor.id for r in result.readings] == [1] and result.rejections == ()
    nothing = decode([t, h], {"params": {"sys": {"uptime": 5}}})
    assert nothing.readings == () and [r.reason for r in nothing.rejections] == ["missing_field"] * 2


LUX = spec("ikb/1/lux", "lux")
HUM = spec("ikb/E/hum", "humidity")
ALARM = spec("stal1/alarm", "ventilation_alarm")

REJECTIONS = [
    # (reason, sensor, payload, extra)
    ("unknown_topic", LUX, "1", {"topic": "ikb/9/lux"}),
    ("payload_too_large", LUX, "1" * 5000, {}),
    ("not_utf8", LUX, b"\xff\xfe12", {}),
    ("empty_payload", LUX, "  ", {}),
    ("invalid_json", LUX, '{"value": 12', {}),
    ("missing_field", spec("z", "lux", "illuminance_lux"), {"battery": 90}, {}),
    ("missing_field", LUX, {"lux": 3}, {}),
    ("no_value", spec("z", "lux", "illuminance_lux"), {"illuminance_lux": None}, {}),
    ("not_a_number", LUX, "bright", {}),
    ("not_a_number", LUX, True, {}),
    ("not_a_number", LUX, {"value": {"x": 1}}, {}),
    ("not_a_number", LUX, "[1, 2]", {}),
    ("unknown_state", ALARM, "maybe", {}),
    ("unknown_state", ALARM, "7", {}),
    ("not_finite", LUX, "NaN", {}),
    ("not_finite", LUX, "nan", {}),
    ("not_finite", spec("t", "temperature"), "inf", {}),
    ("out_of_range", LUX, "-3", {}),
    ("out_of_range", LUX, "1e12", {}),
    ("out_of_range", HUM, "150", {}),
    ("out_of_range", spec("t", "temperature"), {"value": 85}, {}),
    ("bad_timestamp", LUX, {"value": 3, "ts": "yesterday"}, {}),
    ("bad_timestamp", LUX, {"value": 3, "ts": True}, {}),
    ("timestamp_in_future", LUX, {"value": 3, "ts": "2026-03-28T22:30:00+01:00"}, {}),
    ("timestamp_too_old", LUX, {"value": 3, "ts": "2025-03-28T22:00:00+01:00"}, {}),
    # Issue 13: a 401-digit integer raised OverflowError and stopped ingestion for good.
    ("out_of_range", LUX, "1" * 401, {}),
    ("out_of_range", LUX, {"value": int("9" * 401)}, {}),
    ("unknown_state", ALARM, {"value": int("9" * 401)}, {}),
    ("not_finite", LUX, {"value": 1e308 * 10}, {}),
    ("invalid_json", LUX, "[" * 2000 + "]" * 2000, {}),
    ("not_a_number", LUX, "２１.５", {}),
    ("not_a_number", LUX, "٢١", {}),
    ("not_a_number", LUX, "२१", {}),
    ("not_a_number", LUX, "1_000", {}),
    ("unknown_state", ALARM, "١", {}),
    ("bad_timestamp", LUX, {"value": 3, "ts": None}, {}),
    ("bad_timestamp", LUX, {"value": 3, "ts": int("9" * 401)}, {}),
    ("bad_timestamp", LUX, {"value": 3, "ts": "١٧٧٤٧٣١٤٨٠"}, {}),
]


@pytest.mark.parametrize("reason, sensor, payload, extra", REJECTIONS,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(REJECTIONS)])
def test_every_rejection_reason(reason, sensor, payload, extra):
    result = decode(sensor, payload, **extra)
    assert result.readings == ()
    assert [r.reason for r in result.rejections] == [reason]
    rejection = result.rejections[0]
    assert rejection.at_ms == RECEIVED_MS
    assert rejection.topic == extra.get("topic", sensor.topic)
    assert len(rejection.head) <= 200


def test_every_reason_is_documented_and_exercised():
    # decode_failed and store_failed cannot come from the decoder: tests/faults/test_poison.py makes them.
    exercised = {r[0] for r in REJECTIONS} | {"malformed_line", "decode_failed", "store_failed"}
    assert exercised == set(REASONS)


@pytest.mark.parametrize("line, why", [
    ("not json", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"ts": "2026-03-28T21:59:00+01:00", "payload": 1}', "topic missing"),
    ('{"ts": "2026-03-28T21:59:00+01:00", "topic": "ikb/1/lux"}', "payload missing"),
    ('{"ts": "2026-03-28T21:59:00", "topic": "ikb/1/lux", "payload": 1}', "ts missing or not"),
    ('{"ts": "tomorrow", "topic": "ikb/1/lux", "payload": 1}', "ts missing or not"),
])
def test_malformed_trace_lines_are_rejections_with_a_reason(line, why):
    item = parse_line(line, last_ms=5)
    assert item.reason == "malformed_line" and why in item.detail and item.at_ms == 5


def test_trace_payloads_arrive_as_the_broker_would_deliver_them():
    number = parse_line('{"ts": "2026-03-28T21:59:00+01:00", "topic": "ikb/1/lux", "payload": 0.2}')
    assert number.payload == b"0.2" and number.received_ms == ms("2026-03-28T21:59:00+01:00")
    obj = parse_line('{"ts": "2026-03-28T21:59:00Z", "topic": "t", "payload": {"value": 1}}')
    assert json.loads(obj.payload) == {"value": 1}
    text = parse_line('{"ts": "2026-03-28T21:59:00Z", "topic": "t", "payload": "ON"}')
    assert text.payload == b"ON"


def test_plausible_ranges_come_from_the_shared_kinds():
    for name, kind in KINDS.items():
        if kind.is_state:
            continue
        s = spec("t", name)
        assert decode(s, str(kind.high)).readings[0].value == kind.high
        assert decode(s, str(kind.high * 1.01 + 1)).rejections[0].reason == "out_of_range"


# Payloads the fast parser (orjson) refuses and Python's JSON takes: each must decode to what it did with
# the standard parser alone, reading or rejection reason alike (sensors.decode._loads falls back).
STANDARD_ONLY = [
    '{"temperature": NaN}', '{"temperature": Infinity}', "NaN", "-Infinity",
    '{"temperature": ' + "9" * 30 + "}", "9" * 30, '{"temperature": 21.5, "ts": ' + "1" * 25 + "}",
    '{"temperature": "\\ud800"}', "[" * 1100 + "]" * 1100, '{"temperature": 21.5, "temperature": 22.5}',
    '{"temperature": 1e400}', '{"temperature": -0.0}',
    '{"temperature": ' + "9" * 19 + "}", '{"temperature": ' + "9" * 20 + "}", '{"temperature": 1' + "0" * 19 + ".5}",
]


@pytest.mark.parametrize("payload", STANDARD_ONLY)
def test_payloads_the_fast_parser_refuses_decode_as_with_the_standard_parser(payload, monkeypatch):
    sensor = spec("zigbee2mqtt/t", "temperature", "temperature")
    fast = decode(sensor, payload)
    monkeypatch.setattr("sensors.decode._loads", json.loads)
    standard = decode(sensor, payload)
    assert fast == standard
