"""Web accounts: farmer (everything), auditor (read-only and exports), kiosk (visitors only)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from agent.store.connection import Store
from rules.errors import IkbError, Nn_
from rules.texts import N_

ROLES: tuple[str, ...] = ("farmer", "auditor", "kiosk")
MIN_PASSWORD = 8


class UserError(IkbError):
    """The account was not created or changed; the message says why."""

    messages = {
        "name": N_("gebruik 2-64 letters, cijfers of . _ @ -"),
        "password": Nn_("minstens {min} teken", "minstens {min} tekens"),
        "exists": N_("er bestaat al een account {name}"),
        "no_account": N_("geen account {name} (maak het aan met `ikb-agent user add`)"),
        "no_token": N_("geen API-token #{id} (zie `ikb-agent token list`)"),
    }


def add_user(store: Store, name: str, role: str, password: str, now: datetime) -> None:
    """Create an account with a hashed password."""
    name = name.strip()
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{2,64}", name):
        raise UserError("name", "name")
    if role not in ROLES:
        raise UserError("role", "choose", {"options": ROLES})
    if len(password) < MIN_PASSWORD:
        raise UserError("password", "password", {"min": MIN_PASSWORD})
    if store.query("SELECT 1 FROM users WHERE name = ?", [name]):
        raise UserError("name", "exists", {"name": name})
    with store.transaction() as db:
        db.execute("INSERT INTO users(name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                   [name, role, _password_hash(password), now.isoformat()])


def authenticate(store: Store, name: str, password: str) -> dict | None:
    """Return the account when the password matches, else None."""
    from werkzeug.security import check_password_hash

    rows = store.query("SELECT * FROM users WHERE name = ? AND disabled = 0", [name.strip()])
    if rows and check_password_hash(rows[0]["password_hash"], password):
        return {"id": rows[0]["id"], "name": rows[0]["name"], "role": rows[0]["role"]}
    return None


def count_users(store: Store) -> int:
    """Return how many accounts exist."""
    return store.query("SELECT count(*) AS n FROM users")[0]["n"]


def list_accounts(store: Store, role: str) -> list[dict]:
    """Return the enabled accounts of one role (id, name), by name."""
    return store.query("SELECT id, name FROM users WHERE role = ? AND disabled = 0 ORDER BY name", [role])


def get_user(store: Store, user_id: int) -> dict | None:
    """Return an enabled account by id, else None."""
    rows = store.query("SELECT id, name, role FROM users WHERE id = ? AND disabled = 0", [user_id])
    return rows[0] if rows else None


def _account(store: Store, name: str) -> dict:
    """Return an account by name, or raise UserError naming it."""
    rows = store.query("SELECT id, name, role, disabled FROM users WHERE name = ?", [name.strip()])
    if not rows:
        raise UserError("name", "no_account", {"name": name})
    return rows[0]


def list_users(store: Store, now: datetime) -> list[dict]:
    """Return every account with its open sessions and active API tokens (for `ikb-agent user list`)."""
    return store.query(
        "SELECT u.name, u.role, u.disabled, u.created_at,"
        " (SELECT count(*) FROM web_sessions s WHERE s.user_id = u.id AND s.ended_at IS NULL) AS sessions,"
        " (SELECT max(last_seen) FROM web_sessions s WHERE s.user_id = u.id) AS last_seen,"
        " (SELECT count(*) FROM api_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL) AS tokens"
        " FROM users u ORDER BY u.name")


def set_disabled(store: Store, name: str, disabled: bool, now: datetime) -> dict:
    """Disable (or enable again) an account; disabling ends its sessions at once (its tokens stop working)."""
    account = _account(store, name)
    with store.transaction() as db:
        db.execute("UPDATE users SET disabled = ? WHERE id = ?", [int(disabled), account["id"]])
        if disabled:
            _end_user_sessions(db, account["id"], now, "disabled")
    return {**account, "disabled": int(disabled)}


def set_password(store: Store, name: str, password: str, now: datetime) -> None:
    """Give an account a new password; every session of it ends (a thief's copy of a cookie too)."""
    if len(password) < MIN_PASSWORD:
        raise UserError("password", "password", {"min": MIN_PASSWORD})
    account = _account(store, name)
    with store.transaction() as db:
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                   [_password_hash(password), account["id"]])
        _end_user_sessions(db, account["id"], now, "password changed")


