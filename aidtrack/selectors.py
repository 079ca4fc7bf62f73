"""Reads shared by pages and the API."""

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from .models import Location

MAX_LOCATION_DEPTH = Location.MAX_DEPTH

# Walks the hierarchy in the database (one query, any depth), so it stays right however the
# locations were written: admin, migrations or load_demo.
_SUBTREE_SQL = """
    WITH RECURSIVE subtree(id) AS (
        SELECT id FROM aidtrack_location WHERE id = %s
        UNION
        SELECT child.id FROM aidtrack_location AS child JOIN subtree ON child.parent_id = subtree.id
    )
    SELECT id FROM subtree
"""


def location_subtree_ids(location: Location | int) -> RawSQL:
    """A subquery of the ids of `location` and every location under it, for `__in` filters."""
    location_id = location.pk if isinstance(location, Location) else location
    return RawSQL(_SUBTREE_SQL, [location_id])


def filter_by_location_subtree(queryset: QuerySet, field: str, location: Location | int) -> QuerySet:
    """Keep the rows whose `field` (a Location foreign key) is `location` or lies under it."""
    return queryset.filter(**{f"{field}__in": location_subtree_ids(location)})


def location_get_by_code(code: str) -> Location | None:
    return Location.objects.filter(code=code).first()


def location_ancestor_chains(location_ids: list[int]) -> dict[int, list[int]]:
    """For each location, its id and its ancestors' ids, from itself up to the top (one query).

    The walk stops after MAX_LOCATION_DEPTH steps, so parents edited into a loop cannot hang it.
    """
    if not location_ids:
        return {}
    marks = ", ".join(["%s"] * len(location_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH RECURSIVE up(start, id, parent_id, level) AS (
                    SELECT id, id, parent_id, 0 FROM aidtrack_location WHERE id IN ({marks})
                    UNION ALL
                    SELECT up.start, l.id, l.parent_id, up.level + 1
                    FROM up JOIN aidtrack_location l ON l.id = up.parent_id WHERE up.level < %s
                ) SELECT start, id FROM up ORDER BY start, level""",
            [*location_ids, MAX_LOCATION_DEPTH],
        )
        rows = cursor.fetchall()
    chains: dict[int, list[int]] = {}
    for start, location_id in rows:
        chains.setdefault(start, []).append(location_id)
    return chains


class LocationLoopError(RuntimeError):
    """Locations whose parents lead back to themselves (written around the database's own check)."""

    def __init__(self, codes: list[str]):
        self.codes = codes
        super().__init__(_("Locations form a loop: %(loop)s. Set one of their parents right.") % {
            "loop": " → ".join(codes)})  # fmt: skip


def location_loop() -> list[str]:
    """The codes of one loop in the location parents (its first place again at the end), [] if none.

    Every location is walked up at most MAX_LOCATION_DEPTH steps: one query, whatever the parents are.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH RECURSIVE up(start, id, parent_id, n) AS (
                   SELECT id, id, parent_id, 0 FROM aidtrack_location WHERE parent_id IS NOT NULL
                   UNION ALL
                   SELECT up.start, l.id, l.parent_id, up.n + 1
                   FROM up JOIN aidtrack_location l ON l.id = up.parent_id
                   WHERE up.n < %s AND (up.n = 0 OR up.id <> up.start)
               ) SELECT up.start, up.n, l.code FROM up JOIN aidtrack_location l ON l.id = up.id
               WHERE up.start = (SELECT MIN(start) FROM up WHERE n > 0 AND id = start)
               ORDER BY up.n""",
            [MAX_LOCATION_DEPTH],
        )
        return [code for _start, _n, code in cursor.fetchall()]
