"""Logging in over real HTTP (waitress), as a browser does: the form's cookie and CSRF token, then the POST."""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlencode

from tests.web_fixtures import PASSWORD


def post_login(port: int, password: str = PASSWORD, name: str = "jan",
               headers: dict | None = None) -> http.client.HTTPResponse:
    """Fetch the login form and post it; return the (read) response of the POST."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login", headers=headers or {})
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    conn.request("POST", "/login", body=urlencode({"name": name, "password": password, "csrf_token": token}),
                 headers={**(headers or {}), "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


def session_cookie(response: http.client.HTTPResponse) -> str:
    """Return the `ikb_session=…` pair a login response set."""
    return next(v.split(";", 1)[0] for k, v in response.getheaders()
                if k.lower() == "set-cookie" and v.startswith("ikb_session="))
