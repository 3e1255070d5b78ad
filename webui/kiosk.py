"""The visitor kiosk: a tablet at the hygiene lock (kiosk accounts; farmers may open it too).

One page in Dutch, English, German or Polish (buttons at the top; the texts come from the
catalogues, :mod:`agent.i18n`, whose German and Polish cover the kiosk): the 48-hour
question first and large (the visitors record's own label), name, organisation, the houses
as toggle buttons, licence plate, and a signature drawn with a finger (``static/kiosk.js``,
pointer events; the PNG is checked by ``agent.logbooks.signatures`` and kept in
``files``). Date and arrival time are the tablet's moment of registration.
A "yes" to the 48-hour question is stored (the register must show it),
flagged, and stands on the farmer's dashboard at once; the running agent turns
it into an alert off the farm (``visitor_contact``). After saving, a thank-you
screen returns to an empty form for the next visitor.

Leaving: "Vertrek melden" lists today's visitors who have not left yet; a tap
records the time of leaving (a correction of the visit, with the reason, so the
register's "tijdstip van vertrek" is filled). The tablet is locked to this flow:
no log-out button — only the farmer's kiosk PIN ends the kiosk session
(``/kiosk/unlock``) — and a page left untouched returns to the empty Dutch form
after ``[web] kiosk_idle_seconds`` (``static/kiosk.js``).

The poster (farmers only) is an A4 page with a QR code. The code holds a
kiosk link: opening it logs that browser in as the chosen kiosk account, so a
visitor's own phone can register too. Kiosk accounts reach nothing but this
page; a new link makes old posters invalid.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from agent.i18n import KIOSK_LANGUAGES, translate
from agent.logbooks import (
    LogbookError,
    SignatureError,
    add_entry,
    correct_entry,
    list_entries,
    signatures,
    store_signature,
)
from agent.signing import FarmKeyError, farm_key
from agent.store import get_user, list_accounts
from rules.logbooks import LOGBOOKS, EntryError, validate_entry
from rules.texts import N_
from webui.access import log_in, log_out, public, require_farmer, roles
from webui.forms import NON_FIELD
from webui.i18n import gettext as _
from webui.i18n import location_word
from webui.logbooks import flash_flags
from webui.state import get_config, get_store, get_writer, now, scores

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

LINK_KV = "kiosk.link"  # "<account id>:<secret>" of the poster's QR code
PIN_KV = "kiosk.pin"  # werkzeug hash of the farmer's kiosk PIN (unlocks the tablet)
PIN_TRIES, PIN_PAUSE_S = 5, 300  # wrong PINs in a row before the unlock page waits
DEPARTURE_REASON = "vertrek gemeld via de kiosk"
KIOSK_ROLES = {"read": ("farmer", "kiosk"), "write": ("farmer", "kiosk")}
FIELDS = ("name", "organisation", "poultry_contact_48h", "houses", "license_plate", "purpose")
THANKS_S, THANKS_WARNING_S = 10, 45  # the warning stays longer: the visitor must read it
TITLE = N_("Welkom. Meld u aan als bezoeker.")
LABELS = {"name": N_("Naam"), "organisation": N_("Organisatie (of 'particulier')")}
# One message per field, for a visitor (the farm's own forms show the logbook's messages).
MESSAGES = {
    "name": N_("Vul uw naam in."),
    "organisation": N_("Vul uw organisatie in (of 'particulier')."),
    "poultry_contact_48h": N_("Beantwoord de vraag met ja of nee."),
    "houses": N_("Kies minstens één stal."),
    "license_plate": N_("Vul uw kenteken in (of 'geen')."),
    "purpose": N_("Maak het doel korter."),
    "signature": N_("Zet uw handtekening in het vak."),
    "signature_bad": N_("De handtekening kon niet worden gelezen. Teken opnieuw."),
    NON_FIELD: N_("Er ging iets mis. Vraag de pluimveehouder."),
}


def _lang() -> str:
    """Return the kiosk's language for this request (Dutch unless a button chose another)."""
    lang = request.values.get("lang", "nl")
    return lang if lang in KIOSK_LANGUAGES else "nl"


def _in(lang: str):
    """Return the kiosk's ``_``: a msgid in the visitor's language."""
    return lambda msgid, **values: translate(lang, msgid, **values)


def _context(lang: str, values: dict, errors: dict) -> dict:
    """Return what the kiosk template needs (its ``_`` speaks the visitor's language)."""
    local = now().astimezone(get_config().farm_view().tz)
    return {"lang": lang, "languages": KIOSK_LANGUAGES, "_": _in(lang), "values": values, "errors": errors,
            "title": TITLE, "labels": LABELS, "question": LOGBOOKS["visitors"].label("poultry_contact_48h"),
            "houses": [(h.id, location_word(h.id)) for h in get_config().houses],
            "arrival": local.strftime("%H:%M"), "idle": current_app.config["KIOSK_IDLE_S"]}


