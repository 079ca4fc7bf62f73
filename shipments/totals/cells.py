"""The outbox: the totals cells a change touches, marked stale in the writer's transaction.

Services call `cells_of` before and after a change and `mark_stale` with both; they queue the refresh
after commit themselves (`tasks.refresh_after_commit`). Marking knows nothing of refreshing.
"""

import datetime
from collections.abc import Iterable
from typing import NamedTuple

from django.utils import timezone

from ..models import Receipt, Shipment, StaleCell, StaleTransitCell


class DayCell(NamedTuple):
    """Delivered (and lost) tonnes of one day, mode and destination: a receipt's or a closing's day."""

    day: datetime.date
    mode: str
    destination_id: int


class TransitCell(NamedTuple):
    """Tonnes in transit to one destination by one mode (open shipments have no day)."""

    mode: str
    destination_id: int


Cell = DayCell | TransitCell


def cells_of(shipment: Shipment | None) -> list[Cell]:
    """Every totals cell a shipment counts in now: the day of each of its receipts, its closing day
    (where its losses count), and its in-transit cell while it is open."""
    if shipment is None:
        return []
    days = set(Receipt.objects.filter(shipment_id=shipment.pk).values_list("received_on", flat=True))
    if shipment.status == Shipment.Status.DELIVERED and shipment.delivered_on:
        days.add(shipment.delivered_on)
    cells: list[Cell] = [DayCell(day, shipment.mode, shipment.destination_id) for day in sorted(days)]
    if shipment.is_open_for_receipt:
        cells.append(TransitCell(shipment.mode, shipment.destination_id))
    return cells


def mark_stale(cells: Iterable[Cell]) -> int:
    """Mark cells stale in the caller's transaction; returns how many distinct cells.

    An existing mark is touched rather than skipped: if a refresh holds it locked, this waits until
    that refresh commits, so a change made during a refresh is never lost.
    """
    now = timezone.now()
    unique = set(cells)
    days = [StaleCell(day=c.day, mode=c.mode, destination_id=c.destination_id, marked_at=now)
            for c in unique if isinstance(c, DayCell)]  # fmt: skip
    transit = [StaleTransitCell(mode=c.mode, destination_id=c.destination_id, marked_at=now)
               for c in unique if isinstance(c, TransitCell)]  # fmt: skip
    if days:
        StaleCell.objects.bulk_create(
            days, update_conflicts=True, unique_fields=["day", "mode", "destination"], update_fields=["marked_at"]
        )
    if transit:
        StaleTransitCell.objects.bulk_create(
            transit, update_conflicts=True, unique_fields=["mode", "destination"], update_fields=["marked_at"]
        )
    return len(unique)
