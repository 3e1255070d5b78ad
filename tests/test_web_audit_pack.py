"""The auditor's page builds the audit pack in the background with a progress bar, checks an uploaded pack,
and says a bad period in Dutch while keeping the form (issue 14)."""

from __future__ import annotations

import io
import re
import time
import zipfile

from agent.exports import verify_pack
from agent.logbooks.entries import add_entry

from .test_logbook import GOOD
from .test_logbook import NOW as ENTRY_TIME
from .web_fixtures import accounts, app, auditor, client_for, clock, db_path, farm_config, farmer, token_of, web_store  # noqa: F401

PERIOD = {"from": "2026-01-01", "to": "2026-10-31"}


def wait_for_pack(client, location: str, timeout: float = 60.0) -> str:
    """Poll a pack job's status part (as the page's htmx does) until it has finished; return the last part."""
    status = location + "/status"
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        part = client.get(status, headers={"HX-Request": "true"}).get_data(as_text=True)
        seen.append(re.search(r'data-state="(\w+)"', part).group(1))
        if seen[-1] in ("done", "failed"):
            return part
        time.sleep(0.05)
    raise AssertionError(f"pack not built in {timeout} s: {seen[-5:]}")


def test_a_start_date_after_the_end_date_gives_a_dutch_message_and_keeps_the_form(auditor):
    response = auditor.get("/audit/?from=2026-05-01&to=2026-01-01")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Bad Request" not in html
    assert "De begindatum (2026-05-01) ligt na de einddatum (2026-01-01)" in html
    # The form keeps what was typed, so the auditor corrects one date instead of starting over.
    assert '<input type="date" name="from" value="2026-05-01">' in html
    assert '<input type="date" name="to" value="2026-01-01">' in html
    assert "/audit/export/" not in html  # no downloads of a period that does not exist
    download = auditor.get("/audit/export/visitors.csv?from=2026-05-01&to=2026-01-01")
    assert download.status_code == 400 and "ligt na de einddatum" in download.get_data(as_text=True)


def test_building_the_pack_runs_in_the_background_with_progress_and_offers_the_link(auditor, web_store,
                                                                                     farm_config, tmp_path):
    for kind, entry in GOOD.items():
        add_entry(web_store, farm_config, kind, entry, by="jan", now=ENTRY_TIME)
    response = auditor.post("/audit/pack", data={**PERIOD, "csrf_token": token_of(auditor, "/audit/")})
    assert response.status_code == 303
    location = response.headers["Location"]
    page = auditor.get(location).get_data(as_text=True)
    assert 'id="pack-status"' in page and ("<progress" in page or 'id="pack-download"' in page)
    part = wait_for_pack(auditor, location)
    assert 'id="pack-download"' in part and "hx-get" not in part  # done: the polling stops, the link is there
    link = re.search(r'id="pack-download" href="([^"]+)"', part).group(1)
    download = auditor.get(link)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert "ikb-123456-all-2026-01-01-2026-10-31-auditpakket.zip" in download.headers["Content-Disposition"]
    pack = tmp_path / "pack.zip"
    pack.write_bytes(download.get_data())
    ok, summary = verify_pack(pack)
    assert ok, summary
    assert "index.html" in zipfile.ZipFile(pack).namelist()
    # Asking again for the same period shows the same job, not a second build.
    again = auditor.post("/audit/pack", data={**PERIOD, "csrf_token": token_of(auditor, "/audit/")})
    assert again.headers["Location"] == location


def test_a_pack_job_belongs_to_whoever_started_it(auditor, farmer):
    response = auditor.post("/audit/pack", data={**PERIOD, "csrf_token": token_of(auditor, "/audit/")})
    location = response.headers["Location"]
    wait_for_pack(auditor, location)
    assert farmer.get(location).status_code == 404
    assert farmer.get(location + "/download").status_code == 404
    assert auditor.get("/audit/pack/not-a-job").status_code == 404


def test_the_progress_part_polls_until_done(app, auditor, monkeypatch):
    """While the pack builds, the part shows a progress bar and asks to be fetched again."""
    import threading

    from agent.exports import pack as pack_mod

    release = threading.Event()
    real = pack_mod.build_pack

    def slow(*args, progress=None, **kwargs):
        progress(3, 12, "Bezoekersregister")
        release.wait(10)
        return real(*args, progress=progress, **kwargs)

    monkeypatch.setattr("agent.exports.build_pack", slow)
    location = auditor.post("/audit/pack", data={**PERIOD, "csrf_token": token_of(auditor, "/audit/")}
                            ).headers["Location"]
    deadline = time.monotonic() + 5
    part = ""
    while time.monotonic() < deadline and 'value="25"' not in part:
        part = auditor.get(location + "/status").get_data(as_text=True)
    assert '<progress id="pack-progress" max="100" value="25">' in part and "Bezoekersregister" in part
    assert 'hx-trigger="every 1s"' in part
    release.set()
    assert 'id="pack-download"' in wait_for_pack(auditor, location)


def check_upload(client, data: bytes, name: str) -> str:
    """Upload a pack for checking, follow its job until done; return the job's final part."""
    response = client.post("/audit/verify", data={**PERIOD, "csrf_token": token_of(client, "/audit/"),
                                                  "pack": (io.BytesIO(data), name)})
    assert response.status_code == 303, response.get_data(as_text=True)
    return wait_for_pack(client, response.headers["Location"])


def test_an_uploaded_pack_is_checked_in_the_background_and_a_changed_file_is_named(auditor, app, web_store,
                                                                                   farm_config):
    add_entry(web_store, farm_config, "visitors", GOOD["visitors"], by="jan", now=ENTRY_TIME)
    data = auditor.get("/audit/export/all.zip?from=2026-01-01&to=2026-10-31").get_data()
    part = check_upload(auditor, data, "pakket.zip")
    assert 'data-ok="yes"' in part and "pakket.zip: intact:" in part
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        members = {n: src.read(n) for n in src.namelist()}
    members["logbooks/visitors.csv"] = members["logbooks/visitors.csv"].replace(b"Piet", b"Kees")
    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as dst:
        for name, content in members.items():
            dst.writestr(name, content)
    part = check_upload(auditor, bad.getvalue(), "pakket.zip")
    assert 'data-ok="no"' in part and "NIET INTACT: logbooks/visitors.csv" in part
    assert "foto.jpg: NIET INTACT" in check_upload(auditor, b"geen zip", "foto.jpg")
    # The uploads are gone once checked: nothing of them stays in the web process's folder.
    assert not list(app.extensions["ikb_packs"].directory.glob("*-upload.zip"))
    token = token_of(auditor, "/audit/")
    none = auditor.post("/audit/verify", data={**PERIOD, "csrf_token": token})
    assert none.status_code == 400 and "Kies het zip-bestand" in none.get_data(as_text=True)
    empty = auditor.post("/audit/verify", data={**PERIOD, "csrf_token": token, "pack": (io.BytesIO(b""), "leeg.zip")})
    assert empty.status_code == 400 and "Het gekozen bestand is leeg." in empty.get_data(as_text=True)