# --------------------------------------------------------------------------- web sessions (server side)

# last_seen is written at most this often, and at most a tenth of the idle limit (a page view is no SD-card
# write): a page left open, polling all day, writes its session 24 times a day, not 144.
SESSION_TOUCH_MS = 60 * 60_000
SESSION_KEEP_MS = 90 * 86_400_000  # ended sessions are pruned after this


def _password_hash(password: str) -> str:
    """Return werkzeug's salted hash of a password."""
    # werkzeug's package import pulls in its server and test client (3 MB); `run` never hashes a password.
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password)


def _session_hash(sid: str) -> str:
    """Return the stored form of a session id."""
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def start_session(store: Store, user_id: int, now: datetime) -> str:
    """Open a server-side session for an account and return its id (for the signed cookie)."""
    sid = secrets.token_urlsafe(32)
    now_ms = _ms(now)
    with store.transaction() as db:
        db.execute("INSERT INTO web_sessions(id, user_id, created_at, last_seen) VALUES (?, ?, ?, ?)",
                   [_session_hash(sid), user_id, now_ms, now_ms])
        db.execute("DELETE FROM web_sessions WHERE ended_at < ?", [now_ms - SESSION_KEEP_MS])
    return sid


def session_user(store: Store, sid: str, now: datetime, *, max_age_s: float, idle_s: float | None) -> dict | None:
    """Return the account of an open session, or None (ended, too old, idle too long, account disabled).

    ``idle_s`` None: no idle limit (kiosk tablets). A session found too old is ended here.
    """
    if not isinstance(sid, str) or not sid:
        return None
    rows = store.query(
        "SELECT s.id AS sid, s.created_at, s.last_seen, u.id, u.name, u.role FROM web_sessions s"
        " JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.ended_at IS NULL AND u.disabled = 0",
        [_session_hash(sid)])
    if not rows:
        return None
    row, now_ms = rows[0], _ms(now)
    too_old = now_ms - row["created_at"] > max_age_s * 1000
    idle = idle_s is not None and row["role"] != "kiosk" and now_ms - row["last_seen"] > idle_s * 1000
    if too_old or idle:
        with store.transaction() as db:
            db.execute("UPDATE web_sessions SET ended_at = ?, ended_why = ? WHERE id = ? AND ended_at IS NULL",
                       [now_ms, "expired" if too_old else "idle", row["sid"]])
        return None
    touch_ms = SESSION_TOUCH_MS if idle_s is None else min(SESSION_TOUCH_MS, idle_s * 1000 / 10)
    if now_ms - row["last_seen"] > touch_ms:  # never backwards: a clock set back must not age it
        with store.transaction() as db:
            db.execute("UPDATE web_sessions SET last_seen = max(last_seen, ?) WHERE id = ?", [now_ms, row["sid"]])
    return {"id": row["id"], "name": row["name"], "role": row["role"]}


def end_session(store: Store, sid: str, now: datetime, why: str = "logout") -> None:
    """End one session (logging out): its cookie, wherever copied, no longer logs anyone in."""
    if not isinstance(sid, str) or not sid:
        return
    with store.transaction() as db:
        db.execute("UPDATE web_sessions SET ended_at = ?, ended_why = ? WHERE id = ? AND ended_at IS NULL",
                   [_ms(now), why, _session_hash(sid)])


def _end_user_sessions(db, user_id: int, now: datetime, why: str) -> None:
    """End every open session of an account (inside a transaction)."""
    db.execute("UPDATE web_sessions SET ended_at = ?, ended_why = ? WHERE user_id = ? AND ended_at IS NULL",
               [_ms(now), why, user_id])


def _ms(moment: datetime) -> int:
    """Return a moment as ms since the epoch."""
    return int(moment.timestamp() * 1000)


# --------------------------------------------------------------------------- API tokens

TOKEN_PREFIX = "ikb_"


