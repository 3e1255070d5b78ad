"""The audit exercise (audit-oefening): a chapter of self-assessed rules on one page, answered at once.

In headless Chromium on a phone: the farmer follows "Volgende open vraag", answers a chapter
(a deviation without a note is refused at its rule and nothing is stored), sees the progress
grow, lands on the next open chapter and prints the answers. Through the test client: the
auditor reads the chapter without a form and cannot post one.
"""

from __future__ import annotations

from agent.logbooks import load_answers
from agent.store.connection import open_store
from rules.catalogue import load_catalogue

from .test_web_browser import _login, browser, server  # noqa: F401
from .web_fixtures import accounts, app, client_for, clock, db_path, farm_config, token_of  # noqa: F401


def _questions() -> int:
    """Return how many self-assessed rules apply to the test farm (a free-range and a barn house)."""
    return sum(1 for r in load_catalogue() if r.evaluation == "self_assessment"
               and {"free_range", "barn"} & set(r.applies_to))


def test_the_audit_exercise_answers_one_chapter_on_one_page(server, browser, db_path):
    total = _questions()
    phone = browser.new_page(viewport={"width": 390, "height": 844}, has_touch=True)
    _login(phone, server.url, "jan")
    phone.goto(server.url + "/exercise/")
    # seed_farm answered A1.1, A4.1.6 and A4.2.1.
    assert phone.inner_text(".progress-line .count") == f"3 van {total}"
    phone.goto(server.url + "/exercise/A7")
    assert phone.inner_text("h1") == "A7 Traceerbaarheid"
    assert phone.locator("fieldset.question").count() == 2
    # A deviation without a note, and an ok: nothing is stored, the message stands at its rule.
    phone.click("#q-A7\\.1 label.choice:has-text('afwijking C')")
    phone.click("#q-A7\\.2 label.choice:has-text('ok')")
    phone.click(".savebar button")
    assert phone.inner_text("#q-A7\\.1 .field-error") == "beschrijf de afwijking"
    assert "Niets opgeslagen" in phone.inner_text(".flash.error")
    store = open_store(db_path)
    assert [a.rule for a in load_answers(store)] == ["A1.1", "A4.1.6", "A4.2.1"]
    store.close()
    # The choices were kept; the note completes the deviation; both are stored at once.
    assert phone.is_checked("#q-A7\\.2 input[value=ok]")
    phone.fill("textarea[name='note-A7.1']", "Afleverbonnen van oktober ontbreken")
    phone.click(".savebar button")
    assert "Opgeslagen: 2 antwoorden in A7 Traceerbaarheid." in phone.inner_text(".flash")
    # On to the next chapter with open questions, at its first open question.
    assert "/exercise/A8#q-A8." in phone.url
    assert phone.inner_text(".progress-line .count") == f"5 van {total}"
    store = open_store(db_path)
    stored = {a.rule: (a.status, a.note, a.answered_by) for a in load_answers(store)}
    store.close()
    assert stored["A7.1"] == ("C", "Afleverbonnen van oktober ontbreken", "jan") and stored["A7.2"][0] == "ok"
    # A chapter answered completely is marked so on the overview; the print page lists the answers.
    phone.goto(server.url + "/exercise/")
    assert phone.locator(".chapter-card.done", has_text="A7").count() == 1
    phone.goto(server.url + "/exercise/print")
    row = phone.locator("tr", has_text="A7.1")
    assert "afwijking C" in row.inner_text() and "Afleverbonnen van oktober ontbreken" in row.inner_text()


def test_the_auditor_reads_a_chapter_of_the_exercise_without_a_form(client_for):
    auditor = client_for("anna")
    page = auditor.get("/exercise/A7").get_data(as_text=True)
    assert "A7.1" in page and 'name="status-A7.1"' not in page
    response = auditor.post("/exercise/A7", data={"csrf_token": token_of(auditor, "/exercise/"),
                                                  "status-A7.2": "ok"})
    assert response.status_code == 403


def test_an_unknown_chapter_answers_404_naming_it(client_for):
    response = client_for("jan").get("/exercise/Z9")
    assert response.status_code == 404 and "Z9" in response.get_data(as_text=True)
