"""Web accounts: farmer (everything), auditor (read-only and exports), kiosk (visitors only)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from werkzeug.security import check_password_hash, generate_password_hash

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
                   [name, role, generate_password_hash(password), now.isoformat()])


def authenticate(store: Store, name: str, password: str) -> dict | None:
    """Return the account when the password matches, else None."""
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
    """Return an enabled account by id (for a session), else None."""
    rows = store.query("SELECT id, name, role FROM users WHERE id = ? AND disabled = 0", [user_id])
    return rows[0] if rows else None


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
FAILURE_WINDOW_S = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 20


def login_wait(store: Store, account: str, ip: str, now: datetime) -> int:
    """Return how many seconds logins for this account or address stay refused (0: allowed)."""
    now_ms = int(now.timestamp() * 1000)
    since = now_ms - FAILURE_WINDOW_S * 1000
    waits = []
    for column, value, limit in (("account", account.strip().lower(), MAX_FAILURES_PER_ACCOUNT),
                                 ("ip", ip, MAX_FAILURES_PER_IP)):
        rows = store.query(f"SELECT at FROM login_failures WHERE {column} = ? AND at > ? ORDER BY at DESC"
                           f" LIMIT {limit}", [value, since])
        if len(rows) >= limit:
            # Refused until the oldest of the last `limit` failures leaves the window.
            waits.append((rows[-1]["at"] - since) // 1000 + 1)
    return max(waits, default=0)


def record_login_failure(store: Store, account: str, ip: str, now: datetime) -> None:
    """Remember a failed login (and forget failures older than a day)."""
    now_ms = int(now.timestamp() * 1000)
    with store.transaction() as db:
        db.execute("INSERT INTO login_failures(at, account, ip) VALUES (?, ?, ?)",
                   [now_ms, account.strip().lower()[:64], ip])
        db.execute("DELETE FROM login_failures WHERE at < ?", [now_ms - 86_400_000])


def clear_login_failures(store: Store, account: str) -> None:
    """Forget an account's failures after it logged in successfully."""
    with store.transaction() as db:
        db.execute("DELETE FROM login_failures WHERE account = ?", [account.strip().lower()])
