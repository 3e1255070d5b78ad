"""Logging in and out, the first-run page, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, session, url_for

from agent.store import authenticate, clear_login_failures, count_users, login_wait, record_login_failure
from webui.access import public, roles
from webui.i18n import LANGUAGES, ngettext
from webui.i18n import gettext as _
from webui.state import get_store, get_writer, now

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {"farmer": "dashboard.index", "auditor": "dashboard.index", "kiosk": "kiosk.index"}


def _safe_next(target: str | None, role: str) -> str:
    """Return where to go after login: a local path only (never another site)."""
    if target:
        parts = urlsplit(target)
        local = not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")
        # A kiosk account reaches only the kiosk: the tablet lands there whatever was asked.
        if local and (role != "kiosk" or parts.path.startswith("/kiosk/")):
            return target
    return url_for(HOME_BY_ROLE[role])


def _client_ip() -> str:
    """Return the caller's address (waitress sets it from a trusted proxy's header when configured)."""
    return request.remote_addr or "?"


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Show the login form; check the password, with a limit on failed attempts."""
    store = get_store()
    if count_users(store) == 0:
        return render_template("auth/setup.html"), 503
    error = None
    name = ""
    status = 200
    if request.method == "POST":
        name = request.form.get("name", "").strip()[:64]
        password = request.form.get("password", "")
        wait = login_wait(store, name, _client_ip(), now())
        if wait:
            error = ngettext("Te veel mislukte pogingen. Probeer het over {n} minuut opnieuw.",
                             "Te veel mislukte pogingen. Probeer het over {n} minuten opnieuw.", max(1, (wait + 59) // 60))
            status = 429
        else:
            user = authenticate(store, name, password) if name and password else None
            if user is None:
                record_login_failure(get_writer(), name, _client_ip(), now())
                error = _("Naam of wachtwoord onjuist.")
                status = 401
            else:
                clear_login_failures(get_writer(), name)
                lang = session.get("lang")
                session.clear()  # a fresh session on login: no fixation
                session.permanent = True
                session["uid"] = user["id"]
                if lang:
                    session["lang"] = lang
                return redirect(_safe_next(request.args.get("next"), user["role"]))
    return render_template("auth/login.html", error=error, name=name), status


@bp.post("/logout")
@roles(read=("farmer", "auditor", "kiosk"), write=("farmer", "auditor", "kiosk"))
def logout():
    """End the session."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.post("/language")
@public
def set_language():
    """Switch the interface language for this browser."""
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
        g.lang = lang
    back = request.form.get("next") or request.referrer
    role = g.user["role"] if g.get("user") else "farmer"
    if back:
        parts = urlsplit(back)
        back = parts.path + (f"?{parts.query}" if parts.query else "")
    return redirect(_safe_next(back, role) if g.get("user") else url_for("auth.login"))
