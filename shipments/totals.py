"""Delivery totals: marking what changed (the outbox), refreshing it, rebuilding everything.

Only the tasks in shipments.tasks call `refresh` and `rebuild`; services call `mark_stale`.
Every statement here is set-based SQL: GROUP BY runs in the database, never a loop over records.
The SQL is portable between PostgreSQL and SQLite except the few vendor snippets in `_sql`.
"""

import contextlib
import contextvars
import datetime
import itertools
import logging
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from aidtrack.models import Location
from aidtrack.selectors import LocationLoopError, location_ancestor_chains, location_loop

from .models import Receipt, Shipment, StaleCell, StaleTransitCell, TotalsState

log = logging.getLogger(__name__)

Cell = tuple[datetime.date, str, int]  # day (of a receipt or a closing), mode, destination id
TransitCell = tuple[str, int]  # mode, destination id of shipments in transit

L0 = "shipments_deliverytotal"
DAY = "shipments_deliverydaytotal"
AREA = "shipments_deliveryareamonthtotal"
CARGO_MONTH = "shipments_deliverycargomonthtotal"
STALE = "shipments_stalecell"
STALE_TRANSIT = "shipments_staletransitcell"
TRANSIT = "shipments_intransittotal"
LOC = "aidtrack_location"
# Serialises the writers of the totals tables (refresh and rebuild) on PostgreSQL.
ADVISORY_LOCK_KEY = 7_241_020


def _sql(name: str) -> str:
    vendor_sql = {
        # The day minus its day of month: no time zone arithmetic, unlike date_trunc on a date.
        "postgresql": {"month": "({0} - CAST(date_part('day', {0}) AS integer) + 1)"},
        "sqlite": {"month": "date({0}, 'start of month')"},
    }
    return vendor_sql[connection.vendor][name]


def _month(column: str) -> str:
    return _sql("month").format(column)


# --- Marking (called by services, inside their transaction) -----------------------------------------


def cells_of(shipment: Shipment | None) -> list[Cell | TransitCell]:
    """Every totals cell a shipment counts in now: the day of each of its receipts, its closing day
    (where its losses count), and its in-transit cell while it is open."""
    if shipment is None:
        return []
    days = set(Receipt.objects.filter(shipment_id=shipment.pk).values_list("received_on", flat=True))
    if shipment.status == Shipment.Status.DELIVERED and shipment.delivered_on:
        days.add(shipment.delivered_on)
    cells: list[Cell | TransitCell] = [(day, shipment.mode, shipment.destination_id) for day in sorted(days)]
    if shipment.is_open_for_receipt:
        cells.append((shipment.mode, shipment.destination_id))
    return cells


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


def _delivery_rows(cells: str = "", where: str = "") -> str:
    """Every record that counts in a day cell, a row each: what a receipt line brought, dated by the
    receipt, and what a line of a closed shipment lost (sent - received, when above 0), dated by the
    closing. Loss rows name no shipment: `shipments` counts the shipments received in a cell.

    `cells` joins the marks to recount and `where` adds conditions; in both, `{day}` stands for the
    row's day column. Each appears in both parts, so their parameters must be given twice.
    """
    received_on, closed_on = "r.received_on", "s.delivered_on"
    return f"""
        SELECT r.received_on AS day, s.mode AS mode, s.destination_id AS destination_id,
               l.cargo_type_id AS cargo_type_id, rl.tonnes AS tonnes_delivered, rl.quantity AS quantity_delivered,
               CASE WHEN rl.condition = 'damaged' THEN rl.tonnes ELSE 0 END AS tonnes_damaged,
               0 AS tonnes_lost, s.id AS shipment_id
        FROM shipments_receiptline rl
        JOIN shipments_receipt r ON r.id = rl.receipt_id
        JOIN shipments_cargoline l ON l.id = rl.line_id
        JOIN shipments_shipment s ON s.id = r.shipment_id
        {cells.replace("{day}", received_on)}
        WHERE 1 = 1 {where.replace("{day}", received_on)}
        UNION ALL
        SELECT s.delivered_on, s.mode, s.destination_id, l.cargo_type_id, 0, 0, 0,
               l.tonnes - COALESCE(l.received_tonnes, 0), NULL
        FROM shipments_cargoline l
        JOIN shipments_shipment s ON s.id = l.shipment_id
        {cells.replace("{day}", closed_on)}
        WHERE s.status = 'delivered' AND l.tonnes > COALESCE(l.received_tonnes, 0)
        {where.replace("{day}", closed_on)}"""


