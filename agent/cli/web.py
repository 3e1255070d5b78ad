"""`ikb-agent web` and `ikb-agent user token`: the web page under waitress, and API tokens."""

from __future__ import annotations

import click

from agent.cli.base import AppContext, _, pass_app


@click.command("web")
@click.option("--host", metavar="H", help="Address to listen on (default: [web] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), metavar="P", help="Port (default: [web] port, 8080).")
@click.option("--debug", is_flag=True, help="Flask's development server with reloader and debugger (never on a farm).")
@pass_app
def web_cmd(app: AppContext, host: str | None, port: int | None, debug: bool) -> None:
    """Serve the web page and the JSON API (/api/v1/…, OpenAPI at /api/openapi.json).

    Runs under waitress, a production WSGI server; the page reads the same
    database as `ikb-agent run` (its own connection, WAL), so a slow page never
    delays an alarm. Accounts: `ikb-agent user add NAME --role farmer`.

    \b
    Example:
      ikb-agent --config /etc/ikb-agent.toml web --host 0.0.0.0 --port 8080
    """
    import logging

    from webui import create_app, make_server

    config = app.config
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    store_path = app.db_path or config.storage.path
    if debug:
        create_app(config, store_path).run(host=host or config.web.host,
                                           port=config.web.port if port is None else port, debug=True)
        return
    server = make_server(config, host, port, store_path=store_path)
    click.echo(_("ikb-agent web: {url}/  (stoppen met Ctrl-C)", url=server.url))
    server.run()


@click.command("token")
@click.argument("name")
@click.option("--label", default="", help="What the token is for (shown in listings).")
@pass_app
def token_cmd(app: AppContext, name: str, label: str) -> None:
    """Create an API token for an account and print it (only once: it is stored hashed).

    Send it as `Authorization: Bearer <token>`; the token acts with the
    account's role (an auditor's token can read, not write).

    \b
    Example:
      ikb-agent user token jan --label "home assistant"
    """
    from agent.store import create_token

    click.echo(create_token(app.store, name, app.now(), label))
