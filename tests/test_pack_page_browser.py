"""The audit pack's index.html in real headless Chromium, opened from file:// as an auditor opens the unpacked
folder: it shows the pack, checks it offline (Web Crypto, its own script only) and names what was changed."""

from __future__ import annotations

import base64
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.logbooks import canonical

from .test_logbook import GOOD
from .test_web_browser import ARGS, CHROMIUM, _keep

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the Debian chromium package")

ODD_NAME = "Klaas\u2028Ødegård \"de Vries\" \u0085 𝔘"  # line separators and quotes inside a chain record


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    """One audit pack of a farm with every logbook, a drawn signature, a correction and an odd name."""
    from agent.exports import build_pack
    from agent.logbooks.entries import add_entry, correct_entry
    from agent.logbooks.signatures import store_signature
    from rules.logbooks import LOGBOOKS

    from .test_export import END, NOW, START, new_farm
    from .test_web_kiosk import png_data_url

    tmp = tmp_path_factory.mktemp("packpage")
    config, store = new_farm(tmp)
    for kind, entry in GOOD.items():
        add_entry(store, config, kind, entry, by="jan", now=NOW)
    png = base64.b64decode(png_data_url().split(",", 1)[1])
    ref = store_signature(store, png, by="tablet", now=NOW)
    visit = add_entry(store, config, "visitors", {**GOOD["visitors"], "name": ODD_NAME, "signature": ref},
                      by="tablet", now=NOW)
    correct_entry(store, config, visit.entry.id, {"license_plate": "99-XYZ-1"}, by="jan", now=NOW,
                  reason="kenteken verkeerd overgenomen")
    path = tmp / "pack.zip"
    path.write_bytes(build_pack(store, config, list(LOGBOOKS), START, END, NOW))
    store.close()
    return path


@pytest.fixture(scope="module")
def browser():
    """Launch the system's headless Chromium once for this module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def unpack(pack: Path, where: Path) -> Path:
    """Unpack the pack as an auditor does; return the folder."""
    with zipfile.ZipFile(pack) as zf:
        zf.extractall(where)
    return where


def open_page(browser, folder: Path):
    """Open the pack's index.html from the file system; fail on any script error or network request."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, requests = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith("file://") else None)
    page.goto((folder / "index.html").as_uri())
    page.errors, page.requests = errors, requests
    return page


def check(page, selector: str, files) -> tuple[str, str]:
    """Pick a folder or zip in the page's check and return (state, text) when it has finished."""
    box = page.locator("#ikb-check-result")
    box.evaluate("box => { box.dataset.state = ''; }")
    page.set_input_files(selector, files)
    # (wait_for_function would evaluate a string: the page's Content-Security-Policy refuses that, rightly)
    page.locator("#ikb-check-result[data-state=ok], #ikb-check-result[data-state=fail]").wait_for(timeout=30_000)
    return box.get_attribute("data-state"), box.inner_text()


def test_the_packs_index_html_from_file_shows_every_logbook_the_score_and_the_deviations(browser, pack, tmp_path):
    from rules.logbooks import LOGBOOKS

    page = open_page(browser, unpack(pack, tmp_path / "pack"))
    text = page.inner_text("body")
    assert "Pluimveebedrijf De Hoeve" in text and "periode 2026-01-01 t/m 2026-03-31" in text
    for kind, spec in LOGBOOKS.items():
        assert page.locator(f"#logboek-{kind}").inner_text() == spec.title
    assert "Oordeel:" in page.inner_text("#beoordeling")
    score = json.loads(zipfile.ZipFile(pack).read("score/score.json"))
    found = [f for f in score["findings"] if f["status"] in ("B", "C", "D", "KO")]
    rows = page.locator("#afwijkingen tbody > tr")
    assert found and rows.count() == len(found)
    assert sorted(rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())) == sorted(
        f["rule"] for f in found)
    visitors = page.locator("#logboek-visitors + p + div table")
    assert visitors.locator("th").first.inner_text() == "Nr."
    assert "weinig" in page.inner_text("#logboeken") and "little" not in page.inner_text("#logboeken")
    # The drawn signature is the pack's own PNG, shown, not a file reference.
    image = visitors.locator("img")
    assert image.get_attribute("src").startswith("signatures/")
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())
    assert "file:" not in visitors.inner_text() and "sha256" not in visitors.inner_text()
    assert "kenteken verkeerd overgenomen" in page.inner_text("#logboeken")
    page.screenshot(path=str(tmp_path / "pack-index.png"))
    _keep(tmp_path / "pack-index.png")
    assert page.errors == [] and page.requests == []


def test_the_packs_index_html_verifies_the_unpacked_folder_and_the_zip_offline(browser, pack, tmp_path):
    folder = unpack(pack, tmp_path / "pack")
    page = open_page(browser, folder)
    assert page.evaluate("window.isSecureContext && !!crypto.subtle")  # file:// is a secure context
    state, text = check(page, "#ikb-pick-folder", str(folder))
    assert state == "ok", text
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert f"ketenvingerafdruk {manifest['fingerprint'][:16]}" in text
    assert f"ondertekend met bedrijfssleutel {manifest['signing']['fingerprint']}" in text
    state, text = check(page, "#ikb-pick-zip", str(pack))
    assert state == "ok", text
    assert page.errors == [] and page.requests == []


