"""What every CLI command shares: the lazily built context, input errors, time parsing.

Feature modules define their click commands with these and `agent/cli.py`
adds them to the group.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property

import click

from agent import clock
from agent.config import Settings, load_config
from agent.store import Store, open_store


class CommandFailed(Exception):
    """A command could not do its work; the message says why (exit code 1)."""


class InputError(click.ClickException):
    """Bad input to a command: one line naming the field, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"ikb-agent: {self.format_message()}", err=True)


class AppContext:
    """What every command may need, built lazily: commands that need no config don't load it."""

    def __init__(self, config_path: str, db_path: str | None):
        self.config_path = config_path
        self.db_path = db_path

    @cached_property
    def config(self) -> Settings:
        """Return the validated configuration (ConfigError when invalid); say which keys are deprecated."""
        settings = load_config(self.config_path)
        for note in settings.deprecations:
            click.echo(f"ikb-agent: warning: {self.config_path}: {note}", err=True)
        return settings

    @cached_property
    def store(self) -> Store:
        """Return the opened, migrated database."""
        return open_store(self.db_path or self.config.storage.path)

    def now(self) -> datetime:
        """Return the current moment (UTC)."""
        return clock.utcnow()


pass_app = click.make_pass_decorator(AppContext)


def parse_when(value: str | None, tz, *, end_of_day: bool = False) -> datetime | None:
    """Parse a --at/--since value: ISO moment, or a date (farm-local midnight, or end of day)."""
    if value is None:
        return None
    try:
        if len(value.strip()) == 10:
            day = date.fromisoformat(value.strip())
            moment = datetime.combine(day + timedelta(days=1) if end_of_day else day, time(0), tz)
            return moment.astimezone(timezone.utc)
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"expected an ISO date or date-time, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)