def _token_hash(token: str) -> str:
    """Return the stored form of a token (a random token needs no slow hash)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(store: Store, name: str, now: datetime, label: str = "") -> str:
    """Create an API token for an account and return it; only its hash is stored."""
    rows = store.query("SELECT id FROM users WHERE name = ? AND disabled = 0", [name.strip()])
    if not rows:
        raise UserError("name", "no_account", {"name": name})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.transaction() as db:
        db.execute("INSERT INTO api_tokens(user_id, label, token_hash, created_at) VALUES (?, ?, ?, ?)",
                   [rows[0]["id"], label.strip(), _token_hash(token), now.isoformat()])
    return token


def list_tokens(store: Store, name: str | None = None) -> list[dict]:
    """Return API tokens (of one account, or all): id, account, label, created, revoked — never the token."""
    sql = ("SELECT t.id, u.name, t.label, t.created_at, t.revoked_at FROM api_tokens t"
           " JOIN users u ON u.id = t.user_id")
    params: list = []
    if name is not None:
        sql += " WHERE u.name = ?"
        params.append(_account(store, name)["name"])
    return store.query(sql + " ORDER BY t.id", params)


def revoke_token(store: Store, token_id: int, now: datetime) -> dict:
    """Revoke an API token by its id (from `ikb-agent user token-list`); return it."""
    rows = store.query("SELECT t.id, u.name, t.label, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id"
                       " WHERE t.id = ?", [token_id])
    if not rows:
        raise UserError("id", "no_token", {"id": token_id})
    if rows[0]["revoked_at"] is None:
        with store.transaction() as db:
            db.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ?", [now.isoformat(), token_id])
    return rows[0]


def user_for_token(store: Store, token: str) -> dict | None:
    """Return the enabled account an unrevoked API token belongs to, else None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    rows = store.query(
        "SELECT u.id, u.name, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id"
        " WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.disabled = 0", [_token_hash(token)])
    return rows[0] if rows else None


# --------------------------------------------------------------------------- login rate limiting

# Failures are kept in the database so that restarting the web process does not
# reset the count (an attacker could otherwise crash-restart it to try again).
# An attempt is *reserved* — counted as a failure — in the same IMMEDIATE transaction
# that counts the earlier ones, before the (slow) password check: forty guesses at once
# get exactly as many checks as the limit allows, not as many as slip in between.
#
# Lock-out by others: a browser that logged in to an account before carries a signed
# device cookie (webui/auth.py); its attempts count only against that device, so a
# guesser elsewhere cannot lock the farmer out of his own phone. Attempts without it
# count per account and per address, as before.
FAILURE_WINDOW_S = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 20
MAX_FAILURES_PER_DEVICE = 5
_DEVICE = "device:"  # login_failures.ip of an attempt from a known device


def reserve_login(store: Store, account: str, ip: str, now: datetime, device: str | None = None) -> tuple[int, int]:
    """Count an attempt before its password is checked; return (seconds to wait, reservation id).

    A wait above 0 means refused (nothing reserved). Otherwise the reservation stands as a failure until
    :func:`finish_login` says the password was right.
    """
    now_ms = int(now.timestamp() * 1000)
    since = now_ms - FAILURE_WINDOW_S * 1000
    name = account.strip().lower()[:64]
    if device:
        limits = [("ip = ?", _DEVICE + device, MAX_FAILURES_PER_DEVICE)]
    else:
        limits = [(f"account = ? AND ip NOT LIKE '{_DEVICE}%'", name, MAX_FAILURES_PER_ACCOUNT),
                  ("ip = ?", ip, MAX_FAILURES_PER_IP)]
    with store.transaction(immediate=True) as db:
        waits = []
        for where, value, limit in limits:
            rows = db.execute(f"SELECT at FROM login_failures WHERE {where} AND at > ? ORDER BY at DESC LIMIT ?",
                              [value, since, limit]).fetchall()
            if len(rows) >= limit:
                # Refused until the oldest of the last `limit` failures leaves the window.
                waits.append((rows[-1][0] - since) // 1000 + 1)
        if waits:
            return max(waits), 0
        cursor = db.execute("INSERT INTO login_failures(at, account, ip) VALUES (?, ?, ?)",
                            [now_ms, name, _DEVICE + device if device else ip])
        db.execute("DELETE FROM login_failures WHERE at < ?", [now_ms - 86_400_000])
        return 0, cursor.lastrowid


def finish_login(store: Store, reservation: int, account: str, ok: bool) -> None:
    """Settle a reserved attempt: a right password forgets the account's failures; a wrong one stays counted."""
    if not ok:
        return
    with store.transaction() as db:
        db.execute("DELETE FROM login_failures WHERE id = ? OR account = ?", [reservation, account.strip().lower()])