_CELL_JOIN = f"JOIN {STALE} c ON c.day = {{day}} AND c.mode = s.mode AND c.destination_id = s.destination_id"
# The value columns a record row adds up to, in each totals row (shipments apart: a distinct count).
_SUMS = """SUM(tonnes_delivered) AS tonnes_delivered, SUM(quantity_delivered) AS quantity_delivered,
           SUM(tonnes_damaged) AS tonnes_damaged, SUM(tonnes_lost) AS tonnes_lost,
           COUNT(DISTINCT shipment_id) AS shipments"""


def _l0_select(cells: str = "", where: str = "") -> str:
    # Grouped in the order of the table's unique index, so that a full rebuild writes rows in that order.
    return f"""
        SELECT day, mode, cargo_type_id, destination_id, {_SUMS}
        FROM ({_delivery_rows(cells, where)}) AS x
        GROUP BY day, mode, destination_id, cargo_type_id"""


def _day_select(cells: str = "", where: str = "") -> str:
    return f"""
        SELECT day, mode, destination_id, SUM(tonnes_delivered) AS tonnes_delivered,
               SUM(tonnes_damaged) AS tonnes_damaged, SUM(tonnes_lost) AS tonnes_lost,
               COUNT(DISTINCT shipment_id) AS shipments
        FROM ({_delivery_rows(cells, where)}) AS x
        GROUP BY day, mode, destination_id"""


L0_COLUMNS = (
    "day, mode, cargo_type_id, destination_id, tonnes_delivered, quantity_delivered, tonnes_damaged, tonnes_lost, "
    "shipments"
)
DAY_COLUMNS = "day, mode, destination_id, tonnes_delivered, tonnes_damaged, tonnes_lost, shipments"
AREA_COLUMNS = "month, mode, area_id, area_depth, tonnes_delivered, tonnes_damaged, tonnes_lost, shipments"


def _refresh_cells(claimed: list[tuple]) -> None:
    ids = [c[0] for c in claimed]
    marks = ", ".join(["%s"] * len(ids))
    in_batch = f"c.id IN ({marks})"
    with connection.cursor() as cursor:
        # The cargo × month rows to recount: those the cells counted in before and those they count in now.
        cargo_months = _cargo_months_of_cells(cursor, in_batch, ids)
        for table in (L0, DAY):
            cursor.execute(
                f"""DELETE FROM {table} WHERE EXISTS (
                    SELECT 1 FROM {STALE} c WHERE {in_batch} AND c.day = {table}.day
                    AND c.mode = {table}.mode AND c.destination_id = {table}.destination_id)""",
                ids,
            )
        both = ids + ids  # the condition is in both parts of the record rows
        cursor.execute(f"INSERT INTO {L0} ({L0_COLUMNS}) {_l0_select(_CELL_JOIN, 'AND ' + in_batch)}", both)
        cursor.execute(f"INSERT INTO {DAY} ({DAY_COLUMNS}) {_day_select(_CELL_JOIN, 'AND ' + in_batch)}", both)
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
        f"""SELECT DISTINCT t.day, t.mode, t.cargo_type_id FROM {L0} t JOIN {STALE} c ON c.day = t.day
            AND c.mode = t.mode AND c.destination_id = t.destination_id WHERE {in_batch}""",
        ids,
    )
    return {(_as_date(day).replace(day=1), mode, cargo) for day, mode, cargo in cursor.fetchall()}


