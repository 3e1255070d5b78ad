"""Clear lines, never tracebacks or 500s (issue 13, Why 9): bad --db paths, deep JSON in `logbook add`, a full
disk, and a login behind nginx with its default Host header.
"""

from __future__ import annotations

import sqlite3

import pytest

from agent.store import storage_error
from tests.faults.http_login import post_login
from tests.web_fixtures import PASSWORD, accounts, clock, db_path, farm_config  # noqa: F401


@pytest.mark.parametrize("path", ["/etc/passwd/x.db", "/etc/passwd", "/dev/null", "/", "/proc/1/x.db"])
def test_a_bad_db_path_is_one_line_and_exit_1(cli, path):
    result = cli("--db", path, "logbook", "list", "visitors")
    assert result.code == 1, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ikb-agent: {path}:") and "Traceback" not in result.err


def test_an_empty_db_path_is_a_usage_error(cli):
    result = cli("--db", "", "logbook", "list", "visitors")
    assert result.code == 2 and "--db" in result.err


@pytest.mark.parametrize("body", ["[" * 5000 + "]" * 5000, '{"a":' * 100 + "1" + "}" * 100, '{"x": NaN}',
                                  '{"x": 1e309}', '{"x": ' + "9" * 401 + "}"])
def test_hostile_json_in_logbook_add_is_one_line_and_exit_2(cli, body):
    result = cli("logbook", "add", "visitors", "--json", body)
    assert result.code == 2 and result.err.startswith("ikb-agent: --json: geen geldige JSON"), result
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


def test_a_full_disk_is_called_a_full_disk():
    assert "schijf (SD-kaart) is vol" in str(storage_error(sqlite3.OperationalError("database or disk is full")))
    assert "schijf (SD-kaart) is vol" in str(storage_error(OSError(28, "No space left on device")))
    assert storage_error(ValueError("x")) is None


@pytest.fixture
def proxied(web_server):
    """The web page behind a reverse proxy on this machine (trusted_proxy = 127.0.0.1)."""
    return web_server(trusted_proxy="127.0.0.1")


def test_a_login_behind_nginx_with_its_default_host_header_is_not_refused_as_expired(proxied):
    """nginx sends Host: 127.0.0.1:8080 (proxy_pass default) and X-Forwarded-Proto: https; the browser's Referer
    is the farm's own address. Every login POST was refused as 'form expired'."""
    proxy = {"Host": f"127.0.0.1:{proxied.port}", "X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.10",
             "Referer": "https://boer.example.nl/login", "Origin": "https://boer.example.nl"}
    response = post_login(proxied.port, headers=proxy)
    assert response.status == 302, response.body[:300]
    assert "Secure" in response.getheader("Set-Cookie")  # it knows it was https
