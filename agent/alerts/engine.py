"""The alert engine: open, update and close alerts; notify, repeat, escalate; acknowledge.

An alert is identified by (kind, location, subject) — subject is the rule id
for alerts about a rule, else empty. At most one is open per key (a unique
index says so): a condition seen again while its alert is open updates that
alert (``count``, ``last_seen``) instead of raising a new one.

Flapping is damped twice:

- an alert closes only after its condition stayed clear for
  ``[alerts] clear_seconds``; coming back before that just counts a flap;
- a warning or info alert that comes back within ``quiet_minutes`` of closing
  is reopened without a new message. Critical alerts are never held back.

Everything takes the moment as an argument (``now_ms``, ms UTC); the clock is
read only by :mod:`agent.alerts.service`. Notifications are outbox rows written
in the same transaction as the alert change, so an alert and its messages are
committed together or not at all.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from agent.alerts.channels import takes
from agent.alerts.kinds import KINDS
from agent.alerts.messages import alert_payload, digest_payload
from agent.alerts.outbox import enqueue
from agent.config import AlertChannel, Settings
from agent.store import Store, from_ms, to_ms

EVENTS_NEEDING_ACK = ("raised", "repeat", "escalated")
TOUCH_RESOLUTION_MS = 60_000  # an open alert's last_seen is rewritten at most once a minute


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as the CLI, the web page and the tests read it."""

    id: int
    kind: str
    location: str | None
    subject: str | None
    severity: str
    state: str
    title: str
    detail: str
    source: str
    opened_at: datetime
    last_seen: datetime
    count: int
    flaps: int
    closed_at: datetime | None
    acked_at: datetime | None
    acked_by: str | None
    acked_via: str | None
    level: int

    @classmethod
    def from_row(cls, row: dict) -> "Alert":
        """Build an Alert from an ``alerts`` row."""
        def moment(ms):
            return from_ms(ms) if ms is not None else None

        return cls(row["id"], row["kind"], row["location"] or None, row["subject"] or None, row["severity"],
                   row["state"], row["title"], row["detail"], row["source"], from_ms(row["opened_at"]),
                   from_ms(row["last_seen"]), row["count"], row["flaps"], moment(row["closed_at"]),
                   moment(row["acked_at"]), row["acked_by"], row["acked_via"], row["level"])

    def to_json(self) -> dict:
        """Return the alert as JSON (ISO times)."""
        out = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


@dataclass(frozen=True, slots=True)
class AckResult:
    """What an acknowledgement did: ``acknowledged``, ``already`` (by someone before), ``used`` or ``unknown``.

    (:func:`peek_token` also answers ``valid``.)
    """

    status: str
    alert: Alert | None = None

    @property
    def ok(self) -> bool:
        """Return whether the alert is acknowledged now (by this call or earlier)."""
        return self.status in ("acknowledged", "already")


def _row(db, sql: str, params) -> dict | None:
    """Return the first row of a query as a dict, or None."""
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cursor.description], row))


def _rows(db, sql: str, params=()) -> list[dict]:
    """Return the rows of a query as dicts."""
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


