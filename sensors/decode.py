"""Turn a raw message into validated readings, or counted rejections with a reason. Pure.

Decoding (DESIGN §3.2): the topic selects the configured sensors; each reads its
``field`` (a dotted path into a JSON object; without one, the payload itself or
its ``value`` key). Values may be numbers, strings of numbers, booleans, or the
state words of the sensor's kind (case-insensitive; ``ON``/``OFF`` too). An
object's ``ts`` (or the sensor's ``ts_field``) — ISO 8601 or epoch seconds or
milliseconds — wins over the receive time, and is judged against it.

This covers the common firmwares without special cases:

- Zigbee2MQTT ``zigbee2mqtt/<name>``: ``{"illuminance_lux": 312, "battery": 97}`` → field ``illuminance_lux``;
- Tasmota ``tele/<dev>/SENSOR``: ``{"Time": "...", "AM2301": {"Temperature": 4.1}}`` → ``AM2301.Temperature``;
- ESPHome ``<node>/sensor/<name>/state``: a bare string ``"21.4"`` or ``"ON"``, ``"nan"`` when unknown;
- Shelly Gen2 ``<id>/events/rpc``: ``{"params": {"ts": 1.7e9, "temperature:0": {"tC": 4.2}}}``
  → field ``params.temperature:0.tC``, ts_field ``params.ts``.
- Lamp relays and dimmers (kind ``lamp``): Zigbee2MQTT ``{"state": "ON", "brightness": 254}`` → field
  ``state``; Tasmota ``stat/<dev>/RESULT`` ``{"POWER": "ON", "Dimmer": 40}`` → field ``POWER`` (on/off)
  or ``Dimmer`` (%); Shelly Gen2 ``{"params": {"switch:0": {"output": true}}}`` → field
  ``params.switch:0.output``, Shelly Gen1 ``shellies/<id>/relay/0`` → the bare ``on``/``off``.

Several sensors may share a topic (one Tasmota message carries temperature and
humidity). A field that is absent from a message is only a rejection when the
message gave none of the topic's sensors a value: devices that report only what
changed (Shelly) are not wrong.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from datetime import timezone as _utc_zone

import orjson

from rules.kinds import KINDS
from rules.texts import N_
from sensors.model import Decoded, RawMessage, Reading, Rejection, SensorSpec

# Every rejection reason (the code counted and shown in `replay --format json`), with what it means: a Dutch
# msgid, translated where it is shown (the status page, `ikb-agent status`).
REASONS: dict[str, str] = {
    "malformed_line": N_("regel van het tracebestand is geen JSON-object met ts, topic en payload"),
    "unknown_topic": N_("geen sensor ingesteld voor dit topic"),
    "payload_too_large": N_("bericht groter dan [ingest] max_payload_bytes"),
    "not_utf8": N_("bericht is geen UTF-8-tekst"),
    "empty_payload": N_("bericht is leeg"),
    "invalid_json": N_("bericht begint als JSON maar is geen geldige JSON"),
    "missing_field": N_("het ingestelde veld staat niet in het bericht"),
    "no_value": N_("de waarde is leeg (null)"),
    "not_a_number": N_("de waarde is geen getal (of een structuur waar een waarde hoort)"),
    "unknown_state": N_("de waarde is geen toestand die deze soort sensor kent"),
    "not_finite": N_("de waarde is NaN of oneindig"),
    "out_of_range": N_("de waarde ligt buiten het mogelijke bereik van deze soort sensor"),
    "bad_timestamp": N_("de tijd in het bericht is onleesbaar"),
    "timestamp_in_future": N_("de tijd in het bericht ligt te ver na het moment van ontvangst"),
    "timestamp_too_old": N_("de tijd in het bericht ligt te ver vóór het moment van ontvangst"),
    "decode_failed": N_("lezen mislukt door een fout in ikb-agent (het bericht is bewaard)"),
    "store_failed": N_("opslaan mislukt door een fout in ikb-agent (het bericht is bewaard)"),
}

HEAD_BYTES = 200  # how much of a rejected payload the dead-letter table keeps

_TRUE_WORDS = frozenset({"on", "true", "yes"})
_FALSE_WORDS = frozenset({"off", "false", "no"})
_EPOCH_MS_ABOVE = 100_000_000_000  # 1e11 s is the year 5138; larger numbers are milliseconds
# A number as devices write it: ASCII digits only. Python's float() also takes "２１.５", "٢١", "1_000"
# and " nan " — none of them a sensor's number, and none must be stored as one.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NOT_FINITE_WORDS = frozenset({"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
_LARGEST = 1e15  # no sensor reading or state code is larger; bigger integers are refused before float()
# Control characters are escaped in the dead-letter text: a NUL would cut the text short where it is read.
_CONTROL_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), 0x0b, 0x0c, *range(0x0e, 0x20), 0x7f)}


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what is accepted (the [ingest] section of the configuration)."""

    max_payload_bytes: int = 4096
    max_future_ms: int = 5 * 60_000  # device clocks drift; more than this is a wrong clock
    max_age_ms: int = 10 * 86_400_000  # a buffered reading may arrive late, not weeks late


