"""Delivery totals: marking what changed (the outbox), refreshing it, rebuilding everything.

Only the tasks in shipments.tasks call `refresh` and `rebuild`; services call `mark_stale`.
Every statement here is set-based SQL: GROUP BY runs in the database, never a loop over records.
The SQL is portable between PostgreSQL and SQLite except the few vendor snippets in `_sql`.
"""

import contextlib
import contextvars
import datetime
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from .models import Shipment, StaleCell, StaleTransitCell, TotalsState

log = logging.getLogger(__name__)

Cell = tuple[datetime.date, str, int]  # delivered day, mode, destination id
TransitCell = tuple[str, int]  # mode, destination id of shipments in transit

L0 = "shipments_deliverytotal"
DAY = "shipments_deliverydaytotal"
AREA = "shipments_deliveryareamonthtotal"
STALE = "shipments_stalecell"
STALE_TRANSIT = "shipments_staletransitcell"
TRANSIT = "shipments_intransittotal"
LOC = "aidtrack_location"
# Serialises the writers of the totals tables (refresh and rebuild) on PostgreSQL.
ADVISORY_LOCK_KEY = 7_241_020


def _sql(name: str) -> str:
    vendor_sql = {
        "postgresql": {"month": "CAST(date_trunc('month', {}) AS date)"},
        "sqlite": {"month": "date({}, 'start of month')"},
    }
    return vendor_sql[connection.vendor][name]


# --- Marking (called by services, inside their transaction) -----------------------------------------


def cell_of(shipment: Shipment) -> Cell | None:
    """The totals cell a shipment counts in, or None when it does not count (not delivered)."""
    if shipment.status != Shipment.Status.DELIVERED or shipment.delivered_on is None:
        return None
    return (shipment.delivered_on, shipment.mode, shipment.destination_id)


def cells_of(shipment: Shipment | None) -> list[Cell | TransitCell]:
    """Every totals cell a shipment counts in now: its delivered cell, or its in-transit cell."""
    if shipment is None:
        return []
    if shipment.status == Shipment.Status.IN_TRANSIT:
        return [(shipment.mode, shipment.destination_id)]
    cell = cell_of(shipment)
    return [cell] if cell else []


_queue_on_commit = contextvars.ContextVar("queue_refresh_on_commit", default=True)


@contextlib.contextmanager
def deferred_refresh() -> Iterator[None]:
    """Within this block writes mark cells but queue no refresh: for bulk loads that refresh once after."""
    token = _queue_on_commit.set(False)
    try:
        yield
    finally:
        _queue_on_commit.reset(token)


def mark_stale(cells: Iterable[Cell | TransitCell | None]) -> int:
    """Mark cells stale in the caller's transaction and queue a refresh for after its commit.

    An existing mark is touched rather than skipped: if a refresh holds it locked, this waits until
    that refresh commits, so a change made during a refresh is never lost.
    """
    now = timezone.now()
    unique = {c for c in cells if c}
    delivered = [StaleCell(day=c[0], mode=c[1], destination_id=c[2], marked_at=now) for c in unique if len(c) == 3]
    transit = [StaleTransitCell(mode=c[0], destination_id=c[1], marked_at=now) for c in unique if len(c) == 2]
    if not unique:
        return 0
    if delivered:
        StaleCell.objects.bulk_create(
            delivered, update_conflicts=True, unique_fields=["day", "mode", "destination"], update_fields=["marked_at"]
        )
    if transit:
        StaleTransitCell.objects.bulk_create(
            transit, update_conflicts=True, unique_fields=["mode", "destination"], update_fields=["marked_at"]
        )
    if _queue_on_commit.get():
        transaction.on_commit(queue_refresh)
    return len(unique)


def queue_refresh() -> None:
    """Ask a worker to refresh. If the broker is down the marks stay, and beat's run catches up."""
    from .tasks import refresh_totals

    try:
        refresh_totals.apply_async(retry=False)
    except Exception:
        log.warning("Could not queue refresh_totals; the periodic run will pick the change up.", exc_info=True)