class AlertEngine:
    """Raise, clear and close alerts and write their messages to the outbox."""

    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings
        self.cfg = settings.alerts
        self.people = list(self.cfg.people)

    # ------------------------------------------------------------------ configuration views

    def severity_of(self, kind: str) -> str:
        """Return the configured severity of an alert kind (else its default)."""
        return self.cfg.severity.get(kind, KINDS[kind].severity)

    def _first_level(self) -> int:
        """Return how many people of the chain are told at once (after_minutes = 0)."""
        return sum(1 for p in self.people if p.after_minutes <= 0)

    def _recipients(self, alert: dict, event: str, person: str | None = None) -> list[AlertChannel]:
        """Return the channels that get this event: routed by severity and house, then by person."""
        reached = {p.name for p in self.people[:alert["level"]]}
        out = []
        for channel in self.cfg.channels:
            if not takes(channel, alert["severity"], alert["location"]):
                continue
            if event == "escalated":
                if channel.person == person:
                    out.append(channel)
            elif event == "acknowledged":
                # Tell the MQTT state and, once someone beyond the first was called, everyone reached.
                if channel.type == "mqtt" or (alert["level"] > max(self._first_level(), 1)
                                              and (channel.person is None or channel.person in reached)):
                    out.append(channel)
            elif channel.person is None or channel.person in reached:
                out.append(channel)
        return out

    # ------------------------------------------------------------------ notifications

    def _notify(self, db, alert: dict, event: str, now_ms: int, person: str | None = None) -> int:
        """Write one message per recipient channel into the outbox; return how many."""
        digest = self.cfg.digest_minutes > 0
        n = 0
        for channel in self._recipients(alert, event, person):
            token = None
            if event in EVENTS_NEEDING_ACK and alert["acked_at"] is None:
                token = secrets.token_urlsafe(18)
                db.execute("INSERT INTO ack_tokens(token, alert_id, channel, created_at) VALUES (?, ?, ?, ?)",
                           [token, alert["id"], channel.key, now_ms])
            view = {**alert, "age_minutes": (now_ms - alert["opened_at"]) / 60000}
            payload = alert_payload(self.settings, view, event, token=token,
                                    person=person or channel.person, now_ms=now_ms)
            # Info may wait for the digest; critical and warning are never held back.
            held = digest and alert["severity"] == "info" and event == "raised" and channel.type != "mqtt"
            enqueue(db, channel=channel.key, event=event, severity=alert["severity"], payload=payload,
                    now_ms=now_ms, alert_id=alert["id"], held=held)
            n += 1
        if n and event == "raised":
            db.execute("UPDATE alerts SET notified_at = ? WHERE id = ?", [now_ms, alert["id"]])
        return n

    # ------------------------------------------------------------------ raise, touch, clear

    def raise_alert(self, kind: str, location: str | None, now_ms: int, *, subject: str = "",
                    title: str | None = None, detail: str = "", data: dict | None = None,
                    expires_at: int | None = None) -> tuple[Alert, bool]:
        """Open an alert, or update the open one with the same key; return it and whether messages went out."""
        location = location or ""
        severity = self.severity_of(kind)
        title = title or KINDS[kind].label[0].upper() + KINDS[kind].label[1:]
        with self.store.transaction(immediate=True) as db:
            key = [kind, location, subject]
            row = _row(db, "SELECT * FROM alerts WHERE kind = ? AND location = ? AND subject = ? AND state = 'open'",
                       key)
            if row is not None:
                # A repeat (or a flap while clearing) updates the open alert: no new message.
                db.execute(
                    "UPDATE alerts SET last_seen = ?, count = count + 1, flaps = flaps + (clear_since IS NOT NULL),"
                    " clear_since = NULL, title = ?, detail = ?, expires_at = coalesce(?, expires_at),"
                    " data = ? WHERE id = ?",
                    [now_ms, title, detail, expires_at, json.dumps({**json.loads(row["data"]), **(data or {})}),
                     row["id"]])
                return self._get(db, row["id"]), False
            quiet_ms = int(self.cfg.quiet_minutes * 60000)
            if severity != "critical" and quiet_ms:
                recent = _row(db, "SELECT id FROM alerts WHERE kind = ? AND location = ? AND subject = ?"
                                  " AND state = 'closed' AND closed_at >= ? ORDER BY closed_at DESC LIMIT 1",
                              key + [now_ms - quiet_ms])
                if recent is not None:
                    db.execute("UPDATE alerts SET state = 'open', closed_at = NULL, clear_since = NULL,"
                               " last_seen = ?, count = count + 1, flaps = flaps + 1, detail = ?,"
                               " expires_at = ? WHERE id = ?", [now_ms, detail, expires_at, recent["id"]])
                    return self._get(db, recent["id"]), False
            level = self._first_level()
            repeat_ms = int(self.cfg.repeat_minutes * 60000)
            next_repeat = now_ms + repeat_ms if repeat_ms and severity in self.cfg.escalate else None
            cursor = db.execute(
                "INSERT INTO alerts(kind, location, subject, severity, state, title, detail, source, opened_at,"
                " last_seen, level, next_repeat_at, expires_at, data) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?,"
                " ?, ?, ?)",
                [kind, location, subject, severity, title, detail, KINDS[kind].source, now_ms, now_ms, level,
                 next_repeat, expires_at, json.dumps(data or {}, ensure_ascii=False)])
            alert = _row(db, "SELECT * FROM alerts WHERE id = ?", [cursor.lastrowid])
            sent = self._notify(db, alert, "raised", now_ms)
            return self._get(db, alert["id"]), sent > 0

    def touch(self, kind: str, location: str | None, now_ms: int, subject: str = "") -> None:
        """Record that an open alert's condition is still present (last_seen, to the minute).

        The alert clock says so every few seconds; a row rewritten each time was a fsynced commit every
        4 s for as long as an alert stayed open (SD card, issue 15). A transaction that changes no row
        writes nothing.
        """
        with self.store.transaction(immediate=True) as db:
            db.execute("UPDATE alerts SET last_seen = ? WHERE kind = ? AND location = ? AND subject = ?"
                       " AND state = 'open' AND last_seen <= ?",
                       [now_ms, kind, location or "", subject, now_ms - TOUCH_RESOLUTION_MS])

    def clear(self, kind: str, location: str | None, now_ms: int, subject: str = "") -> bool:
        """Note that an alert's condition has cleared; it closes after clear_seconds. Return whether one was open."""
        with self.store.transaction(immediate=True) as db:
            cursor = db.execute("UPDATE alerts SET clear_since = ? WHERE kind = ? AND location = ? AND subject = ?"
                                " AND state = 'open' AND clear_since IS NULL",
                                [now_ms, kind, location or "", subject])
            return cursor.rowcount > 0

    def open_keys(self, source: str | None = None) -> set[tuple[str, str, str]]:
        """Return the (kind, location, subject) of every open alert (of one source)."""
        sql = "SELECT kind, location, subject FROM alerts WHERE state = 'open'"
        params: list = []
        if source:
            sql += " AND source = ?"
            params.append(source)
        return {(r["kind"], r["location"], r["subject"]) for r in self.store.query(sql, params)}

    def _get(self, db, alert_id: int) -> Alert:
        """Return one alert read inside a transaction."""
        return Alert.from_row(_row(db, "SELECT * FROM alerts WHERE id = ?", [alert_id]))

    # ------------------------------------------------------------------ time passes

    def tick(self, now_ms: int) -> int:
        """Close cleared and expired alerts, escalate, repeat, announce acks, send digests; return messages written."""
        n = 0
        clear_ms = int(self.cfg.clear_seconds * 1000)
        repeat_ms = int(self.cfg.repeat_minutes * 60000)
        with self.store.transaction(immediate=True) as db:
            for alert in _rows(db, "SELECT * FROM alerts WHERE state = 'open' AND clear_since IS NOT NULL"
                                   " AND clear_since <= ?", [now_ms - clear_ms]):
                db.execute("UPDATE alerts SET state = 'closed', closed_at = ? WHERE id = ?", [now_ms, alert["id"]])
                db.execute("UPDATE outbox SET state = 'cancelled', last_error = 'opgelost'"
                           " WHERE alert_id = ? AND state = 'pending' AND event IN ('repeat', 'escalated')",
                           [alert["id"]])
                if alert["notified_at"] is not None and alert["severity"] != "info":
                    n += self._notify(db, {**alert, "closed_at": now_ms}, "resolved", now_ms)
            # Alerts with a lifetime (day-sheet flags, due dates) end quietly.
            db.execute("UPDATE alerts SET state = 'closed', closed_at = ? WHERE state = 'open'"
                       " AND expires_at IS NOT NULL AND expires_at <= ?", [now_ms, now_ms])
            for alert in _rows(db, "SELECT * FROM alerts WHERE state = 'open' AND acked_at IS NULL"
                                   " AND clear_since IS NULL"):
                if alert["severity"] not in self.cfg.escalate:
                    continue
                n += self._escalate_and_repeat(db, alert, now_ms, repeat_ms)
            for alert in _rows(db, "SELECT * FROM alerts WHERE acked_at IS NOT NULL AND ack_announced = 0"):
                db.execute("UPDATE alerts SET ack_announced = 1 WHERE id = ?", [alert["id"]])
                if alert["notified_at"] is not None and alert["state"] == "open":
                    n += self._notify(db, alert, "acknowledged", now_ms)
            n += self._digest(db, now_ms)
        return n

    def _escalate_and_repeat(self, db, alert: dict, now_ms: int, repeat_ms: int) -> int:
        """Call the next people in the chain whose delay has passed; else repeat when due."""
        n = 0
        age = now_ms - alert["opened_at"]
        target = sum(1 for p in self.people if p.after_minutes * 60000 <= age)
        escalated = False
        while alert["level"] < target:
            person = self.people[alert["level"]].name
            alert = {**alert, "level": alert["level"] + 1}
            n += self._notify(db, alert, "escalated", now_ms, person=person)
            escalated = True
        if escalated:
            db.execute("UPDATE alerts SET level = ? WHERE id = ?", [alert["level"], alert["id"]])
        if repeat_ms and alert["next_repeat_at"] is not None and alert["next_repeat_at"] <= now_ms:
            if not escalated:
                n += self._notify(db, alert, "repeat", now_ms)
            db.execute("UPDATE alerts SET next_repeat_at = ? WHERE id = ?", [now_ms + repeat_ms, alert["id"]])
        return n

    def _digest(self, db, now_ms: int) -> int:
        """Bundle each channel's held info messages into one digest once the oldest waited long enough."""
        digest_ms = int(self.cfg.digest_minutes * 60000)
        n = 0
        for group in _rows(db, "SELECT channel, min(created_at) AS oldest FROM outbox WHERE state = 'held'"
                               " GROUP BY channel"):
            if digest_ms and group["oldest"] > now_ms - digest_ms:
                continue
            held = _rows(db, "SELECT id, payload FROM outbox WHERE state = 'held' AND channel = ? ORDER BY id",
                         [group["channel"]])
            payload = digest_payload(self.settings, [json.loads(h["payload"]) for h in held], now_ms)
            digest_id = enqueue(db, channel=group["channel"], event="digest", severity="info", payload=payload,
                                now_ms=now_ms)
            db.execute(f"UPDATE outbox SET state = 'digested', digest_id = ? WHERE id IN "
                       f"({','.join('?' * len(held))})", [digest_id] + [h["id"] for h in held])
            n += 1
        return n


