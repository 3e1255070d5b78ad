"""Request bodies are refused by size before they are spooled (issue 13, Why 8).

waitress read a 200 MB body into a temporary file before Flask answered 413; eleven stalled anonymous uploads
filled a 30 MB TMPDIR. Now the server answers 413 as soon as the headers are in — here the client has sent
no byte of the body yet when the answer arrives.
"""

from __future__ import annotations

import socket
import time

import pytest

from tests.faults.http_login import post_login, session_cookie
from tests.web_fixtures import PASSWORD, accounts, clock, db_path, farm_config  # noqa: F401


@pytest.fixture
def server(web_server):
    return web_server()


def _headers_only(port: int, path: str, length: int, extra: str = "") -> tuple[float, str]:
    """Send a POST's headers announcing ``length`` bytes, no body; return (seconds to the answer, answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                     f"Content-Length: {length}\r\n{extra}\r\n".encode())
        t0 = time.monotonic()
        answer = sock.recv(4096).decode("latin-1")
        return time.monotonic() - t0, answer


def _session_cookie(port: int) -> str:
    """Log in as the farmer over HTTP; return the Cookie header line."""
    response = post_login(port)
    assert response.status == 302, response.status
    return f"Cookie: {session_cookie(response)}\r\n"


def test_an_anonymous_200_mb_upload_is_refused_before_its_body_is_read(server):
    waited, answer = _headers_only(server.port, "/login", 200 * 1024 * 1024)
    assert answer.startswith("HTTP/1.1 413"), answer[:100]
    assert waited < 5


def test_an_anonymous_body_over_64_kb_is_refused_however_small_the_upload_limit_allows(server):
    """Eleven stalled anonymous uploads of 1 MB each never touch the disk: each is refused at its headers."""
    for _ in range(11):
        _waited, answer = _headers_only(server.port, "/rules/A4.1.10/document", 1024 * 1024)
        assert answer.startswith("HTTP/1.1 413"), answer[:100]


def test_a_logged_in_upload_over_the_limit_is_refused_and_within_it_goes_to_the_app(server):
    cookie = _session_cookie(server.port)
    limit = server.app.config["MAX_CONTENT_LENGTH"]
    _waited, answer = _headers_only(server.port, "/rules/A4.1.10/document", limit + 1, cookie)
    assert answer.startswith("HTTP/1.1 413"), answer[:100]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        body = b"x" * (200 * 1024)
        sock.sendall(f"POST /rules/A4.1.10/document HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
                     f"Content-Type: application/octet-stream\r\n{cookie}\r\n".encode() + body)
        answer = sock.recv(4096).decode("latin-1")
    assert not answer.startswith("HTTP/1.1 413") and not answer.startswith("HTTP/1.1 5"), answer[:100]