@bp.get("/")
@roles(**KIOSK_ROLES)
def index():
    """Show the empty visitor form."""
    return render_template("kiosk/index.html", **_context(_lang(), {}, {}))


def _entry(form) -> dict:
    """Return the visitors entry from the kiosk form (date and arrival: the moment of registration)."""
    local = now().astimezone(get_config().farm_view().tz)
    data = {"date": local.date().isoformat(), "arrival": local.strftime("%H:%M")}
    for name in ("name", "organisation", "license_plate", "purpose"):
        value = form.get(name, "").strip()
        if value:
            data[name] = value
    answer = form.get("poultry_contact_48h", "")
    if answer in ("ja", "nee"):
        data["poultry_contact_48h"] = answer
    data["houses"] = [h for h in form.getlist("houses") if h]
    return data


@bp.post("/")
@roles(**KIOSK_ROLES)
def register():
    """Check and store a visitor: signature into ``files``, then the durable visitors entry."""
    lang = _lang()
    data = _entry(request.form)
    errors: dict[str, str] = {}
    drawn = request.form.get("signature", "")
    png = None
    try:
        png = signatures.decode(drawn)
        signatures.check(png)
    except SignatureError as exc:
        errors["signature"] = translate(lang, MESSAGES["signature" if exc.code in ("empty", "blank")
                                                       else "signature_bad"])
    config = get_config()
    try:
        # Everything but the signature first: a refused visit must leave no orphan image behind.
        validate_entry("visitors", {**data, "signature": "-"}, houses={h.id: h.housing for h in config.houses},
                       today=now().astimezone(config.farm_view().tz).date())
    except EntryError as exc:
        for problem in exc.problems:
            key = problem.loc[0] if problem.loc and problem.loc[0] in FIELDS else NON_FIELD
            errors.setdefault(key, translate(lang, MESSAGES[key]))
    if errors:
        values = {**data, "signature": drawn if "signature" not in errors else ""}
        return render_template("kiosk/index.html", **_context(lang, values, errors)), 422
    store, by, moment = get_writer(), g.user["name"], now()
    data["signature"] = store_signature(store, png, by=by, now=moment)
    try:
        saved = add_entry(store, config, "visitors", data, by=by, now=moment)
    except EntryError:
        return render_template("kiosk/index.html",
                               **_context(lang, data, {NON_FIELD: translate(lang, MESSAGES[NON_FIELD])})), 422
    scores().invalidate(now())
    if g.user["role"] == "farmer":
        flash_flags(saved.flags)
    session["kiosk_done"] = {"lang": lang, "contact": bool(saved.entry.entry["poultry_contact_48h"])}
    return redirect(url_for("kiosk.thanks"))


@bp.get("/thanks")
@roles(**KIOSK_ROLES)
def thanks():
    """Thank the visitor, then return to an empty form (in Dutch) for the next one."""
    done = session.pop("kiosk_done", None)
    if not done:
        return redirect(url_for("kiosk.index"))
    lang = done.get("lang") if done.get("lang") in KIOSK_LANGUAGES else "nl"
    return render_template("kiosk/thanks.html", lang=lang, _=_in(lang), title=TITLE, languages=KIOSK_LANGUAGES,
                           contact=done.get("contact"), wait=THANKS_WARNING_S if done.get("contact") else THANKS_S,
                           left=done.get("left"))


# --------------------------------------------------------------------------- leaving: the time of departure


def _local():
    """Return the farm-local moment now."""
    return now().astimezone(get_config().farm_view().tz)


def still_here() -> list:
    """Return today's visitors whose time of leaving is not recorded yet, in order of arrival."""
    today = _local().date()
    rows = [r for r in list_entries(get_store(), "visitors", start=today, end=today)
            if r.state == "confirmed" and not r.entry.get("departure")]
    return sorted(rows, key=lambda r: (r.entry.get("arrival") or "", r.id))


@bp.get("/vertrek")
@roles(**KIOSK_ROLES)
def departure():
    """List today's visitors who are still here: a tap records the time of leaving."""
    lang = _lang()
    return render_template("kiosk/departure.html", **_context(lang, {}, {}), visitors=still_here())


@bp.post("/vertrek")
@roles(**KIOSK_ROLES)
def leave():
    """Record a visitor's time of leaving: a correction of the visit (A4.2.2 'tijdstip van vertrek')."""
    lang = _lang()
    try:
        entry_id = int(request.form.get("entry", ""))
    except ValueError:
        entry_id = 0
    visitor = next((r for r in still_here() if r.id == entry_id), None)
    if visitor is None:  # left already, or not today's: the list shows who is still here
        return render_template("kiosk/departure.html", **_context(lang, {}, {}), visitors=still_here(),
                               gone=True), 409
    local = _local()
    left = max(local.strftime("%H:%M"), visitor.entry.get("arrival") or "00:00")
    try:
        correct_entry(get_writer(), get_config(), visitor.id, {**visitor.entry, "departure": left}, by=g.user["name"],
                      now=now(), reason=DEPARTURE_REASON)
    except (LogbookError, ValueError):  # corrected meanwhile, or no longer valid: ask again from the list
        return render_template("kiosk/departure.html", **_context(lang, {}, {}), visitors=still_here(),
                               gone=True), 409
    scores().invalidate(now())
    session["kiosk_done"] = {"lang": lang, "left": left}
    return redirect(url_for("kiosk.thanks"))


