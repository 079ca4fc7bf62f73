"""The rebuild's check: one pass over the records that compares both day tables with what is stored.

Used by the rebuild on its own connection (`rebuild`) and by each connection of a split check
(`rebuild_split`), which gives it the range of days to read.
"""

from django.db import connection

from . import sql
from .columns import DAY, L0


def same(stored: str, fresh: str, columns: tuple[str, ...]) -> str:
    """Both rows hold the same figures (SQLite sums decimals as floats: compared at 3 places)."""
    return " AND ".join(
        f"ROUND({stored}.{c}, 3) = ROUND({fresh}.{c}, 3)"
        if connection.vendor == "sqlite" and c != "shipments"
        else f"{stored}.{c} = {fresh}.{c}"
        for c in columns
    )


def check_select(where: str = "") -> str:
    """One pass over the records (those `where` selects) that checks both day tables against what is stored.

    The fresh rows come out of the GROUP BY in key order, so PostgreSQL merges them with the stored
    tables' unique indexes instead of materialising and hashing them. Each fresh row is joined to the
    stored row with the same key *and the same values*. The result has one row per month × mode ×
    destination: the all-cargo sums (the area rows are built from them) and, for the day × mode ×
    cargo × destination and the day × mode × destination rows, how many are fresh and how many of
    those are stored as they are.
    """
    # The day row of a cell is the one with cargo_type_id NULL; only one per cell, so MAX picks it.
    day_value = "MAX(f.{0}) FILTER (WHERE f.cargo_type_id IS NULL) AS {0}"
    if connection.vendor == "sqlite":
        day_value = "MAX(CASE WHEN f.cargo_type_id IS NULL THEN f.{0} END) AS {0}"
    # Counts as integers: summing them month by month then needs no arbitrary-precision state.
    month_sums = ", ".join(
        "SUM(CAST(c.shipments AS integer)) AS shipments" if v == "shipments" else f"SUM(c.{v}) AS {v}"
        for v in DAY.values
    )
    return f"""
        SELECT {sql.month("c.day")} AS month, c.mode AS mode, c.destination_id AS destination_id, {month_sums},
               SUM(c.l0_rows) AS l0_rows, SUM(c.l0_same) AS l0_same, COUNT(*) AS day_rows, COUNT(d.id) AS day_same
        FROM (
            SELECT f.day AS day, f.mode AS mode, f.destination_id AS destination_id,
                   {", ".join(day_value.format(v) for v in DAY.values)},
                   CAST(COUNT(f.cargo_type_id) AS integer) AS l0_rows, CAST(COUNT(t.id) AS integer) AS l0_same
            FROM ({sql.fresh_day_rows(where)}) AS f
            LEFT JOIN {L0.name} t ON t.day = f.day AND t.mode = f.mode AND t.destination_id = f.destination_id
                AND t.cargo_type_id = f.cargo_type_id AND {same("t", "f", L0.values)}
            GROUP BY f.day, f.mode, f.destination_id
        ) AS c
        LEFT JOIN {DAY.name} d ON d.day = c.day AND d.mode = c.mode AND d.destination_id = c.destination_id
            AND {same("d", "c", DAY.values)}
        GROUP BY {sql.month("c.day")}, c.mode, c.destination_id"""
