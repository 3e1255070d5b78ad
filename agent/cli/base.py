"""What every CLI command shares: the lazily built context, its language, input errors, time parsing.

Feature modules define their click commands with these and `agent/cli/main.py` adds them to the group.
Every line shown to a person goes through ``_``/``ngettext`` (the gettext catalogues, :mod:`agent.i18n`)
in the language of ``--lang`` (env ``IKB_LANG``; Dutch by default); a refusal (:class:`~rules.errors.IkbError`)
is rendered in that language by :class:`IkbGroup`, the one place that turns it into an exit code.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property

import click

from agent import clock
from agent.config import Settings, load_config
from agent.i18n import SOURCE_LANGUAGE, translate, translate_plural, translations
from agent.store import Store, StoreError, open_store
from rules.errors import IkbError


class CommandFailed(Exception):
    """A command could not do its work; the message (already in the CLI's language) says why (exit code 1)."""


class InputError(click.ClickException):
    """Bad input to a command: one line naming the field, exit code 2."""

    exit_code = 2

    def __init__(self, message: str | IkbError):
        super().__init__(render(message) if isinstance(message, IkbError) else message)

    def show(self, file=None) -> None:
        click.echo(f"ikb-agent: {self.format_message()}", err=True)


class AppContext:
    """What every command may need, built lazily: commands that need no config don't load it."""

    def __init__(self, config_path: str, db_path: str | None, lang: str = SOURCE_LANGUAGE):
        self.config_path = config_path
        self.db_path = db_path
        self.lang = lang

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


def language() -> str:
    """Return the language of the running command (``--lang``), Dutch outside one."""
    ctx = click.get_current_context(silent=True)
    app = ctx.find_object(AppContext) if ctx is not None else None
    return app.lang if app is not None else SOURCE_LANGUAGE


def _(msgid: str, **values) -> str:
    """Return a line for the terminal in the command's language, ``{name}`` values filled in."""
    return translate(language(), msgid, **values)


def ngettext(singular: str, plural: str, n: int, **values) -> str:
    """Return the form for ``n`` of a line for the terminal in the command's language."""
    return translate_plural(language(), singular, plural, n, **values)


def render(exc: IkbError) -> str:
    """Return a refusal on one line (``field: message; …``) in the command's language."""
    return exc.line(translations(language()))


class IkbGroup(click.Group):
    """The command group that renders refusals: input → exit 2, an unusable database or export → exit 1."""

    def invoke(self, ctx: click.Context):
        from agent.exports import ExportError

        try:
            return super().invoke(ctx)
        except (StoreError, ExportError) as exc:
            raise CommandFailed(render(exc)) from None
        except IkbError as exc:
            raise InputError(exc) from None


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
        raise click.BadParameter(_("verwacht een datum of tijdstip ISO 8601, niet '{value}'", value=value)) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)