def _as_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


CARGO_MONTH_COLUMNS = (
    "month, mode, cargo_type_id, tonnes_delivered, quantity_delivered, tonnes_damaged, tonnes_lost, shipments"
)


def _recompute_cargo_months(cursor, cargo_months: list[tuple[datetime.date, str, int]], chunk: int = 100) -> None:
    """Recount month × mode × cargo rows from the day rows of that cargo type, mode and month.

    On PostgreSQL an index on (cargo type, mode, day) carrying the totals (migration 0008) lets each
    row be summed from the index alone.
    """
    for start in range(0, len(cargo_months), chunk):
        part = cargo_months[start : start + chunk]
        rows = " OR ".join(["(month = %s AND mode = %s AND cargo_type_id = %s)"] * len(part))
        cursor.execute(f"DELETE FROM {CARGO_MONTH} WHERE {rows}", [v for m in part for v in m])
        values = ", ".join(["(%s, %s, %s, %s)"] * len(part))
        cursor.execute(
            f"""INSERT INTO {CARGO_MONTH} ({CARGO_MONTH_COLUMNS})
                WITH wanted(month, mode, cargo_type_id, next_month) AS (VALUES {values})
                SELECT w.month, w.mode, w.cargo_type_id, SUM(t.tonnes_delivered), SUM(t.quantity_delivered),
                       SUM(t.tonnes_damaged), SUM(t.tonnes_lost), SUM(t.shipments)
                FROM wanted w JOIN {L0} t ON t.cargo_type_id = w.cargo_type_id AND t.mode = w.mode
                    AND t.day >= w.month AND t.day < w.next_month
                GROUP BY w.month, w.mode, w.cargo_type_id""",
            [v for month, mode, cargo in part for v in (month, mode, cargo, _next_month(month))],
        )


OPEN = "('in_transit', 'partly_received')"  # the statuses whose remaining cargo is in transit


def _transit_select(join: str = "", where: str = "") -> str:
    """Per open shipment's line, sent - received (never below 0): what is still on its way."""
    return f"""
        WITH moving AS (
            SELECT s.id AS shipment_id, s.mode AS mode, s.destination_id AS destination_id,
                   l.cargo_type_id AS cargo_type_id,
                   CASE WHEN l.tonnes > COALESCE(l.received_tonnes, 0) THEN l.tonnes - COALESCE(l.received_tonnes, 0)
                   ELSE 0 END AS tonnes
            FROM shipments_shipment s JOIN shipments_cargoline l ON l.shipment_id = s.id {join}
            WHERE s.status IN {OPEN} {where}
            -- Repeats the join's condition so that PostgreSQL fetches the few lines in transit by
            -- their shipment index rather than scanning every line.
            AND l.shipment_id IN (SELECT id FROM shipments_shipment WHERE status IN {OPEN}))
        SELECT mode, destination_id, cargo_type_id, SUM(tonnes) AS tonnes, COUNT(DISTINCT shipment_id) AS shipments
        FROM moving GROUP BY mode, destination_id, cargo_type_id
        UNION ALL
        SELECT mode, destination_id, NULL, SUM(tonnes), COUNT(DISTINCT shipment_id)
        FROM moving GROUP BY mode, destination_id"""


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
            f"INSERT INTO {TRANSIT} ({TRANSIT_COLUMNS}) {_transit_select(join, f'AND c.id IN ({marks})')}", ids
        )


