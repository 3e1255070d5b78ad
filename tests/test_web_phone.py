"""Every page on a phone (390×844) and a desktop (1280×800) in real headless Chromium: nothing scrolls sideways.

One server, one browser and one logged-in context per account and width for the whole module
(the suite's time budget); each page is one test item that opens the page at both widths and
checks ``scrollWidth <= innerWidth``, that no element sticks out of the screen, that every
button is on the screen, and that the chart labels stay legible (11 px or more on screen).
With IKB_SCREENSHOTS=1 the phone and desktop screenshots are copied to docs/screenshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.alerts.engine import AlertEngine
from agent.cli.demo_logbooks import seed_demo_logbooks
from agent.config import load_config
from agent.store.connection import open_store
from agent.store.readings import to_ms
from agent.store.users import add_user
from rules.logbooks import LOGBOOKS

from .conftest import FARM_TOML
from .test_web_browser import ARGS, CHROMIUM, _keep, seed_farm
from .web_fixtures import ACCOUNTS, NOW, PASSWORD

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the Debian chromium package")

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
MIN_LABEL_PX = 11

FARMER_PAGES = [
    "/", "/rules/", "/rules/?q=ongedierte", "/rules/A4.1.10", "/rules/A6.3.1", "/rules/G3.8.9", "/logbooks/",
    "/daysheet/", "/daysheet/1", "/charts/", "/charts/light/1", "/charts/egg-room/E", "/alerts/", "/audit/",
    "/kiosk/poster", "/exercise/", "/exercise/A4", "/exercise/print", "/status/",
    *[f"/logbooks/{kind}/" for kind in LOGBOOKS], *[f"/logbooks/{kind}/new" for kind in LOGBOOKS],
    "entry:pest_control", "correct:pest_control", "entry:visitors",
]
PAGES = ([("jan", p) for p in FARMER_PAGES] + [("anna", "/"), ("anna", "/audit/"), ("anna", "/exercise/A4")]
         + [("tablet", "/kiosk/"), ("tablet", "/kiosk/vertrek"), (None, "/login")])


@pytest.fixture(scope="module")
def phone_server(tmp_path_factory):
    """Run the production server on a farm with sensor history and a few months of logbooks."""
    from webui import make_server

    folder = tmp_path_factory.mktemp("phone")
    config_file = folder / "ikb-agent.toml"
    config_file.write_text(FARM_TOML.format(db=folder / "farm.db"), encoding="utf-8")
    config = load_config(config_file)
    store = open_store(folder / "farm.db")
    for name, role in ACCOUNTS.items():
        add_user(store, name, role, PASSWORD, NOW)
    seed_farm(store)
    seed_demo_logbooks(store, config, NOW)
    # An open alarm: its card and its 'Bevestigen' button must fit the phone.
    AlertEngine(store, config).raise_alert("ventilation_alarm", "1", to_ms(NOW), detail="Melding ontvangen om 12:58.")
    entries = {kind: store.query("SELECT max(id) AS id FROM logbook WHERE kind = ?", [kind])[0]["id"]
               for kind in ("pest_control", "visitors")}
    store.close()
    web = make_server(config, "127.0.0.1", 0, store_path=folder / "farm.db",
                      test_config={"CLOCK": lambda: NOW, "LIVE_POLL_S": 3600}).start()
    web.entries = entries
    yield web
    web.stop()
    web.app.extensions["ikb"].close()


@pytest.fixture(scope="module")
def pages(phone_server):
    """Return a function giving a page logged in as an account at a width (one context each, reused)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        made: dict = {}

        def page_for(account: str | None, width: str):
            if (account, width) not in made:
                context = browser.new_context(viewport=WIDTHS[width], has_touch=width == "phone")
                page = context.new_page()
                if account:
                    page.goto(phone_server.url + "/login")
                    page.fill("input[name=name]", account)
                    page.fill("input[name=password]", PASSWORD)
                    page.click("button[type=submit]")
                made[(account, width)] = page
            return made[(account, width)]

        yield page_for
        browser.close()


def _path(server, path: str) -> str:
    """Return the URL of a page ('entry:<kind>' and 'correct:<kind>' name the kind's newest entry)."""
    if ":" in path:
        what, kind = path.split(":")
        entry = server.entries[kind]
        return f"/logbooks/{kind}/{entry}" + ("/correct" if what == "correct" else "")
    return path


OVERFLOW = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > innerWidth + 1 && getComputedStyle(el).position !== 'fixed')
      out.push(el.tagName.toLowerCase() + '.' + el.className + ' ' + Math.round(r.right));
  }
  return out.slice(0, 5);
}"""

# The on-screen size of each chart label: its font size times the SVG's scale on the page.
CHART_LABELS = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    if (!svg.getBoundingClientRect().width) continue;
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const t of svg.querySelectorAll('text'))
      out.push(parseFloat(getComputedStyle(t).fontSize) * scale);
  }
  return out;
}"""


@pytest.mark.parametrize("account,path", PAGES, ids=[f"{a or 'anon'}:{p}" for a, p in PAGES])
def test_every_page_fits_a_phone_and_a_desktop(phone_server, pages, account, path, tmp_path):
    for width in WIDTHS:
        page = pages(account, width)
        response = page.goto(phone_server.url + _path(phone_server, path))
        assert response.status == 200, (width, page.url)
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert scroll <= inner, (width, scroll, inner, page.evaluate(OVERFLOW))
        assert page.evaluate(OVERFLOW) == [], width
        # Every button can be reached (the alerts page's 'Bevestigen' was off-screen).
        for box in page.locator("main button:visible").evaluate_all(
                "els => els.map(e => e.getBoundingClientRect()).map(r => [r.left, r.right])"):
            assert 0 <= box[0] and box[1] <= inner, (width, box)
        labels = page.evaluate(CHART_LABELS)
        assert all(size >= MIN_LABEL_PX for size in labels), (width, min(labels))
        if path in SCREENSHOTS and account == "jan":
            name = f"{SCREENSHOTS[path]}-{width}.png"
            if path.startswith("/charts/") and width == "phone":
                page.locator("svg.chart-narrow").screenshot(path=tmp_path / name)  # the phone's own drawing
            else:
                page.screenshot(path=tmp_path / name, full_page=width == "desktop")
            _keep(tmp_path / name)


SCREENSHOTS = {"/": "dashboard", "/alerts/": "alerts", "/charts/egg-room/E": "chart-egg-room",
               "/charts/light/1": "chart-light", "/rules/": "rules", "/exercise/A4": "exercise",
               "/logbooks/pest_control/new": "pest-control"}
