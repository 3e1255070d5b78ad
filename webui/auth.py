"""Logging in and out, the first-run page, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from agent.store import authenticate, count_users, finish_login, reserve_login
from webui.access import log_in, log_out, public, roles
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


DEVICE_COOKIE = "ikb_device"
DEVICE_DAYS = 365


def _device_signer():
    """Return the signer of device cookies (the app's secret, a salt of their own)."""
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.secret_key, salt="ikb-device")


def _known_device(name: str) -> str | None:
    """Return this browser's device id when it logged in to this account before (its failures are its own)."""
    value = request.cookies.get(DEVICE_COOKIE)
    if not value:
        return None
    try:
        data = _device_signer().loads(value, max_age=DEVICE_DAYS * 86400)
    except Exception:  # noqa: BLE001 - a forged, old or foreign cookie is simply no known device
        return None
    if isinstance(data, dict) and data.get("u") == name.strip().lower() and isinstance(data.get("d"), str):
        return data["d"][:64]
    return None


def _remember_device(response, name: str) -> None:
    """Give this browser a signed device cookie for the account: a guesser elsewhere cannot lock it out."""
    import secrets

    value = _device_signer().dumps({"u": name.strip().lower(), "d": secrets.token_urlsafe(16)})
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=request.is_secure, path="/login")


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
        wait, reservation = reserve_login(get_writer(), name, _client_ip(), now(), _known_device(name))
        if wait:
            error = ngettext("Te veel mislukte pogingen. Probeer het over {n} minuut opnieuw.",
                             "Te veel mislukte pogingen. Probeer het over {n} minuten opnieuw.", max(1, (wait + 59) // 60))
            status = 429
        else:
            user = authenticate(store, name, password) if name and password else None
            finish_login(get_writer(), reservation, name, user is not None)
            if user is None:
                error = _("Naam of wachtwoord onjuist.")
                status = 401
            else:
                log_in(user)
                response = redirect(_safe_next(request.args.get("next"), user["role"]))
                _remember_device(response, name)
                return response
    return render_template("auth/login.html", error=error, name=name), status


@bp.post("/logout")
@roles(read=("farmer", "auditor"), write=("farmer", "auditor"))
def logout():
    """End the session, on the server too (a kiosk is unlocked with the farmer's PIN instead: ``/kiosk/unlock``)."""
    log_out()
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
