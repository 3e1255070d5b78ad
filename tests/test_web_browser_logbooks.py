"""End to end in real headless Chromium: the visitor kiosk with a drawn signature, the day sheet, refusals, roles.

Same server and browser as tests/test_web_browser.py (waitress on a free port,
/usr/bin/chromium). With IKB_SCREENSHOTS=1 the kiosk and day-sheet screenshots
are copied to docs/screenshots/ (the README shows them).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from agent.logbooks.entries import add_entry, list_entries
from agent.logbooks.signatures import check, parse_reference
from agent.store.connection import open_store
from agent.store.files import get_file

from .test_web_browser import CHROMIUM, _keep, _login, browser, server  # noqa: F401
from .web_fixtures import NOW, accounts, clock, db_path, farm_config  # noqa: F401

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(),
                                reason="needs the Debian chromium package")


def draw_with_mouse(page, selector: str) -> None:
    """Sign with the mouse: press, drag a zigzag, release."""
    box = page.locator(selector).bounding_box()
    x, y = box["x"] + 40, box["y"] + box["height"] * 0.7
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 25):
        page.mouse.move(x + i * 12, y - (i % 4) * 25, steps=2)
    page.mouse.up()


def draw_with_finger(page, selector: str) -> None:
    """Sign with a finger: touch events through the DevTools protocol (the page sees pointer events)."""
    box = page.locator(selector).bounding_box()
    cdp = page.context.new_cdp_session(page)
    x, y = box["x"] + box["width"] * 0.55, box["y"] + 40
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for i in range(1, 20):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove",
                                              "touchPoints": [{"x": x + i * 8, "y": y + (i % 5) * 18}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_a_visitor_registers_at_the_kiosk_with_a_drawn_signature_and_the_farmer_sees_the_yes(server, browser,
                                                                                           db_path, tmp_path):
    farmer = browser.new_page()
    _login(farmer, server.url, "jan")
    farmer.wait_for_selector(".verdict")

    context = browser.new_context(viewport={"width": 1024, "height": 1366}, has_touch=True)
    tablet = context.new_page()
    _login(tablet, server.url, "tablet")
    assert tablet.url.endswith("/kiosk/")
    # The kiosk account reaches nothing else.
    response = tablet.goto(server.url + "/")
    assert response.status == 403 and "Uw account mag dit niet." in tablet.inner_text("main")
    tablet.goto(server.url + "/kiosk/")

    tablet.click("text=Deutsch")
    assert "Waren Sie in den letzten 48 Stunden" in tablet.inner_text("fieldset.q48")
    tablet.click("text=Nederlands")
    tablet.click("fieldset.q48 label.choice.yes")
    assert tablet.locator(".yes-warning").is_visible()  # the warning shows at once (CSS, no script needed)
    tablet.fill("#k-name", "Piet <script>alert(1)</script>")
    tablet.fill("#k-organisation", "Voerbedrijf")
    tablet.click("label.choice:has-text('Stal 1')")
    tablet.fill("#k-license_plate", "12-abc-3")
    draw_with_finger(tablet, "#signature-pad")
    by_finger = tablet.input_value("#signature")
    assert by_finger.startswith("data:image/png;base64,")  # touch → pointer events → a PNG in the form
    draw_with_mouse(tablet, "#signature-pad")
    assert tablet.input_value("#signature") not in ("", by_finger)  # the second stroke is added
    tablet.screenshot(path=tmp_path / "kiosk.png", full_page=True)
    _keep(tmp_path / "kiosk.png")
    tablet.click("button.submit")
    tablet.wait_for_selector(".thanks")
    assert "Dank u wel, u bent aangemeld." in tablet.inner_text("main")
    assert "Ga de stallen niet in." in tablet.inner_text(".thanks")

    store = open_store(db_path)
    [row] = list_entries(store, "visitors")
    assert row.entry["name"] == "Piet <script>alert(1)</script>" and row.entry["houses"] == ["1"]
    assert row.entry["poultry_contact_48h"] is True and row.recorded_by == "tablet"
    png = get_file(store, parse_reference(row.entry["signature"])[0])["data"]
    check(png)  # a readable PNG with ink on it: the strokes arrived
    store.close()

    # The farmer's open dashboard shows the "yes" without a reload (live part polled).
    farmer.locator(".visitor-contact").wait_for(timeout=10_000)
    assert "antwoordde om 13:00 JA op de 48-uursvraag" in farmer.inner_text(".visitor-contact")
    assert "Piet <script>alert(1)</script>" in farmer.inner_text(".visitor-contact")  # shown as text
    farmer.click(".visitor-contact a")
    assert farmer.locator("img.signature").evaluate("img => img.naturalWidth") > 0

    # The next visitor gets an empty form.
    tablet.click("#next-visitor")
    assert tablet.input_value("#k-name") == "" and tablet.input_value("#signature") == ""


def test_the_kiosk_refuses_a_registration_without_a_signature(server, browser, db_path):
    tablet = browser.new_page()
    _login(tablet, server.url, "tablet")
    tablet.click("fieldset.q48 label.choice.no")
    tablet.fill("#k-name", "Klaas")
    tablet.fill("#k-organisation", "particulier")
    tablet.click("label.choice:has-text('Stal 2')")
    tablet.fill("#k-license_plate", "geen")
    tablet.click("button.submit")
    assert tablet.inner_text(".signature .field-error") == "Zet uw handtekening in het vak."
    assert tablet.input_value("#k-name") == "Klaas"
    store = open_store(db_path)
    assert list_entries(store, "visitors") == []
    store.close()


def test_the_day_sheet_on_a_phone_saves_in_one_tap_and_shows_the_nvwa_flag(server, browser, db_path, farm_config,
                                                                           tmp_path):
    store = open_store(db_path)
    add_entry(store, farm_config, "flocks", {"house": "1", "placed_on": "2026-05-01", "hatched_on": "2026-01-01",
                                             "number_placed": 20000, "origin": "Opfok De Jonge Hen"},
              by="jan", now=NOW - timedelta(days=180))
    add_entry(store, farm_config, "flock_day", {"date": "2026-10-31", "house": "1", "inspected": True,
                                                "inspected_by": "Kees", "mortality": 110, "culls": 2,
                                                "eggs": 18250, "water_l": 4100, "feed_kg": 2310},
              by="jan", now=NOW - timedelta(hours=20))
    store.close()
    phone = browser.new_page(viewport={"width": 412, "height": 915}, device_scale_factor=2)
    _login(phone, server.url, "jan")
    phone.goto(server.url + "/daysheet/")  # two houses: choose
    phone.click("text=Stal 1")
    assert "Stal 1 · 1 november 2026" in phone.inner_text("h1")
    assert "gisteren: 110" in phone.inner_text(".figures")
    phone.fill("#d-mortality", "108")
    phone.fill("#d-eggs", "18100")
    phone.fill("#d-water_l", "4050,5")
    phone.screenshot(path=tmp_path / "daysheet.png")  # what the phone shows: one screen
    _keep(tmp_path / "daysheet.png")
    phone.click(".savebar button")
    flag = phone.locator(".flag-alert")
    assert "[A6.2.2] Stal 1:" in flag.inner_text() and "NVWA" in flag.inner_text()
    assert "Ingevuld om 13:00 door jan" in phone.inner_text(".saved-state")
    phone.screenshot(path=tmp_path / "daysheet-flag.png")
    _keep(tmp_path / "daysheet-flag.png")
    store = open_store(db_path)
    today = [r.entry for r in list_entries(store, "flock_day") if r.entry["date"] == "2026-11-01"]
    assert today == [{**today[0], "mortality": 108, "eggs": 18100, "water_l": 4050.5, "house": "1"}]
    store.close()


def test_an_invalid_logbook_form_shows_the_field_message_and_stores_nothing(server, browser, db_path):
    page = browser.new_page()
    _login(page, server.url, "jan")
    page.goto(server.url + "/logbooks/checks/new")
    page.select_option("select[name=item]", "generator")
    page.select_option("select[name=result]", "ok")
    page.fill("input[name=date]", "2026-11-05")  # in the future
    page.click("form.logbook button[type=submit]")
    errors = {page.locator(f"[data-field={name}] .field-error").inner_text() for name in ("date", "checked_by")}
    assert errors == {"ligt in de toekomst; een logboek legt vast wat gebeurd is", "verplicht veld ontbreekt"}
    assert "Niet opgeslagen" in page.inner_text(".flash.error")
    store = open_store(db_path)
    assert list_entries(store, "checks", history=True) == []
    store.close()


def test_the_auditor_reads_logbooks_but_cannot_reach_a_form(server, browser, db_path, farm_config):
    store = open_store(db_path)
    row = add_entry(store, farm_config, "checks", {"date": "2026-10-30", "item": "alarm", "result": "ok",
                                                   "checked_by": "Jan"}, by="jan", now=NOW).entry
    store.close()
    page = browser.new_page()
    _login(page, server.url, "anna")
    page.wait_for_selector(".verdict")
    page.goto(server.url + f"/logbooks/checks/{row.id}")
    assert "Geschiedenis" in page.inner_text("main") and page.locator("text=Corrigeren").count() == 0
    for path in ("/logbooks/checks/new", f"/logbooks/checks/{row.id}/correct", "/daysheet/1", "/kiosk/",
                 "/kiosk/poster"):
        response = page.goto(server.url + path)
        assert response.status == 403 and "Uw account mag dit niet." in page.inner_text("main"), path
    page.goto(server.url + "/audit/")
    with page.expect_download() as download:
        page.click("a[aria-label='Controles noodstroom en alarm CSV']")
    assert re.match(r"ikb-123456-checks-\d{4}-\d\d-\d\d-2026-11-01\.csv", download.value.suggested_filename)


def test_the_light_chart_shows_the_nights_as_a_calendar_strip_with_words(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    _login(page, server.url, "jan")
    page.goto(server.url + "/charts/light/1")
    cells = page.locator("ol.nights li.night")
    assert cells.count() == 14
    words = [cells.nth(i).locator(".word").inner_text() for i in range(14)]
    # The seeded farm: three nights of readings, the last full one 6 hours dark (22:00–04:00).
    assert words[-4:] == ["in orde", "in orde", "korter dan 8 uur", "loopt nog"]
    assert set(words[:-4]) == {"geen gegevens"}
    assert "6,0 u" in cells.nth(12).inner_text()
    page.locator("section.strip").screenshot(path=tmp_path / "chart-light-strip.png")
    _keep(tmp_path / "chart-light-strip.png")
