"""Set-up gaps of the agent itself: what keeps a rule `unknown` that is the program's business, not the farm's.

A fresh install has no alert channel yet and may lack a sensor for some houses. That is not a deviation
of the farm, and a configuration key is not advice a farmer can follow: each gap is a step in plain Dutch,
attached to the `unknown` finding it blocks and listed apart from the farm's deviations. The rule stays
`unknown` until the evidence exists.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from rules.evidence import Evidence
from rules.findings import Finding

SetupCheck = Callable[[Finding, Evidence], list[str]]


def _missing(evidence: Evidence, name: str, location: str | None) -> bool:
    """Return whether the loaded sensor inputs show no sensor of this family at the location.

    Without the input at all (an evaluation that did not load sensors) nothing can be said.
    """
    inputs = evidence.inputs.get(name)
    if inputs is None or location is None:
        return False
    return not inputs.get(location)


def _house(evidence: Evidence, location: str | None) -> str:
    """Return how the farmer names a house or egg room."""
    rooms = {r.id for r in evidence.farm.egg_rooms}
    return f"eierlokaal {location}" if location in rooms else f"stal {location}"


def _sensor(name: str, step: str) -> SetupCheck:
    """Return the check for a rule that reads one sensor family: ``step`` names the place as {place}."""
    def check(f: Finding, evidence: Evidence) -> list[str]:
        return [step.format(place=_house(evidence, f.location))] if _missing(evidence, name, f.location) else []
    return check


_light = _sensor("light", "Hang een lichtsensor (luxmeter) op ooghoogte van de hennen in {place} en koppel hem aan "
                          "ikb-agent.")
_climate = _sensor("climate", "Hang een temperatuur- en vochtsensor in {place} en koppel hem aan ikb-agent.")
_egg_room = _sensor("condensation", "Hang een temperatuur- en vochtsensor in {place} en koppel hem aan ikb-agent.")
_popholes = _sensor("pophole", "Sluit de uitloopluiken van {place} aan op ikb-agent (open/dicht).")


def _alarm(f: Finding, evidence: Evidence) -> list[str]:
    steps = []
    if _missing(evidence, "ventilation_alarm", f.location):
        steps.append(f"Sluit de alarminstallatie van de ventilatie in {_house(evidence, f.location)} aan op ikb-agent "
                     "(het alarm- of storingscontact).")
    channels = evidence.inputs.get("alert_channels")
    if channels is not None and not channels.configured:
        steps.append("Stel in hoe ikb-agent u buiten het bedrijf waarschuwt (sms, e-mail of app) en verstuur "
                     "een testbericht.")
    return steps


def _generator(f: Finding, evidence: Evidence) -> list[str]:
    gen, mains = evidence.inputs.get("generator"), evidence.inputs.get("mains")
    if gen is None and mains is None:
        return []
    if not any((gen or {}).values()) and not any((mains or {}).values()) and not evidence.inputs.get("checks"):
        return ["Sluit de melding van het noodstroomaggregaat en de netspanning aan op ikb-agent, of registreer "
                "de controles van het aggregaat in het controlelogboek."]
    return []


def _house_of(evidence: Evidence, location: str | None):
    """Return the configured house at a location, or None."""
    return next((h for h in evidence.farm.houses if h.id == location), None)


def _house_setting(attribute: str, step: str) -> SetupCheck:
    """Return the check for a rule that needs a setting of the house in the configuration."""
    def check(f: Finding, evidence: Evidence) -> list[str]:
        house = _house_of(evidence, f.location)
        missing = house is not None and getattr(house, attribute) is None
        return [step.format(place=_house(evidence, f.location))] if missing else []
    return check


_max_hens = _house_setting("max_hens", "Vul voor {place} in hoeveel hennen het stalmeetrapport toestaat.")
_range_area = _house_setting("free_range_ha", "Vul voor {place} de oppervlakte van de vrije uitloop in (hectare).")


STEPS: dict[str, SetupCheck] = {
    **{rule: _light for rule in ("G3.8.7", "G3.8.8", "G3.8.9", "G3.8.10", "G3.8.11")},
    "A3.3": _climate,
    "A3.4": _alarm,
    "A3.5": _generator,
    "E3.3": _egg_room,
    "H3.12.8": _popholes,
    "G1.2": _max_hens,
    "H3.12.1": _range_area,
}


def with_setup(findings: list[Finding], evidence: Evidence) -> list[Finding]:
    """Return the findings with the set-up steps that keep each `unknown` one unknown."""
    out = []
    for f in findings:
        check = STEPS.get(f.rule)
        steps = tuple(check(f, evidence)) if check and f.status == "unknown" else ()
        out.append(replace(f, setup=steps) if steps else f)
    return out
