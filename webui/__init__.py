"""The local web page and JSON API: the Flask app factory and the production server.

``create_app`` is the only place the app is wired (one blueprint per feature);
``make_server`` runs it under waitress, as ``ikb-agent web`` and ``ikb-agent demo`` do.
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
from http.cookies import SimpleCookie
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
        exercise,
        i18n,
        kiosk,
        logbooks,
        packjobs,
        rule_pages,
        state,
        status,
    )
    from webui.api import StrictJSONProvider

    app = Flask(__name__, instance_relative_config=False)
    app.json = StrictJSONProvider(app)  # request bodies: no NaN, 1e309, giant integers, deep nesting
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
        # No Referer-equals-Host check over https: behind nginx with its default `proxy_set_header Host
        # $proxy_host` the Host is 127.0.0.1:8080 while the browser's Referer names the farm's address, and
        # every login was refused as "form expired". The session-bound token and SameSite=Lax cookies remain.
        WTF_CSRF_SSL_STRICT=False,
        SCORE_TTL_S=60,
        LIVE_POLL_S=30,  # the dashboard's live part is fetched again this often
        KIOSK_IDLE_S=web.kiosk_idle_seconds,
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
    for module in (auth, dashboard, rule_pages, exercise, charts, logbooks, daysheet, audit, alerts, status, kiosk, api):
        app.register_blueprint(module.bp)
    return app


ANONYMOUS_BODY_MAX = 64 * 1024  # a login form or a language switch; anything larger needs a login first


def _guarded_channel(app: Flask):
    """Return a waitress channel class that refuses request bodies by size before they are spooled.

    waitress reads a whole body (to a temporary file beyond 512 kB) before the app sees the request, so a
    413 from Flask comes after the disk has filled. Here the limits apply when the headers are in: every
    body over the upload limit, and any body over 64 kB (or chunked) from a request without a signed
    session cookie or an API token, is refused at once: an anonymous client never reaches the disk.
    """
    from waitress.channel import HTTPChannel
    from waitress.parser import HTTPRequestParser
    from waitress.utilities import RequestEntityTooLarge

    def credentials(headers: dict) -> bool:
        if headers.get("AUTHORIZATION", "").lower().startswith("bearer "):
            return True  # checked by the app; a token is no anonymous request
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("COOKIE", ""))
            value = cookie[app.config["SESSION_COOKIE_NAME"]].value
            data = app.session_interface.get_signing_serializer(app).loads(
                value, max_age=int(app.permanent_session_lifetime.total_seconds()))
        except Exception:  # noqa: BLE001 - no cookie, a bad one, an expired one: all anonymous
            return False
        return isinstance(data, dict) and isinstance(data.get("sid"), str)

    class Parser(HTTPRequestParser):
        checked = False

        def received(self, data):
            consumed = super().received(data)
            if self.headers_finished and not self.checked:
                self.checked = True
                big = self.chunked or self.content_length > ANONYMOUS_BODY_MAX
                if not self.completed and big and not credentials(self.headers):
                    self.error = RequestEntityTooLarge(f"a body over {ANONYMOUS_BODY_MAX} bytes needs a login")
                    self.completed = True
            return consumed

    class Channel(HTTPChannel):
        parser_class = Parser

    return Channel


class WebServer:
    """The app under waitress on one address; ``run`` blocks, ``start`` runs it in a thread."""

    def __init__(self, app: Flask, host: str, port: int, *, threads: int = 4, trusted_proxy: str | None = None):
        from waitress import create_server

        # Bodies are refused by size when the headers arrive, before waitress spools them (see _guarded_channel).
        options = {"threads": threads, "ident": "ikb-agent", "max_request_body_size": app.config["MAX_CONTENT_LENGTH"]}
        if trusted_proxy:
            options.update(trusted_proxy=trusted_proxy,
                           trusted_proxy_headers={"x-forwarded-proto", "x-forwarded-for", "x-forwarded-host"},
                           clear_untrusted_proxy_headers=True)
        self.app = app
        self.server = create_server(app, host=host, port=port, **options)
        self.server.channel_class = _guarded_channel(app)
        self.stopping = False
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
        try:
            self.server.run()
        except OSError:
            if not self.stopping:  # stop() closes the sockets under the loop's select(): that is no error
                raise

    def start(self) -> "WebServer":
        """Serve in a daemon thread and return at once."""
        self.thread = threading.Thread(target=self.run, name="ikb-web", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Close the listening socket and the worker threads."""
        self.stopping = True
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