class _Reject(Exception):
    """A value or timestamp failed; carries the reason."""

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        self.detail = detail


def head_of(payload: bytes) -> str:
    """Return the first bytes of a payload as printable text for the dead-letter table."""
    return printable(payload[:HEAD_BYTES].decode("utf-8", errors="backslashreplace"))


def printable(text: str) -> str:
    """Return text with control characters and lone surrogates escaped (safe to store and to show)."""
    text = text.translate(_CONTROL_ESCAPES)
    return text.encode("utf-8", errors="backslashreplace").decode("utf-8")


class Decoder:
    """Decode raw messages for a fixed set of configured sensors."""

    def __init__(self, sensors: list[SensorSpec] | tuple[SensorSpec, ...], limits: Limits = Limits(),
                 local_tz: tzinfo = _utc_zone.utc):
        self.limits = limits
        self.local_tz = local_tz  # naive device timestamps (Tasmota "Time") are farm-local
        by_topic: dict[str, list[SensorSpec]] = {}
        for spec in sensors:
            by_topic.setdefault(spec.topic, []).append(spec)
        self.by_topic = {topic: tuple(specs) for topic, specs in by_topic.items()}

    @property
    def topics(self) -> list[str]:
        """Return the topics to subscribe to."""
        return sorted(self.by_topic)

    def decode(self, msg: RawMessage) -> Decoded:
        """Return the readings a message carries and the rejections it caused."""
        specs = self.by_topic.get(msg.topic)
        if specs is None:
            return self._rejected(msg, "unknown_topic")
        if len(msg.payload) > self.limits.max_payload_bytes:
            return self._rejected(msg, "payload_too_large", f"{len(msg.payload)} bytes")
        try:
            text = msg.payload.decode("utf-8").strip()
        except UnicodeDecodeError:
            return self._rejected(msg, "not_utf8")
        if not text:
            return self._rejected(msg, "empty_payload")
        try:
            doc = _loads(text)
        except RecursionError:
            return self._rejected(msg, "invalid_json", "nested too deeply")
        except ValueError:
            if text[0] in "{[":
                return self._rejected(msg, "invalid_json")
            doc = text  # ESPHome and many others publish bare strings: 21.4, ON, nan
        readings: list[Reading] = []
        problems: list[Rejection] = []
        for spec in specs:
            try:
                readings.append(self._reading(spec, doc, msg.received_ms))
            except _Reject as exc:
                problems.append(Rejection(exc.reason, msg.topic, head_of(msg.payload), msg.received_ms,
                                          f"{spec.field or 'value'}: {exc.detail}" if exc.detail
                                          else spec.field or "value"))
        if readings:
            # Devices that report only what changed leave other fields out: not an error.
            problems = [p for p in problems if p.reason != "missing_field"]
        return Decoded(tuple(readings), tuple(problems))

    def _rejected(self, msg: RawMessage, reason: str, detail: str = "") -> Decoded:
        """Return a message-level rejection."""
        return Decoded((), (Rejection(reason, msg.topic, head_of(msg.payload), msg.received_ms, detail),))

    def _reading(self, spec: SensorSpec, doc, received_ms: int) -> Reading:
        """Return one sensor's reading from a parsed payload, or raise _Reject."""
        if spec.field:
            raw = _lookup(doc, spec.field)
        elif isinstance(doc, dict):
            raw = _lookup(doc, "value")
        else:
            raw = doc
        value = to_value(raw, spec.kind, spec.invert)
        ts_ms, device_time = received_ms, False
        if isinstance(doc, dict):
            stamp = _lookup(doc, spec.ts_field, missing=_ABSENT)
            if stamp is not _ABSENT:
                # "ts": null is a device saying it does not know the time: refuse, never guess receipt.
                ts_ms, device_time = self._timestamp(stamp, received_ms), True
        return Reading(spec, ts_ms, value, device_time)

    def _timestamp(self, stamp, received_ms: int) -> int:
        """Return a payload timestamp in ms, judged against the moment of receipt."""
        ts_ms = parse_timestamp(stamp, self.local_tz)
        if ts_ms - received_ms > self.limits.max_future_ms:
            raise _Reject("timestamp_in_future", f"{(ts_ms - received_ms) / 1000:.0f} s after receipt")
        if received_ms - ts_ms > self.limits.max_age_ms:
            raise _Reject("timestamp_too_old", f"{(received_ms - ts_ms) / 86_400_000:.1f} days before receipt")
        return ts_ms


_MISSING = object()
_ABSENT = object()


# JSON numbers are ASCII digits (Python's parser takes no others either); "[0-9][0-9]{18}" is the same
# search as "\d{19}" for them and half its time, which was four times orjson's own (bench/ingest.py).
_LONG_DIGITS = re.compile(r"[0-9][0-9]{18}")


