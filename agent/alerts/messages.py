"""What an alert message says, in Dutch: subject line, body and the JSON every channel starts from.

The payload is rendered once, when the message enters the outbox, and kept
there: the outbox then shows exactly what was sent. Channels only reshape it
(e-mail, webhook JSON, ntfy, MQTT).
"""

from __future__ import annotations

from datetime import datetime, timezone

from agent.alerts.kinds import KINDS, SEVERITY_WORDS
from agent.config import Settings
from agent.store import from_ms
from rules.texts import dutch_ngettext

EVENT_SUFFIX = {"raised": "", "repeat": " (herhaling, nog niet bevestigd)",
                "escalated": " (escalatie, nog niet bevestigd)"}


def location_name(settings: Settings, location: str | None) -> str:
    """Return how the farmer names a location: the house's name, "Stal 2", the egg room, or the farm."""
    if not location:
        return settings.farm.name
    for house in settings.houses:
        if house.id == location:
            return house.name or f"Stal {house.id}"
    for room in settings.egg_rooms:
        if room.id == location:
            return room.name or f"Eierlokaal {room.id}"
    return location


def local_text(settings: Settings, ms: int) -> str:
    """Return a moment as the farmer reads it: ``28-03-2026 03:12``, farm-local."""
    return from_ms(ms).astimezone(settings.farm_view().tz).strftime("%d-%m-%Y %H:%M")


def ack_url(settings: Settings, token: str) -> str | None:
    """Return the one-time acknowledgement link for a token, when the web address is configured."""
    base = settings.alerts.ack_base_url
    return f"{base}/alerts/ack/{token}" if base else None


def alert_summary(settings: Settings, alert: dict, event: str) -> str:
    """Return the subject line: ``[KRITIEK] Stal 2: ventilatie-alarm``."""
    kind = KINDS[alert["kind"]]
    where = location_name(settings, alert["location"])
    label = kind.label + (f" {alert['subject']}" if alert["subject"] and kind.source == "rule" and
                          alert["kind"] in ("deviation_major", "deviation_minor") else "")
    if event == "resolved":
        return f"[OPGELOST] {where}: {label}"
    if event == "acknowledged":
        return f"[BEVESTIGD] {where}: {label}"
    return f"[{SEVERITY_WORDS[alert['severity']]}] {where}: {label}{EVENT_SUFFIX.get(event, '')}"


def alert_payload(settings: Settings, alert: dict, event: str, *, token: str | None, person: str | None,
                  now_ms: int) -> dict:
    """Return the message about one alert for one recipient (event: raised/repeat/escalated/resolved)."""
    kind = KINDS[alert["kind"]]
    summary = alert_summary(settings, alert, event)
    lines = [summary, "", alert["title"]]
    if alert["detail"]:
        lines.append(alert["detail"])
    lines.append(f"Sinds: {local_text(settings, alert['opened_at'])}")
    if event == "resolved":
        lines.append(f"Opgelost: {local_text(settings, alert['closed_at'] or now_ms)}")
    elif event == "acknowledged":
        lines.append(f"Bevestigd door {alert['acked_by']} om {local_text(settings, alert['acked_at'])}")
    else:
        if alert["count"] > 1:
            lines.append(f"Aantal meldingen: {alert['count']}")
        if kind.advice:
            lines += ["", kind.advice]
        if event == "escalated" and person:
            minutes = round(alert["age_minutes"])
            lines += ["", dutch_ngettext("U krijgt dit bericht omdat de melding na {n} minuut nog niet is bevestigd.",
                                         "U krijgt dit bericht omdat de melding na {n} minuten nog niet is bevestigd.",
                                         minutes)]
    link = ack_url(settings, token) if token else None
    if event in ("raised", "repeat", "escalated"):
        lines += ["", f"Bevestigen: {link}" if link else f"Bevestigen: ikb-agent alert ack {alert['id']}"]
    lines += ["", f"{settings.farm.name} (KIP {settings.farm.kip_number}), melding {alert['id']}"]
    return {
        "event": event,
        "severity": alert["severity"],
        "summary": summary,
        "text": "\n".join(lines),
        "alert": {
            "id": alert["id"], "kind": alert["kind"], "label": kind.label, "location": alert["location"] or None,
            "location_name": location_name(settings, alert["location"]), "subject": alert["subject"] or None,
            "title": alert["title"], "detail": alert["detail"], "state": "closed" if event == "resolved" else "open",
            "opened_at": iso(alert["opened_at"]), "closed_at": iso(alert["closed_at"]),
            "count": alert["count"], "acknowledged": alert["acked_at"] is not None,
        },
        "person": person,
        "ack_token": token,
        "ack_url": link,
        "farm": {"name": settings.farm.name, "kip_number": settings.farm.kip_number},
        "created_at": iso(now_ms),
    }


def digest_payload(settings: Settings, items: list[dict], now_ms: int) -> dict:
    """Return one message that bundles held info messages (oldest first)."""
    summary = f"[INFO] {settings.farm.name}: {len(items)} melding{'en' if len(items) != 1 else ''}"
    lines = [summary, ""] + [f"- {item['summary'].removeprefix('[INFO] ')}" for item in items]
    lines += ["", f"{settings.farm.name} (KIP {settings.farm.kip_number})"]
    return {"event": "digest", "severity": "info", "summary": summary, "text": "\n".join(lines),
            "items": [{"summary": i["summary"], "alert": i.get("alert")} for i in items], "alert": None,
            "person": None, "ack_token": None, "ack_url": None,
            "farm": {"name": settings.farm.name, "kip_number": settings.farm.kip_number},
            "created_at": iso(now_ms)}


def channel_test_payload(settings: Settings, channel: str, now_ms: int, *, monthly: bool) -> dict:
    """Return the test message sent by ``ikb-agent alert test``."""
    summary = f"[TEST] {settings.farm.name}: alarmtest"
    lines = [summary, "",
             "Dit is een test van de alarmering (A3.4). Komt dit bericht aan, dan werkt dit kanaal.",
             f"Kanaal: {channel}", f"Verzonden: {local_text(settings, now_ms)}"]
    if monthly:
        lines.append("Vastgelegd als maandelijkse test van dit meldkanaal (niet van de alarminstallatie zelf).")
    lines += ["", f"{settings.farm.name} (KIP {settings.farm.kip_number})"]
    return {"event": "test", "severity": "info", "summary": summary, "text": "\n".join(lines), "alert": None,
            "person": None, "ack_token": None, "ack_url": None, "monthly": monthly,
            "farm": {"name": settings.farm.name, "kip_number": settings.farm.kip_number},
            "created_at": iso(now_ms)}


def iso(ms: int | None) -> str | None:
    """Return ms since the epoch as ISO 8601 UTC text (None stays None)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="seconds")
