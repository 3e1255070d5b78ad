"""Alerts on the web page: the list, acknowledging as the farmer, and the one-time link."""

from __future__ import annotations

from agent.alerts.engine import AlertEngine, list_alerts
from agent.store.readings import to_ms

from .web_fixtures import (  # noqa: F401
    NOW,
    accounts,
    app,
    auditor,
    client_for,
    clock,
    db_path,
    farm_config,
    farmer,
    token_of,
    web_store,
)


def raise_ventilation_alarm(store, config):
    """Raise a critical ventilation alarm for house 1; return (alert, its link token)."""
    alert, sent = AlertEngine(store, config).raise_alert("ventilation_alarm", "1", to_ms(NOW),
                                                         detail="Alarmkast meldt ALARM")
    assert sent
    token = store.query("SELECT token FROM ack_tokens WHERE alert_id = ?", [alert.id])[0]["token"]
    return alert, token


def test_the_farmer_sees_the_open_alert_and_acknowledges_it(farmer, web_store, farm_config):
    alert, _token = raise_ventilation_alarm(web_store, farm_config)
    page = farmer.get("/alerts/").get_data(as_text=True)
    assert "Ventilatie-alarm" in page and "open, niet bevestigd" in page and "Alarmkast meldt ALARM" in page
    response = farmer.post(f"/alerts/{alert.id}/ack", data={"csrf_token": token_of(farmer, "/alerts/")})
    assert response.status_code == 302
    [after] = list_alerts(web_store)
    assert after.acked_by == "jan" and after.acked_via == "web"
    # The repeats waiting in the outbox are cancelled, so the phone stops ringing.
    pending = web_store.query("SELECT count(*) AS n FROM outbox WHERE alert_id = ? AND state = 'pending'"
                              " AND event IN ('repeat', 'escalated')", [alert.id])[0]["n"]
    assert pending == 0
    assert "bevestigd door jan" in farmer.get("/alerts/").get_data(as_text=True)


def test_the_auditor_reads_alerts_but_cannot_acknowledge(auditor, web_store, farm_config):
    alert, _token = raise_ventilation_alarm(web_store, farm_config)
    page = auditor.get("/alerts/").get_data(as_text=True)
    assert "Ventilatie-alarm" in page and "Bevestigen</button>" not in page
    response = auditor.post(f"/alerts/{alert.id}/ack", data={"csrf_token": token_of(auditor, "/alerts/")})
    assert response.status_code == 403
    assert list_alerts(web_store)[0].acked_at is None


def test_the_one_time_link_shows_on_get_and_acknowledges_only_on_post(app, web_store, farm_config):
    _alert, token = raise_ventilation_alarm(web_store, farm_config)
    phone = app.test_client()  # not logged in: the link in the message is the key
    shown = phone.get(f"/alerts/ack/{token}")
    assert shown.status_code == 200 and "Ik heb deze melding gezien" in shown.get_data(as_text=True)
    assert list_alerts(web_store)[0].acked_at is None  # a mail scanner's GET acknowledges nothing
    done = phone.post(f"/alerts/ack/{token}", data={"csrf_token": token_of(phone, f"/alerts/ack/{token}")})
    assert done.status_code == 200 and "Bevestigd." in done.get_data(as_text=True)
    assert list_alerts(web_store)[0].acked_via == "link"
    again = phone.post(f"/alerts/ack/{token}", data={"csrf_token": token_of(phone, f"/alerts/ack/{token}")})
    assert "al bevestigd" in again.get_data(as_text=True)
    assert phone.get("/alerts/ack/made-up-token").status_code == 404
    # The link opens this one alert, not the farm's pages.
    assert phone.get("/alerts/").status_code == 302


def test_bevestigen_is_acknowledge_for_an_alert_and_confirm_for_a_draft_in_english(farmer, web_store, farm_config):
    raise_ventilation_alarm(web_store, farm_config)
    farmer.post("/language", data={"lang": "en", "csrf_token": token_of(farmer), "next": "/"})
    assert "Acknowledge</button>" in farmer.get("/alerts/").get_data(as_text=True)
    from agent.i18n import translations

    assert translations("en").gettext("Bevestigen") == "Confirm"  # a draft's button (logbooks/form.html)


def test_the_alerts_page_names_the_channels_that_exist_and_their_last_test(farmer, web_store):
    with web_store.transaction() as db:
        db.execute("INSERT INTO channel_tests(channel, sent_at, delivered, detail) VALUES (?, ?, 0, ?)",
                   ["http://127.0.0.1:9000/hook", NOW.isoformat(), "connection refused"])
    page = farmer.get("/alerts/").get_data(as_text=True)
    assert "Meldkanaal buiten het bedrijf" in page and "127.0.0.1" in page
    assert "9000/hook" not in page  # a webhook's URL may carry its token: only the host is shown
    assert "test MISLUKT" in page and "connection refused" in page
    assert "Geen meldkanaal buiten het bedrijf." not in page


def test_without_a_channel_the_page_does_not_claim_alerts_left_the_farm(tmp_path, db_path, accounts, clock):
    from agent.config import load_config
    from webui import create_app

    from .conftest import FARM_TOML
    from .web_fixtures import login

    path = tmp_path / "no-channel.toml"
    path.write_text(FARM_TOML.format(db=db_path).split("[[alerts.channels]]")[0], encoding="utf-8")
    app = create_app(load_config(path), db_path, {"CLOCK": clock, "TESTING": True})
    client = app.test_client()
    login(client, "jan")
    page = client.get("/alerts/").get_data(as_text=True)
    app.extensions["ikb"].close()
    assert "Geen meldkanaal buiten het bedrijf." in page and "Meldingen blijven op deze pagina" in page
    assert "naar buiten het bedrijf langs" not in page
