import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from aidtrack.models import Location
from aidtrack.selectors import (
    MAX_LOCATION_DEPTH,
    LocationLoopError,
    filter_by_location_subtree,
    location_ancestor_chains,
)
from needs.coverage import coverage_rows
from shipments import totals
from tests.factories import LocationFactory, UserFactory, make_shipment
from tests.services import require_postgres


@pytest.fixture
def tree(db):
    region = LocationFactory(code="R", level="region")
    district = LocationFactory(code="R-D1", level="district", parent=region)
    town = LocationFactory(code="R-D1-T1", level="settlement", parent=district)
    site = LocationFactory(code="R-D1-T1-S", level="site", parent=town)
    other_district = LocationFactory(code="R-D2", level="district", parent=region)
    elsewhere = LocationFactory(code="X", level="region")
    elsewhere_town = LocationFactory(code="X-T", level="settlement", parent=elsewhere)
    return locals()


def codes(queryset):
    return sorted(queryset.values_list("code", flat=True))


def test_subtree_includes_the_location_and_everything_under_it(tree):
    qs = filter_by_location_subtree(Location.objects.all(), "id", tree["region"])
    assert codes(qs) == ["R", "R-D1", "R-D1-T1", "R-D1-T1-S", "R-D2"]


def test_subtree_of_a_leaf_is_the_leaf(tree):
    assert codes(filter_by_location_subtree(Location.objects.all(), "id", tree["site"])) == ["R-D1-T1-S"]


def test_subtree_of_a_middle_node_excludes_siblings_and_ancestors(tree):
    qs = filter_by_location_subtree(Location.objects.all(), "id", tree["district"].pk)
    assert codes(qs) == ["R-D1", "R-D1-T1", "R-D1-T1-S"]


def test_subtree_follows_a_foreign_key(tree):
    # Filter rows that point at a location (here: children by their parent).
    qs = filter_by_location_subtree(Location.objects.all(), "parent", tree["district"])
    assert codes(qs) == ["R-D1-T1", "R-D1-T1-S"]


def test_subtree_runs_in_one_query(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(filter_by_location_subtree(Location.objects.all(), "id", tree["region"]))


def test_location_code_is_unique(db):
    from django.db import IntegrityError

    LocationFactory(code="DUP")
    with pytest.raises(IntegrityError):
        Location.objects.create(code="DUP", name="again", level="site")


def test_ancestor_chains_go_from_each_place_to_the_top_in_one_query(tree, django_assert_num_queries):
    t = {name: loc.pk for name, loc in tree.items() if isinstance(loc, Location)}
    with django_assert_num_queries(1):
        chains = location_ancestor_chains([t["site"], t["other_district"], t["elsewhere"]])
    assert chains == {
        t["site"]: [t["site"], t["town"], t["district"], t["region"]],
        t["other_district"]: [t["other_district"], t["region"]],
        t["elsewhere"]: [t["elsewhere"]],
    }


def make_loop_by_sql(child: Location, parent: Location) -> None:
    """Set a parent straight in the database, around PostgreSQL's trigger (as a restore or a hand edit
    with triggers off could), to prove that no walk over the tree hangs on a loop."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # as pg_restore does: no triggers fire (superuser only)
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE aidtrack_location SET parent_id = %s WHERE id = %s", [parent.pk, child.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


def test_ancestor_chains_stop_on_parents_made_into_a_loop(tree):
    make_loop_by_sql(tree["region"], tree["town"])
    chain = location_ancestor_chains([tree["site"].pk])[tree["site"].pk]
    assert len(chain) == MAX_LOCATION_DEPTH + 1


def test_a_parent_that_would_make_a_loop_is_refused_with_the_loop_named(tree):
    region = Location.objects.get(pk=tree["region"].pk)
    region.parent = tree["town"]
    with pytest.raises(ValidationError) as error:
        region.full_clean()
    assert error.value.message_dict["parent"] == [
        "A place cannot lie under itself: this parent would make a loop (R → R-D1-T1 → R-D1 → R)."
    ]
    region.parent = tree["elsewhere"]  # a place elsewhere is fine
    region.full_clean()


def test_the_admin_refuses_a_loop(client, tree):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    region = tree["region"]
    url = f"/admin/aidtrack/location/{region.pk}/change/"
    data = {"code": "R", "name": region.name, "alt_names": "", "level": "region", "parent": tree["site"].pk}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "this parent would make a loop (R → R-D1-T1-S → R-D1-T1 → R-D1 → R)" in response.content.decode()
    assert Location.objects.get(pk=region.pk).parent_id is None


def test_postgresql_refuses_a_loop_written_by_sql(tree):
    require_postgres("the trigger that refuses loops is PostgreSQL's")
    with pytest.raises(IntegrityError, match="location_no_loop"), transaction.atomic():
        Location.objects.filter(pk=tree["region"].pk).update(parent=tree["town"])
    with pytest.raises(IntegrityError, match="location_no_loop"), transaction.atomic():
        Location.objects.filter(pk=tree["region"].pk).update(parent=tree["region"])
    Location.objects.filter(pk=tree["region"].pk).update(parent=tree["elsewhere"])  # no loop: accepted


def test_a_loop_made_in_the_database_fails_the_rebuild_naming_it_and_hangs_nothing(tree, cargo_type, officer):
    make_shipment(by=officer, lines=[(cargo_type, "1", "1")], status="delivered", destination=tree["site"])
    make_loop_by_sql(tree["district"], tree["site"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # a hang would end in a timeout error, not the loop error
            cursor.execute("SET statement_timeout = '5s'")
    try:
        with pytest.raises(LocationLoopError) as error:
            totals.rebuild()
        assert error.value.codes == ["R-D1", "R-D1-T1-S", "R-D1-T1", "R-D1"]
        assert "R-D1 → R-D1-T1-S → R-D1-T1 → R-D1" in str(error.value)
        totals.refresh()  # the refresh walks up a bounded number of steps
        coverage_rows()
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = 0")
