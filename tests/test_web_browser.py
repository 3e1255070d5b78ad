"""End to end in real headless Chromium: log in, read the dashboard, a refused form, the auditor, log out.

The web server is the production one (waitress) on a free port, in a thread.
Screenshots go to the test's temp folder; with IKB_SCREENSHOTS=1 they are also
copied to docs/screenshots/ (the README shows those).
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from agent.config import SensorSection
from agent.logbooks.assessments import record_answer
from agent.logbooks.documents import record_document
from agent.store.connection import open_store
from agent.store.readings import insert_readings, sync_sensors, to_ms
from rules.catalogue import load_catalogue
from rules.logbooks import LOGBOOKS

from .conftest import REPO
from .web_fixtures import NOW, PASSWORD, accounts, clock, db_path, farm_config  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
WATER_D = load_catalogue().get("A6.3.1").deviation_text("D")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the Debian chromium package")


def seed_farm(store) -> None:
    """Give the demo farm something to show: deviations, three nights of light, an alarm panel, an egg room."""
    record_document(store, kind="water_test", issued_on=(NOW - timedelta(days=400)).date(), recorded_by="jan",
                    now=NOW - timedelta(days=400))
    record_document(store, kind="health_plan", issued_on=(NOW - timedelta(days=320)).date(), recorded_by="jan",
                    now=NOW - timedelta(days=320))
    catalogue = load_catalogue()
    for rule in ("A1.1", "A4.1.6", "A4.2.1"):
        record_answer(store, catalogue, rule_id=rule, status="ok", note="", answered_by="jan", now=NOW)
    sensors = sync_sensors(store, [
        # The configured lux sensor (tests/conftest.py), so the sensor rules judge its nights too.
        SensorSection(topic="zigbee2mqtt/stal1_lux", kind="lux", location="1", field="illuminance_lux"),
        SensorSection(topic="stal1/alarm", kind="ventilation_alarm", location="1"),
        SensorSection(topic="ei/t", kind="temperature", location="E"),
        SensorSection(topic="ei/rh", kind="humidity", location="E"),
    ], NOW - timedelta(days=4))
    ids = {k[0]: v.id for k, v in sensors.items()}
    rows, moment = [], NOW - timedelta(days=3)
    while moment <= NOW:
        local_h = (moment.hour + 1) % 24 + moment.minute / 60  # Amsterdam in November: UTC+1
        short = (moment + timedelta(hours=1)).day == 1
        lux = 8.0 if 21.5 <= local_h < 22 else 35.0 + 5 * (moment.minute % 3) if (4 if short else 6) <= local_h < 21.5 else 0.1
        rows += [(ids["zigbee2mqtt/stal1_lux"], to_ms(moment + timedelta(minutes=m)), lux) for m in range(5)
                 if moment + timedelta(minutes=m) <= NOW]
        rows.append((ids["ei/t"], to_ms(moment), 11.5 + 1.5 * ((moment.hour % 12) / 12)))
        rows.append((ids["ei/rh"], to_ms(moment), 96.0 if 2 <= moment.hour < 6 else 70.0))
        moment += timedelta(minutes=5)
    rows.append((ids["stal1/alarm"], to_ms(NOW - timedelta(seconds=35)), 0))
    with store.transaction() as db:
        insert_readings(db, rows)


def seeded_server(farm_config, db_path, test_config: dict):
    """Yield the production server (waitress) on a free port with a seeded farm; stop it afterwards."""
    from webui import make_server

    store = open_store(db_path)
    seed_farm(store)
    store.close()
    web = make_server(farm_config, "127.0.0.1", 0, store_path=db_path, test_config=test_config).start()
    yield web
    web.stop()
    web.app.extensions["ikb"].close()


@pytest.fixture
def server(farm_config, db_path, accounts, clock):
    """Run the production server (waitress) on a free port with a seeded farm."""
    yield from seeded_server(farm_config, db_path, {"CLOCK": clock, "LIVE_POLL_S": 1, "SCORE_TTL_S": 0})


@pytest.fixture
def browser():
    """Launch the system's headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _login(page, base: str, name: str) -> None:
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _keep(path: Path) -> None:
    """Copy a screenshot to docs/screenshots/ when asked to (IKB_SCREENSHOTS=1)."""
    if os.environ.get("IKB_SCREENSHOTS") == "1":
        shutil.copy(path, REPO / "docs" / "screenshots" / path.name)


def test_farmer_logs_in_sees_the_deviation_is_refused_an_invalid_answer_and_logs_out(server, browser, db_path,
                                                                                    tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 1600})
    _login(page, server.url, "jan")
    page.wait_for_selector(".verdict")
    assert "Herstel vereist vóór afgifte certificaat" in page.inner_text(".verdict .big")
    finding = page.locator(".finding", has_text="A6.3.1")
    assert WATER_D in finding.inner_text() and "bedrijf" in finding.inner_text()
    assert "Drinkwateronderzoek (HOSOWO)" in finding.inner_text()
    assert "korter dan 8 uur 6 u 0 min (22:00–04:00)" in page.inner_text(".tiles")
    page.screenshot(path=tmp_path / "dashboard.png", full_page=True)
    _keep(tmp_path / "dashboard.png")

    # The live part updates without a reload when the evidence changes.
    store = open_store(db_path)
    record_answer(store, load_catalogue(), rule_id="A4.1.10", status="C", note="rommel", answered_by="jan", now=NOW)
    store.close()
    page.locator(".finding", has_text="A4.1.10").wait_for(timeout=10_000)

    # An invalid answer: B without a note. The message stands at the field; nothing is stored.
    page.goto(server.url + "/rules/A4.1.1")
    page.select_option("select[name=status]", "B")
    page.click("form.assess button[type=submit]")
    assert page.inner_text(".field.invalid .field-error") == "beschrijf de afwijking"
    store = open_store(db_path)
    assert store.query("SELECT count(*) AS n FROM assessments WHERE rule = 'A4.1.1'")[0]["n"] == 0
    store.close()

    page.goto(server.url + "/charts/light/1")
    page.wait_for_selector("svg.chart-wide")
    page.locator("svg.chart-wide").screenshot(path=tmp_path / "chart-light.png")
    _keep(tmp_path / "chart-light.png")
    page.goto(server.url + "/charts/egg-room/E")
    page.locator("svg.chart-wide").screenshot(path=tmp_path / "chart-egg-room.png")
    _keep(tmp_path / "chart-egg-room.png")

    page.click("#logout")
    assert "/login" in page.url
    page.goto(server.url + "/")
    assert "/login" in page.url


def test_the_auditor_reads_but_cannot_reach_a_form(server, browser):
    page = browser.new_page()
    _login(page, server.url, "anna")
    page.wait_for_selector(".verdict")
    page.goto(server.url + "/rules/A4.1.10")
    assert page.locator("h1").inner_text().startswith("A4.1.10")
    assert page.locator("form.assess").count() == 0
    response = page.goto(server.url + "/rules/A4.1.10/assess")
    assert response.status == 403 and "Uw account mag dit niet." in page.inner_text("main")
    page.goto(server.url + "/audit/")
    assert page.locator("a.button", has_text="CSV").count() == len(LOGBOOKS)