# --- Refresh --------------------------------------------------------------------------------------


@dataclass
class RefreshResult:
    cells: int = 0
    batches: int = 0


def _lock_writers(cursor) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        # This transaction writes only derived rows and deletes the marks it recomputed, together. If
        # a crash loses it, the marks are back and the next run redoes it: no need to wait for fsync.
        cursor.execute("SET LOCAL synchronous_commit = off")


def refresh(batch_size: int = 500) -> RefreshResult:
    """Recompute the totals of every marked cell, a batch per transaction, and clear the marks."""
    result = RefreshResult()
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                _lock_writers(cursor)
            claimed = list(
                StaleCell.objects.select_for_update(skip_locked=True)
                .order_by("day", "mode", "destination_id")
                .values_list("id", "day", "mode", "destination_id")[:batch_size]
            )
            if claimed:
                _refresh_cells(claimed)
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


_LINE_SOURCE = """
    FROM shipments_cargoline l
    JOIN shipments_shipment s ON s.id = l.shipment_id
    {join}
    WHERE s.status = 'delivered' {where}
"""
_CELL_JOIN = f"""JOIN {STALE} c ON c.day = s.delivered_on AND c.mode = s.mode
    AND c.destination_id = s.destination_id"""


def _l0_select(join: str = "", where: str = "") -> str:
    return f"""
        SELECT s.delivered_on AS day, s.mode AS mode, l.cargo_type_id AS cargo_type_id,
               s.destination_id AS destination_id, SUM(l.received_tonnes) AS tonnes_delivered,
               SUM(l.received_quantity) AS quantity_delivered, SUM(l.tonnes - l.received_tonnes) AS tonnes_lost,
               COUNT(DISTINCT s.id) AS shipments
        {_LINE_SOURCE.format(join=join, where=where)}
        GROUP BY s.delivered_on, s.mode, l.cargo_type_id, s.destination_id"""


def _day_select(join: str = "", where: str = "") -> str:
    return f"""
        SELECT s.delivered_on AS day, s.mode AS mode, s.destination_id AS destination_id,
               SUM(l.received_tonnes) AS tonnes_delivered, SUM(l.tonnes - l.received_tonnes) AS tonnes_lost,
               COUNT(DISTINCT s.id) AS shipments
        {_LINE_SOURCE.format(join=join, where=where)}
        GROUP BY s.delivered_on, s.mode, s.destination_id"""


L0_COLUMNS = "day, mode, cargo_type_id, destination_id, tonnes_delivered, quantity_delivered, tonnes_lost, shipments"
DAY_COLUMNS = "day, mode, destination_id, tonnes_delivered, tonnes_lost, shipments"
AREA_COLUMNS = (
    "month, mode, area_id, area_depth, cargo_type_id, tonnes_delivered, quantity_delivered, tonnes_lost, shipments"
)


def _refresh_cells(claimed: list[tuple]) -> None:
    ids = [c[0] for c in claimed]
    marks = ", ".join(["%s"] * len(ids))
    in_batch = f"c.id IN ({marks})"
    with connection.cursor() as cursor:
        for table in (L0, DAY):
            cursor.execute(
                f"""DELETE FROM {table} WHERE EXISTS (
                    SELECT 1 FROM {STALE} c WHERE {in_batch} AND c.day = {table}.day
                    AND c.mode = {table}.mode AND c.destination_id = {table}.destination_id)""",
                ids,
            )
        cursor.execute(f"INSERT INTO {L0} ({L0_COLUMNS}) {_l0_select(_CELL_JOIN, 'AND ' + in_batch)}", ids)
        cursor.execute(f"INSERT INTO {DAY} ({DAY_COLUMNS}) {_day_select(_CELL_JOIN, 'AND ' + in_batch)}", ids)

        # The month × mode × area rows above each cell, deepest areas first: each is recomputed from
        # its children's rows and its own day rows, so the work does not grow with the data.
        months_modes_by_dest: dict[int, set[tuple[datetime.date, str]]] = {}
        for _, day, mode, dest in claimed:
            months_modes_by_dest.setdefault(dest, set()).add((day.replace(day=1), mode))
        affected: dict[tuple[datetime.date, str, int], int] = {}
        for dest, chain in _ancestor_chains(cursor, list(months_modes_by_dest)).items():
            for depth, area in enumerate(reversed(chain)):
                for month, mode in months_modes_by_dest[dest]:
                    affected[(month, mode, area)] = depth
        for (month, mode, area), depth in sorted(affected.items(), key=lambda item: -item[1]):
            _recompute_area_month(cursor, month, mode, area, depth)