def _next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _recompute_area_months(cursor, areas: list[tuple[datetime.date, str, int]], depth: int, chunk: int = 100) -> None:
    """Recount month × mode × area rows of one depth from their children's rows and their own day rows
    (the children's rows must be right already: the caller goes up the tree)."""
    for start in range(0, len(areas), chunk):
        part = areas[start : start + chunk]
        rows = " OR ".join(["(area_id = %s AND month = %s AND mode = %s)"] * len(part))
        cursor.execute(
            f"DELETE FROM {AREA} WHERE {rows}", [v for month, mode, area in part for v in (area, month, mode)]
        )
        values = ", ".join(["(%s, %s, %s, %s)"] * len(part))
        cursor.execute(
            f"""INSERT INTO {AREA} ({AREA_COLUMNS})
                WITH wanted(month, mode, area_id, next_month) AS (VALUES {values}),
                parts(month, mode, area_id, t, damaged, lost, n) AS (
                    SELECT w.month, w.mode, w.area_id, a.tonnes_delivered, a.tonnes_damaged, a.tonnes_lost, a.shipments
                    FROM wanted w JOIN {LOC} child ON child.parent_id = w.area_id
                    JOIN {AREA} a ON a.area_id = child.id AND a.month = w.month AND a.mode = w.mode
                    UNION ALL
                    SELECT w.month, w.mode, w.area_id, d.tonnes_delivered, d.tonnes_damaged, d.tonnes_lost, d.shipments
                    FROM wanted w JOIN {DAY} d ON d.destination_id = w.area_id AND d.mode = w.mode
                        AND d.day >= w.month AND d.day < w.next_month)
                SELECT month, mode, area_id, %s, SUM(t), SUM(damaged), SUM(lost), SUM(n)
                FROM parts GROUP BY month, mode, area_id""",
            [v for month, mode, area in part for v in (month, mode, area, _next_month(month))] + [depth],
        )


# --- Rebuild --------------------------------------------------------------------------------------


@dataclass
class RebuildResult:
    deleted: int = 0
    inserted: int = 0
    parts: int = 1  # connections that read the records at once

    @property
    def changed(self) -> int:
        return self.deleted + self.inserted

    def add(self, deleted_inserted: tuple[int, int]) -> None:
        self.deleted += deleted_inserted[0]
        self.inserted += deleted_inserted[1]


def rebuild_settings(cursor) -> None:
    """Session settings of the rebuild's transaction (the benchmark's baseline runs under them too).

    The rebuild's one big query costs more than PostgreSQL's JIT thresholds, and compiling it with
    inlining and optimisation takes longer than it saves.
    """
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL jit = off")


def _fresh_day_rows(where: str = "") -> str:
    """The day × mode × cargo × destination rows and, with cargo_type_id NULL, the day × mode ×
    destination rows, from the records in one sort (both count distinct shipments)."""
    if connection.vendor == "postgresql":
        return f"""
            SELECT day, mode, destination_id, cargo_type_id, {_SUMS}
            FROM ({_delivery_rows(where=where)}) AS x
            GROUP BY day, mode, destination_id, ROLLUP(cargo_type_id)"""
    return f"""
        SELECT day, mode, destination_id, cargo_type_id, tonnes_delivered, quantity_delivered, tonnes_damaged,
               tonnes_lost, shipments
        FROM ({_l0_select(where=where)}) AS by_cargo
        UNION ALL
        SELECT day, mode, destination_id, NULL, {_SUMS}
        FROM ({_delivery_rows(where=where)}) AS x
        GROUP BY day, mode, destination_id"""


def _same(stored: str, fresh: str, columns: list[str]) -> str:
    return " AND ".join(
        f"ROUND({stored}.{c}, 3) = ROUND({fresh}.{c}, 3)"
        if connection.vendor == "sqlite" and c.startswith(("tonnes", "quantity"))
        else f"{stored}.{c} = {fresh}.{c}"
        for c in columns
    )


