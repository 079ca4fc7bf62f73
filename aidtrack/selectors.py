"""Reads shared by pages and the API."""

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from .models import Location

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