def _loads(text: str):
    """Parse JSON: orjson for speed (a third of the decode path, bench/ingest.py), the standard parser for
    what orjson refuses and Python's JSON takes (NaN, integers beyond 64 bits, lone surrogates, deeper
    nesting), so a payload decodes to exactly what it did before, and raises what ``json.loads`` raises.
    orjson reads an integer of 20 digits or more as a float without complaint: such text goes to the
    standard parser directly (as does any run of 19 digits, in a string or a fraction: same result)."""
    if _LONG_DIGITS.search(text):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _lookup(doc, path: str, missing=_MISSING):
    """Return the value at a dotted path (list items by index); raise _Reject or return ``missing``."""
    node = doc
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isascii() and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif missing is _MISSING:
            raise _Reject("missing_field", "not in payload")
        else:
            return missing
    return node


def to_value(raw, kind_name: str, invert: bool = False) -> float:
    """Return the stored number for a payload value of one kind, or raise _Reject."""
    kind = KINDS[kind_name]
    if raw is None:
        raise _Reject("no_value", "null")
    if kind.states is not None:
        return _state_code(raw, kind.states, invert)
    if kind.switch is not None:
        # A lamp relay says ON/OFF (Tasmota POWER, Zigbee2MQTT state, Shelly output true/false).
        word = raw.strip().lower() if isinstance(raw, str) else None
        if isinstance(raw, bool) or word in _TRUE_WORDS or word in _FALSE_WORDS:
            return kind.switch[int(raw is True or word in _TRUE_WORDS)]
    if isinstance(raw, bool):
        raise _Reject("not_a_number", f"{raw!r} is not a measurement")
    if isinstance(raw, str):
        raw = _number_text(raw)
    if isinstance(raw, int) and abs(raw) > _LARGEST:
        raise _Reject("out_of_range", f"{_digits(raw)} outside {kind.low:g}..{kind.high:g} {kind.unit}".strip())
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        raise _Reject("not_a_number", type(raw).__name__)
    if not math.isfinite(value):
        raise _Reject("not_finite", repr(raw) if isinstance(raw, str) else str(value))
    if not kind.low <= value <= kind.high:
        raise _Reject("out_of_range", f"{value:g} outside {kind.low:g}..{kind.high:g} {kind.unit}".strip())
    return value


def _number_text(text: str) -> float:
    """Return the number an ASCII number text spells, or raise _Reject (unicode digits are no number)."""
    word = text.strip()
    if word.lower() in _NOT_FINITE_WORDS:
        raise _Reject("not_finite", repr(text[:40]))
    if len(word) > 64 or not _NUMBER.fullmatch(word):
        raise _Reject("not_a_number", repr(text[:40]))
    return float(word)  # "1e999" is inf: refused as not_finite by the caller


def _digits(number: int) -> str:
    """Return a short text for a huge integer (formatting it whole could raise)."""
    sign = "-" if number < 0 else ""
    return f"{sign}{number.bit_length() * 3 // 10}-digit number"


def _state_code(raw, states: dict[str, int], invert: bool) -> float:
    """Return a state sensor's code from a word, a boolean or a code number."""
    flag: bool | None = None
    if isinstance(raw, bool):
        flag = raw
    elif isinstance(raw, str):
        word = raw.strip().lower()
        if word in states:
            return float(states[word])
        if word in _TRUE_WORDS or word in _FALSE_WORDS:
            flag = word in _TRUE_WORDS
        elif _NUMBER.fullmatch(word) and len(word) <= 64:
            raw = float(word)
        else:
            raise _Reject("unknown_state", f"{printable(raw[:40])!r} (expected {', '.join(states)}, on/off)")
    if flag is not None:
        # DESIGN §3.2: true = alarm / running / grid present / open, i.e. code 1 for every state kind.
        return float(int(flag) ^ int(invert))
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):
            raise _Reject("not_finite", str(raw))
        if raw in states.values():
            return float(raw)
        shown = _digits(raw) if isinstance(raw, int) and abs(raw) > _LARGEST else f"{raw:g}"
        raise _Reject("unknown_state", f"{shown} is not one of the codes {sorted(states.values())}")
    raise _Reject("not_a_number", type(raw).__name__)


def parse_timestamp(stamp, local_tz: tzinfo = _utc_zone.utc) -> int:
    """Return ms since the epoch of an ISO 8601 text or epoch seconds/milliseconds; raise _Reject."""
    if isinstance(stamp, bool):
        raise _Reject("bad_timestamp", repr(stamp))
    if isinstance(stamp, str):
        text = stamp.strip()
        try:
            if not _NUMBER.fullmatch(text):
                raise ValueError(text)
            stamp = float(text)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                raise _Reject("bad_timestamp", repr(text[:40])) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=local_tz)
            try:
                return int(moment.timestamp() * 1000)
            except (OverflowError, ValueError):  # year 1 or 9999 in a far time zone
                raise _Reject("bad_timestamp", repr(text[:40])) from None
    if isinstance(stamp, int) and not 0 < stamp <= _LARGEST * 1000:
        raise _Reject("bad_timestamp", _digits(stamp) if abs(stamp) > _LARGEST else str(stamp))
    if isinstance(stamp, (int, float)) and 0 < stamp <= _LARGEST * 1000:  # NaN and inf fail the comparison
        return int(stamp) if stamp >= _EPOCH_MS_ABOVE else int(round(stamp * 1000))
    raise _Reject("bad_timestamp", printable(repr(stamp)[:40]))