def _transit_select(join: str = "", where: str = "") -> str:
    source = f"""FROM shipments_cargoline l JOIN shipments_shipment s ON s.id = l.shipment_id {join}
        WHERE s.status = 'in_transit' {where}"""
    return f"""
        SELECT s.mode AS mode, s.destination_id AS destination_id, l.cargo_type_id AS cargo_type_id,
               SUM(l.tonnes) AS tonnes, COUNT(DISTINCT s.id) AS shipments
        {source} GROUP BY s.mode, s.destination_id, l.cargo_type_id
        UNION ALL
        SELECT s.mode, s.destination_id, NULL, SUM(l.tonnes), COUNT(DISTINCT s.id)
        {source} GROUP BY s.mode, s.destination_id"""


TRANSIT_COLUMNS = "mode, destination_id, cargo_type_id, tonnes, shipments"


def _refresh_transit(ids: list[int]) -> None:
    marks = ", ".join(["%s"] * len(ids))
    join = f"JOIN {STALE_TRANSIT} c ON c.mode = s.mode AND c.destination_id = s.destination_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""DELETE FROM {TRANSIT} WHERE EXISTS (SELECT 1 FROM {STALE_TRANSIT} c WHERE c.id IN ({marks})
                AND c.mode = {TRANSIT}.mode AND c.destination_id = {TRANSIT}.destination_id)""",
            ids,
        )
        cursor.execute(
            f"INSERT INTO {TRANSIT} ({TRANSIT_COLUMNS}) {_transit_select(join, f'AND c.id IN ({marks})')}", ids * 2
        )


def _ancestor_chains(cursor, location_ids: list[int]) -> dict[int, list[int]]:
    """For each location, its id and its ancestors' ids, from itself up to the top."""
    marks = ", ".join(["%s"] * len(location_ids))
    cursor.execute(
        f"""WITH RECURSIVE up(start, id, parent_id, level) AS (
                SELECT id, id, parent_id, 0 FROM {LOC} WHERE id IN ({marks})
                UNION ALL
                SELECT up.start, l.id, l.parent_id, up.level + 1 FROM up JOIN {LOC} l ON l.id = up.parent_id
            ) SELECT start, id FROM up ORDER BY start, level""",
        location_ids,
    )
    chains: dict[int, list[int]] = {}
    for start, area in cursor.fetchall():
        chains.setdefault(start, []).append(area)
    return chains


def _next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _recompute_area_month(cursor, month: datetime.date, mode: str, area: int, depth: int) -> None:
    end = _next_month(month)
    cursor.execute(f"DELETE FROM {AREA} WHERE area_id = %s AND month = %s AND mode = %s", [area, month, mode])
    cursor.execute(
        f"""INSERT INTO {AREA} ({AREA_COLUMNS})
            SELECT %s, %s, %s, %s, cargo_type_id, SUM(t), SUM(q), SUM(lost), SUM(n) FROM (
                SELECT cargo_type_id, tonnes_delivered AS t, quantity_delivered AS q, tonnes_lost AS lost,
                       shipments AS n
                FROM {AREA} WHERE month = %s AND mode = %s AND area_id IN (SELECT id FROM {LOC} WHERE parent_id = %s)
                UNION ALL
                SELECT cargo_type_id, tonnes_delivered, quantity_delivered, tonnes_lost, shipments
                FROM {L0} WHERE destination_id = %s AND mode = %s AND day >= %s AND day < %s
                UNION ALL
                SELECT NULL, tonnes_delivered, 0, tonnes_lost, shipments
                FROM {DAY} WHERE destination_id = %s AND mode = %s AND day >= %s AND day < %s
            ) AS parts GROUP BY cargo_type_id""",
        [month, mode, area, depth, month, mode, area, area, mode, month, end, area, mode, month, end],
    )


