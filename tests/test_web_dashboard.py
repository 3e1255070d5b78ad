"""The dashboard: verdict, deviations first with the seed's text, dues, house tiles, live updates."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta

from agent.config import SensorSection
from agent.evaluation.score import score_window
from agent.logbooks.assessments import record_answer
from agent.logbooks.documents import record_document
from agent.store.readings import insert_readings, sync_sensors, to_ms
from agent.store.scores import record_score
from rules.catalogue import load_catalogue
from rules.scoring import score

import pytest

from .web_fixtures import NOW, accounts, app, client_for, clock, db_path, farmer, web_store  # noqa: F401
from .web_fixtures import with_egg_room_sensors


@pytest.fixture
def farm_config(config_file):
    """The test farm with the egg room's sensors configured (the tile judges configured sensors)."""
    return with_egg_room_sensors(config_file)

WATER_D = load_catalogue().get("A6.3.1").deviation_text("D")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_fresh_database_is_incomplete_with_zero_deviations_and_no_data_tiles(farmer):
    text = _text(farmer.get("/").get_data(as_text=True))
    # Nothing is proven yet: a fresh install is incomplete, not in deviation; no points anywhere.
    assert "Onvolledig" in text and "strafpunten" not in text and "punten" not in text.replace("punt)", "")
    categories = text[text.index("Afwijkingen per categorie"):]
    assert "afwijking B 0 Weging B (15 punt)" in categories
    assert "afwijking D 0 Weging D (- 20 punt plus herstel voor afgifte certificaat)" in categories
    assert "KO-afwijking 0 Weging KO (schorsing)" in categories
    assert "Afwijkingen (0)" in text
    assert "Donkerperiode afgelopen nacht geen gegevens" in text
    assert "Alarminstallatie gehoord geen gegevens" in text
    assert "Marge tot dauwpunt geen gegevens" in text
    # House 2 has no mechanical ventilation: the alarm line says so in words.
    assert "geen mechanische ventilatie" in text


def test_a_seeded_deviation_shows_first_with_rule_text_location_when_and_evidence(farmer, web_store, farm_config):
    record_document(web_store, kind="water_test", issued_on=(NOW - timedelta(days=400)).date(), recorded_by="jan",
                    now=NOW - timedelta(days=400))
    record_answer(web_store, load_catalogue(), rule_id="A4.1.6", status="ok", note="", answered_by="jan", now=NOW)
    text = _text(farmer.get("/").get_data(as_text=True))
    assert "Herstel vereist vóór afgifte certificaat" in text and "afwijking D 1 Weging D" in text
    deviations = text[text.index("Afwijkingen (1)"):text.index("Binnenkort te doen")]
    assert "afwijking D A6.3.1" in deviations and WATER_D in deviations
    assert "Bewijs: Drinkwateronderzoek (HOSOWO) van" in deviations
    assert "35 dagen verlopen" in deviations  # the occurrence: when, and how long
    due = text[text.index("Binnenkort te doen"):text.index("Stallen en eierlokalen")]
    assert "A6.3.1" in due and "te laat" in due


def _agent_snapshot(store, config, at, summary="Testbevinding van de agent"):
    """Store, as `run` does, a score with a KO on A1.1 that only the agent's data shows."""
    result = score_window(store, config, at=at, since=at - timedelta(days=30))
    findings = [replace(f, status="KO", summary=summary) if f.rule == "A1.1" else f for f in result.findings]
    record_score(store, score(findings, at=at, since=result.since, due=result.due), at)


def test_the_page_shows_the_agents_snapshot_and_evaluates_nothing_itself(farmer, web_store, farm_config, clock, app):
    _agent_snapshot(web_store, farm_config, NOW)
    clock.now = NOW + timedelta(minutes=2)
    text = _text(farmer.get("/").get_data(as_text=True))
    assert "Testbevinding van de agent" in text and "door de agent" in text
    assert "Schorsing: KO-afwijking" in text and "De agent draait niet" not in text
    assert app.extensions["ikb"].scores.value is None  # the page computed no score of its own
    api = farmer.get("/api/v1/score").json
    assert (api["evaluated_by"], api["verdict"]) == ("agent", "suspension")
    assert datetime.fromisoformat(api["at"].replace("Z", "+00:00")) == NOW