# --------------------------------------------------------------------------- the lock: only the farmer's PIN


@bp.route("/unlock", methods=["GET", "POST"])
@roles(**KIOSK_ROLES)
def unlock():
    """End the kiosk session with the farmer's kiosk PIN (a visitor cannot log the tablet out)."""
    pin_hash = get_store().get_kv(PIN_KV)
    error, status = None, 200
    if request.method == "POST":
        moment = now().timestamp()
        tries = [t for t in session.get("pin_tries", []) if moment - t < PIN_PAUSE_S]
        if len(tries) >= PIN_TRIES:
            error, status = _("Te veel foute pincodes. Wacht vijf minuten."), 429
        elif pin_hash and check_password_hash(pin_hash, request.form.get("pin", "").strip()):
            log_out()  # on the server too: the kiosk cookie logs nobody in any more
            return redirect(url_for("auth.login"))
        else:
            session["pin_tries"] = tries + [moment]
            error, status = _("Onjuiste pincode."), 422
    return render_template("kiosk/unlock.html", has_pin=bool(pin_hash), error=error, lang="nl", _=_in("nl"),
                           title=TITLE, languages=KIOSK_LANGUAGES, idle=current_app.config["KIOSK_IDLE_S"]), status


@bp.post("/pin")
@require_farmer
def set_pin():
    """Set the kiosk PIN (4 to 12 digits) that unlocks the tablet; kept as a hash."""
    pin = request.form.get("pin", "").strip()
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        flash(_("Een pincode is 4 tot 12 cijfers."), "error")
    else:
        get_writer().set_kv(PIN_KV, generate_password_hash(pin))
        flash(_("Pincode van de kiosk ingesteld."), "ok")
    return redirect(url_for("kiosk.poster"))


# --------------------------------------------------------------------------- poster and kiosk link


def _kiosk_accounts() -> list[dict]:
    """Return the kiosk accounts."""
    return list_accounts(get_store(), "kiosk")


def _link() -> tuple[int, str] | None:
    """Return (kiosk account id, secret) of the current kiosk link, if one was made."""
    value = get_store().get_kv(LINK_KV)
    if not value or ":" not in value:
        return None
    uid, secret = value.split(":", 1)
    return (int(uid), secret) if uid.isdigit() else None


@bp.get("/poster")
@require_farmer
def poster():
    """Show the A4 poster for the hygiene lock: the QR code of the kiosk link, in four languages."""
    import segno

    link = _link()
    account = get_user(get_store(), link[0]) if link else None
    url = url_for("kiosk.enter", key=link[1], _external=True) if link and account else None
    qr = segno.make(url, error="m").svg_inline(scale=7, border=2, dark="#000") if url else None
    texts = [(code, translate(code, TITLE)) for code in KIOSK_LANGUAGES]
    return render_template("kiosk/poster.html", url=url, qr=qr, texts=texts, accounts=_kiosk_accounts(),
                           account=account, fingerprint=_fingerprint(), has_pin=bool(get_store().get_kv(PIN_KV)))


def _fingerprint() -> str | None:
    """Return the farm key's fingerprint for the poster (made on first use), None when it cannot be had."""
    try:
        return farm_key(get_config().key_path()).fingerprint
    except FarmKeyError:
        return None


@bp.post("/poster")
@require_farmer
def make_link():
    """Make a new kiosk link for a kiosk account (old posters stop working)."""
    try:
        uid = int(request.form.get("account", ""))
    except ValueError:
        uid = 0
    if uid not in {a["id"] for a in _kiosk_accounts()}:
        abort(400, _("Kies een kioskaccount."))
    get_writer().set_kv(LINK_KV, f"{uid}:{secrets.token_urlsafe(24)}")
    return redirect(url_for("kiosk.poster"))


@bp.get("/k/<key>")
@public
def enter(key: str):
    """Open the kiosk from the poster's QR code: this browser is logged in as the kiosk account."""
    link = _link()
    account = get_user(get_store(), link[0]) if link else None
    if link is None or account is None or account["role"] != "kiosk" or not secrets.compare_digest(key, link[1]):
        abort(404, _("Deze kioskcode is niet (meer) geldig. Vraag de pluimveehouder."))
    log_in(account)
    return redirect(url_for("kiosk.index"))
