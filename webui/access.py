"""Who may do what: one policy, checked before every request (deny by default).

Order for each request: identify the user (API token or session) → refuse
anonymous requests (redirect to the login page; 401 JSON for the API) →
check the role for the method → check the CSRF token of every unsafe request
that did not come with an API token. A view opts in to other roles with
:func:`roles`; without it, farmers may do everything and auditors may read.
Kiosk accounts reach only views that name them.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, abort, current_app, g, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect

from agent.store import end_session, session_user, start_session, storage_error, user_for_token
from webui.state import get_config, get_store, get_writer, now

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_READ = ("farmer", "auditor")
DEFAULT_WRITE = ("farmer",)

csrf = CSRFProtect()


def roles(read: tuple[str, ...] = DEFAULT_READ, write: tuple[str, ...] = DEFAULT_WRITE):
    """Declare which roles may read (GET) and write (POST…) through a view."""

    def mark(view):
        view.read_roles = tuple(read)
        view.write_roles = tuple(write)
        return view

    return mark


def public(view):
    """Mark a view that needs no login (the login page, the OpenAPI document)."""
    view.public = True
    return view


class SessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions whose cookie is marked Secure whenever the page came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Return whether the session cookie must only travel over https."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (request.is_secure if request else False)


def _wants_json() -> bool:
    """Return whether the caller should get JSON errors rather than pages."""
    return request.path.startswith("/api/")


def _identify() -> tuple[dict | None, bool]:
    """Return the user of this request and whether they came with an API token."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return user_for_token(get_store(), header[7:].strip()), True
    sid = session.get("sid")
    if isinstance(sid, str):
        web = get_config().web
        user = session_user(get_writer(), sid, now(), max_age_s=web.session_days * 86400,
                            idle_s=web.session_idle_days * 86400)
        if user is None:
            _forget_session()  # logged out elsewhere, expired, or the account was disabled
        return user, False
    return None, False


def log_in(user: dict) -> None:
    """Start a fresh server-side session for an account (a new id: no fixation); keep the language."""
    _forget_session()
    session.permanent = True
    session["sid"] = start_session(get_writer(), user["id"], now())


def log_out() -> None:
    """End the session on the server: the cookie, wherever it was copied, logs nobody in any more."""
    sid = session.get("sid")
    if isinstance(sid, str):
        end_session(get_writer(), sid, now())
    _forget_session()


def _forget_session() -> None:
    """Clear the cookie's contents except the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def enforce():
    """Apply the access policy to the current request (a before_request hook)."""
    g.user, g.by_token = None, False
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None
    view = current_app.view_functions[endpoint]
    g.user, g.by_token = _identify()
    if getattr(view, "public", False):
        if request.method not in SAFE_METHODS:
            csrf.protect()
        return None
    if g.user is None:
        if request.headers.get("HX-Request"):
            # A polled fragment must not swap the login page into the dashboard: htmx ignores a 401.
            return "", 401
        if _wants_json() or g.by_token:
            return jsonify(error="unauthorized", message="log in or send 'Authorization: Bearer <token>'"), 401
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    allowed = getattr(view, "read_roles", DEFAULT_READ) if request.method in SAFE_METHODS \
        else getattr(view, "write_roles", DEFAULT_WRITE)
    if g.user["role"] not in allowed:
        abort(403)
    if request.method not in SAFE_METHODS and not g.by_token:
        csrf.protect()
    return None


def current_role() -> str | None:
    """Return the role of the logged-in user."""
    return g.user["role"] if g.get("user") else None


def can_write() -> bool:
    """Return whether the current user may change anything (farmers only)."""
    return current_role() == "farmer"


def require_farmer(view):
    """Refuse a view to everyone but farmers, also for GET (pages that are forms)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)

    return roles(read=("farmer",), write=("farmer",))(wrapper)


def _security_headers(response):
    """Add headers that keep the page from being framed, sniffed or fed foreign scripts."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'")
    if g.get("user") is not None:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Install the session interface, the policy hook, CSRF protection and error pages."""
    app.session_interface = SessionInterface()
    app.before_request(enforce)
    csrf.init_app(app)
    app.after_request(_security_headers)

    @app.errorhandler(CSRFError)
    def _csrf_failed(exc: CSRFError):
        from webui.i18n import gettext as _

        if _wants_json():
            return jsonify(error="csrf", message="missing or invalid CSRF token (send X-CSRFToken)"), 400
        return _error_page(400, _("Het formulier is verlopen of ongeldig. Laad de pagina opnieuw en probeer het nog eens."))

    for code in (403, 404, 405, 413):
        app.register_error_handler(code, _http_error)
    app.register_error_handler(500, _storage_error)


def _storage_error(exc):
    """Turn a full disk or a locked database into a 503 that says so; any other error stays a 500."""
    from webui.i18n import current_translations

    original = getattr(exc, "original_exception", None)
    problem = storage_error(original) if original is not None else None
    if problem is None:
        if _wants_json():
            return jsonify(error="internal", message="internal error; see the web service's log"), 500
        return exc
    why = problem.line(current_translations())
    if _wants_json():
        return jsonify(error="storage", message=why), 503
    return _error_page(503, why)


def _http_error(exc):
    """Render an HTTP error as JSON for the API, as a page otherwise."""
    from webui.i18n import gettext as _

    messages = {
        403: _("Uw account mag dit niet."),
        404: _("Deze pagina bestaat niet."),
        405: _("Deze actie kan hier niet."),
        413: _("Het bestand is te groot."),
    }
    code = exc.code
    if _wants_json():
        return jsonify(error=exc.name.lower().replace(" ", "_"), message=exc.description), code
    specific = exc.description != type(exc).description
    return _error_page(code, exc.description if specific else messages.get(code, exc.description))


def _error_page(code: int, message: str):
    """Return the error page."""
    from flask import render_template

    return render_template("error.html", code=code, message=message), code