def test_the_page_says_the_agent_is_not_running_when_the_snapshot_is_stale(farmer, web_store, farm_config, clock,
                                                                           app):
    _agent_snapshot(web_store, farm_config, NOW)
    # Ten minutes later the agent has not stored a score again: it is not running.
    clock.now = NOW + timedelta(minutes=10)
    text = _text(farmer.get("/").get_data(as_text=True))
    assert ("De agent draait niet sinds 1 nov 2026 13:00: de beoordeling hieronder is van 1 nov 2026 "
            "13:10, berekend door deze pagina uit de opgeslagen gegevens.") in text
    # The page's own score, from the stored evidence: the agent's KO is not in the evidence.
    assert "Testbevinding van de agent" not in text and "door deze pagina" in text
    assert farmer.get("/api/v1/score").json["evaluated_by"] == "web"
    # The agent runs again: its snapshot is shown, and the warning is gone.
    _agent_snapshot(web_store, farm_config, clock.now, summary="Weer beoordeeld door de agent")
    text = _text(farmer.get("/").get_data(as_text=True))
    assert "Weer beoordeeld door de agent" in text and "De agent draait niet" not in text


def test_without_any_snapshot_the_page_says_the_agent_has_not_evaluated_yet(farmer):
    text = _text(farmer.get("/").get_data(as_text=True))
    assert ("De agent heeft nog geen beoordeling opgeslagen: de beoordeling hieronder is van "
            "1 nov 2026 13:00, berekend door deze pagina uit de opgeslagen gegevens.") in text


def test_the_live_fragment_is_polled_and_reflects_new_data(farmer, web_store, app):
    first = farmer.get("/live").get_data(as_text=True).lstrip()
    assert first.startswith('<div id="live" hx-get="/live" hx-trigger="every 30s"')
    assert "Afwijkingen (0)" in first
    record_answer(web_store, load_catalogue(), rule_id="A4.1.10", status="C", note="rommel", answered_by="jan",
                  now=NOW)
    app.extensions["ikb"].scores.invalidate()
    assert "Afwijkingen (1)" in farmer.get("/live").get_data(as_text=True)


def _sensors(store):
    """Register house 1's configured lux sensor, an alarm panel and the egg room's three probes."""
    return sync_sensors(store, [
        SensorSection(topic="zigbee2mqtt/stal1_lux", field="illuminance_lux", kind="lux", location="1"),
        SensorSection(topic="stal1/alarm", kind="ventilation_alarm", location="1"),
        SensorSection(topic="ei/t", kind="temperature", location="E"),
        SensorSection(topic="ei/rh", kind="humidity", location="E"),
        SensorSection(topic="ei/egg", kind="egg_temperature", location="E"),
    ], NOW - timedelta(days=3))


def _insert(store, rows):
    with store.transaction() as db:
        insert_readings(db, rows)


def test_tiles_show_dark_period_light_hours_alarm_and_dew_point_margin(farmer, web_store):
    sensors = {k[0]: v.id for k, v in _sensors(web_store).items()}
    # Lux every 5 minutes since yesterday noon (NOW is 13:00 Amsterdam): dark 22:00–06:00 local = 21:00–05:00 UTC.
    start = NOW - timedelta(hours=25)
    rows, moment = [], start
    while moment <= NOW:
        dark = (moment.hour >= 21 or moment.hour < 5) and moment.date() != start.date() or moment.hour >= 21
        rows.append((sensors["zigbee2mqtt/stal1_lux"], to_ms(moment), 0.1 if dark else 40.0))
        moment += timedelta(minutes=5)
    rows.append((sensors["stal1/alarm"], to_ms(NOW - timedelta(seconds=40)), 0))
    rows += [(sensors["ei/t"], to_ms(NOW - timedelta(minutes=1)), 12.0),
             (sensors["ei/rh"], to_ms(NOW - timedelta(minutes=1)), 90.0),
             (sensors["ei/egg"], to_ms(NOW - timedelta(minutes=1)), 9.0)]
    _insert(web_store, rows)
    text = _text(farmer.get("/").get_data(as_text=True))
    assert "Donkerperiode afgelopen nacht in orde 8 u 0 min (22:00–06:00)" in text
    assert "Lichturen in orde 16,0 uur" in text
    assert "Alarminstallatie gehoord in orde 40 s geleden" in text
    # Dew point of 12 °C at 90 %RH is 10,4 °C: an egg at 9 °C gets wet.
    assert "Marge tot dauwpunt condens -1,4 °C" in text


