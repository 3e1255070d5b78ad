"""What the logbook rules read: the current view of every logbook at the evaluation moment, and flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One stored logbook entry as the rules see it: the validated record and who made it when."""

    id: int
    kind: str
    record: Any  # the logbook's Record model instance
    recorded_at: datetime
    recorded_by: str
    state: str = "confirmed"  # confirmed | draft


@dataclass(frozen=True, slots=True)
class DetectedTest:
    """A generator test run the sensors detected (mains present, generator running)."""

    id: int
    location: str | None
    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class LogbookView:
    """The current view of every logbook at the evaluation moment.

    ``entries`` holds the confirmed entries nobody superseded, per kind;
    ``drafts`` the entries waiting for the farmer's confirmation; ``invalid``
    the (entry id, kind, problem, date) of stored entries that no longer pass
    their model (incomplete records are a deviation of their own).
    """

    entries: dict[str, tuple[LogEntry, ...]]
    drafts: tuple[LogEntry, ...] = ()
    invalid: tuple[tuple[int, str, str, date | None], ...] = ()
    dismissed_events: frozenset[int] = frozenset()  # detected tests whose draft was withdrawn with a reason

    def of(self, kind: str) -> tuple[LogEntry, ...]:
        """Return the confirmed current entries of one logbook."""
        return self.entries.get(kind, ())

    def records(self, kind: str) -> list[Any]:
        """Return the records of one logbook."""
        return [e.record for e in self.of(kind)]


@dataclass(frozen=True, slots=True)
class Flag:
    """Something the farmer must see at once after a write (A6.2.2 "meld bij NVWA", a 48-hour visitor…).

    ``level`` is ``alert`` (act now) or ``warning``. Listeners (alerts) get
    these too, so an alert can leave the farm.
    """

    code: str
    rule: str
    level: str
    message: str
    location: str | None = None

    def to_json(self) -> dict:
        """Return the flag as a JSON object."""
        return {"code": self.code, "rule": self.rule, "level": self.level, "message": self.message,
                "location": self.location}
