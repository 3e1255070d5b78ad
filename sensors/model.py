"""Plain, frozen data passed along the ingest path: raw messages, sensors, readings, rejections.

Every MQTT message (and every trace line) becomes a :class:`RawMessage` at the
boundary, before anyone else sees it; the decoder turns it into
:class:`Reading` and :class:`Rejection` values. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as received: topic, payload bytes and the moment of receipt.

    ``mid``/``qos``/``dup``/``generation`` identify a live MQTT delivery so it can
    be acknowledged after commit; a trace line has ``qos == 0`` and needs none.
    """

    topic: str
    payload: bytes
    received_ms: int
    mid: int = 0
    qos: int = 0
    dup: bool = False
    retain: bool = False
    generation: int = 0  # which connection delivered it: acks go back on that one only


@dataclass(frozen=True, slots=True)
class SensorSpec:
    """One configured value: where it arrives, how to read it, what it measures."""

    id: int  # the stored sensor's id; opaque to sensors/
    topic: str
    field: str  # dotted path into a JSON object; '' = the payload is the value (or its "value")
    kind: str
    location: str
    ts_field: str = "ts"  # dotted path of the device's own timestamp, when it sends one
    invert: bool = False  # boolean state inputs mean the opposite (a door contact: true = closed)


@dataclass(frozen=True, slots=True)
class Reading:
    """A decoded, validated value of one sensor at one moment."""

    sensor: SensorSpec
    ts_ms: int
    value: float
    device_time: bool  # True when ts came from the payload, False when it is the receive time


@dataclass(frozen=True, slots=True)
class Rejection:
    """Input that was not stored, with its reason (a stable identifier) and the evidence."""

    reason: str
    topic: str
    head: str  # the first bytes of the payload (or trace line), for the dead-letter table
    at_ms: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Decoded:
    """What one message yielded: readings, and rejections with reasons."""

    readings: tuple[Reading, ...]
    rejections: tuple[Rejection, ...]
