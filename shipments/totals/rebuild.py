"""Recompute every total from the records, on one connection, rewriting only the rows that differ.

`tasks.rebuild_totals` runs it nightly (and `manage.py rebuild_totals`); when all is well it changes
nothing. The check of the records may run on several connections (`rebuild_split`), and a rebuild
into empty tables takes a bulk path; both are in modules of their own.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from aidtrack.models import Location
from aidtrack.selectors import LocationLoopError, location_loop

from ..models import TotalsState
from . import rebuild_split, sql
from .bulk import indexes_built_after
from .check import check_select
from .columns import AREA, CARGO_MONTH, DAY, L0, LOC, TRANSIT, Table


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


TEMPORARY = ("fresh_rows", "fresh_cells", "fresh_l0", "fresh_day", "fresh_cargo", "closure", "fresh_area",
             "fresh_transit", "diff")  # fmt: skip


def rebuild() -> RebuildResult:
    """Recompute every total from the records; rows already right are left untouched.

    Returns how many rows were deleted and inserted: both 0 when the totals were right. One GROUP BY
    over the records makes the day rows and compares them with the stored ones as they stream out
    (`check_select`); a day table is diffed row by row only when that check finds it wrong. The area
    rows are built from the same pass, the cargo × month rows from the (right by then) day × cargo rows.
    """
    result, parts = RebuildResult(), rebuild_split.parts()  # asked before this transaction begins
    with transaction.atomic(), connection.cursor() as cursor:
        sql.lock_writers(cursor)
        sql.rebuild_settings(cursor)
        for name in TEMPORARY:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {L0.name}) OR EXISTS (SELECT 1 FROM {DAY.name})")
        if not cursor.fetchone()[0]:
            _rebuild_into_empty(cursor, result)
            return result
        if parts > 1:
            with rebuild_split.checking_records(cursor, parts) as result.parts:
                stored_l0, stored_day = _meanwhile(cursor)
        else:
            cursor.execute(f"CREATE TEMP TABLE fresh_cells AS {check_select()}")
            stored_l0, stored_day = _meanwhile(cursor)
        cursor.execute("SELECT SUM(l0_rows), SUM(l0_same), SUM(day_rows), SUM(day_same) FROM fresh_cells")
        fresh_l0, same_l0, fresh_day, same_day = (int(v or 0) for v in cursor.fetchone())
        # Keys are unique on both sides, so "every fresh row is stored as it is, and nothing else is"
        # is exactly: fresh = same = stored.
        if not fresh_l0 == same_l0 == stored_l0:
            cursor.execute(f"CREATE TEMP TABLE fresh_l0 AS {sql.l0_select()}")
            sql.analyze(cursor, "fresh_l0")
            result.add(_sync(cursor, L0, "fresh_l0"))
            cursor.execute("DROP TABLE fresh_cargo")
            _sum_cargo_months(cursor)
        if not fresh_day == same_day == stored_day:
            cursor.execute(f"CREATE TEMP TABLE fresh_day AS {sql.day_select()}")
            sql.analyze(cursor, "fresh_day")
            result.add(_sync(cursor, DAY, "fresh_day"))
        _finish(cursor, result)
    return result


def _meanwhile(cursor) -> tuple[int, int]:
    """What does not depend on the check (run while other connections check, if they do): in-transit
    rows, the location closure, the cargo × month rows of the stored day rows (summed again if those
    were wrong); returns the stored day tables' row counts."""
    cursor.execute(f"CREATE TEMP TABLE fresh_transit AS {sql.transit_select()}")
    _build_closure(cursor)
    _sum_cargo_months(cursor)
    cursor.execute(f"SELECT (SELECT COUNT(*) FROM {L0.name}), (SELECT COUNT(*) FROM {DAY.name})")
    return cursor.fetchone()


