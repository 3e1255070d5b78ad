"""The installer and the units (issue 16), fast: install.sh under a temporary root (no packages, user or venv),
shellcheck, systemd-analyze verify, and the broker account it creates tried against a real mosquitto.
The full install on a clean Debian root is deploy/test/chroot-install.sh (slow; docs/INSTALL.md)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

from agent.config import load_config

from .conftest import REPO, free_port

DEPLOY = REPO / "deploy"
SKIP = "packages,user,code"


def run(*args: str, root: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run a deploy script against ``root``."""
    result = subprocess.run(["sh", *args, "--root", str(root)], capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture
def root(tmp_path) -> Path:
    """A target system's root whose venv python is this checkout's (the `code` step is skipped)."""
    root = tmp_path / "root"
    venv = root / "opt/ikb-agent/venv/bin"
    venv.mkdir(parents=True)
    # A wrapper, not a symlink: a venv is found from the path of the interpreter as started.
    (venv / "python").write_text(f"#!/bin/sh\nexec {REPO / '.venv/bin/python'} \"$@\"\n")
    (venv / "python").chmod(0o755)
    return root


def digests(root: Path) -> dict[str, str]:
    """Return the SHA-256 of every file under root."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def passwd_line(root: Path) -> str:
    return (root / "etc/mosquitto/ikb-agent.passwd").read_text()


def test_the_scripts_are_shellcheck_clean():
    scripts = sorted(DEPLOY.glob("*.sh")) + sorted(DEPLOY.glob("test/*.sh"))
    assert len(scripts) >= 4
    result = subprocess.run(["shellcheck", "--shell=sh", *map(str, scripts)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    # verify checks that ExecStart exists: point it at this checkout's ikb-agent, nothing else changes.
    for unit in ("ikb-agent.service", "ikb-agent-web.service"):
        text = (DEPLOY / unit).read_text().replace("/opt/ikb-agent/venv/bin/ikb-agent", str(REPO / ".venv/bin/ikb-agent"))
        (tmp_path / unit).write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "ikb-agent.service"),
                             str(tmp_path / "ikb-agent-web.service")], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout + result.stderr == ""


def test_the_agent_unit_is_a_hardened_notify_service_with_a_watchdog():
    unit = (DEPLOY / "ikb-agent.service").read_text()
    settings = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
    assert settings["Type"] == "notify" and int(settings["WatchdogSec"]) > 0 and settings["Restart"] == "always"
    assert settings["ProtectSystem"] == "strict" and settings["ReadWritePaths"] == "/var/lib/ikb-agent"
    assert settings["NoNewPrivileges"] == "yes" and settings["PrivateTmp"] == "yes"
    assert settings["StandardOutput"] == settings["StandardError"] == "journal"
    web = dict(re.findall(r"^(\w+)=(.*)$", (DEPLOY / "ikb-agent-web.service").read_text(), re.M))
    assert web["ProtectSystem"] == "strict" and web["Restart"] == "always"


def test_the_installer_is_idempotent_and_never_overwrites_the_farms_files(root):
    first = run(str(DEPLOY / "install.sh"), "--skip", SKIP, root=root)
    config = root / "etc/ikb-agent/ikb-agent.toml"
    settings = load_config(config)
    assert settings.storage.path == "/var/lib/ikb-agent/ikb-agent.db"
    assert settings.mqtt.username == "ikb-agent" and len(settings.mqtt.password) >= 32
    assert passwd_line(root).startswith("ikb-agent:$7$")  # mosquitto's PBKDF2-SHA512 hash
    assert (root / "etc/mosquitto/conf.d/ikb-agent.conf").read_text() == (DEPLOY / "mosquitto.conf").read_text()
    assert (root / "etc/mosquitto/ikb-agent.acl").exists()
    assert (root / "etc/systemd/system/ikb-agent.service").exists()
    assert (root / "var/lib/ikb-agent").is_dir() and oct((root / "var/lib/ikb-agent").stat().st_mode)[-3:] == "750"
    assert oct(config.stat().st_mode)[-3:] == "640"
    # The unedited example is not a farm: nothing is enabled yet.
    assert "now edit" in first.stdout and not (root / "etc/systemd/system/multi-user.target.wants").exists()

    before = digests(root)
    again = run(str(DEPLOY / "install.sh"), "--skip", SKIP, root=root)
    assert digests(root) == before
    assert "keeping" in again.stdout and "creating" not in again.stdout

    # The farmer edits the configuration: kept as it is, and the services are enabled now.
    edited = config.read_text().replace('name = "Pluimveebedrijf De Hoeve"', 'name = "Hoeve Jansen"')
    config.write_text(edited)
    (root / "etc/mosquitto/ikb-agent.acl").write_text("user ikb-agent\ntopic readwrite #\nuser z2m\ntopic write z/#\n")
    third = run(str(DEPLOY / "install.sh"), "--skip", SKIP, root=root)
    assert config.read_text() == edited
    assert hashlib.sha256(passwd_line(root).encode()).hexdigest() == before["etc/mosquitto/ikb-agent.passwd"]
    assert "z2m" in (root / "etc/mosquitto/ikb-agent.acl").read_text()
    wants = root / "etc/systemd/system/multi-user.target.wants"
    assert sorted(p.name for p in wants.iterdir()) == ["ikb-agent-web.service", "ikb-agent.service"]
    assert "enabled" in third.stdout

    # The configuration lost: a new one with a new password, and the broker told the new one.
    config.unlink()
    run(str(DEPLOY / "install.sh"), "--skip", SKIP, root=root)
    assert load_config(config).mqtt.password != settings.mqtt.password
    assert hashlib.sha256(passwd_line(root).encode()).hexdigest() != before["etc/mosquitto/ikb-agent.passwd"]


def test_an_invalid_configuration_stops_the_installer_naming_the_key(root):
    run(str(DEPLOY / "install.sh"), "--skip", SKIP, root=root)
    config = root / "etc/ikb-agent/ikb-agent.toml"
    config.write_text(config.read_text().replace('housing = "barn"', 'housing = "battery"'))
    result = run(str(DEPLOY / "install.sh"), "--skip", SKIP, root=root, check=False)
    assert result.returncode == 2
    assert "houses[1].housing" in result.stderr and "not valid" in result.stdout


def test_a_backup_directory_elsewhere_is_made_writable_for_the_agent(root):
    run(str(DEPLOY / "install.sh"), "--skip", SKIP, root=root)
    config = root / "etc/ikb-agent/ikb-agent.toml"
    config.write_text(config.read_text().replace('# directory = "/media/ikb-backup/ikb-agent"',
                                                 'directory = "/media/ikb-backup/ikb-agent"'))
    run(str(DEPLOY / "install.sh"), "--skip", SKIP, root=root)
    dropin = root / "etc/systemd/system/ikb-agent.service.d/backup-directory.conf"
    assert "ReadWritePaths=-/media/ikb-backup/ikb-agent" in dropin.read_text()
    # Back to the default (beside the database): the drop-in goes.
    config.write_text(config.read_text().replace('directory = "/media/ikb-backup/ikb-agent"', ""))
    run(str(DEPLOY / "install.sh"), "--skip", SKIP, root=root)
    assert not dropin.exists()


def test_uninstall_keeps_the_data_unless_told_otherwise(root):
    run(str(DEPLOY / "install.sh"), "--skip", SKIP, root=root)
    (root / "var/lib/ikb-agent/ikb-agent.db").write_bytes(b"the farm's logbooks")
    run(str(DEPLOY / "uninstall.sh"), root=root)
    assert not (root / "opt/ikb-agent").exists() and not (root / "usr/local/bin/ikb-agent").exists()
    assert not (root / "etc/systemd/system/ikb-agent.service").exists()
    assert not (root / "etc/mosquitto/conf.d/ikb-agent.conf").exists()
    assert (root / "var/lib/ikb-agent/ikb-agent.db").read_bytes() == b"the farm's logbooks"
    assert (root / "etc/ikb-agent/ikb-agent.toml").exists() and (root / "etc/mosquitto/ikb-agent.passwd").exists()
    run(str(DEPLOY / "uninstall.sh"), "--purge", "--yes", root=root)
    assert not (root / "var/lib/ikb-agent").exists() and not (root / "etc/ikb-agent").exists()
    assert not (root / "etc/mosquitto/ikb-agent.passwd").exists()


# --------------------------------------------------------------------------- the broker as installed


def start_mosquitto(root: Path, workdir: Path) -> tuple[subprocess.Popen, int]:
    """Start mosquitto as Debian does (its main file including conf.d) with the installed files, on a free port."""
    port = free_port()
    conf_d = workdir / "conf.d"
    conf_d.mkdir(parents=True)
    installed = (root / "etc/mosquitto/conf.d/ikb-agent.conf").read_text()
    installed = installed.replace("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1")
    installed = installed.replace("/etc/mosquitto/", f"{root}/etc/mosquitto/")
    (conf_d / "ikb-agent.conf").write_text(installed)
    # Debian's /etc/mosquitto/mosquitto.conf, with paths of this test.
    (workdir / "mosquitto.conf").write_text(
        f"persistence true\npersistence_location {workdir}/\nlog_dest stderr\ninclude_dir {conf_d}\n"
        + ("user root\n" if os.geteuid() == 0 else ""))
    proc = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(workdir / "mosquitto.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                raise AssertionError("mosquitto refused the installed configuration: " + proc.stderr.read())
            time.sleep(0.05)
    raise AssertionError("mosquitto did not start")


def connect(port: int, username: str | None, password: str | None) -> str:
    """Connect with MQTT v5 and return the broker's answer."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if username:
        client.username_pw_set(username, password)
    answers: list[str] = []
    client.on_connect = lambda c, u, flags, reason, props: answers.append(str(reason))
    client.connect("127.0.0.1", port)
    client.loop_start()
    deadline = time.monotonic() + 5
    while not answers and time.monotonic() < deadline:
        time.sleep(0.02)
    client.loop_stop()
    client.disconnect()
    return answers[0] if answers else "no answer"


def test_the_installed_broker_admits_the_agent_and_refuses_anonymous_clients(root, tmp_path):
    run(str(DEPLOY / "install.sh"), "--skip", SKIP, root=root)
    mqtt = tomllib.loads((root / "etc/ikb-agent/ikb-agent.toml").read_text())["mqtt"]
    proc, port = start_mosquitto(root, tmp_path / "broker")
    try:
        assert connect(port, mqtt["username"], mqtt["password"]) == "Success"
        assert connect(port, None, None) == "Not authorized"
        assert connect(port, mqtt["username"], "guessed") == "Not authorized"
    finally:
        proc.terminate()
        proc.wait(10)
