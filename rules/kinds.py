"""Sensor kinds, their units, plausible ranges and the numeric codes of state sensors.

Shared by the decoder (which turns payloads into these numbers) and the
evaluators (which read them back), so both sides agree on what 1 means.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.texts import N_


@dataclass(frozen=True)
class Kind:
    """One sensor kind (DESIGN §3.2)."""

    name: str
    unit: str
    low: float  # smallest plausible value (inclusive)
    high: float  # largest plausible value (inclusive)
    states: dict[str, int] | None = None  # state word → code, for state sensors
    switch: tuple[float, float] | None = None  # measurements that may also come as on/off: (off, on) values

    @property
    def is_state(self) -> bool:
        """Return whether readings are states (stored as changes) rather than measurements."""
        return self.states is not None


# Codes: 0 is always the quiet state. Booleans map as DESIGN §3.2 says:
# ventilation_alarm true = alarm; generator true = running; mains true = grid present; pophole true = open.
VENTILATION_OK, VENTILATION_ALARM, VENTILATION_FAULT = 0, 1, 2
GENERATOR_OFF, GENERATOR_RUNNING, GENERATOR_FAULT = 0, 1, 2
MAINS_OFF, MAINS_ON = 0, 1
POPHOLE_CLOSED, POPHOLE_OPEN = 0, 1
LAMP_OFF, LAMP_ON = 0.0, 100.0

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("lux", "lx", 0.0, 200_000.0),  # direct sunlight ≈ 100 000 lx
        Kind("temperature", "°C", -40.0, 60.0),
        Kind("humidity", "%RH", 0.0, 100.0),
        Kind("nh3", "ppm", 0.0, 500.0),
        Kind("co2", "ppm", 0.0, 20_000.0),
        Kind("egg_temperature", "°C", -10.0, 50.0),
        Kind("ventilation_alarm", "", 0, 2, {"ok": VENTILATION_OK, "alarm": VENTILATION_ALARM,
                                             "fault": VENTILATION_FAULT}),
        Kind("generator", "", 0, 2, {"off": GENERATOR_OFF, "running": GENERATOR_RUNNING,
                                     "fault": GENERATOR_FAULT}),
        Kind("mains", "", 0, 1, {"off": MAINS_OFF, "on": MAINS_ON}),
        Kind("pophole", "", 0, 1, {"closed": POPHOLE_CLOSED, "open": POPHOLE_OPEN}),
        # v2: the artificial light's output (relay or dimmer): on/off, or a dim level in % (G3.8.7/G3.8.9).
        Kind("lamp", "%", 0.0, 100.0, switch=(LAMP_OFF, LAMP_ON)),
    )
}

# What each kind is called where a person reads it (the status page, `ikb-agent status`); the configuration
# keeps the codes (DESIGN §3.2).
KIND_WORDS: dict[str, str] = {
    "lux": N_("lichtsterkte"),
    "temperature": N_("temperatuur"),
    "humidity": N_("luchtvochtigheid"),
    "nh3": N_("ammoniak (NH3)"),
    "co2": N_("CO2"),
    "egg_temperature": N_("eitemperatuur"),
    "ventilation_alarm": N_("alarminstallatie ventilatie"),
    "generator": N_("noodstroomaggregaat"),
    "mains": N_("netstroom"),
    "pophole": N_("uitloopopening"),
    "lamp": N_("verlichting (lamp)"),
}


def is_alarm(kind: str, value: float) -> bool:
    """Return whether a reading needs attention now: committed and passed on without batching delay.

    A3.4: the ventilation alarm in any state but ok; A3.5: mains power gone or the generator faulty.
    """
    if kind == "ventilation_alarm":
        return value != VENTILATION_OK
    if kind == "mains":
        return value == MAINS_OFF
    if kind == "generator":
        return value == GENERATOR_FAULT
    return False


# State sensors are stored on change, plus at most one unchanged reading per this many
# milliseconds as evidence the device still speaks: a gap in a state sensor's stored
# readings longer than this plus its interval means it was silent (A3.4 heartbeat).
STATE_HEARTBEAT_MS = 60_000
