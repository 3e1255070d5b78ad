"""`ikb-agent web` under waitress and `ikb-agent user token`."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from agent.config import load_config
from webui import create_app

from .conftest import REPO, free_port


def test_user_token_prints_a_token_that_opens_the_api(cli, config_file):
    assert cli("user", "add", "jan", "--role", "farmer", stdin="correct horse battery\n").code == 0
    result = cli("user", "token", "jan", "--label", "tests")
    assert result.code == 0
    token = result.out.strip()
    app = create_app(load_config(config_file))
    response = app.test_client().get("/api/v1/score", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["scheme"] == "IKB Ei"
    app.extensions["ikb"].close()


def test_user_token_for_an_unknown_account_names_it(cli):
    result = cli("user", "token", "nobody")
    assert result.code == 2 and "name: geen account nobody" in result.err


def test_web_serves_the_page_with_waitress(config_file):
    port = free_port()
    exe = str(Path(sys.executable).parent / "ikb-agent")
    proc = subprocess.Popen([exe, "--config", str(config_file), "web",
                             "--port", str(port)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
            except urllib.error.HTTPError as exc:
                # No account yet: the first-run page (503) explains how to make one.
                assert exc.code == 503 and exc.headers["Server"] == "ikb-agent"
                assert "ikb-agent user add" in exc.read().decode()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
