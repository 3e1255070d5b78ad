"""The route × identity × method × CSRF table, generated from the app's routes and checked in one test.

Identities: nobody; farmer, auditor and kiosk with a session; the farmer's cookie replayed after logout; a
token of each role; a revoked token. For each: the login page or 401 when not identified, 403 when the role
may not, 400 for a session's unsafe request without its CSRF token, and otherwise the view's own answer —
never a 5xx. Which roles a view admits comes from its declaration (webui/access.py); that the declarations
are right is pinned by the explicit lists below.
"""

from __future__ import annotations

import re
from collections import Counter

from agent.store.connection import open_store
from agent.store.users import create_token, revoke_token
from tests.web_fixtures import NOW, accounts, app, client_for, clock, db_path, farm_config, login  # noqa: F401
from webui.access import DEFAULT_READ, DEFAULT_WRITE, SAFE_METHODS

SAMPLES = {"alert_id": "1", "token": "x", "rule_id": "A4.1.10", "house": "1", "room": "E", "file_id": "1",
           "filename": "app.css", "kind": "visitors", "fmt": "csv", "entry_id": "1", "key": "x"}
# What the kiosk account may reach, and the only write an auditor may make: written out, not derived.
# The kiosk cannot log out (issue 14): only the farmer's PIN on the unlock page ends its session.
KIOSK_REACHES = {"kiosk.index", "kiosk.register", "kiosk.thanks", "kiosk.departure", "kiosk.leave", "kiosk.unlock"}
# Building an audit pack and checking one change nothing on the farm (read-only connection, a temporary file).
AUDITOR_WRITES = {"auth.logout", "audit.start_pack", "audit.verify"}


def _routes(app):
    """Yield (endpoint, method, sample path, view) for every route; logging out last (it ends the session)."""
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout")
    for rule in rules:
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: SAMPLES.get(m.group(1), "x"), rule.rule)
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path, view


def _allowed(view, method: str, role: str) -> bool:
    roles = getattr(view, "read_roles", DEFAULT_READ) if method in SAFE_METHODS else \
        getattr(view, "write_roles", DEFAULT_WRITE)
    return role in roles


def test_route_role_method_csrf_table(app, client_for):
    store = open_store(app.extensions["ikb"].store_path)
    tokens = {name: create_token(store, name, NOW, "table") for name in ("jan", "anna", "tablet")}
    revoked = create_token(store, "jan", NOW, "revoked")
    revoke_token(store, store.query("SELECT max(id) AS id FROM api_tokens")[0]["id"], NOW)
    store.close()
    sessions = {"farmer": client_for("jan"), "auditor": client_for("anna"), "kiosk": client_for("tablet")}
    csrf = {}
    for role, client in sessions.items():
        page = client.get("/kiosk/" if role == "kiosk" else "/").get_data(as_text=True)
        csrf[role] = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    # A copy of the farmer's cookie, taken before the farmer logged out on another client.
    gone = client_for("jan")
    gone_csrf = re.search(r'name="csrf_token" value="([^"]+)"', gone.get("/").get_data(as_text=True)).group(1)
    replayed = app.test_client()
    replayed.set_cookie("ikb_session", gone.get_cookie("ikb_session").value)
    gone.post("/logout", data={"csrf_token": gone_csrf})

    identities = [("nobody", app.test_client(), None, {}), ("replayed after logout", replayed, None, {})]
    identities += [(f"{role} session", client, role, {}) for role, client in sessions.items()]
    identities += [(f"{role} token", app.test_client(), role, {"Authorization": f"Bearer {tokens[name]}"})
                   for role, name in (("farmer", "jan"), ("auditor", "anna"), ("kiosk", "tablet"))]
    identities.append(("revoked token", app.test_client(), None, {"Authorization": f"Bearer {revoked}"}))

    outcomes: Counter = Counter()
    problems = []
    reachable = {role: set() for role in ("farmer", "auditor", "kiosk")}
    for endpoint, method, path, view in _routes(app):
        if getattr(view, "public", False):
            continue
        safe = method in SAFE_METHODS
        for name, client, role, headers in identities:
            with_token = "Authorization" in headers
            variants = [True] if safe or with_token or role is None else [False, True]  # refused first
            for send_csrf in variants:
                h = dict(headers)
                if send_csrf and role and not with_token:
                    h["X-CSRFToken"] = csrf[role]
                data = {"csrf_token": csrf[role]} if send_csrf and role and not with_token and not safe else None
                response = client.open(path, method=method, headers=h, data=data)
                code = response.status_code
                if role is None:
                    api_like = path.startswith("/api/") or with_token
                    want = "401" if api_like else "login"
                elif not _allowed(view, method, role):
                    want = "403"
                elif not safe and not with_token and not send_csrf:
                    want = "csrf"
                else:
                    want = "view"
                    if not safe:
                        reachable[role].add(endpoint)
                    elif role == "kiosk":
                        reachable[role].add(endpoint)
                got = ("401" if code == 401 else "403" if code == 403 else
                       "login" if code == 302 and "/login" in response.headers.get("Location", "") else
                       "csrf" if code == 400 and (b"verlopen" in response.data or b'"csrf"' in response.data) else
                       "5xx" if code >= 500 else "view")
                outcomes[got] += 1
                if endpoint == "auth.logout" and want == "view" and got == "login":
                    got = "view"  # a logout that worked goes to the login page
                if got != want:
                    problems.append((name, method, path, send_csrf, want, got, code))
    assert problems == []
    assert outcomes["5xx"] == 0 and sum(outcomes.values()) >= 650, outcomes
    assert reachable["kiosk"] == KIOSK_REACHES
    assert reachable["auditor"] - {e for e, m, _p, _v in _routes(app) if m in SAFE_METHODS} == AUDITOR_WRITES
