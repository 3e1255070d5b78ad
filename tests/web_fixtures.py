"""Fixtures and helpers for the web tests: an app on a real SQLite file, accounts, logged-in clients."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from agent.config import load_config
from agent.store.connection import open_store
from agent.store.users import add_user

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery"
ACCOUNTS = {"jan": "farmer", "anna": "auditor", "tablet": "kiosk"}


def csrf_from(html: str) -> str:
    """Return the CSRF token in a page's first form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, name: str, password: str = PASSWORD):
    """Log a test client in through the login form; return the response."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def token_of(client, path: str = "/") -> str:
    """Return a CSRF token for a logged-in client (from any page with a form)."""
    return csrf_from(client.get(path).get_data(as_text=True))


@pytest.fixture
def farm_config(config_file):
    """Return the test farm's configuration."""
    return load_config(config_file)


EGG_ROOM_SENSORS = """
[[sensors]]
topic = "ei/t"
kind = "temperature"
location = "E"

[[sensors]]
topic = "ei/rh"
kind = "humidity"
location = "E"

[[sensors]]
topic = "ei/egg"
kind = "egg_temperature"
location = "E"
"""


def with_egg_room_sensors(config_file):
    """Return the test farm's configuration with the egg room's air and egg sensors configured too."""
    config_file.write_text(config_file.read_text(encoding="utf-8") + EGG_ROOM_SENSORS, encoding="utf-8")
    return load_config(config_file)


@pytest.fixture
def db_path(tmp_path):
    """Return the database file of the test farm."""
    return tmp_path / "farm.db"


@pytest.fixture
def accounts(db_path):
    """Create a farmer, an auditor and a kiosk account."""
    s = open_store(db_path)
    for name, role in ACCOUNTS.items():
        add_user(s, name, role, PASSWORD, NOW)
    s.close()
    return ACCOUNTS


@pytest.fixture
def clock():
    """Return a settable clock for the app (starts at NOW)."""

    class Clock:
        def __init__(self):
            self.now = NOW

        def __call__(self):
            return self.now

    return Clock()


@pytest.fixture
def app(farm_config, db_path, accounts, clock):
    """Return the web app for the test farm, with accounts and a fixed clock."""
    from webui import create_app

    application = create_app(farm_config, db_path, {"CLOCK": clock, "TESTING": True})
    yield application
    application.extensions["ikb"].close()


@pytest.fixture
def client_for(app):
    """Return a function giving a test client logged in as the named account."""

    def make(name: str | None):
        client = app.test_client()
        if name:
            response = login(client, name)
            assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make


@pytest.fixture
def farmer(client_for):
    """Return a client logged in as the farmer."""
    return client_for("jan")


@pytest.fixture
def auditor(client_for):
    """Return a client logged in as the auditor."""
    return client_for("anna")


@pytest.fixture
def web_store(app):
    """Return a store on the app's database for arranging and checking data."""
    s = open_store(app.extensions["ikb"].store_path)
    yield s
    s.close()
