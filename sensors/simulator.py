"""A simulated laying-hen farm: what its sensors publish, as pure functions of time.

Two houses and an egg room, with devices of the common firmwares so the whole
decode path is exercised:

- house 1 (free range): Zigbee2MQTT lux meter, alarm panel sending JSON with
  ``ts`` every 30 s, Shelly Gen2 climate sensor (NotifyStatus), NH3 and CO2
  meters, Zigbee2MQTT door contact on the pop-hole (true = closed);
- house 2 (barn): lux meter and alarm panel as JSON, ESPHome climate sensor
  (bare strings, no device time);
- egg room E: Tasmota with an AM2301 (air) and a DS18B20 probe in an egg tray;
- the farm's generator and mains relay (Shelly Pro input), reported at house 1.

What happens (days are farm-local; see :class:`FarmModel` for the numbers):
light programs with dawn and dusk ramps (house 2 optionally faulty in turn:
no dusk, lights on in the dark, a short night); the alarm panel's heartbeat
and an occasional alarm; a weekly generator test on Monday morning and a mains
outage every ninth day with the generator taking over; egg-room climate with
a condensation spell every fifth day; barn climate with a daily rhythm;
pop-hole opened late morning, closed in the evening.

Values are deterministic: the same moment always gives the same payload, so a
trace, a broker stream and a test agree.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/Amsterdam")


def _noise(key: str, t: float) -> float:
    """Return deterministic noise in [-1, 1] for a sensor at a moment."""
    x = math.sin((hash_key(key) % 10_000) * 12.9898 + t * 0.0783) * 43758.5453
    return (x - math.floor(x)) * 2 - 1


def hash_key(key: str) -> int:
    """Return a stable integer for a string (Python's hash() changes per process)."""
    h = 2166136261
    for ch in key.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


def _local(t: datetime) -> datetime:
    """Return the farm-local wall time of a moment."""
    return t.astimezone(TZ)


def _hours(t: datetime) -> float:
    """Return the farm-local hour of day as a float (14.5 = 14:30)."""
    lt = _local(t)
    return lt.hour + lt.minute / 60 + lt.second / 3600


def _day(t: datetime) -> int:
    """Return the farm-local day number (days since 2020-01-01)."""
    return (_local(t).date() - date(2020, 1, 1)).days


def _ramp(h: float, start: float, end: float) -> float:
    """Return 0 before start, 1 after end, linear in between."""
    if h <= start:
        return 0.0
    if h >= end:
        return 1.0
    return (h - start) / (end - start)


@dataclass(frozen=True)
class FarmModel:
    """The simulated farm's behaviour (all times farm-local hours)."""

    faulty_house: str | None = "2"  # whose light program misbehaves in turn; None: none
    dawn: float = 4.5  # lights start ramping up
    ramp: float = 0.5  # dawn and dusk ramps, hours
    dusk: float = 19.5  # lights start dimming: 16 h of light incl. ramps, 8.5 h dark
    light_lux: float = 32.0
    dark_lux: float = 0.1
    alarm_every_days: int = 4  # house 1's panel alarms for a few minutes on these days
    outage_every_days: int = 9
    condensation_every_days: int = 5

    # ------------------------------------------------------------------ light

    def lux(self, house: str, t: datetime) -> float:
        """Return the light intensity in a house."""
        h, day = _hours(t), _day(t)
        dawn, dusk, ramp = self.dawn, self.dusk, self.ramp
        fault = day % 3 if house == self.faulty_house else None
        if fault == 2:
            dawn = 1.5  # short night: lights already at 01:30 (only 6 h dark)
        level = _ramp(h, dawn, dawn + ramp) * (1 - _ramp(h, dusk, dusk + ramp))
        if fault == 0 and h >= dusk:
            level = 1.0 if h < dusk + ramp else 0.0  # no dusk: full light, then off at once
        if fault == 1 and 1.0 <= h < 1.33:
            level = 1.0  # lights on in the dark for 20 minutes
        noise = _noise(f"lux{house}", t.timestamp()) * (1.5 if level > 0.5 else 0.05)
        return round(max(0.0, self.dark_lux + level * (self.light_lux - self.dark_lux) + noise), 1)

    # ------------------------------------------------------------------ alarms, power

    def ventilation(self, house: str, t: datetime) -> str:
        """Return the alarm panel state: an alarm of 4 minutes at 14:10 every few days in house 1."""
        if house == "1" and _day(t) % self.alarm_every_days == 2 and 14 + 10 / 60 <= _hours(t) < 14 + 14 / 60:
            return "alarm"
        return "ok"

    def mains(self, t: datetime) -> bool:
        """Return whether grid power is present: a 15-minute outage at 03:00 every ninth day."""
        return not (_day(t) % self.outage_every_days == 4 and 3.0 <= _hours(t) < 3.25)

    def generator(self, t: datetime) -> str:
        """Return the generator state: the weekly test (Monday 10:00-10:20) and covering outages."""
        h, lt = _hours(t), _local(t)
        if lt.weekday() == 0 and 10.0 <= h < 10 + 20 / 60:
            return "running"
        if _day(t) % self.outage_every_days == 4 and 3.0 + 0.5 / 60 <= h < 3.25 + 2 / 60:
            return "running"  # starts 30 s into the outage, runs 2 minutes past its end
        return "off"

    # ------------------------------------------------------------------ climate

    def barn(self, house: str, t: datetime) -> dict[str, float]:
        """Return a house's temperature, humidity, NH3 and CO2."""
        h, ts = _hours(t), t.timestamp()
        daily = math.sin((h - 9) / 24 * 2 * math.pi)
        return {
            "temperature": round(20.5 + 2.0 * daily + 0.3 * _noise(f"t{house}", ts), 1),
            "humidity": round(62 - 6 * daily + 2 * _noise(f"h{house}", ts), 1),
            "nh3": round(max(0.0, 9 - 3 * daily + 1.5 * _noise(f"n{house}", ts)), 1),
            "co2": round(1800 - 450 * daily + 80 * _noise(f"c{house}", ts)),
        }

    def egg_room(self, t: datetime) -> dict[str, float]:
        """Return the egg room's air temperature, humidity and egg-probe temperature.

        Every fifth day from 06:00 to 09:00 warm humid air comes in while the eggs stay
        cold: the dew point rises above the egg surface (E3.3 condensation).
        """
        h, ts = _hours(t), t.timestamp()
        daily = math.sin((h - 10) / 24 * 2 * math.pi)
        air, hum = 15.5 + 0.8 * daily, 72 + 3 * daily
        egg = 15.0 + 0.4 * math.sin((h - 13) / 24 * 2 * math.pi)
        if _day(t) % self.condensation_every_days == 3:
            spell = _ramp(h, 6.0, 6.5) * (1 - _ramp(h, 8.5, 9.0))
            air, hum, egg = air + 4.0 * spell, hum + 22 * spell, egg - 1.0 * spell
        return {"temperature": round(air + 0.1 * _noise("ea", ts), 1),
                "humidity": round(min(99.0, hum + 0.5 * _noise("eh", ts)), 1),
                "egg_temperature": round(egg + 0.05 * _noise("ee", ts), 2)}

    def pophole_open(self, t: datetime) -> bool:
        """Return whether house 1's pop-hole is open: 10:15 to 18:45."""
        return 10.25 <= _hours(t) < 18.75


# ---------------------------------------------------------------------- devices


@dataclass(frozen=True)
class SimSensor:
    """One [[sensors]] entry the simulated farm needs."""

    topic: str
    kind: str
    location: str
    field: str | None = None
    ts_field: str | None = None
    invert: bool = False
    interval: float | None = None
    name: str | None = None


@dataclass(frozen=True)
class Device:
    """One simulated device: a topic, how often it publishes, and how it renders its payload."""

    name: str
    interval_s: int
    render: Callable[[FarmModel, datetime], dict[str, bytes]]  # topic → payload at a moment
    sensors: tuple[SimSensor, ...]
    device_time: bool = True  # its payloads carry their own timestamp
    offset_s: int = 0


def _iso(t: datetime) -> str:
    """Return a UTC ISO 8601 timestamp with milliseconds."""
    return t.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _js(obj) -> bytes:
    """Return compact JSON bytes."""
    return json.dumps(obj, separators=(",", ":")).encode()


def _z2m_lux(m: FarmModel, t: datetime) -> dict[str, bytes]:
    lux = m.lux("1", t)
    return {"zigbee2mqtt/stal1_lux": _js({"battery": 97, "illuminance": int(lux * 3.1), "illuminance_lux": lux,
                                          "linkquality": 120, "voltage": 2995, "last_seen": _iso(t)})}


def _panel(house: str, topic: str) -> Callable[[FarmModel, datetime], dict[str, bytes]]:
    def render(m: FarmModel, t: datetime) -> dict[str, bytes]:
        return {topic: _js({"value": m.ventilation(house, t), "ts": _iso(t)})}
    return render


def _lux_json(m: FarmModel, t: datetime) -> dict[str, bytes]:
    return {"ikb/2/lux": _js({"value": m.lux("2", t), "ts": int(t.timestamp())})}


def _shelly_climate(m: FarmModel, t: datetime) -> dict[str, bytes]:
    c = m.barn("1", t)
    return {"shellyhtg3-stal1/events/rpc": _js({
        "src": "shellyhtg3-stal1", "dst": "shellyhtg3-stal1/events", "method": "NotifyStatus",
        "params": {"ts": round(t.timestamp(), 2), "temperature:0": {"id": 0, "tC": c["temperature"],
                                                                    "tF": round(c["temperature"] * 1.8 + 32, 1)},
                   "humidity:0": {"id": 0, "rh": c["humidity"]}}})}


def _gas(m: FarmModel, t: datetime) -> dict[str, bytes]:
    c = m.barn("1", t)
    return {"ikb/1/nh3": _js({"value": c["nh3"], "ts": _iso(t)}),
            "ikb/1/co2": _js({"value": c["co2"], "ts": _iso(t)})}


def _esphome_climate(m: FarmModel, t: datetime) -> dict[str, bytes]:
    c = m.barn("2", t)
    return {"stal2/sensor/temperatuur/state": f"{c['temperature']:.1f}".encode(),
            "stal2/sensor/luchtvochtigheid/state": f"{c['humidity']:.1f}".encode()}


def _tasmota_egg_room(m: FarmModel, t: datetime) -> dict[str, bytes]:
    e = m.egg_room(t)
    local = _local(t).replace(tzinfo=None).isoformat(timespec="seconds")
    return {"tele/eierlokaal/SENSOR": _js({
        "Time": local, "AM2301": {"Temperature": e["temperature"], "Humidity": e["humidity"]},
        "DS18B20": {"Id": "01144A0CB2AA", "Temperature": e["egg_temperature"]}, "TempUnit": "C"})}


def _power(m: FarmModel, t: datetime) -> dict[str, bytes]:
    return {"shellypro1-aggregaat/status/input:0": _js({"id": 0, "state": m.mains(t), "ts": round(t.timestamp(), 2)}),
            "aggregaat/status": _js({"value": m.generator(t), "ts": _iso(t)})}


def _pophole(m: FarmModel, t: datetime) -> dict[str, bytes]:
    return {"zigbee2mqtt/stal1_luik": _js({"battery": 100, "contact": not m.pophole_open(t), "linkquality": 90,
                                           "last_seen": _iso(t)})}


DEVICES: tuple[Device, ...] = (
    Device("luxmeter stal 1 (Zigbee2MQTT)", 60, _z2m_lux, (
        SimSensor("zigbee2mqtt/stal1_lux", "lux", "1", "illuminance_lux", "last_seen", name="Luxmeter stal 1"),)),
    Device("luxmeter stal 2", 60, _lux_json, (SimSensor("ikb/2/lux", "lux", "2", name="Luxmeter stal 2"),),
           offset_s=7),
    Device("alarminstallatie stal 1", 30, _panel("1", "stal1/ventilatie/alarm"), (
        SimSensor("stal1/ventilatie/alarm", "ventilation_alarm", "1", interval=30, name="Alarminstallatie stal 1"),),
        offset_s=3),
    Device("alarminstallatie stal 2", 30, _panel("2", "stal2/ventilatie/alarm"), (
        SimSensor("stal2/ventilatie/alarm", "ventilation_alarm", "2", interval=30, name="Alarminstallatie stal 2"),),
        offset_s=11),
    Device("klimaat stal 1 (Shelly H&T Gen3)", 60, _shelly_climate, (
        SimSensor("shellyhtg3-stal1/events/rpc", "temperature", "1", "params.temperature:0.tC", "params.ts"),
        SimSensor("shellyhtg3-stal1/events/rpc", "humidity", "1", "params.humidity:0.rh", "params.ts")),
        offset_s=17),
    Device("gasmeter stal 1", 120, _gas, (SimSensor("ikb/1/nh3", "nh3", "1"), SimSensor("ikb/1/co2", "co2", "1")),
           offset_s=23),
    Device("klimaat stal 2 (ESPHome)", 60, _esphome_climate, (
        SimSensor("stal2/sensor/temperatuur/state", "temperature", "2"),
        SimSensor("stal2/sensor/luchtvochtigheid/state", "humidity", "2")), device_time=False, offset_s=29),
    Device("eierlokaal (Tasmota)", 60, _tasmota_egg_room, (
        SimSensor("tele/eierlokaal/SENSOR", "temperature", "E", "AM2301.Temperature", "Time"),
        SimSensor("tele/eierlokaal/SENSOR", "humidity", "E", "AM2301.Humidity", "Time"),
        SimSensor("tele/eierlokaal/SENSOR", "egg_temperature", "E", "DS18B20.Temperature", "Time",
                  name="Eiertemperatuur (sonde in eierrek)")), offset_s=31),
    Device("noodstroom (Shelly Pro + aggregaat)", 60, _power, (
        SimSensor("shellypro1-aggregaat/status/input:0", "mains", "1", "state", interval=60, name="Netspanning"),
        SimSensor("aggregaat/status", "generator", "1", interval=60, name="Noodstroomaggregaat")), offset_s=37),
    Device("uitloopluik stal 1 (Zigbee2MQTT)", 120, _pophole, (
        SimSensor("zigbee2mqtt/stal1_luik", "pophole", "1", "contact", "last_seen", invert=True,
                  name="Uitloopluik stal 1"),), offset_s=41),
)

HOUSES = (("1", "free_range", "Stal 1 (vrije uitloop)"), ("2", "barn", "Stal 2 (scharrel)"))
EGG_ROOMS = (("E", "Eierlokaal"),)


@dataclass(order=True)
class _Next:
    at: float
    index: int
    device: Device = field(compare=False)


def messages(model: FarmModel, start: datetime, end: datetime, devices: tuple[Device, ...] = DEVICES
             ) -> Iterator[tuple[datetime, Device, str, bytes]]:
    """Yield (moment, device, topic, payload) of every message in [start, end), in time order."""
    import heapq

    heap: list[_Next] = []
    for i, d in enumerate(devices):
        first = math.ceil((start.timestamp() - d.offset_s) / d.interval_s) * d.interval_s + d.offset_s
        heap.append(_Next(first, i, d))
    heapq.heapify(heap)
    end_s = end.timestamp()
    while heap and heap[0].at < end_s:
        nxt = heapq.heappop(heap)
        moment = datetime.fromtimestamp(nxt.at, timezone.utc)
        for topic, payload in nxt.device.render(model, moment).items():
            yield moment, nxt.device, topic, payload
        nxt.at += nxt.device.interval_s
        heapq.heappush(heap, nxt)


def farm_toml(*, mqtt_host: str = "127.0.0.1", mqtt_port: int = 1883, db_path: str = "ikb-agent.db",
              web_port: int = 8080, client_id: str = "ikb-agent", name: str = "Demobedrijf De Hoeve",
              devices: tuple[Device, ...] = DEVICES) -> str:
    """Return the configuration (TOML) of the simulated farm: its houses, egg room and every sensor."""
    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    lines = [
        "# The simulated farm of `ikb-agent simulate` (written by --write-config or `ikb-agent demo`).",
        "[farm]", f"name = {q(name)}", 'kip_number = "123456"', "latitude = 52.10", "longitude = 5.60",
        'timezone = "Europe/Amsterdam"', "",
    ]
    for hid, housing, label in HOUSES:
        lines += ["[[houses]]", f"id = {q(hid)}", f"housing = {q(housing)}", "mechanical_ventilation = true",
                  f"name = {q(label)}", ""]
    for rid, label in EGG_ROOMS:
        lines += ["[[egg_rooms]]", f"id = {q(rid)}", f"name = {q(label)}", ""]
    lines += ["[mqtt]", f"host = {q(mqtt_host)}", f"port = {mqtt_port}", f"client_id = {q(client_id)}", "",
              "[storage]", f"path = {q(db_path)}", "", "[web]", 'host = "127.0.0.1"', f"port = {web_port}", ""]
    for d in devices:
        lines.append(f"# {d.name}: every {d.interval_s} s")
        for s in d.sensors:
            lines += ["[[sensors]]", f"topic = {q(s.topic)}", f"kind = {q(s.kind)}", f"location = {q(s.location)}"]
            if s.field:
                lines.append(f"field = {q(s.field)}")
            if s.ts_field:
                lines.append(f"ts_field = {q(s.ts_field)}")
            if s.invert:
                lines.append("invert = true")
            if s.interval:
                lines.append(f"interval = {s.interval:g}")
            if s.name:
                lines.append(f"name = {q(s.name)}")
            lines.append("")
    return "\n".join(lines)


def catch_up_moment(start: datetime, speed: float, elapsed_s: float, now: datetime) -> datetime:
    """Return the simulated moment after ``elapsed_s`` real seconds: ``speed`` times faster, never past ``now``.

    A simulation that starts in the past catches up with the present and then runs in
    real time: devices stamp their payloads with simulated time, and the agent refuses
    stamps from the future (DESIGN §3.4: judged against the moment of receipt).
    ``speed <= 0`` means as fast as possible.
    """
    if speed <= 0:
        return now
    return min(now, start + timedelta(seconds=elapsed_s * speed))


@dataclass
class StreamStats:
    """What a publishing run did."""

    published: int = 0
    skipped: int = 0  # receive-time devices while catching up: their payloads carry no time
    simulated_until: datetime | None = None


RECEIVE_TIME_SLACK_S = 5.0  # a device without its own timestamp is only sent when this close to real time


def publish_stream(publish: Callable[[str, bytes], object], model: FarmModel, start: datetime, *, speed: float,
                   stop, end: datetime | None = None, now: Callable[[], datetime] | None = None,
                   on_caught_up: Callable[[StreamStats], None] | None = None) -> StreamStats:
    """Publish the farm's messages from ``start``: ``speed`` times real time until the present, then live.

    Stops at ``end`` (simulated) or when ``stop`` (a threading.Event) is set.
    """
    import time as _time

    clock = now or (lambda: datetime.now(timezone.utc))
    stats = StreamStats()
    t0 = _time.monotonic()
    caught_up = False
    horizon = end or datetime.max.replace(tzinfo=timezone.utc)
    for moment, device, topic, payload in messages(model, start, horizon):
        if not caught_up and moment >= clock() - timedelta(seconds=RECEIVE_TIME_SLACK_S):
            caught_up = True  # the history is sent: from here on, live
            if on_caught_up:
                on_caught_up(stats)
        while True:
            real = clock()
            sim = catch_up_moment(start, speed, _time.monotonic() - t0, real)
            if moment <= sim:
                break
            behind = (moment - sim).total_seconds()
            wait = behind / speed if speed > 0 and sim < real else behind
            if stop.wait(min(max(wait, 0.001), 0.5)):
                return stats
        if stop.is_set():
            return stats
        if not device.device_time and (clock() - moment).total_seconds() > RECEIVE_TIME_SLACK_S:
            stats.skipped += 1
            continue
        publish(topic, payload)
        stats.published += 1
        stats.simulated_until = moment
    return stats


def trace_messages(model: FarmModel, start: datetime, end: datetime) -> Iterator[tuple[int, str, bytes]]:
    """Yield (receipt ms, topic, payload) of every message in [start, end): a trace (DESIGN §3.4)."""
    for moment, _device, topic, payload in messages(model, start, end):
        yield int(moment.timestamp() * 1000), topic, payload
