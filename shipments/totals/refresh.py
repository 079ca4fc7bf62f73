"""Recompute the totals of the cells marked stale, set-based, and clear their marks.

Only `tasks.refresh_totals` (queued after a write's commit, and run by beat every minute) calls
`refresh`. The cost of a refresh follows the number of marked cells, never the size of the data.
"""

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from aidtrack.selectors import location_ancestor_chains

from ..models import StaleCell, StaleTransitCell, TotalsState
from . import sql
from .columns import AREA, CARGO_MONTH, DAY, L0, LOC, STALE, STALE_TRANSIT, TRANSIT


@dataclass
class RefreshResult:
    cells: int = 0
    batches: int = 0


def refresh(batch_size: int = 500) -> RefreshResult:
    """Recompute the totals of every marked cell, a batch per transaction, and clear the marks."""
    result = RefreshResult()
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                sql.lock_writers(cursor)
            claimed = list(
                StaleCell.objects.select_for_update(skip_locked=True)
                .order_by("day", "mode", "destination_id")
                .values_list("id", "day", "mode", "destination_id")[:batch_size]
            )
            if claimed:
                _refresh_days(claimed)
                StaleCell.objects.filter(id__in=[c[0] for c in claimed]).delete()
            transit = list(
                StaleTransitCell.objects.select_for_update(skip_locked=True)
                .order_by("mode", "destination_id")
                .values_list("id", flat=True)[:batch_size]
            )
            if transit:
                _refresh_transit(transit)
                StaleTransitCell.objects.filter(id__in=transit).delete()
            TotalsState.objects.update_or_create(id=1, defaults={"refreshed_at": timezone.now()})
        if not claimed and not transit:
            return result
        result.cells += len(claimed) + len(transit)
        result.batches += 1


def _refresh_days(claimed: list[tuple]) -> None:
    """The day rows of the claimed cells, then the cargo × month and area rows above them."""
    ids = [c[0] for c in claimed]
    in_batch = f"c.id IN ({', '.join(['%s'] * len(ids))})"
    with connection.cursor() as cursor:
        # The cargo × month rows to recount: those the cells counted in before and those they count in now.
        cargo_months = _cargo_months_of_cells(cursor, in_batch, ids)
        for table in (L0, DAY):
            cursor.execute(
                f"""DELETE FROM {table.name} WHERE EXISTS (
                    SELECT 1 FROM {STALE} c WHERE {in_batch} AND c.day = {table.name}.day
                    AND c.mode = {table.name}.mode AND c.destination_id = {table.name}.destination_id)""",
                ids,
            )
        both = ids + ids  # the condition is in both parts of the record rows
        cursor.execute(
            f"INSERT INTO {L0.name} ({L0.column_list}) {sql.l0_select(sql.CELL_JOIN, 'AND ' + in_batch)}", both
        )
        cursor.execute(
            f"INSERT INTO {DAY.name} ({DAY.column_list}) {sql.day_select(sql.CELL_JOIN, 'AND ' + in_batch)}", both
        )
        cargo_months |= _cargo_months_of_cells(cursor, in_batch, ids)
        _recompute_cargo_months(cursor, sorted(cargo_months))

        # The month × mode × area rows above each cell, a level of the location tree at a time from
        # the deepest: each row is recomputed from its children's rows and its own day rows, so the
        # work does not grow with the data, and the statements not with the number of areas.
        months_modes_by_dest: dict[int, set[tuple[datetime.date, str]]] = {}
        for _, day, mode, dest in claimed:
            months_modes_by_dest.setdefault(dest, set()).add((day.replace(day=1), mode))
        by_depth: dict[int, set[tuple[datetime.date, str, int]]] = {}
        for dest, chain in location_ancestor_chains(list(months_modes_by_dest)).items():
            for depth, area in enumerate(reversed(chain)):
                by_depth.setdefault(depth, set()).update(
                    (month, mode, area) for month, mode in months_modes_by_dest[dest]
                )
        for depth in sorted(by_depth, reverse=True):
            _recompute_area_months(cursor, sorted(by_depth[depth]), depth)


def _cargo_months_of_cells(cursor, in_batch: str, ids: list[int]) -> set[tuple[datetime.date, str, int]]:
    cursor.execute(
        f"""SELECT DISTINCT t.day, t.mode, t.cargo_type_id FROM {L0.name} t JOIN {STALE} c ON c.day = t.day
            AND c.mode = t.mode AND c.destination_id = t.destination_id WHERE {in_batch}""",
        ids,
    )
    return {(_as_date(day).replace(day=1), mode, cargo) for day, mode, cargo in cursor.fetchall()}