# --- Rebuild --------------------------------------------------------------------------------------


@dataclass
class RebuildResult:
    deleted: int = 0
    inserted: int = 0

    @property
    def changed(self) -> int:
        return self.deleted + self.inserted


def rebuild() -> RebuildResult:
    """Recompute every total from the records; rows already right are left untouched.

    Returns how many rows were deleted and inserted: both 0 when the totals were right.
    One GROUP BY over the records makes the day rows; every coarser table is built from them.
    """
    result = RebuildResult()
    month = _sql("month")
    temporary = ("fresh_l0", "fresh_day", "fresh_month", "fresh_area", "fresh_transit", "closure", "diff")
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_writers(cursor)
        for name in temporary:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"CREATE TEMP TABLE fresh_l0 AS {_l0_select()}")
        # Shipments per day × mode × destination are counted on the shipments table (every shipment
        # has lines: the services refuse one without), the tonnes summed from the day rows.
        cursor.execute(
            """CREATE TEMP TABLE fresh_day AS
            SELECT d.day AS day, d.mode AS mode, d.destination_id AS destination_id,
                   d.tonnes_delivered AS tonnes_delivered, d.tonnes_lost AS tonnes_lost, s.shipments AS shipments
            FROM (SELECT day, mode, destination_id, SUM(tonnes_delivered) AS tonnes_delivered,
                         SUM(tonnes_lost) AS tonnes_lost
                  FROM fresh_l0 GROUP BY day, mode, destination_id) d
            JOIN (SELECT delivered_on AS day, mode, destination_id, COUNT(*) AS shipments
                  FROM shipments_shipment WHERE status = 'delivered'
                  GROUP BY delivered_on, mode, destination_id) s
              ON s.day = d.day AND s.mode = d.mode AND s.destination_id = d.destination_id"""
        )
        cursor.execute(
            f"""CREATE TEMP TABLE closure AS
            WITH RECURSIVE depth(id, d) AS (
                SELECT id, 0 FROM {LOC} WHERE parent_id IS NULL
                UNION ALL SELECT l.id, depth.d + 1 FROM {LOC} l JOIN depth ON l.parent_id = depth.id
            ), up(descendant, ancestor) AS (
                SELECT id, id FROM {LOC}
                UNION ALL SELECT up.descendant, l.parent_id FROM up JOIN {LOC} l ON l.id = up.ancestor
                WHERE l.parent_id IS NOT NULL
            ) SELECT up.descendant, up.ancestor, depth.d AS depth FROM up JOIN depth ON depth.id = up.ancestor"""
        )
        # Month × destination first (a third of the day rows), then up the location tree.
        cursor.execute(
            f"""CREATE TEMP TABLE fresh_month AS
            SELECT {month.format("day")} AS month, mode, destination_id, cargo_type_id,
                   SUM(tonnes_delivered) AS t, SUM(quantity_delivered) AS q, SUM(tonnes_lost) AS lost,
                   SUM(shipments) AS n
            FROM fresh_l0 GROUP BY {month.format("day")}, mode, destination_id, cargo_type_id
            UNION ALL
            SELECT {month.format("day")}, mode, destination_id, NULL, SUM(tonnes_delivered), 0, SUM(tonnes_lost),
                   SUM(shipments)
            FROM fresh_day GROUP BY {month.format("day")}, mode, destination_id"""
        )
        cursor.execute(
            """CREATE TEMP TABLE fresh_area AS
            SELECT m.month AS month, m.mode AS mode, c.ancestor AS area_id, c.depth AS area_depth,
                   m.cargo_type_id AS cargo_type_id, SUM(m.t) AS tonnes_delivered, SUM(m.q) AS quantity_delivered,
                   SUM(m.lost) AS tonnes_lost, SUM(m.n) AS shipments
            FROM fresh_month m JOIN closure c ON c.descendant = m.destination_id
            GROUP BY m.month, m.mode, c.ancestor, c.depth, m.cargo_type_id"""
        )
        cursor.execute(f"CREATE TEMP TABLE fresh_transit AS {_transit_select()}")
        if connection.vendor == "postgresql":
            # Temporary tables have no statistics until analysed; without them the planner guesses
            # a handful of rows and picks nested loops over a million.
            cursor.execute("ANALYZE fresh_l0, fresh_day, fresh_area, fresh_transit")
        for table, fresh, columns, keys in [
            (L0, "fresh_l0", L0_COLUMNS, ["day", "mode", "cargo_type_id", "destination_id"]),
            (DAY, "fresh_day", DAY_COLUMNS, ["day", "mode", "destination_id"]),
            (AREA, "fresh_area", AREA_COLUMNS, ["month", "mode", "area_id", "cargo_type_id"]),
            (TRANSIT, "fresh_transit", TRANSIT_COLUMNS, ["mode", "destination_id", "cargo_type_id"]),
        ]:
            deleted, inserted = _sync(cursor, table, fresh, columns, keys)
            result.deleted += deleted
            result.inserted += inserted
        for name in temporary:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
        now = timezone.now()
        TotalsState.objects.update_or_create(id=1, defaults={"rebuilt_at": now, "refreshed_at": now})
    return result