def _check_select(where: str = "") -> str:
    """One pass over the records (those `where` selects) that checks both day tables against what is stored.

    The fresh rows come out of the GROUP BY in key order, so PostgreSQL merges them with the stored
    tables' unique indexes instead of materialising and hashing them. Each fresh row is joined to the
    stored row with the same key *and the same values*. The result has one row per month × mode ×
    destination: the all-cargo sums (the area rows are built from them) and, for the day × mode ×
    cargo × destination and the day × mode × destination rows, how many are fresh and how many of
    those are stored as they are.
    """
    l0_values = ["tonnes_delivered", "quantity_delivered", "tonnes_damaged", "tonnes_lost", "shipments"]
    day_values = ["tonnes_delivered", "tonnes_damaged", "tonnes_lost", "shipments"]
    # The day row of a cell is the one with cargo_type_id NULL; only one per cell, so MAX picks it.
    day_value = "MAX(f.{0}) FILTER (WHERE f.cargo_type_id IS NULL) AS {0}"
    if connection.vendor == "sqlite":
        day_value = "MAX(CASE WHEN f.cargo_type_id IS NULL THEN f.{0} END) AS {0}"
    # Counts as integers: summing them month by month then needs no arbitrary-precision state.
    return f"""
        SELECT {_month("c.day")} AS month, c.mode AS mode, c.destination_id AS destination_id,
               SUM(c.tonnes_delivered) AS tonnes_delivered, SUM(c.tonnes_damaged) AS tonnes_damaged,
               SUM(c.tonnes_lost) AS tonnes_lost,
               SUM(CAST(c.shipments AS integer)) AS shipments, SUM(c.l0_rows) AS l0_rows,
               SUM(c.l0_same) AS l0_same, COUNT(*) AS day_rows, COUNT(d.id) AS day_same
        FROM (
            SELECT f.day AS day, f.mode AS mode, f.destination_id AS destination_id,
                   {", ".join(day_value.format(v) for v in day_values)},
                   CAST(COUNT(f.cargo_type_id) AS integer) AS l0_rows, CAST(COUNT(t.id) AS integer) AS l0_same
            FROM ({_fresh_day_rows(where)}) AS f
            LEFT JOIN {L0} t ON t.day = f.day AND t.mode = f.mode AND t.destination_id = f.destination_id
                AND t.cargo_type_id = f.cargo_type_id AND {_same("t", "f", l0_values)}
            GROUP BY f.day, f.mode, f.destination_id
        ) AS c
        LEFT JOIN {DAY} d ON d.day = c.day AND d.mode = c.mode AND d.destination_id = c.destination_id
            AND {_same("d", "c", day_values)}
        GROUP BY {_month("c.day")}, c.mode, c.destination_id"""


TEMPORARY = (
    "fresh_rows",
    "fresh_cells",
    "fresh_l0",
    "fresh_day",
    "fresh_cargo",
    "closure",
    "fresh_area",
    "fresh_transit",
    "diff",
)


def rebuild() -> RebuildResult:
    """Recompute every total from the records; rows already right are left untouched.

    Returns how many rows were deleted and inserted: both 0 when the totals were right. One GROUP BY
    over the records (on PostgreSQL, on several connections at once, a range of days each) makes the
    day rows and compares them with the stored ones as they stream out; a day table is diffed row by
    row only when that check finds it wrong. The area rows are built from
    the same pass, the cargo × month rows from the (right by then) day × cargo rows.
    """
    result, parts = RebuildResult(), _record_parts()  # asked before this function's own transaction begins
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_writers(cursor)
        rebuild_settings(cursor)
        for name in TEMPORARY:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {L0}) OR EXISTS (SELECT 1 FROM {DAY})")
        if not cursor.fetchone()[0]:
            _rebuild_into_empty(cursor, result)
            return result
        with _checking_records(cursor, parts) as result.parts:
            # Meanwhile, on this connection, what does not depend on the check.
            cursor.execute(f"CREATE TEMP TABLE fresh_transit AS {_transit_select()}")
            _build_closure(cursor)
            _sum_cargo_months(cursor)  # of the stored day × cargo rows: summed again below if they were wrong
            cursor.execute(f"SELECT (SELECT COUNT(*) FROM {L0}), (SELECT COUNT(*) FROM {DAY})")
            stored_l0, stored_day = cursor.fetchone()
        cursor.execute("SELECT SUM(l0_rows), SUM(l0_same), SUM(day_rows), SUM(day_same) FROM fresh_cells")
        fresh_l0, same_l0, fresh_day, same_day = (int(v or 0) for v in cursor.fetchone())
        # Keys are unique on both sides, so "every fresh row is stored as it is, and nothing else is"
        # is exactly: fresh = same = stored.
        if not fresh_l0 == same_l0 == stored_l0:
            cursor.execute(f"CREATE TEMP TABLE fresh_l0 AS {_l0_select()}")
            _analyze(cursor, "fresh_l0")
            result.add(_sync(cursor, L0, "fresh_l0", L0_COLUMNS, ["day", "mode", "cargo_type_id", "destination_id"]))
            cursor.execute("DROP TABLE fresh_cargo")
            _sum_cargo_months(cursor)
        if not fresh_day == same_day == stored_day:
            cursor.execute(f"CREATE TEMP TABLE fresh_day AS {_day_select()}")
            _analyze(cursor, "fresh_day")
            result.add(_sync(cursor, DAY, "fresh_day", DAY_COLUMNS, ["day", "mode", "destination_id"]))
        _finish_rebuild(cursor, result)
    return result


