"""Fixtures of the fault suite: the shared ones (a real mosquitto, a farm configuration) plus helpers."""

from __future__ import annotations

from tests.conftest import broker, cli, config, config_file, store  # noqa: F401 - fixtures for this folder
