"""The rebuild's check on several connections at once (PostgreSQL only): `rebuild` uses it when
TOTALS_REBUILD_CONNECTIONS > 1 and the rebuild is a transaction of its own.

Each connection checks a range of days in the rebuild's exported snapshot (as pg_dump's parallel
jobs do), so the parts together see exactly what one statement of the rebuild would, while the
rebuild's own connection does the work that does not depend on the check.
"""

import contextlib
import datetime
import itertools
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections

from . import sql
from .check import check_select


def parts() -> int:
    """How many connections read the records at once in a rebuild.

    PostgreSQL only, and only when the rebuild is a transaction of its own: other connections share
    its snapshot but cannot see what an enclosing transaction has written and not yet committed.
    Asked before the rebuild's transaction begins.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return settings.TOTALS_REBUILD_CONNECTIONS


@contextlib.contextmanager
def checking_records(cursor, parts: int) -> Iterator[int]:
    """fresh_cells: `check_select` over every record, in `parts` ranges of days at once, while the
    block runs on the rebuild's connection. Each part returns its month rows (a month may come from
    two ranges; everything that reads fresh_cells sums it by month). Yields how many connections
    read the records."""
    cursor.execute("SELECT pg_export_snapshot()")
    snapshot = cursor.fetchone()[0]
    cursor.execute(f"CREATE TEMP TABLE fresh_cells AS {check_select()} WITH NO DATA")
    ranges = day_ranges(cursor, parts)
    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        checking = pool.map(partial(check_day_range, snapshot), ranges)
        yield len(ranges)
        checked = list(checking)
    # psycopg's COPY (Django has no wrapper for it), rows in the select's column order.
    with cursor.cursor.copy("COPY fresh_cells FROM STDIN") as copy:
        for rows in checked:
            for row in rows:
                copy.write_row(row)


def day_ranges(cursor, parts: int) -> list[tuple[datetime.date | None, datetime.date | None]]:
    """Up to `parts` ranges [from, to) of days with about as many receipts each (fewer when the days
    are too few to part). Loss rows (dated by closing) fall in the range of their day too."""
    cursor.execute(
        "SELECT percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY received_on) FROM shipments_receipt",
        [[i / parts for i in range(1, parts)]],
    )
    bounds = sorted(set(cursor.fetchone()[0] or []))
    return list(itertools.pairwise([None, *bounds, None]))


def check_day_range(snapshot: str, days: tuple[datetime.date | None, datetime.date | None]) -> list[tuple]:
    """The check of one range of days, on a connection of its own in `snapshot`."""
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
            sql.rebuild_settings(cursor)
            # The parts are the parallelism: no extra worker processes per part.
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            cursor.execute(check_select(where), {"first": first, "end": end})
            rows = cursor.fetchall()
            cursor.execute("COMMIT")
        return rows
    finally:
        own.close()