def _finish_rebuild(cursor, result: RebuildResult) -> None:
    """Bring the cargo × month, area and in-transit tables in line with fresh_cargo, fresh_cells
    (month sums per destination) and fresh_transit, and record the rebuild."""
    result.add(_sync(cursor, CARGO_MONTH, "fresh_cargo", CARGO_MONTH_COLUMNS, ["month", "mode", "cargo_type_id"]))
    cursor.execute(
        """CREATE TEMP TABLE fresh_area AS
        SELECT m.month AS month, m.mode AS mode, c.ancestor AS area_id, c.depth AS area_depth,
               SUM(m.tonnes_delivered) AS tonnes_delivered, SUM(m.tonnes_damaged) AS tonnes_damaged,
               SUM(m.tonnes_lost) AS tonnes_lost,
               SUM(m.shipments) AS shipments
        FROM fresh_cells m JOIN closure c ON c.descendant = m.destination_id
        GROUP BY m.month, m.mode, c.ancestor, c.depth"""
    )
    result.add(_sync(cursor, AREA, "fresh_area", AREA_COLUMNS, ["month", "mode", "area_id"]))
    result.add(_sync(cursor, TRANSIT, "fresh_transit", TRANSIT_COLUMNS, ["mode", "destination_id", "cargo_type_id"]))
    for name in TEMPORARY:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
    now = timezone.now()
    TotalsState.objects.update_or_create(id=1, defaults={"rebuilt_at": now, "refreshed_at": now})


def _rebuild_into_empty(cursor, result: RebuildResult) -> None:
    """The rebuild when the day tables are empty (first start, disaster recovery): nothing to compare
    or keep, so one pass over the records makes both day tables' rows, inserted in their index order."""
    cursor.execute(f"CREATE TEMP TABLE fresh_rows AS {_fresh_day_rows()}")
    with _indexes_built_after(cursor, L0):
        cursor.execute(
            f"INSERT INTO {L0} ({L0_COLUMNS}) SELECT {L0_COLUMNS} FROM fresh_rows WHERE cargo_type_id IS NOT NULL"
        )
        result.inserted += cursor.rowcount
    with _indexes_built_after(cursor, DAY):
        cursor.execute(
            f"INSERT INTO {DAY} ({DAY_COLUMNS}) SELECT {DAY_COLUMNS} FROM fresh_rows WHERE cargo_type_id IS NULL"
        )
        result.inserted += cursor.rowcount
    cursor.execute(
        f"""CREATE TEMP TABLE fresh_cells AS
            SELECT {_month("day")} AS month, mode, destination_id, SUM(tonnes_delivered) AS tonnes_delivered,
                   SUM(tonnes_damaged) AS tonnes_damaged, SUM(tonnes_lost) AS tonnes_lost,
                   SUM(shipments) AS shipments
            FROM fresh_rows WHERE cargo_type_id IS NULL GROUP BY {_month("day")}, mode, destination_id"""
    )
    cursor.execute("DROP TABLE fresh_rows")
    cursor.execute(f"CREATE TEMP TABLE fresh_transit AS {_transit_select()}")
    _build_closure(cursor)
    _sum_cargo_months(cursor)
    _finish_rebuild(cursor, result)


