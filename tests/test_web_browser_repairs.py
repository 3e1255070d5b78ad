"""A repair recorded from a finding in real headless Chromium: the verdict changes on the page, the repair is in
the audit pack (issue 12, 'Must show')."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from agent.exports import verify_pack
from agent.logbooks.assessments import record_answer
from agent.store.connection import open_store
from rules.catalogue import load_catalogue

from .test_web_browser import CHROMIUM, _keep, _login, browser  # noqa: F401
from .web_fixtures import NOW, accounts, clock, db_path, farm_config  # noqa: F401

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the Debian chromium package")


@pytest.fixture
def server(farm_config, db_path, accounts, clock):
    """The production server with one D the farmer declared: carcasses stored in the house (A4.1.6)."""
    from webui import make_server

    store = open_store(db_path)
    record_answer(store, load_catalogue(), rule_id="A4.1.6", status="D", note="kadavers in de stal bewaard",
                  answered_by="jan", now=NOW - timedelta(days=2))
    store.close()
    web = make_server(farm_config, "127.0.0.1", 0, store_path=db_path,
                      test_config={"CLOCK": clock, "LIVE_POLL_S": 1, "SCORE_TTL_S": 0}).start()
    yield web
    web.stop()
    web.app.extensions["ikb"].close()


def _photo(path: Path) -> Path:
    """Write a small real JPEG (the upload is checked by its content)."""
    from PIL import Image

    Image.new("RGB", (64, 48), (40, 120, 60)).save(path, "JPEG")
    return path


def test_farmer_records_a_repair_from_the_finding_and_the_verdict_changes(server, browser, tmp_path, db_path):
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    _login(page, server.url, "jan")
    page.wait_for_selector(".verdict")
    assert "Herstel vereist vóór afgifte certificaat" in page.inner_text(".verdict .big")
    assert "Weging D (- 20 punt plus herstel voor afgifte certificaat)" in page.inner_text(".categories")
    page.click(".finding a.rule:has-text('A4.1.6')")
    page.wait_for_url("**/rules/A4.1.6")
    page.click("a.repair-link")
    page.wait_for_selector("form.repair")
    page.fill("textarea[name=action]", "Kadavers naar de koelcel buiten de stal, stal schoongemaakt")
    page.set_input_files("input[name=attachment]", str(_photo(tmp_path / "koelcel.jpg")))
    page.screenshot(path=tmp_path / "repair-form.png", full_page=True)
    _keep(tmp_path / "repair-form.png")
    page.click("form.repair button[type=submit]")
    page.wait_for_url("**/rules/A4.1.6")
    finding = page.inner_text(".findings .finding")
    assert "hersteld" in finding and "Kadavers naar de koelcel buiten de stal" in finding and "door jan" in finding
    assert page.locator("a.repair-link").count() == 0
    page.goto(server.url + "/")
    page.wait_for_selector(".verdict")
    assert page.inner_text(".verdict .big") == "Opmerkingen: B/C-afwijkingen of herstelde D-afwijkingen"
    assert "waarvan hersteld: 1" in page.inner_text(".categories")
    page.screenshot(path=tmp_path / "dashboard-repaired.png", full_page=True)
    _keep(tmp_path / "dashboard-repaired.png")

    # The audit pack from the auditor's page lists the deviation with its repair and carries the photo.
    page.goto(server.url + "/audit/")
    page.click("#make-pack")
    page.locator("#pack-download").wait_for(timeout=60_000)
    with page.expect_download() as download:
        page.click("#pack-download")
    pack = Path(download.value.path())
    intact, summary = verify_pack(pack)
    assert intact, summary
    with zipfile.ZipFile(pack) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("score/deviations.csv").decode("utf-8-sig")), delimiter=";"))
        names = zf.namelist()
        actions = zf.read("logbooks/corrective_actions.csv").decode("utf-8-sig")
        index = zf.read("index.html").decode("utf-8")
        report = zf.read("score/score.txt").decode("utf-8")
    # The pack's page and its report give the verdict in the same words: a repaired D leaves remarks.
    assert "Oordeel: opmerkingen (B/C-afwijkingen of herstelde D-afwijkingen)" in index
    assert "Oordeel: opmerkingen (B/C-afwijkingen of herstelde D-afwijkingen)" in report
    [row] = [r for r in rows if r["Regel"] == "A4.1.6"]
    assert row["Herstelmaatregel"] == "Kadavers naar de koelcel buiten de stal, stal schoongemaakt"
    assert (row["Hersteld door"], row["Regel geheel hersteld"], row["Categorie"]) == ("jan", "ja", "D")
    # The pack's page shows the repair beside the occurrence it repairs.
    assert "Kadavers naar de koelcel buiten de stal, stal schoongemaakt (jan)" in index
    assert "Kadavers naar de koelcel" in actions
    assert any(n.startswith("repairs/") and n.endswith(".jpg") for n in names)
