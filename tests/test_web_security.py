"""The access policy over every route: login, CSRF, roles, headers."""

from __future__ import annotations

import re

import pytest

from .web_fixtures import accounts, app, auditor, client_for, clock, db_path, farm_config, farmer, token_of  # noqa: F401

PUBLIC = {"auth.login", "auth.set_language", "api.openapi", "static", "kiosk.enter", "alerts.ack_link"}
# Writes every role may make for itself (ending its own session).
SELF_SERVICE = {"auth.logout"}
# Posts that change nothing on the farm: building an audit pack (read-only connection, a temporary file of the
# web process) and checking an uploaded one. Auditors may make them.
AUDITOR_POSTS = {"audit.start_pack", "audit.verify"}


def _routes(app):
    """Return (endpoint, method, path) for every route, with sample path values."""
    samples = {"alert_id": "1", "token": "x", "rule_id": "A4.1.10", "house": "1", "room": "E", "file_id": "1", "filename": "app.css",
               "kind": "visitors", "fmt": "csv", "entry_id": "1", "key": "x"}
    out = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: samples.get(m.group(1), "x"), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, path))
    return out


def test_the_route_table_is_covered(app):
    endpoints = {e for e, _m, _p in _routes(app)}
    assert {"dashboard.index", "rules.assess", "api.add_assessment", "charts.light", "audit.index"} <= endpoints
    # Phase 2: every new write is in the table the tests below walk (login, CSRF, roles).
    assert {"logbooks.new", "logbooks.correct", "logbooks.withdraw", "logbooks.confirm", "daysheet.save",
            "kiosk.register", "kiosk.make_link", "api.add_visitors", "api.correct_logbook_entry",
            "api.confirm_logbook_entry"} <= endpoints


def test_every_route_without_login_redirects_to_login_or_answers_401(app):
    client = app.test_client()
    for endpoint, method, path in _routes(app):
        if endpoint in PUBLIC:
            continue
        response = client.open(path, method=method)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
        else:
            assert response.status_code == 302 and "/login" in response.headers["Location"], (method, path)


def test_every_post_without_csrf_token_is_refused_with_400(farmer, app):
    for endpoint, method, path in _routes(app):
        if method == "POST":
            assert farmer.post(path, data={"status": "ok"}).status_code == 400, path


def test_every_auditor_post_is_refused_with_403(auditor, app):
    token = token_of(auditor)
    for endpoint, method, path in _routes(app):
        if method == "POST" and endpoint not in PUBLIC | SELF_SERVICE:
            response = auditor.post(path, data={"status": "ok", "csrf_token": token},
                                    headers={"X-CSRFToken": token})
            if endpoint in AUDITOR_POSTS:
                assert response.status_code in (303, 400), path  # started, or told what is missing
            else:
                assert response.status_code == 403, path


def test_kiosk_gets_403_on_every_farm_page(client_for, app):
    kiosk = client_for("tablet")
    for endpoint, method, path in _routes(app):
        if method == "GET" and endpoint not in PUBLIC and not endpoint.startswith("kiosk."):
            assert kiosk.get(path).status_code == 403, path


@pytest.mark.parametrize("path", ["/", "/rules/", "/login"])
def test_pages_carry_security_headers(farmer, path):
    response = farmer.get(path)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_no_inline_script_is_needed(farmer):
    """The page's only scripts are files from /static (the CSP forbids inline script)."""
    for path in ("/", "/rules/A4.1.10", "/charts/", "/logbooks/", "/logbooks/visitors/new", "/daysheet/1",
                 "/kiosk/", "/kiosk/poster"):
        html = farmer.get(path).get_data(as_text=True)
        for tag in re.findall(r"<script[^>]*>", html):
            assert 'src="/static/' in tag, tag


def test_a_polled_fragment_after_the_session_ended_gets_401_not_the_login_page(app):
    response = app.test_client().get("/live", headers={"HX-Request": "true"})
    assert response.status_code == 401 and b"<form" not in response.data