@contextlib.contextmanager
def _indexes_built_after(cursor, table: str) -> Iterator[None]:
    """On PostgreSQL, a bulk insert into the empty `table` without its indexes (but the primary key),
    which are built again afterwards: one sorted build each, on every core, costs a fraction of
    updating them row by row (the benchmark's rebuild from empty: 3.0x the raw GROUP BY with them
    updated, about 2x with this). The DDL locks the table until the rebuild commits; it is empty."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s
           AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)""",
        [table, table],
    )
    indexes = cursor.fetchall()
    for name, _definition in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    for name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _name, definition in indexes:
        cursor.execute(definition)


def _sum_cargo_months(cursor) -> None:
    """fresh_cargo: the month × mode × cargo rows summed from the stored day × cargo rows."""
    # PostgreSQL cannot estimate the number of months and would sort ~a million rows to group
    # them into a few thousand; a hash table is the plan.
    _set_local(cursor, "enable_sort", "off")
    cursor.execute(
        f"""CREATE TEMP TABLE fresh_cargo AS
        SELECT {_month("day")} AS month, mode, cargo_type_id, SUM(tonnes_delivered) AS tonnes_delivered,
               SUM(quantity_delivered) AS quantity_delivered, SUM(tonnes_damaged) AS tonnes_damaged,
               SUM(tonnes_lost) AS tonnes_lost,
               SUM(shipments) AS shipments
        FROM {L0} GROUP BY {_month("day")}, mode, cargo_type_id"""
    )
    _set_local(cursor, "enable_sort", "on")


