"""Web accounts: farmer (everything), auditor (read-only and exports), kiosk (visitors only)."""

from __future__ import annotations

import re
from datetime import datetime

from werkzeug.security import check_password_hash, generate_password_hash

from agent.store import Store

ROLES: tuple[str, ...] = ("farmer", "auditor", "kiosk")
MIN_PASSWORD = 8


class UserError(ValueError):
    """The account was not created or changed; the message says why."""


def add_user(store: Store, name: str, role: str, password: str, now: datetime) -> None:
    """Create an account with a hashed password."""
    name = name.strip()
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{2,64}", name):
        raise UserError("name: use 2-64 letters, digits or . _ @ -")
    if role not in ROLES:
        raise UserError(f"role: expected one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    if store.query("SELECT 1 FROM users WHERE name = ?", [name]):
        raise UserError(f"name: an account {name!r} already exists")
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