# ---------------------------------------------------------------------- acknowledge (web page, CLI, MQTT)


def acknowledge(store: Store, alert_id: int, *, by: str, via: str, now: datetime) -> AckResult:
    """Acknowledge an alert: its repeats and escalation stop; pending ones are cancelled."""
    now_ms = to_ms(now)
    with store.transaction(immediate=True) as db:
        row = _row(db, "SELECT * FROM alerts WHERE id = ?", [alert_id])
        if row is None:
            return AckResult("unknown")
        if row["acked_at"] is not None:
            return AckResult("already", Alert.from_row(row))
        db.execute("UPDATE alerts SET acked_at = ?, acked_by = ?, acked_via = ?, next_repeat_at = NULL"
                   " WHERE id = ?", [now_ms, by, via, alert_id])
        db.execute("UPDATE outbox SET state = 'cancelled', last_error = 'bevestigd'"
                   " WHERE alert_id = ? AND state = 'pending' AND event IN ('repeat', 'escalated')", [alert_id])
        return AckResult("acknowledged", Alert.from_row(_row(db, "SELECT * FROM alerts WHERE id = ?", [alert_id])))


def acknowledge_by_token(store: Store, token: str, now: datetime, by: str | None = None) -> AckResult:
    """Acknowledge through the one-time link in a message; a used token is refused (``used``).

    The web route must only call this on POST (a confirm button): mail
    scanners and link previews fetch links with GET.
    """
    with store.transaction(immediate=True) as db:
        row = _row(db, "SELECT * FROM ack_tokens WHERE token = ?", [token])
        if row is None:
            return AckResult("unknown")
        if row["used_at"] is not None:
            alert = _row(db, "SELECT * FROM alerts WHERE id = ?", [row["alert_id"]])
            return AckResult("used", Alert.from_row(alert))
        who = by or f"link ({row['channel']})"
        db.execute("UPDATE ack_tokens SET used_at = ?, used_by = ? WHERE token = ?", [to_ms(now), who, token])
        result = acknowledge(store, row["alert_id"], by=who, via="link", now=now)
    return result


