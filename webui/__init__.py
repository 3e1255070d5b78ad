"""The local web page and JSON API: the Flask app factory and the production server.

``create_app`` is the only place the app is wired (one blueprint per feature);
``serve`` runs it under waitress, as ``ikb-agent web`` and ``ikb-agent demo`` do.
The web process reads; ``ikb-agent run`` writes. The web opens its own SQLite
connections (WAL): read-only for everything it shows, and one that may write only
what a person does on the page (``webui.state``), so a slow page never holds up
the ``run`` process that ingests readings and sends alarms, and never writes its
evidence.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from flask import Flask

from agent.config import Settings

log = logging.getLogger(__name__)


def create_app(config: Settings, store_path: str | Path | None = None, test_config: dict | None = None) -> Flask:
    """Build the web app for a farm configuration and its database file."""
    from webui import (  # noqa: F401
        access,
        alerts,
        api,
        audit,
        auth,
        charts,
        dashboard,
        daysheet,
        i18n,
        kiosk,
        logbooks,
        packjobs,
        rule_pages,
        state,
    )

    app = Flask(__name__, instance_relative_config=False)
    web = config.web
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure is added per request when the page is served over https (see access.SessionInterface).
        SESSION_COOKIE_SECURE=False,
        SESSION_COOKIE_NAME="ikb_session",
        PERMANENT_SESSION_LIFETIME=timedelta(days=web.session_days),
        MAX_CONTENT_LENGTH=(web.max_upload_mb + 1) * 1024 * 1024,
        MAX_UPLOAD_BYTES=web.max_upload_mb * 1024 * 1024,
        WTF_CSRF_CHECK_DEFAULT=False,  # access.enforce checks CSRF after authentication
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        SCORE_TTL_S=60,
        LIVE_POLL_S=30,  # the dashboard's live part is fetched again this often
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # keep the contract's key order (DESIGN §3.5)
    if test_config:
        app.config.update(test_config)
    state.init_app(app, config, str(store_path or config.storage.path))
    packjobs.init_app(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = web.secret_key or state.stored_secret_key(app)
    i18n.init_app(app)
    access.init_app(app)
    for module in (auth, dashboard, rule_pages, charts, logbooks, daysheet, audit, alerts, kiosk, api):
        app.register_blueprint(module.bp)
    return app


class WebServer:
    """The app under waitress on one address; ``run`` blocks, ``start`` runs it in a thread."""

    def __init__(self, app: Flask, host: str, port: int, *, threads: int = 4, trusted_proxy: str | None = None):
        from waitress import create_server

        options = {"threads": threads, "ident": "ikb-agent"}
        if trusted_proxy:
            options.update(trusted_proxy=trusted_proxy, trusted_proxy_headers={"x-forwarded-proto", "x-forwarded-for"},
                           clear_untrusted_proxy_headers=True)
        self.app = app
        self.server = create_server(app, host=host, port=port, **options)
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """Return the port actually bound (useful with port 0)."""
        return self.server.effective_port

    @property
    def url(self) -> str:
        """Return the base URL of the page."""
        host = self.server.effective_host
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{self.port}"

    def run(self) -> None:
        """Serve until closed."""
        self.server.run()

    def start(self) -> "WebServer":
        """Serve in a daemon thread and return at once."""
        self.thread = threading.Thread(target=self.run, name="ikb-web", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Close the listening socket and the worker threads."""
        self.server.close()
        self.server.task_dispatcher.shutdown()
        for channel in list(self.server._map.values()):
            channel.close()
        if self.thread:
            self.thread.join(timeout=5)


def make_server(config: Settings, host: str | None = None, port: int | None = None, *,
                store_path: str | Path | None = None, test_config: dict | None = None) -> WebServer:
    """Return a waitress server for the configured farm (port 0 picks a free one)."""
    app = create_app(config, store_path, test_config)
    from webui import state

    state.warm_up(app)
    return WebServer(app, host or config.web.host, config.web.port if port is None else port,
                     threads=config.web.threads, trusted_proxy=config.web.trusted_proxy)


def serve(config: Settings, host: str | None = None, port: int | None = None, *,
          store_path: str | Path | None = None) -> None:
    """Serve the web page with waitress until the process stops (``ikb-agent web``, the demo's thread)."""
    server = make_server(config, host, port, store_path=store_path)
    log.info("web page on %s", server.url)
    server.run()
