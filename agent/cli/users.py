"""`ikb-agent user list|disable|enable|passwd` and `ikb-agent token list|revoke`: accounts without SQL.

Disabling an account or giving it a new password ends its web sessions at once; a disabled account's API
tokens stop working with it. Lines through ``_``/``ngettext`` (the catalogues); refusals are the store's
:class:`~agent.store.UserError`, rendered by the command group.
"""

from __future__ import annotations

import json
import sys

import click

from agent.cli.base import AppContext, _, ngettext, pass_app
from rules.texts import N_


def read_password(prompt: str = N_("Wachtwoord")) -> str:
    """Read a password: prompted twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        return click.prompt(_(prompt), hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def user_list(app: AppContext, fmt: str) -> None:
    """List the web accounts: role, enabled, open sessions, last seen, active API tokens.

    \b
    Example:
      ikb-agent user list
    """
    from agent.store import list_users

    users = list_users(app.store, app.now())
    if fmt == "json":
        click.echo(json.dumps(users, ensure_ascii=False, indent=1))
        return
    if not users:
        click.echo(_("geen accounts (maak er een met `ikb-agent user add NAAM --role farmer`)"))
    sessions, tokens = _("sessies"), _("tokens")
    for u in users:
        state = _("uit") if u["disabled"] else _("aan")
        click.echo(f"{u['name']:<24} {u['role']:<8} {state:<4} {sessions} {u['sessions']:>3}  {tokens} {u['tokens']:>2}")


@click.command("disable")
@click.argument("name")
@pass_app
def user_disable(app: AppContext, name: str) -> None:
    """Disable an account: it cannot log in, its sessions end now, its API tokens stop working.

    \b
    Example:
      ikb-agent user disable oud-personeel
    """
    from agent.store import list_users, set_disabled

    before = {u["name"]: u["sessions"] for u in list_users(app.store, app.now())}
    account = set_disabled(app.store, name, True, app.now())
    n = before.get(account["name"], 0)
    click.echo(ngettext("account {name} uitgeschakeld; {n} sessie beëindigd",
                        "account {name} uitgeschakeld; {n} sessies beëindigd", n, name=account["name"]))


@click.command("enable")
@click.argument("name")
@pass_app
def user_enable(app: AppContext, name: str) -> None:
    """Enable a disabled account again (it logs in anew; ended sessions stay ended).

    \b
    Example:
      ikb-agent user enable jan
    """
    from agent.store import set_disabled

    account = set_disabled(app.store, name, False, app.now())
    click.echo(_("account {name} weer ingeschakeld", name=account["name"]))


@click.command("passwd")
@click.argument("name")
@pass_app
def user_passwd(app: AppContext, name: str) -> None:
    """Give an account a new password (from standard input); every session of the account ends.

    \b
    Example:
      printf '%s\\n' 'a new long password' | ikb-agent user passwd jan
    """
    from agent.store import set_password

    set_password(app.store, name, read_password(N_("Nieuw wachtwoord")), app.now())
    click.echo(_("nieuw wachtwoord voor {name}; alle sessies van dit account zijn beëindigd", name=name.strip()))


USER_COMMANDS = [user_list, user_disable, user_enable, user_passwd]


@click.group("token")
def token_group() -> None:
    """API tokens: list and revoke (create one with `ikb-agent user token NAME`).

    \b
    Example:
      ikb-agent token list
    """


@token_group.command("list")
@click.argument("name", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def token_list(app: AppContext, name: str | None, fmt: str) -> None:
    """List API tokens (of one account, or all): id, account, label, created, revoked. Never the token itself.

    \b
    Example:
      ikb-agent token list jan
    """
    from agent.store import list_tokens

    tokens = list_tokens(app.store, name)
    if fmt == "json":
        click.echo(json.dumps(tokens, ensure_ascii=False, indent=1))
        return
    if not tokens:
        click.echo(_("geen API-tokens"))
    for t in tokens:
        state = _("ingetrokken {at}", at=t["revoked_at"][:16]) if t["revoked_at"] else _("actief")
        click.echo(f"#{t['id']:<4} {t['name']:<20} {t['created_at'][:16]}  {state:<28} {t['label']}")


@token_group.command("revoke")
@click.argument("token_id", metavar="ID", type=click.IntRange(min=1))
@pass_app
def token_revoke(app: AppContext, token_id: int) -> None:
    """Revoke an API token by its id (see `ikb-agent token list`); it stops working at once.

    \b
    Example:
      ikb-agent token revoke 3
    """
    from agent.store import revoke_token

    token = revoke_token(app.store, token_id, app.now())
    label = f", {token['label']}" if token["label"] else ""
    click.echo(_("API-token #{id} ({name}{label}) ingetrokken", id=token["id"], name=token["name"], label=label))