def peek_token(store: Store, token: str) -> AckResult:
    """Return what a link token would acknowledge, without using it (for the confirm page on GET).

    Status ``valid`` (can be used), ``used`` or ``unknown``.
    """
    rows = store.query("SELECT t.used_at, a.* FROM ack_tokens t JOIN alerts a ON a.id = t.alert_id"
                       " WHERE t.token = ?", [token])
    if not rows:
        return AckResult("unknown")
    row = rows[0]
    return AckResult("used" if row.pop("used_at") is not None else "valid", Alert.from_row(row))


def mqtt_ack_user(ack_topic: str, topic: str) -> str | None:
    """Return the broker account an acknowledgement came from: the last level of ``<ack_topic>/<user>``.

    The broker's ACL (deploy/mosquitto.acl: ``pattern write <ack_topic>/%u``) lets an account publish
    only under its own name, so the topic says who acknowledged; a payload cannot claim it.
    """
    prefix = ack_topic.rstrip("/") + "/"
    user = topic[len(prefix):] if topic.startswith(prefix) else ""
    if not user or "/" in user or len(user) > 80 or not user.isprintable():
        return None
    return user


def acknowledge_mqtt(store: Store, payload: bytes, now: datetime, *, user: str) -> AckResult:
    """Acknowledge from an MQTT message of broker account ``user``: a token, an alert id, or ``{"id": 7}``."""
    text = payload.decode("utf-8", "replace").strip()
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        doc = text
    if isinstance(doc, int) and not isinstance(doc, bool):
        doc = {"id": doc}
    if isinstance(doc, str):
        doc = {"id": int(doc)} if doc.isascii() and doc.isdigit() and len(doc) < 19 else {"token": doc}
    if not isinstance(doc, dict):
        return AckResult("unknown")
    by = f"{user} (mqtt)"
    if isinstance(doc.get("token"), str):
        return acknowledge_by_token(store, doc["token"], now, by=by)
    alert_id = doc.get("id")
    if isinstance(alert_id, int) and not isinstance(alert_id, bool) and 0 < alert_id < 2**62:
        return acknowledge(store, alert_id, by=by, via="mqtt", now=now)
    return AckResult("unknown")


def list_alerts(store: Store, *, include_closed: bool = False, limit: int = 200) -> list[Alert]:
    """Return alerts, open ones first, newest first."""
    where = "" if include_closed else "WHERE state = 'open'"
    rows = store.query(f"SELECT * FROM alerts {where} ORDER BY state = 'closed', opened_at DESC LIMIT ?", [limit])
    return [Alert.from_row(r) for r in rows]
