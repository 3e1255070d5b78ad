"""Login limiting is atomic and cannot lock the farmer out (issue 13, Why 9).

40 concurrent guesses got 8 password checks instead of 5 (the count was read before any failure was written),
and five wrong passwords from anywhere refused the farmer's right one for 15 minutes.
"""

from __future__ import annotations

import re
import threading
import time

import pytest

import webui.auth
from tests.web_fixtures import PASSWORD, accounts, app, clock, db_path, farm_config, login  # noqa: F401

from .http_login import post_login


@pytest.fixture
def server(web_server):
    return web_server()


def _guess(port: int, password: str) -> int:
    return post_login(port, password).status


def test_forty_concurrent_guesses_get_exactly_five_password_checks(server, monkeypatch):
    checks = []
    real = webui.auth.authenticate

    def counting(*args, **kwargs):
        checks.append(1)
        time.sleep(0.05)  # a slow hash: the window the old count slipped through
        return real(*args, **kwargs)

    monkeypatch.setattr(webui.auth, "authenticate", counting)
    statuses = []
    barrier = threading.Barrier(40)

    def one(i):
        barrier.wait()
        statuses.append(_guess(server.port, f"guess {i}"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(checks) == 5
    assert sorted(statuses) == [401] * 5 + [429] * 35


def test_guessers_elsewhere_do_not_lock_the_farmer_out_of_his_own_phone(app):
    phone = app.test_client()
    assert login(phone, "jan").status_code == 302  # the phone logged in before: it has its device cookie
    phone.post("/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                        phone.get("/").get_data(as_text=True)).group(1)})
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    for i in range(10):
        assert login(guesser, "jan", f"guess {i}").status_code in (401, 429)
    assert login(guesser, "jan").status_code == 429  # a new browser waits: the account is under attack
    assert login(phone, "jan").status_code == 302  # the farmer's phone is not locked out


def test_a_known_device_has_its_own_limit(app):
    phone = app.test_client()
    assert login(phone, "jan").status_code == 302
    for i in range(5):
        assert login(phone, "jan", f"typo {i}").status_code == 401
    assert login(phone, "jan").status_code == 429  # five wrong ones on the device itself: it waits too
