"""Bulk writes into an empty totals table (the rebuild from empty: first start, disaster recovery).

PostgreSQL only: the table's indexes and unique constraints, but its primary key, are dropped for
the insert and built again after it: one sorted build each, on every core, costs a fraction of
updating them row by row. Measured by `make bench` at 1,000,000 cargo lines: the rebuild from empty
took 3.0× the raw GROUP BY with the indexes updated row by row, 2.2-2.4× with this.
"""

import contextlib
from collections.abc import Iterator

from django.db import connection


@contextlib.contextmanager
def indexes_built_after(cursor, table: str) -> Iterator[None]:
    """Run the block (an insert into the empty `table`) without the table's indexes, then build them.

    The DDL locks the table until the rebuild commits; it is empty, and the rebuild holds the writers'
    lock, so only readers wait, for the seconds the rebuild takes.
    """
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
