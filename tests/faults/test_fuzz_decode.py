"""Hypothesis fuzzing of the MQTT boundary: any bytes, any JSON, giant numbers, deep nesting, unicode digits.

No exception escapes the decoder or a trace line's parser; every message gives readings or rejections with a
known reason; nothing but ASCII digits becomes a number; and the whole ingest path stores what it decodes.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import config_from_dict
from agent.ingest import Ingestor, ingest_all
from agent.store import open_store
from sensors.decode import REASONS, Decoder, Limits
from sensors.model import RawMessage, SensorSpec
from sensors.trace import parse_line

RECEIVED_MS = 1_774_731_540_000
SPECS = [
    SensorSpec(1, "t/lux", "", "lux", "1"),
    SensorSpec(2, "t/obj", "illuminance_lux", "lux", "1", "last_seen"),
    SensorSpec(3, "t/alarm", "", "ventilation_alarm", "1"),
    SensorSpec(4, "t/tas", "AM2301.Temperature", "temperature", "E", "Time"),
    SensorSpec(5, "t/tas", "AM2301.Humidity", "humidity", "E", "Time"),
    SensorSpec(6, "t/pop", "contact", "pophole", "1", invert=True),
]
TOPICS = sorted({s.topic for s in SPECS})
DECODER = Decoder(SPECS, Limits())

giant_ints = st.integers(min_value=10**300, max_value=10**420) | st.integers(max_value=-10**300, min_value=-10**420)
numbers = st.floats(allow_nan=True, allow_infinity=True) | st.integers() | giant_ints
# Digits of other scripts (Arabic-Indic, Devanagari, fullwidth, superscripts) that Python's float() would take.
unicode_digits = st.text(alphabet="٠١٢٣٤٥٦٧٨٩०१२३४५६७८९０１２３４５６７８９²³¹.,-+e_ ", min_size=1, max_size=12)
scalars = st.none() | st.booleans() | numbers | st.text(max_size=30) | unicode_digits
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.sampled_from(["value", "ts", "illuminance_lux", "AM2301", "Time",
                                                              "Temperature", "Humidity", "contact", "last_seen"])
                                             | st.text(max_size=8), inner, max_size=5), max_leaves=20)


def _payload_bytes(value) -> bytes:
    """Return a JSON value as the bytes a device would publish (giant numbers kept exact)."""
    return json.dumps(value).encode()


def _check(decoded) -> None:
    """Every outcome is a reading of a configured sensor or a rejection with a known reason."""
    for r in decoded.readings:
        assert r.sensor in SPECS and isinstance(r.value, float) and isinstance(r.ts_ms, int)
        assert abs(r.value) < 1e15
    for r in decoded.rejections:
        assert r.reason in REASONS and len(r.head) <= 4 * 200
        assert "\x00" not in r.head


@settings(max_examples=400, deadline=None)
@given(topic=st.sampled_from(TOPICS), payload=st.binary(max_size=300))
def test_any_bytes_never_raise(topic, payload):
    _check(DECODER.decode(RawMessage(topic, payload, RECEIVED_MS)))


@settings(max_examples=400, deadline=None)
@given(topic=st.sampled_from(TOPICS), value=json_values)
def test_any_json_never_raises(topic, value):
    _check(DECODER.decode(RawMessage(topic, _payload_bytes(value), RECEIVED_MS)))


@settings(max_examples=100, deadline=None)
@given(topic=st.sampled_from(TOPICS), depth=st.integers(min_value=900, max_value=2040),
       opener=st.sampled_from(["[", '{"value":', '{"AM2301":']))
def test_deep_nesting_never_raises(topic, depth, opener):
    closer = "]" if opener == "[" else "}"
    payload = (opener * depth + "1" + closer * depth).encode()[:4096]
    _check(DECODER.decode(RawMessage(topic, payload, RECEIVED_MS)))


@settings(max_examples=200, deadline=None)
@given(topic=st.sampled_from(TOPICS), number=giant_ints, as_text=st.booleans(),
       field=st.sampled_from(["value", "illuminance_lux", "ts", "last_seen", "Time"]))
def test_giant_numbers_are_rejections(topic, number, as_text, field):
    body = str(number) if as_text else '{"%s": %d}' % (field, number)
    decoded = DECODER.decode(RawMessage(topic, body.encode(), RECEIVED_MS))
    _check(decoded)
    assert all(abs(r.value) < 1e15 for r in decoded.readings)


@settings(max_examples=200, deadline=None)
@given(text=unicode_digits.filter(lambda t: any(not c.isascii() for c in t)),
       topic=st.sampled_from(["t/lux", "t/alarm"]))
def test_digits_of_other_scripts_are_not_numbers(text, topic):
    for payload in (text, json.dumps(text), json.dumps({"value": text})):
        decoded = DECODER.decode(RawMessage(topic, payload.encode(), RECEIVED_MS))
        assert decoded.readings == (), payload


@settings(max_examples=300, deadline=None)
@given(line=st.text(max_size=200) | json_values.map(json.dumps)
       | st.fixed_dictionaries({"ts": scalars, "topic": st.text(max_size=10), "payload": json_values}).map(json.dumps))
def test_any_trace_line_never_raises(line):
    parse_line(line)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(st.tuples(st.sampled_from(TOPICS), json_values | st.binary(max_size=60)), min_size=1,
                      max_size=30))
def test_the_whole_ingest_path_stores_or_dead_letters_every_message(tmp_path_factory, batch):
    """Decode, validate and commit: no exception escapes, every message is counted once."""
    path = tmp_path_factory.mktemp("fuzz") / "farm.db"
    settings_ = config_from_dict({
        "farm": {"name": "F", "kip_number": "123456", "latitude": 52.1, "longitude": 5.6},
        "houses": [{"id": "1", "housing": "barn"}], "egg_rooms": [{"id": "E"}], "storage": {"path": str(path)},
        "sensors": [{"topic": s.topic, "kind": s.kind, "location": s.location, **({"field": s.field} if s.field else {}),
                     "ts_field": s.ts_field, "invert": s.invert} for s in SPECS]})
    store = open_store(path)
    try:
        ingestor = Ingestor(store, settings_, datetime.fromtimestamp(RECEIVED_MS / 1000, timezone.utc), live=False)
        msgs = [RawMessage(t, p if isinstance(p, bytes) else _payload_bytes(p), RECEIVED_MS + i)
                for i, (t, p) in enumerate(batch)]
        counts = ingest_all(ingestor, msgs)
        assert set(counts.reasons) <= set(REASONS) - {"decode_failed", "store_failed"}
        rows = store.query("SELECT count(*) AS n FROM readings")[0]["n"]
        assert rows == counts.stored
        assert store.query("SELECT count(*) AS n FROM rejections")[0]["n"] == counts.rejected
    finally:
        store.close()
