"""The SQL the refresh and the rebuild share: the records as the totals count them, and their sums.

Portable between PostgreSQL and SQLite but for the vendor snippets in `month`. A figure's meaning is
written once, in RECEIVED and LOST below; every other statement reads the figures from `columns`.
"""

from django.db import connection

from .columns import DAY, L0, STALE

# What one receipt line adds to the figures of its day (the receipt's date).
RECEIVED = {
    "tonnes_delivered": "rl.tonnes",
    "quantity_delivered": "rl.quantity",
    "tonnes_damaged": "CASE WHEN rl.condition = 'damaged' THEN rl.tonnes ELSE 0 END",
    "tonnes_lost": "0",
}
# What one line of a closed shipment adds on its closing day: sent - received, when above 0.
LOST = {
    "tonnes_delivered": "0",
    "quantity_delivered": "0",
    "tonnes_damaged": "0",
    "tonnes_lost": "l.tonnes - COALESCE(l.received_tonnes, 0)",
}
FIGURES = tuple(v for v in L0.values if v != "shipments")
assert set(RECEIVED) == set(LOST) == set(FIGURES), "every figure of the totals needs its meaning here"

# The statuses whose remaining cargo is in transit.
OPEN = "('in_transit', 'partly_received')"


def month(column: str) -> str:
    """The first day of the month of a date column."""
    if connection.vendor == "postgresql":
        # The day minus its day of month: no time zone arithmetic, unlike date_trunc on a date.
        return f"({column} - CAST(date_part('day', {column}) AS integer) + 1)"
    return f"date({column}, 'start of month')"


def delivery_rows(cells: str = "", where: str = "") -> str:
    """Every record that counts in a day cell, a row each: (day, mode, destination_id, cargo_type_id,
    the figures, shipment_id). Loss rows name no shipment: `shipments` counts the shipments received.

    `cells` joins the marks to recount (`{day}`, `{mode}`, `{destination}` stand for the row's cell
    columns) and `where` adds conditions (on `{day}`). Each appears in both parts, so their
    parameters must be given twice.
    """
    received = ", ".join(f"{RECEIVED[f]} AS {f}" for f in FIGURES)
    lost = ", ".join(LOST[f] for f in FIGURES)
    # A receipt carries its shipment's mode and destination (fixed once cargo has arrived), so its
    # rows need no shipment, and a cell's receipts are found by the index on those three columns.
    receipt_cell = ("r.received_on", "r.mode", "r.destination_id")
    closing_cell = ("s.delivered_on", "s.mode", "s.destination_id")
    return f"""
        SELECT r.received_on AS day, r.mode AS mode, r.destination_id AS destination_id,
               l.cargo_type_id AS cargo_type_id, {received}, r.shipment_id AS shipment_id
        FROM shipments_receiptline rl
        JOIN shipments_receipt r ON r.id = rl.receipt_id
        JOIN shipments_cargoline l ON l.id = rl.line_id
        {_in_cell(cells, *receipt_cell)}
        WHERE 1 = 1 {where.replace("{day}", receipt_cell[0])}
        UNION ALL
        SELECT s.delivered_on, s.mode, s.destination_id, l.cargo_type_id, {lost}, NULL
        FROM shipments_cargoline l
        JOIN shipments_shipment s ON s.id = l.shipment_id
        {_in_cell(cells, *closing_cell)}
        WHERE s.status = 'delivered' AND l.tonnes > COALESCE(l.received_tonnes, 0)
        {where.replace("{day}", closing_cell[0])}"""


def _in_cell(cells: str, day: str, mode: str, destination: str) -> str:
    return cells.replace("{day}", day).replace("{mode}", mode).replace("{destination}", destination)


# The marks of the cells to recount, joined to the record rows (see delivery_rows).
CELL_JOIN = f"JOIN {STALE} c ON c.day = {{day}} AND c.mode = {{mode}} AND c.destination_id = {{destination}}"


def record_sums(values: tuple[str, ...]) -> str:
    """The figures of a totals row from its record rows: sums, and the distinct shipments received."""
    return ", ".join(
        "COUNT(DISTINCT shipment_id) AS shipments" if v == "shipments" else f"SUM({v}) AS {v}" for v in values
    )


def row_sums(values: tuple[str, ...], alias: str = "") -> str:
    """The figures of a rollup from totals rows: every figure summed, shipments included."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"SUM({prefix}{v}) AS {v}" for v in values)


def l0_select(cells: str = "", where: str = "") -> str:
    """The day × mode × destination × cargo rows, in the columns of L0 and the order of its key."""
    return f"""
        SELECT {", ".join(L0.keys)}, {record_sums(L0.values)}
        FROM ({delivery_rows(cells, where)}) AS x
        GROUP BY {", ".join(L0.keys)}"""


def day_select(cells: str = "", where: str = "") -> str:
    """The day × mode × destination rows (all cargo), in the columns of DAY."""
    return f"""
        SELECT {", ".join(DAY.keys)}, {record_sums(DAY.values)}
        FROM ({delivery_rows(cells, where)}) AS x
        GROUP BY {", ".join(DAY.keys)}"""


def fresh_day_rows(where: str = "") -> str:
    """The L0 rows and, with cargo_type_id NULL, the day × mode × destination rows, from the records
    in one sort (both count distinct shipments); in L0's columns."""
    keys = ", ".join(L0.keys)
    if connection.vendor == "postgresql":
        return f"""
            SELECT {keys}, {record_sums(L0.values)}
            FROM ({delivery_rows(where=where)}) AS x
            GROUP BY {", ".join(DAY.keys)}, ROLLUP(cargo_type_id)"""
    return f"""
        SELECT {keys}, {", ".join(L0.values)} FROM ({l0_select(where=where)}) AS by_cargo
        UNION ALL
        SELECT {", ".join(DAY.keys)}, NULL, {record_sums(L0.values)}
        FROM ({delivery_rows(where=where)}) AS x
        GROUP BY {", ".join(DAY.keys)}"""


def transit_select(join: str = "", where: str = "") -> str:
    """Per open shipment's line, sent - received (never below 0): what is still on its way, per mode ×
    destination × cargo type and, with cargo_type_id NULL, for all cargo."""
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


def set_local(cursor, setting: str, value: str) -> None:
    if connection.vendor == "postgresql":
        cursor.execute(f"SET LOCAL {setting} = {value}")


def analyze(cursor, table: str) -> None:
    # Temporary tables have no statistics until analysed; without them the planner guesses a
    # handful of rows and may pick nested loops over thousands.
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table}")


# Serialises the writers of the totals tables (refresh and rebuild) on PostgreSQL.
ADVISORY_LOCK_KEY = 7_241_020


def lock_writers(cursor) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        # This transaction writes only derived rows (and deletes the marks it recomputed). If a crash
        # loses it, the marks are back, or the nightly rebuild redoes it: no need to wait for fsync.
        cursor.execute("SET LOCAL synchronous_commit = off")


def rebuild_settings(cursor) -> None:
    """Session settings of the rebuild's transaction (the benchmark's baseline runs under them too).

    The rebuild's one big query costs more than PostgreSQL's JIT thresholds, and compiling it with
    inlining and optimisation takes longer than it saves.
    """
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL jit = off")