def _as_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _recompute_cargo_months(cursor, cargo_months: list[tuple[datetime.date, str, int]], chunk: int = 100) -> None:
    """Recount month × mode × cargo rows from the day rows of that cargo type, mode and month.

    On PostgreSQL an index on (cargo type, mode, day) carrying the totals (migrations 0008, 0012) lets
    each row be summed from the index alone.
    """
    for start in range(0, len(cargo_months), chunk):
        part = cargo_months[start : start + chunk]
        rows = " OR ".join(["(month = %s AND mode = %s AND cargo_type_id = %s)"] * len(part))
        cursor.execute(f"DELETE FROM {CARGO_MONTH.name} WHERE {rows}", [v for m in part for v in m])
        wanted = ", ".join(["(%s, %s, %s, %s)"] * len(part))
        cursor.execute(
            f"""INSERT INTO {CARGO_MONTH.name} ({CARGO_MONTH.column_list})
                WITH wanted(month, mode, cargo_type_id, next_month) AS (VALUES {wanted})
                SELECT w.month, w.mode, w.cargo_type_id, {sql.row_sums(CARGO_MONTH.values, "t")}
                FROM wanted w JOIN {L0.name} t ON t.cargo_type_id = w.cargo_type_id AND t.mode = w.mode
                    AND t.day >= w.month AND t.day < w.next_month
                GROUP BY w.month, w.mode, w.cargo_type_id""",
            [v for month, mode, cargo in part for v in (month, mode, cargo, next_month(month))],
        )


def _recompute_area_months(cursor, areas: list[tuple[datetime.date, str, int]], depth: int, chunk: int = 100) -> None:
    """Recount month × mode × area rows of one depth from their children's rows and their own day rows
    (the children's rows must be right already: the caller goes up the tree)."""
    children = ", ".join(f"a.{v}" for v in AREA.values)
    own_days = ", ".join(f"d.{v}" for v in AREA.values)
    for start in range(0, len(areas), chunk):
        part = areas[start : start + chunk]
        rows = " OR ".join(["(area_id = %s AND month = %s AND mode = %s)"] * len(part))
        cursor.execute(
            f"DELETE FROM {AREA.name} WHERE {rows}", [v for month, mode, area in part for v in (area, month, mode)]
        )
        wanted = ", ".join(["(%s, %s, %s, %s)"] * len(part))
        cursor.execute(
            f"""INSERT INTO {AREA.name} ({AREA.column_list})
                WITH wanted(month, mode, area_id, next_month) AS (VALUES {wanted}),
                parts AS (
                    SELECT w.month, w.mode, w.area_id, {children}
                    FROM wanted w JOIN {LOC} child ON child.parent_id = w.area_id
                    JOIN {AREA.name} a ON a.area_id = child.id AND a.month = w.month AND a.mode = w.mode
                    UNION ALL
                    SELECT w.month, w.mode, w.area_id, {own_days}
                    FROM wanted w JOIN {DAY.name} d ON d.destination_id = w.area_id AND d.mode = w.mode
                        AND d.day >= w.month AND d.day < w.next_month)
                SELECT {", ".join(AREA.keys)}, %s, {sql.row_sums(AREA.values)}
                FROM parts GROUP BY {", ".join(AREA.keys)}""",
            [v for month, mode, area in part for v in (month, mode, area, next_month(month))] + [depth],
        )


def _refresh_transit(ids: list[int]) -> None:
    marks = ", ".join(["%s"] * len(ids))
    join = f"JOIN {STALE_TRANSIT} c ON c.mode = s.mode AND c.destination_id = s.destination_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""DELETE FROM {TRANSIT.name} WHERE EXISTS (SELECT 1 FROM {STALE_TRANSIT} c WHERE c.id IN ({marks})
                AND c.mode = {TRANSIT.name}.mode AND c.destination_id = {TRANSIT.name}.destination_id)""",
            ids,
        )
        cursor.execute(
            f"INSERT INTO {TRANSIT.name} ({TRANSIT.column_list}) {sql.transit_select(join, f'AND c.id IN ({marks})')}",
            ids,
        )
