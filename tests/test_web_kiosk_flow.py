"""The kiosk runs itself, in headless Chromium on a tablet: arrival, departure, the lock and the idle reset.

A visitor signs in with a finger; the tablet offers no way to log out (a visitor could otherwise
leave the farm without a register); at leaving, "Vertrek melden" fills the register's time of
departure; a form left half-filled returns to the empty Dutch form by itself; only the farmer's
PIN ends the kiosk session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.logbooks.entries import list_entries
from agent.store.connection import open_store

from .test_web_browser import CHROMIUM, _keep, _login, browser, seeded_server  # noqa: F401
from .test_web_browser_logbooks import draw_with_finger
from .web_fixtures import NOW, PASSWORD, accounts, clock, db_path, farm_config  # noqa: F401

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the Debian chromium package")

IDLE_S = 2


@pytest.fixture
def kiosk_server(farm_config, db_path, accounts, clock):
    """Run the production server with a short idle time for the kiosk."""
    yield from seeded_server(farm_config, db_path, {"CLOCK": clock, "KIOSK_IDLE_S": IDLE_S})


def _sign_in(tablet, name: str) -> None:
    """Fill the kiosk form as a visitor does and send it."""
    tablet.click("fieldset.q48 label.choice.no")
    tablet.fill("#k-name", name)
    tablet.fill("#k-organisation", "Loonbedrijf Smit")
    tablet.click("label.choice:has-text('Stal 1')")
    tablet.fill("#k-license_plate", "VX-123-B")
    draw_with_finger(tablet, "#signature-pad")
    tablet.click("button.submit")
    tablet.wait_for_selector(".thanks")


def test_the_kiosk_flow_with_arrival_and_departure(kiosk_server, browser, db_path, tmp_path):
    context = browser.new_context(viewport={"width": 800, "height": 1280}, has_touch=True)
    tablet = context.new_page()
    _login(tablet, kiosk_server.url, "tablet")
    assert tablet.url.endswith("/kiosk/")
    _sign_in(tablet, "Gerrit Smit")
    # Locked: no log-out on the form nor on the thank-you screen.
    assert tablet.locator("#logout").count() == 0 and tablet.locator("text=Uitloggen").count() == 0
    assert "Meld bij het weggaan uw vertrek op dit scherm." in tablet.inner_text(".thanks")
    tablet.click("#next-visitor")
    assert tablet.locator("#logout").count() == 0

    tablet.click("#departure")
    assert "Vertrek melden" in tablet.inner_text("h1")
    tablet.screenshot(path=tmp_path / "kiosk-departure.png")
    _keep(tmp_path / "kiosk-departure.png")
    tablet.click("button.leaver:has-text('Gerrit Smit')")
    tablet.wait_for_selector(".thanks")
    assert "Tot ziens!" in tablet.inner_text("h1") and "Uw vertrek om 13:00 is vastgelegd." in tablet.inner_text("main")

    store = open_store(db_path)
    [visit] = list_entries(store, "visitors")
    history = list_entries(store, "visitors", history=True)
    store.close()
    assert visit.entry["departure"] == "13:00" and visit.entry["arrival"] == "13:00"
    assert visit.reason == "vertrek gemeld via de kiosk" and visit.recorded_by == "tablet"
    assert len(history) == 2  # the arrival stays in the register's history; the departure corrects it

    # Gone from the list of who is still here.
    tablet.goto(kiosk_server.url + "/kiosk/vertrek")
    assert "Er staat vandaag niemand meer als aanwezig in het register." in tablet.inner_text("main")


def test_the_kiosk_returns_to_an_empty_dutch_form_when_left_untouched(kiosk_server, browser):
    tablet = browser.new_page()
    _login(tablet, kiosk_server.url, "tablet")
    tablet.click("text=Deutsch")
    tablet.fill("#k-name", "Halb ausgefüllt")
    tablet.wait_for_function("() => !document.querySelector('#k-name').value", timeout=(IDLE_S + 5) * 1000)
    assert tablet.url.endswith("/kiosk/") and tablet.locator("html").get_attribute("lang") == "nl"


def test_only_the_farmers_pin_ends_the_kiosk_session(kiosk_server, browser):
    tablet = browser.new_page()
    _login(tablet, kiosk_server.url, "tablet")
    # Even a hand-made log-out request is refused to the kiosk account.
    token = tablet.locator("input[name=csrf_token]").first.get_attribute("value")
    response = tablet.request.post(kiosk_server.url + "/logout", form={"csrf_token": token})
    assert response.status == 403
    tablet.click("#unlock")
    assert "Er is nog geen pincode ingesteld." in tablet.inner_text("main")

    farmer = browser.new_page()
    _login(farmer, kiosk_server.url, "jan")
    farmer.goto(kiosk_server.url + "/kiosk/poster")
    farmer.fill("input[name=pin]", "12")
    farmer.click("text=Pincode instellen")
    assert "Een pincode is 4 tot 12 cijfers." in farmer.inner_text(".flash")
    farmer.fill("input[name=pin]", "482913")
    farmer.click("text=Pincode instellen")
    assert "Pincode van de kiosk ingesteld." in farmer.inner_text(".flash")

    tablet.goto(kiosk_server.url + "/kiosk/unlock")  # (the idle reset took the tablet back to the form meanwhile)
    tablet.fill("#pin", "000000")
    tablet.click("text=Ontgrendelen en uitloggen")
    assert "Onjuiste pincode." in tablet.inner_text(".flash")
    tablet.goto(kiosk_server.url + "/kiosk/")
    assert tablet.url.endswith("/kiosk/")  # still the kiosk
    tablet.goto(kiosk_server.url + "/kiosk/unlock")
    tablet.fill("#pin", "482913")
    tablet.click("text=Ontgrendelen en uitloggen")
    assert "/login" in tablet.url
    tablet.goto(kiosk_server.url + "/kiosk/")
    assert "/login" in tablet.url
    assert PASSWORD  # the kiosk account itself is untouched: it logs in again with its password