def test_the_packs_index_html_catches_a_flipped_byte_naming_the_file(browser, pack, tmp_path):
    folder = unpack(pack, tmp_path / "pack")
    target = folder / "logbooks" / "pest_control.csv"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    page = open_page(browser, folder)
    state, text = check(page, "#ikb-pick-folder", str(folder))
    assert state == "fail" and text.startswith("Niet in orde: logbooks/pest_control.csv: gewijzigd"), text
    page.locator("#controle").screenshot(path=str(tmp_path / "pack-check-failed.png"))
    _keep(tmp_path / "pack-check-failed.png")
    # The same byte flipped inside the zip's compressed data: the member is named as well.
    from .test_export import damage

    bad = damage(pack, tmp_path / "bad.zip", "logbooks/visitors.pdf", 0x01)
    state, text = check(page, "#ikb-pick-zip", str(bad))
    assert state == "fail" and text.startswith("Niet in orde: logbooks/visitors.pdf:"), text


def resigned(pack: Path, out: Path, change) -> Path:
    """Copy a pack with its members changed, the manifest resealed and signed again with another key — what
    someone holding the Pi could do; only the chain can tell."""
    from agent.signing import create_key

    from .test_export import forge

    return forge(pack, out, lambda files, manifest: change(files), key=create_key(out.with_suffix(".key")))


def test_the_packs_index_html_names_the_chain_entry_that_was_changed(browser, pack, tmp_path):
    def edit_visit(files):
        lines = files["chains/visitors.jsonl"].decode().split("\n")
        item = json.loads(lines[0])
        item["record"]["entry"]["arrival"] = "07:15"
        lines[0] = json.dumps(item, ensure_ascii=False, sort_keys=True)
        files["chains/visitors.jsonl"] = "\n".join(lines).encode()

    bad = resigned(pack, tmp_path / "edited.zip", edit_visit)
    page = open_page(browser, unpack(pack, tmp_path / "pack"))
    state, text = check(page, "#ikb-pick-zip", str(bad))
    assert state == "fail", text
    first = zipfile.ZipFile(pack).read("chains/visitors.jsonl").decode().split("\n")[0]
    entry_id = json.loads(first)["id"]
    assert text.startswith(f"Niet in orde: chains/visitors.jsonl regel 1 (registratie-id {entry_id}): de hash "
                           "klopt niet met de inhoud"), text
    assert "ander pakket" not in text  # same fingerprint in the manifest: the page says it is this pack

    def drop_visit(files):
        lines = files["chains/visitors.jsonl"].decode().split("\n")
        files["chains/visitors.jsonl"] = "\n".join(lines[1:]).encode()

    state, text = check(page, "#ikb-pick-zip", str(resigned(pack, tmp_path / "dropped.zip", drop_visit)))
    assert state == "fail" and "chains/visitors.jsonl regel 1" in text and "prev_hash" in text, text

    def digest_only(files):  # keeps the chain head (the fingerprint) while hiding the entry
        from agent.logbooks import content_hash

        lines = files["chains/visitors.jsonl"].decode().split("\n")
        item = json.loads(lines[0])
        item["content_hash"] = content_hash(item.pop("record"))
        lines[0] = json.dumps(item, ensure_ascii=False, sort_keys=True)
        files["chains/visitors.jsonl"] = "\n".join(lines).encode()

    state, text = check(page, "#ikb-pick-zip", str(resigned(pack, tmp_path / "digest.zip", digest_only)))
    assert state == "fail" and "chains/visitors.jsonl regel 1" in text and "alleen een digest" in text, text


# --------------------------------------------------------------------------- canonical JSON, as the chain hashes it

KEYS = st.text(st.characters(codec="utf-8"), max_size=6)
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2 ** 70), max_value=2 ** 70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(st.characters(codec="utf-8"), max_size=12))


def containers(inner):
    """Lists and objects of what is inside."""
    return st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4)


VALUES = st.recursive(SCALARS, containers, max_leaves=12)


@pytest.fixture(scope="module")
def checker(browser, pack, tmp_path_factory):
    """A page with the pack's checker loaded."""
    page = open_page(browser, unpack(pack, tmp_path_factory.mktemp("canon")))
    yield page
    page.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_the_page_writes_canonical_json_byte_for_byte_as_the_chain_does(checker, record):
    """The browser recomputes each entry's content hash from the chain line: its canonical JSON must be exactly
    Python's (key order by code point, non-ASCII as is, numbers as written)."""
    line = json.dumps({"record": record}, ensure_ascii=False, sort_keys=True)  # as chains/<kind>.jsonl holds it
    got = checker.evaluate("line => IkbPackCheck.canonical(IkbPackCheck.parseJSON(line).get('record'))", line)
    assert got.encode("utf-8") == canonical(record)
