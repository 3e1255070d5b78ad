"""Sessions end on the server (issue 13, Why 5): logout, disable, new password, idle; tokens listed and revoked.

Before, a cookie copied before logout still read pages and wrote visitor entries through the API, sessions
lasted 30 days whatever happened, and accounts and tokens could only be stopped with SQL.
"""

from __future__ import annotations

from datetime import timedelta

from agent.store.connection import open_store
from agent.store.users import create_token
from tests.test_logbook import GOOD
from tests.web_fixtures import (  # noqa: F401
    NOW,
    PASSWORD,
    accounts,
    app,
    client_for,
    clock,
    db_path,
    farm_config,
    farmer,
    login,
    token_of,
)


def _copy(app, client):
    """Return a second client carrying a copy of a client's session cookie (a thief's copy)."""
    thief = app.test_client()
    thief.set_cookie("ikb_session", client.get_cookie("ikb_session").value)
    return thief


def _api_visitor(client, csrf, **headers):
    return client.post("/api/v1/logbooks/visitors", json=GOOD["visitors"], headers={"X-CSRFToken": csrf, **headers})


def test_a_cookie_replayed_after_logout_reads_nothing_and_writes_nothing(app, farmer):
    csrf = token_of(farmer)
    thief = _copy(app, farmer)
    assert thief.get("/").status_code == 200 and _api_visitor(thief, csrf).status_code in (200, 201)
    assert farmer.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert thief.get("/").status_code == 302 and "/login" in thief.get("/").headers["Location"]
    assert thief.get("/api/v1/score").status_code == 401
    assert _api_visitor(thief, csrf).status_code == 401
    assert thief.get("/logbooks/visitors/").status_code == 302


def test_user_disable_ends_sessions_and_tokens_and_enable_lets_the_account_log_in_again(app, farmer, cli, client_for):
    store = open_store(app.extensions["ikb"].store_path)
    token = create_token(store, "jan", NOW, "ha")
    store.close()
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/score", headers=bearer).status_code == 200
    result = cli("user", "disable", "jan")
    assert result.code == 0 and "account jan uitgeschakeld; 1 sessie beëindigd" in result.out
    assert farmer.get("/").status_code == 302
    assert app.test_client().get("/api/v1/score", headers=bearer).status_code == 401
    assert login(app.test_client(), "jan").status_code == 401
    assert cli("user", "enable", "jan").code == 0
    assert client_for("jan").get("/").status_code == 200
    assert cli("user", "disable", "nobody").code == 2


def test_user_passwd_ends_every_session_of_the_account(app, farmer, cli, client_for):
    other_phone = client_for("jan")
    result = cli("user", "passwd", "jan", stdin="a brand new password\n")
    assert result.code == 0, result.err
    assert farmer.get("/").status_code == 302 and other_phone.get("/").status_code == 302
    assert login(app.test_client(), "jan").status_code == 401  # the old password
    assert login(app.test_client(), "jan", "a brand new password").status_code == 302
    short = cli("user", "passwd", "jan", stdin="short\n")
    assert short.code == 2 and "password: minstens 8 tekens" in short.err


def test_token_list_shows_no_secret_and_revoke_stops_the_token(app, cli, accounts):
    store = open_store(app.extensions["ikb"].store_path)
    token = create_token(store, "jan", NOW, "home assistant")
    store.close()
    listed = cli("token", "list")
    assert listed.code == 0 and "#1" in listed.out and "home assistant" in listed.out and token not in listed.out
    assert cli("token", "revoke", "1").code == 0
    assert app.test_client().get("/api/v1/score", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "ingetrokken" in cli("token", "list", "jan").out
    assert cli("token", "revoke", "99").code == 2 and cli("token", "revoke", "x").code == 2


def test_user_list_shows_roles_sessions_and_tokens(app, farmer, cli):
    result = cli("user", "list")
    assert result.code == 0
    jan = next(line for line in result.out.splitlines() if line.startswith("jan "))
    assert "farmer" in jan and "aan" in jan and "sessies   1" in jan


def test_an_idle_session_ends_and_a_kiosk_tablet_stays_until_the_absolute_limit(app, farmer, client_for, clock):
    tablet = client_for("tablet")
    idle = timedelta(days=app.extensions["ikb"].config.web.session_idle_days)
    clock.now = NOW + idle - timedelta(minutes=1)
    assert farmer.get("/").status_code == 200  # used: the idle time starts again
    clock.now += idle + timedelta(minutes=1)
    assert farmer.get("/").status_code == 302
    assert tablet.get("/kiosk/").status_code == 200
    clock.now = NOW + timedelta(days=app.extensions["ikb"].config.web.session_days, minutes=1)
    assert tablet.get("/kiosk/").status_code == 302


def test_a_clock_set_back_does_not_resurrect_or_break_a_session(app, farmer, clock):
    clock.now = NOW - timedelta(days=400)  # the Pi booted with a stale clock
    assert farmer.get("/").status_code == 200
    clock.now = NOW + timedelta(minutes=5)
    assert farmer.get("/").status_code == 200
