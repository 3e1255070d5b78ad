"""Web accounts: first run, login, rate limiting, sessions, roles, logout."""

from __future__ import annotations

from datetime import timedelta

from agent.store.connection import open_store
from webui import create_app

from .web_fixtures import (  # noqa: F401
    NOW,
    PASSWORD,
    accounts,
    app,
    client_for,
    clock,
    csrf_from,
    db_path,
    farm_config,
    farmer,
    login,
    token_of,
)


def test_first_run_without_accounts_explains_how_to_create_one(farm_config, db_path, clock):
    app = create_app(farm_config, db_path, {"CLOCK": clock})
    client = app.test_client()
    assert client.get("/").status_code == 302
    page = client.get("/login")
    assert page.status_code == 503
    assert "ikb-agent user add NAAM --role farmer" in page.get_data(as_text=True)


def test_login_opens_the_dashboard_and_a_wrong_password_does_not(client_for, app):
    client = app.test_client()
    wrong = login(client, "jan", "not the password")
    assert wrong.status_code == 401 and "Naam of wachtwoord onjuist" in wrong.get_data(as_text=True)
    assert client.get("/").status_code == 302
    ok = login(client, "jan")
    assert ok.status_code == 302 and ok.headers["Location"] == "/"
    assert "Afwijkingen per categorie" in client.get("/").get_data(as_text=True)


def test_login_returns_to_the_page_asked_for_but_never_to_another_site(app):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    back = client.post("/login?next=/rules/", data={"name": "jan", "password": PASSWORD, "csrf_token": token})
    assert back.headers["Location"] == "/rules/"
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    evil = client.post("/login?next=//evil.example/x", data={"name": "jan", "password": PASSWORD, "csrf_token": token})
    assert evil.headers["Location"] == "/"


def test_five_failures_lock_the_account_even_across_a_restart(app, farm_config, db_path, clock):
    client = app.test_client()
    for _ in range(5):
        assert login(client, "jan", "wrong password").status_code == 401
    refused = login(client, "jan")
    assert refused.status_code == 429 and "Te veel mislukte pogingen" in refused.get_data(as_text=True)
    # A restarted web process still remembers the failures (they are in the database).
    restarted = create_app(farm_config, db_path, {"CLOCK": clock}).test_client()
    assert login(restarted, "jan").status_code == 429
    # Other accounts are not locked by jan's failures.
    assert login(restarted, "anna").status_code == 302
    clock.now = NOW + timedelta(minutes=16)
    assert login(restarted, "jan").status_code == 302


def test_many_failures_from_one_address_block_that_address(app):
    client = app.test_client()
    for i in range(20):
        assert login(client, f"guess{i}", "wrong password").status_code == 401
    assert login(client, "jan").status_code == 429
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert login(other, "jan").status_code == 302


def test_session_cookie_is_httponly_lax_and_secure_over_https(app):
    client = app.test_client()
    response = login(client, "jan")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = app.test_client()
    token = csrf_from(secure.get("/login", base_url="https://localhost").get_data(as_text=True))
    # Over https Flask-WTF also checks that the Referer is this site, as a browser sends it.
    over_https = secure.post("/login", base_url="https://localhost", headers={"Referer": "https://localhost/login"},
                             data={"name": "jan", "password": PASSWORD, "csrf_token": token})
    assert "Secure" in over_https.headers["Set-Cookie"]


def test_secret_key_is_generated_once_and_kept_unless_configured(farm_config, db_path, accounts, clock):
    first = create_app(farm_config, db_path, {"CLOCK": clock})
    second = create_app(farm_config, db_path, {"CLOCK": clock})
    assert first.secret_key == second.secret_key and len(first.secret_key) == 64
    store = open_store(db_path)
    assert store.get_kv("web.secret_key") == first.secret_key
    store.close()
    # A login made with one process is valid in the other (same key).
    client = first.test_client()
    login(client, "jan")
    second_client = second.test_client()
    second_client.set_cookie("ikb_session", client.get_cookie("ikb_session").value)
    assert second_client.get("/").status_code == 200
    configured = farm_config.model_copy(update={"web": farm_config.web.model_copy(update={"secret_key": "x" * 40})})
    assert create_app(configured, db_path, {"CLOCK": clock}).secret_key == "x" * 40


def test_logout_ends_the_session(farmer):
    assert farmer.get("/").status_code == 200
    response = farmer.post("/logout", data={"csrf_token": token_of(farmer)})
    assert response.status_code == 302
    assert farmer.get("/").status_code == 302


def test_kiosk_account_reaches_only_the_kiosk(client_for):
    kiosk = client_for("tablet")
    assert kiosk.get("/kiosk/").status_code == 200
    for path in ("/", "/rules/", "/charts/", "/audit/", "/api/v1/score"):
        assert kiosk.get(path).status_code == 403, path


def test_a_disabled_account_loses_its_session(farmer, app):
    assert farmer.get("/").status_code == 200
    store = open_store(app.extensions["ikb"].store_path)
    with store.transaction() as db:
        db.execute("UPDATE users SET disabled = 1 WHERE name = 'jan'")
    store.close()
    assert farmer.get("/").status_code == 302


def test_language_switch_shows_english(farmer):
    farmer.post("/language", data={"lang": "en", "csrf_token": token_of(farmer), "next": "/"})
    assert "Deviations per category" in farmer.get("/").get_data(as_text=True)