def test_the_egg_room_tile_warns_within_the_rooms_margin_not_a_fixed_one(farmer, web_store):
    """E3.3: within the room's margin (1 °C by default) is a risk; more than that is dry, whatever the tile thinks."""
    sensors = {k[0]: v.id for k, v in _sensors(web_store).items()}
    for egg, word in ((11.0, "condensrisico 0,6 °C"), (12.0, "droog 1,6 °C")):
        _insert(web_store, [(sensors["ei/t"], to_ms(NOW - timedelta(minutes=1)), 12.0),
                            (sensors["ei/rh"], to_ms(NOW - timedelta(minutes=1)), 90.0),
                            (sensors["ei/egg"], to_ms(NOW - timedelta(minutes=1)), egg)])
        assert f"Marge tot dauwpunt {word}" in _text(farmer.get("/").get_data(as_text=True))
        with web_store.transaction() as db:
            db.execute("DELETE FROM readings")


def test_tiles_warn_in_words_when_the_panel_is_silent_or_the_night_short(farmer, web_store):
    sensors = {k[0]: v.id for k, v in _sensors(web_store).items()}
    rows, moment = [], NOW - timedelta(hours=25)
    while moment <= NOW:
        rows.append((sensors["zigbee2mqtt/stal1_lux"], to_ms(moment), 0.2 if 23 <= moment.hour or moment.hour < 5 else 30.0))
        moment += timedelta(minutes=5)
    rows.append((sensors["stal1/alarm"], to_ms(NOW - timedelta(minutes=25)), 0))
    _insert(web_store, rows)
    text = _text(farmer.get("/").get_data(as_text=True))
    assert "Donkerperiode afgelopen nacht korter dan 8 uur 6 u 0 min" in text
    assert "Lichturen meer dan 16 uur 18,0 uur" in text
    assert "Alarminstallatie gehoord stil: functioneert niet 25 min geleden" in text


def test_generator_tile_reads_the_checks_logbook(farmer, web_store):
    entry = {"date": "2026-10-20", "item": "generator", "result": "ok", "checked_by": "jan", "notes": ""}
    with web_store.transaction() as db:
        db.execute("INSERT INTO logbook(kind, entry, recorded_at, recorded_by, prev_hash, hash, keep_until)"
                   " VALUES ('checks', ?, ?, 'jan', '', 'h1', '2028-11-01')", [json.dumps(entry), NOW.isoformat()])
    text = _text(farmer.get("/").get_data(as_text=True))
    assert "Noodstroom laatst getest in orde 20 oktober 2026" in text


def test_a_house_whose_flaps_open_without_power_shows_no_generator_test_due(app, web_store, farm_config):
    """A3.5/A3.6: flaps that open by themselves need no generator; the tile says what the score says."""
    from webui.tiles import all_tiles

    house = farm_config.houses[0].model_copy(update={"flaps_open_on_power_failure": True})
    flaps = farm_config.model_copy(update={"houses": [house, *farm_config.houses[1:]]})
    with app.test_request_context():
        [tile] = [t for t in all_tiles(web_store, flaps, NOW) if t.id == house.id]
    [generator] = [line for line in tile.lines if line.label == "Noodstroom laatst getest"]
    assert (generator.level, generator.word) == ("nvt", "niet nodig: ventilatieopeningen openen stroomloos")
    result = score_window(web_store, flaps, at=NOW, since=NOW - timedelta(days=30))
    assert {f.status for f in result.findings if f.rule == "A3.6" and f.location == house.id} == {"nvt"}