def _eq(column: str) -> str:
    # cargo_type_id is NULL on the all-cargo rows; ids are never 0, so COALESCE makes NULL equal NULL
    # and keeps the comparison hashable for PostgreSQL's joins.
    if column == "cargo_type_id":
        return "COALESCE(f.cargo_type_id, 0) = COALESCE(t.cargo_type_id, 0)"
    return f"f.{column} = t.{column}"


def _differs(column: str) -> str:
    if connection.vendor == "sqlite" and column.startswith(("tonnes", "quantity")):
        # SQLite sums decimals as floats: the same total summed in another order may differ in the
        # 15th digit. The tables keep 3 places, so compare at 3 places.
        return f"ROUND(f.{column}, 3) <> ROUND(t.{column}, 3)"
    return f"f.{column} <> t.{column}"


def _sync(cursor, table: str, fresh: str, columns: str, keys: list[str]) -> tuple[int, int]:
    """Make `table` equal `fresh` in one pass: a full join finds the rows that are new, gone or differ.

    Only those are deleted and (re)inserted, so a rebuild of right totals writes nothing.
    """
    names = [c.strip() for c in columns.split(",")]
    differs = " OR ".join(_differs(n) for n in names if n not in keys)
    cursor.execute(
        f"""CREATE TEMP TABLE diff AS
        SELECT t.id AS old_id, f.{keys[0]} IS NOT NULL AS has_new, {", ".join(f"f.{n} AS {n}" for n in names)}
        FROM {fresh} f FULL JOIN {table} t ON {" AND ".join(_eq(k) for k in keys)}
        WHERE t.id IS NULL OR f.{keys[0]} IS NULL OR {differs}"""
    )
    cursor.execute(f"DELETE FROM {table} WHERE id IN (SELECT old_id FROM diff WHERE old_id IS NOT NULL)")
    deleted = cursor.rowcount
    cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM diff WHERE has_new")
    inserted = cursor.rowcount
    cursor.execute("DROP TABLE diff")
    return deleted, inserted
