"""./dev: the demo installs the runtime dependencies only; the tests add the [test] extra."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .conftest import REPO

FAKE_PYTHON = """#!/bin/sh
echo "python $*" >> "$LOG"
"""
FAKE_TOOL = """#!/bin/sh
echo "$(basename "$0") $*" >> "$LOG"
"""


def _run_dev(tmp_path: Path, command: str) -> list[str]:
    """Run a copy of ./dev with stand-ins for Debian's tools and the virtual environment; return what they were asked."""
    work = tmp_path / command
    (work / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(REPO / "dev", work / "dev")
    shutil.copy(REPO / "pyproject.toml", work / "pyproject.toml")
    bin_dir = work / "fakebin"
    bin_dir.mkdir()
    for name, text in {"python": FAKE_PYTHON, "ikb-agent": FAKE_TOOL, "pytest": FAKE_TOOL}.items():
        path = work / ".venv" / "bin" / name
        path.write_text(text)
        path.chmod(0o755)
    for name in ("dpkg", "sudo", "apt-get"):  # every Debian package counts as installed
        path = bin_dir / name
        path.write_text(FAKE_TOOL)
        path.chmod(0o755)
    log = work / "log"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "LOG": str(log)}
    subprocess.run(["sh", "./dev", command], cwd=work, env=env, check=True, capture_output=True, timeout=30)
    return log.read_text().splitlines()


def test_dev_demo_installs_no_test_tools(tmp_path):
    calls = _run_dev(tmp_path, "demo")
    installs = [c for c in calls if "pip install" in c and "--upgrade pip" not in c]
    assert installs == ["python -m pip install -q -e ."]
    assert "ikb-agent demo" in calls


def test_dev_test_installs_the_test_extra(tmp_path):
    calls = _run_dev(tmp_path, "test")
    assert "python -m pip install -q -e .[test]" in calls