def _record_parts() -> int:
    """How many connections read the records at once in a rebuild.

    PostgreSQL only, and only when the rebuild is a transaction of its own: other connections share
    its snapshot but cannot see what an enclosing transaction has written and not yet committed.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return settings.TOTALS_REBUILD_CONNECTIONS


@contextlib.contextmanager
def _checking_records(cursor, parts: int) -> Iterator[int]:
    """fresh_cells: `_check_select` over every record, in `parts` ranges of delivered days at once.

    One connection per range runs the check in the snapshot of this transaction (exported, as
    pg_dump's parallel jobs do), so the parts together see exactly what one statement here would,
    while the block runs on this connection. Each part returns its month rows (a month may come
    from two ranges; everything that reads fresh_cells sums it by month). With one part the check
    runs here, before the block. Yields how many connections read the records.
    """
    if parts < 2:
        cursor.execute(f"CREATE TEMP TABLE fresh_cells AS {_check_select()}")
        yield 1
        return
    cursor.execute("SELECT pg_export_snapshot()")
    snapshot = cursor.fetchone()[0]
    cursor.execute(f"CREATE TEMP TABLE fresh_cells AS {_check_select()} WITH NO DATA")
    ranges = _day_ranges(cursor, parts)
    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        checking = pool.map(partial(_check_day_range, snapshot), ranges)
        yield len(ranges)
        checked = list(checking)
    # psycopg's COPY (Django has no wrapper for it), rows in the select's column order.
    with cursor.cursor.copy("COPY fresh_cells FROM STDIN") as copy:
        for rows in checked:
            for row in rows:
                copy.write_row(row)


def _day_ranges(cursor, parts: int) -> list[tuple[datetime.date | None, datetime.date | None]]:
    """Up to `parts` ranges [from, to) of delivered days with about as many delivered shipments each
    (fewer when the days are too few to part)."""
    cursor.execute(
        """SELECT percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY received_on) FROM shipments_receipt""",
        [[i / parts for i in range(1, parts)]],
    )
    bounds = sorted(set(cursor.fetchone()[0] or []))
    return list(itertools.pairwise([None, *bounds, None]))


def _check_day_range(snapshot: str, days: tuple[datetime.date | None, datetime.date | None]) -> list[tuple]:
    """The check of one range of delivered days, on a connection of its own in `snapshot`."""
    if not re.fullmatch(r"[0-9A-F-]+", snapshot):
        raise ValueError(f"unexpected snapshot id {snapshot!r}")
    first, end = days
    where = "".join([" AND {day} >= %(first)s" if first else "", " AND {day} < %(end)s" if end else ""])
    own = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with own.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            # The rebuild's transaction holds its table locks already. Should a request for an
            # exclusive lock (a migration's ALTER TABLE) queue between them and this connection's,
            # this one would wait for it, it for the rebuild, and the rebuild for this: a deadlock
            # PostgreSQL cannot see, since the last wait is in Python. Give up instead (pg_dump's
            # parallel jobs take their locks with NOWAIT for the same reason).
            cursor.execute("SET LOCAL lock_timeout = '10s'")
            rebuild_settings(cursor)
            # The parts are the parallelism: no extra worker processes per part.
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            cursor.execute(_check_select(where), {"first": first, "end": end})
            rows = cursor.fetchall()
            cursor.execute("COMMIT")
        return rows
    finally:
        own.close()


def _set_local(cursor, setting: str, value: str) -> None:
    if connection.vendor == "postgresql":
        cursor.execute(f"SET LOCAL {setting} = {value}")


def _analyze(cursor, table: str) -> None:
    # Temporary tables have no statistics until analysed; without them the planner guesses a
    # handful of rows and may pick nested loops over thousands.
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table}")


def _build_closure(cursor) -> None:
    """closure(descendant, ancestor, depth): every location with itself and each place above it.

    Both walks stop after Location.MAX_DEPTH steps, and a loop in the parents (which the database
    refuses on PostgreSQL, but a hand-made one may exist) fails the rebuild naming it, never hangs it.
    """
    loop = location_loop()
    if loop:
        raise LocationLoopError(loop)
    cursor.execute(
        f"""CREATE TEMP TABLE closure AS
        WITH RECURSIVE depth(id, d) AS (
            SELECT id, 0 FROM {LOC} WHERE parent_id IS NULL
            UNION ALL SELECT l.id, depth.d + 1 FROM {LOC} l JOIN depth ON l.parent_id = depth.id
            WHERE depth.d < %(max)s
        ), up(descendant, ancestor, n) AS (
            SELECT id, id, 0 FROM {LOC}
            UNION ALL SELECT up.descendant, l.parent_id, up.n + 1 FROM up JOIN {LOC} l ON l.id = up.ancestor
            WHERE l.parent_id IS NOT NULL AND up.n < %(max)s
        ) SELECT up.descendant, up.ancestor, depth.d AS depth FROM up JOIN depth ON depth.id = up.ancestor""",
        {"max": Location.MAX_DEPTH},
    )


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
    """Make `table` equal `fresh` (a table or a parenthesised query) in one pass: a full join finds
    the rows that are new, gone or differ.

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
    if cursor.rowcount == 0:  # PostgreSQL reports the rows CREATE TABLE AS made; SQLite reports -1
        cursor.execute("DROP TABLE diff")
        return 0, 0
    cursor.execute(f"DELETE FROM {table} WHERE id IN (SELECT old_id FROM diff WHERE old_id IS NOT NULL)")
    deleted = cursor.rowcount
    cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM diff WHERE has_new")
    inserted = cursor.rowcount
    cursor.execute("DROP TABLE diff")
    return deleted, inserted
