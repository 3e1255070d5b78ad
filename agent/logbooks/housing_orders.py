"""Housing orders (ophokplicht, H3.12.11): recorded append-only, read back for the evaluation.

An order is one row with its first day and, once known, its last day. Ending
an open order, or correcting one, appends a row that supersedes the old one;
nothing is updated or deleted within the two-year retention (A9.1).
"""

from __future__ import annotations

from datetime import date, datetime

from agent.clock import keep_until
from agent.store import Store, housing_order_rows, insert_housing_order
from rules.errors import IkbError
from rules.sensor import HousingOrder
from rules.texts import N_, lazy_gettext


class HousingOrderError(IkbError):
    """The housing order was not stored; the message names the field."""

    messages = {
        "before_start": N_("ligt vóór de eerste dag (--from)"),
        "overlap": N_("overlapt ophokplicht {id} ({start} – {end}); beëindig of corrigeer die"),
        "no_order": N_("geen ophokplicht {id} van kracht (zie `housing-order list`)"),
        "before_order": N_("ligt vóór de eerste dag van de ophokplicht, {start}"),
    }


def _parse_day(value: str | date, field: str) -> date:
    """Return a date from ``YYYY-MM-DD`` text, naming the field when it is not one."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise HousingOrderError(field, "date_got", {"value": value}) from None


def load_housing_orders(store: Store) -> list[HousingOrder]:
    """Return the orders in force as recorded: every row no later row supersedes, oldest first."""
    rows = housing_order_rows(store)
    return [HousingOrder(r["id"], date.fromisoformat(r["starts_on"]),
                         date.fromisoformat(r["ends_on"]) if r["ends_on"] else None, r["note"]) for r in rows]


def _insert(store: Store, starts_on: date, ends_on: date | None, note: str, recorded_by: str, now: datetime,
            supersedes: int | None) -> HousingOrder:
    """Durably store one row and return it."""
    with store.transaction() as db:
        order_id = insert_housing_order(
            db, starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat() if ends_on else None, note=note.strip(),
            supersedes=supersedes, recorded_by=recorded_by, recorded_at=now.isoformat(), keep_until=keep_until(now))
    return HousingOrder(order_id, starts_on, ends_on, note.strip())


def add_housing_order(store: Store, *, starts_on: str | date, ends_on: str | date | None = None, note: str = "",
                      recorded_by: str, now: datetime) -> HousingOrder:
    """Record a housing order from its first day (and last day, when known)."""
    start = _parse_day(starts_on, "from")
    end = _parse_day(ends_on, "to") if ends_on else None
    if end is not None and end < start:
        raise HousingOrderError("to", "before_start")
    if not recorded_by.strip():
        raise HousingOrderError("recorded_by", "missing")
    for order in load_housing_orders(store):
        if order.start <= (end or date.max) and start <= (order.end or date.max):
            raise HousingOrderError("from", "overlap", {
                "id": order.id, "start": order.start.isoformat(),
                "end": order.end.isoformat() if order.end else lazy_gettext("heden")})
    return _insert(store, start, end, note, recorded_by.strip(), now, None)


def end_housing_order(store: Store, order_id: int, *, ends_on: str | date, recorded_by: str,
                      now: datetime) -> HousingOrder:
    """Record the last day of an order (a new row superseding the old one)."""
    current = {o.id: o for o in load_housing_orders(store)}
    if order_id not in current:
        raise HousingOrderError("id", "no_order", {"id": order_id})
    order = current[order_id]
    end = _parse_day(ends_on, "on")
    if end < order.start:
        raise HousingOrderError("on", "before_order", {"start": order.start.isoformat()})
    return _insert(store, order.start, end, order.note, recorded_by.strip() or "?", now, order_id)
