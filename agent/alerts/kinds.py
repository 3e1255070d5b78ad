"""The alert kinds, their default severities and their Dutch names.

Shared by the configuration (which validates ``[alerts.severity]``) and the
alert engine, so a kind that is not listed here cannot be configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rules.texts import N_

Severity = Literal["critical", "warning", "info"]
SEVERITIES: tuple[str, ...] = ("critical", "warning", "info")

# The subject-line word per severity: "[KRITIEK] Stal 2: ventilatie-alarm".
SEVERITY_WORDS: dict[str, str] = {"critical": N_("KRITIEK"), "warning": N_("WAARSCHUWING"), "info": N_("INFO")}


@dataclass(frozen=True)
class AlertKind:
    """One kind of alert: its default severity, Dutch name and what it comes from."""

    name: str
    severity: Severity
    label: str  # Dutch msgid, lower case, used after the location: "Stal 2: ventilatie-alarm"
    source: str  # sensor | rule | logbook | schedule
    advice: str = ""  # Dutch: what to do first


KINDS: dict[str, AlertKind] = {
    k.name: k
    for k in (
        # A3.4: the alarm must reach the farmer off the farm the moment ventilation fails.
        AlertKind("ventilation_alarm", "critical", N_("ventilatie-alarm"), "sensor",
                  "Controleer direct de ventilatie in de stal."),
        AlertKind("alarm_panel_fault", "critical", N_("storing alarminstallatie"), "sensor",
                  "De alarminstallatie meldt een storing: de ventilatie wordt mogelijk niet bewaakt."),
        AlertKind("alarm_panel_silent", "critical", N_("alarminstallatie geeft geen signaal"), "sensor",
                  "Er komt geen bericht meer van de alarminstallatie: controleer voeding en verbinding."),
        # A3.5: ventilation must keep running during a power cut.
        AlertKind("power_failure", "critical", N_("stroomuitval zonder noodstroom"), "sensor",
                  "Het noodstroomaggregaat draait niet terwijl de netstroom weg is."),
        AlertKind("generator_fault", "critical", N_("storing noodstroomaggregaat"), "sensor",
                  "Het noodstroomaggregaat meldt een storing."),
        AlertKind("sensor_offline", "warning", N_("sensor geeft geen signaal"), "sensor",
                  "Controleer batterij, bereik en voeding van de sensor."),
        # G3.8.9/G3.8.10 as they happen, from the house's lux readings and its planned dark period.
        AlertKind("lights_on_after_dark_start", "warning", N_("licht nog aan na begin donkerperiode"), "sensor",
                  "Controleer het lichtprogramma: de donkerperiode is begonnen maar het licht is aan."),
        AlertKind("lights_on_in_dark", "warning", N_("licht aan tijdens donkerperiode"), "sensor",
                  "Het licht ging aan tijdens de donkerperiode (G3.8.9: ononderbroken donker)."),
        # G3.8.8: at least 20 lux during the light period.
        AlertKind("light_too_low", "warning", N_("minder dan 20 lux tijdens lichtperiode"), "sensor",
                  "Controleer verlichting en lichtprogramma."),
        # E3.3 as it happens: the egg surface within the condensation rule's margin of the dew point.
        AlertKind("condensation_risk", "warning", N_("condensrisico in het eierlokaal"), "sensor",
                  "De eieren naderen het dauwpunt: ventileer of verwarm het eierlokaal, of laat de eieren "
                  "langzaam opwarmen."),
        # From the score (issue 4's evaluators): rules with a kind of their own.
        AlertKind("dark_too_short", "warning", N_("donkerperiode te kort"), "rule"),
        AlertKind("no_dusk", "warning", N_("geen schemerperiode"), "rule"),
        AlertKind("condensation", "warning", N_("condens op de eieren"), "rule",
                  "Controleer temperatuur en luchtvochtigheid in het eierlokaal."),
        AlertKind("deviation_major", "warning", N_("nieuwe afwijking"), "rule"),
        AlertKind("deviation_minor", "info", N_("nieuwe opmerking"), "rule"),
        # From the flock day sheet (A6.2.2 / A6.2.1).
        AlertKind("mortality", "warning", N_("verhoogde sterfte"), "logbook",
                  "Bij 0,5% of meer op twee opeenvolgende dagen of meer dan 3% per week: meld bij de NVWA "
                  "(045-5463188)."),
        AlertKind("production_drop", "warning", N_("daling voer-, water- of eiproductie"), "logbook",
                  "Bij twee opeenvolgende dagen daling: raadpleeg de dierenarts (A6.2.1)."),
        # A4.2.2: the kiosk promises the visitor who answered "ja" that the farmer is told at once.
        AlertKind("visitor_contact", "warning", N_("bezoeker met pluimveecontact (48 uur)"), "logbook",
                  "Een bezoeker antwoordde ja op de 48-uursvraag: spreek hem voordat hij de stallen in gaat en "
                  "overleg met de dierenarts."),
        AlertKind("due_tomorrow", "info", N_("morgen te doen"), "schedule"),
    )
}

# Rules whose newly appearing deviation gets a kind of its own (else deviation_major/minor).
RULE_KINDS: dict[str, str] = {"E3.3": "condensation", "G3.8.9": "dark_too_short", "G3.8.11": "no_dusk"}
