"""The auditor's page in real headless Chromium: the audit pack built in the background with its progress bar
and link (htmx polling), a pack checked by upload (in the background too), a bad period kept in the form."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.exports import verify_pack

from .test_web_browser import CHROMIUM, _keep, _login, browser, server  # noqa: F401
from .web_fixtures import accounts, clock, db_path, farm_config  # noqa: F401

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the Debian chromium package")


def test_auditor_makes_the_pack_waits_for_the_link_downloads_and_checks_it(server, browser, tmp_path):  # noqa: F811
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    _login(page, server.url, "anna")
    page.goto(server.url + "/audit/?from=2026-05-01&to=2026-01-01")
    assert "ligt na de einddatum" in page.inner_text("#period-error")
    assert page.input_value("input[name=from]") == "2026-05-01"  # the form keeps what was typed
    page.fill("input[name=from]", "2025-11-01")
    page.fill("input[name=to]", "2026-11-01")
    page.click("form.filters button.primary")
    page.click("#make-pack")
    page.wait_for_url("**/audit/pack/*")
    # The status part is fetched again until the pack is ready; then the link is there.
    page.locator("#pack-download").wait_for(timeout=60_000)
    assert page.locator("#pack-status").get_attribute("data-state") == "done"
    page.screenshot(path=str(tmp_path / "audit-pack.png"))
    _keep(tmp_path / "audit-pack.png")
    with page.expect_download() as download:
        page.click("#pack-download")
    pack = tmp_path / "pack.zip"
    download.value.save_as(pack)
    assert download.value.suggested_filename == "ikb-123456-all-2025-11-01-2026-11-01-auditpakket.zip"
    ok, summary = verify_pack(pack)
    assert ok, summary

    page.goto(server.url + "/audit/")
    page.set_input_files("input[name=pack]", str(pack))
    page.click("#check button")
    result = page.locator("#verify-result")
    result.wait_for(timeout=60_000)  # checked in the background; the page shows the verdict when it is in
    assert result.get_attribute("data-ok") == "yes" and "pack.zip: intact:" in result.inner_text()