def _rebuild_into_empty(cursor, result: RebuildResult) -> None:
    """The rebuild when the day tables are empty (first start, disaster recovery): nothing to compare
    or keep, so one pass over the records makes both day tables' rows, inserted in bulk."""
    cursor.execute(f"CREATE TEMP TABLE fresh_rows AS {sql.fresh_day_rows()}")
    for table, rows in ((L0, "cargo_type_id IS NOT NULL"), (DAY, "cargo_type_id IS NULL")):
        with indexes_built_after(cursor, table.name):
            columns = table.column_list
            cursor.execute(f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM fresh_rows WHERE {rows}")
            result.inserted += cursor.rowcount
    cursor.execute(
        f"""CREATE TEMP TABLE fresh_cells AS
            SELECT {sql.month("day")} AS month, mode, destination_id, {sql.row_sums(DAY.values)}
            FROM {DAY.name} GROUP BY {sql.month("day")}, mode, destination_id"""
    )
    cursor.execute("DROP TABLE fresh_rows")
    cursor.execute(f"CREATE TEMP TABLE fresh_transit AS {sql.transit_select()}")
    _build_closure(cursor)
    _sum_cargo_months(cursor)
    _finish(cursor, result)


def _finish(cursor, result: RebuildResult) -> None:
    """Bring the cargo × month, area and in-transit tables in line with fresh_cargo, fresh_cells
    (month sums per destination) and fresh_transit, and record the rebuild."""
    result.add(_sync(cursor, CARGO_MONTH, "fresh_cargo"))
    cursor.execute(
        f"""CREATE TEMP TABLE fresh_area AS
        SELECT c.ancestor AS area_id, m.month AS month, m.mode AS mode, c.depth AS area_depth,
               {sql.row_sums(AREA.values, "m")}
        FROM fresh_cells m JOIN closure c ON c.descendant = m.destination_id
        GROUP BY m.month, m.mode, c.ancestor, c.depth"""
    )
    result.add(_sync(cursor, AREA, "fresh_area"))
    result.add(_sync(cursor, TRANSIT, "fresh_transit"))
    for name in TEMPORARY:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
    now = timezone.now()
    TotalsState.objects.update_or_create(id=1, defaults={"rebuilt_at": now, "refreshed_at": now})


def _sum_cargo_months(cursor) -> None:
    """fresh_cargo: the month × mode × cargo rows summed from the stored day × cargo rows."""
    # PostgreSQL cannot estimate the number of months and would sort ~a million rows to group
    # them into a few thousand; a hash table is the plan.
    sql.set_local(cursor, "enable_sort", "off")
    cursor.execute(
        f"""CREATE TEMP TABLE fresh_cargo AS
        SELECT {sql.month("day")} AS month, mode, cargo_type_id, {sql.row_sums(CARGO_MONTH.values)}
        FROM {L0.name} GROUP BY {sql.month("day")}, mode, cargo_type_id"""
    )
    sql.set_local(cursor, "enable_sort", "on")


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


def _differs(table: Table, column: str) -> str:
    if connection.vendor == "sqlite" and column in table.values and column != "shipments":
        # SQLite sums decimals as floats: the same total summed in another order may differ in the
        # 15th digit. The tables keep 3 places, so compare at 3 places.
        return f"ROUND(f.{column}, 3) <> ROUND(t.{column}, 3)"
    return f"f.{column} <> t.{column}"


def _sync(cursor, table: Table, fresh: str) -> tuple[int, int]:
    """Make `table` equal `fresh` (a table with its columns) in one pass: a full join finds the rows
    that are new, gone or differ. Only those are deleted and (re)inserted, so a rebuild of right
    totals writes nothing."""
    keys, names = table.keys, table.columns
    differs = " OR ".join(_differs(table, n) for n in names if n not in keys)
    cursor.execute(
        f"""CREATE TEMP TABLE diff AS
        SELECT t.id AS old_id, f.{keys[0]} IS NOT NULL AS has_new, {", ".join(f"f.{n} AS {n}" for n in names)}
        FROM {fresh} f FULL JOIN {table.name} t ON {" AND ".join(_eq(k) for k in keys)}
        WHERE t.id IS NULL OR f.{keys[0]} IS NULL OR {differs}"""
    )
    if cursor.rowcount == 0:  # PostgreSQL reports the rows CREATE TABLE AS made; SQLite reports -1
        cursor.execute("DROP TABLE diff")
        return 0, 0
    cursor.execute(f"DELETE FROM {table.name} WHERE id IN (SELECT old_id FROM diff WHERE old_id IS NOT NULL)")
    deleted = cursor.rowcount
    cursor.execute(f"INSERT INTO {table.name} ({table.column_list}) SELECT {table.column_list} FROM diff WHERE has_new")
    inserted = cursor.rowcount
    cursor.execute("DROP TABLE diff")
    return deleted, inserted
