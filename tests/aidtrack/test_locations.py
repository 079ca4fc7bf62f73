import pytest

from aidtrack.models import Location
from aidtrack.selectors import MAX_LOCATION_DEPTH, filter_by_location_subtree, location_ancestor_chains
from tests.factories import LocationFactory


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


def test_ancestor_chains_stop_on_parents_edited_into_a_loop(tree):
    # The database refuses a place as its own parent, not a longer loop (an admin edit could make one).
    Location.objects.filter(pk=tree["region"].pk).update(parent=tree["town"])
    chain = location_ancestor_chains([tree["site"].pk])[tree["site"].pk]
    assert len(chain) == MAX_LOCATION_DEPTH + 1
