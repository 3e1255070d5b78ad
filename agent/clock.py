"""Time at the edge: the one place the agent reads the wall clock.

Everything else takes ``now`` as an argument so tests can pass a fixed time.
"""

from __future__ import annotations

from datetime import date, datetime, timezone


def utcnow() -> datetime:
    """Return the current moment as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def keep_until(moment: datetime, years: int = 2) -> str:
    """Return the ISO date until which a record made at ``moment`` must be kept.

    Two years for IKB administration (A9.1), three for flock records (E9.4).
    """
    day = moment.date()
    try:
        return day.replace(year=day.year + years).isoformat()
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1).isoformat()


def parse_moment(text: str) -> datetime:
    """Parse an ISO 8601 moment; a naive one is taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
