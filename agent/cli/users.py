"""`ikb-agent user list|disable|enable|passwd` and `ikb-agent token list|revoke`: accounts without SQL.

Disabling an account or giving it a new password ends its web sessions at once; a disabled account's API
tokens stop working with it. Messages Dutch first, in one place (``TEXT``) for the catalogue.
"""

from __future__ import annotations

import json
import sys

import click

from agent.cli.base import AppContext, InputError, pass_app

TEXT = {
    "disabled": "account {name} uitgeschakeld; {sessions} beëindigd",
    "sessions_one": "1 sessie",
    "sessions_many": "{n} sessies",
    "enabled": "account {name} weer ingeschakeld",
    "passwd": "nieuw wachtwoord voor {name}; alle sessies van dit account zijn beëindigd",
    "revoked": "API-token #{id} ({name}{label}) ingetrokken",
    "no_users": "geen accounts (maak er een met `ikb-agent user add NAAM --role farmer`)",
    "no_tokens": "geen API-tokens",
}


def read_password(prompt: str = "Wachtwoord") -> str:
    """Read a password: prompted twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=True)
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
        click.echo(TEXT["no_users"])
    for u in users:
        state = "uit" if u["disabled"] else "aan"
        click.echo(f"{u['name']:<24} {u['role']:<8} {state:<4} sessies {u['sessions']:>3}  tokens {u['tokens']:>2}")


@click.command("disable")
@click.argument("name")
@pass_app
def user_disable(app: AppContext, name: str) -> None:
    """Disable an account: it cannot log in, its sessions end now, its API tokens stop working.

    \b
    Example:
      ikb-agent user disable oud-personeel
    """
    from agent.store import UserError, list_users, set_disabled

    before = {u["name"]: u["sessions"] for u in list_users(app.store, app.now())}
    try:
        account = set_disabled(app.store, name, True, app.now())
    except UserError as exc:
        raise InputError(str(exc)) from None
    n = before.get(account["name"], 0)
    sessions = TEXT["sessions_one"] if n == 1 else TEXT["sessions_many"].format(n=n)
    click.echo(TEXT["disabled"].format(name=account["name"], sessions=sessions))


@click.command("enable")
@click.argument("name")
@pass_app
def user_enable(app: AppContext, name: str) -> None:
    """Enable a disabled account again (it logs in anew; ended sessions stay ended).

    \b
    Example:
      ikb-agent user enable jan
    """
    from agent.store import UserError, set_disabled

    try:
        account = set_disabled(app.store, name, False, app.now())
    except UserError as exc:
        raise InputError(str(exc)) from None
    click.echo(TEXT["enabled"].format(name=account["name"]))


@click.command("passwd")
@click.argument("name")
@pass_app
def user_passwd(app: AppContext, name: str) -> None:
    """Give an account a new password (from standard input); every session of the account ends.

    \b
    Example:
      printf '%s\\n' 'a new long password' | ikb-agent user passwd jan
    """
    from agent.store import UserError, set_password

    try:
        set_password(app.store, name, read_password("Nieuw wachtwoord"), app.now())
    except UserError as exc:
        raise InputError(str(exc)) from None
    click.echo(TEXT["passwd"].format(name=name.strip()))


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
    from agent.store import UserError, list_tokens

    try:
        tokens = list_tokens(app.store, name)
    except UserError as exc:
        raise InputError(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(tokens, ensure_ascii=False, indent=1))
        return
    if not tokens:
        click.echo(TEXT["no_tokens"])
    for t in tokens:
        state = f"ingetrokken {t['revoked_at'][:16]}" if t["revoked_at"] else "actief"
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
    from agent.store import UserError, revoke_token

    try:
        token = revoke_token(app.store, token_id, app.now())
    except UserError as exc:
        raise InputError(str(exc)) from None
    label = f", {token['label']}" if token["label"] else ""
    click.echo(TEXT["revoked"].format(id=token["id"], name=token["name"], label=label))
