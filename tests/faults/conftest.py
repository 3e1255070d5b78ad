"""Fixtures of the fault suite beyond tests/conftest.py: the web page under a real waitress."""

from __future__ import annotations

import time

import pytest


@pytest.fixture
def web_server(farm_config, db_path, accounts, clock):
    """Return a function starting the test farm's page under waitress on a free port ([web] keys as overrides)."""
    from webui import make_server

    servers = []

    def start(**web):
        config = farm_config.model_copy(update={"web": farm_config.web.model_copy(update=web)}) if web \
            else farm_config
        srv = make_server(config, "127.0.0.1", 0, store_path=db_path, test_config={"CLOCK": clock}).start()
        time.sleep(0.1)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()
