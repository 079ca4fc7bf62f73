"""Coverage equals a direct computation from the needs and the delivery records."""

import datetime
from decimal import Decimal

import pytest

from needs import coverage
from needs.coverage import CoverageQuery
from needs.models import Need
from shipments import totals
from tests.factories import LocationFactory
from tests.needs.scenario import assess, deliver, direct_coverage

D = datetime.date


@pytest.fixture
def scenario(places, cargo, coordinator, administrator):
    s1, district, north, s3 = places["S1"], places["D"], places["N"], places["S3"]
    assess(coordinator, s1, D(2020, 11, 20), "energy", [(cargo["gen"], 10, "critical", "open"),
                                                        (cargo["stove"], 100, "high", "open")])  # fmt: skip
    assess(coordinator, s1, D(2020, 11, 24), "heating", [(cargo["stove"], 40, "medium", "open")])
    assess(coordinator, district, D(2020, 11, 18), "heating", [(cargo["stove"], 50, "high", "open")])
    assess(coordinator, north, D(2020, 11, 25), "housing", [(cargo["timber"], 30, "low", "open")])
    assess(coordinator, s3, D(2020, 11, 19), "heating", [(cargo["stove"], 20, "medium", "open"),
                                                         (cargo["gen"], 5, "critical", "cancelled")])  # fmt: skip
    by = administrator
    deliver(by, places, s1, D(2020, 11, 17), [(cargo["stove"], 30, 30)])  # before every assessment
    deliver(by, places, s1, D(2020, 11, 19), [(cargo["stove"], 25, 25)])  # counts for the district only
    deliver(by, places, places["SCHOOL"], D(2020, 11, 22), [(cargo["stove"], 40, 36), (cargo["gen"], 4, 4)])
    deliver(by, places, places["S2"], D(2020, 11, 23), [(cargo["gen"], 6, 6)])  # not under S1
    deliver(by, places, s1, D(2020, 11, 26), [(cargo["gen"], 8, 8)])  # on the day counts
    deliver(by, places, places["S2"], D(2020, 11, 26), [(cargo["timber"], 10, 9)])
    deliver(by, places, s3, D(2020, 11, 21), [(cargo["stove"], 30, 30)])
    deliver(by, places, s1, D(2020, 11, 27), [(cargo["stove"], 500, 0)], status="in_transit")  # not arrived
    totals.refresh()


def test_coverage_equals_a_direct_computation(scenario, places, cargo):
    expected = direct_coverage()
    rows = coverage.coverage_rows()
    assert {(r.location_id, r.cargo_type_id) for r in rows} == set(expected)
    for row in rows:
        want = expected[(row.location_id, row.cargo_type_id)]
        assert (row.needed, row.delivered, row.since) == (want["needed"], want["delivered"], want["since"])
        assert row.gap == max(want["needed"] - want["delivered"], 0)
        assert row.covered_pct == (want["delivered"] * 100 / want["needed"]).quantize(Decimal("0.1"))


def test_coverage_by_hand(scenario, places, cargo):
    """The same scenario worked out by hand, so the direct computation itself is checked."""
    rows = coverage.coverage_by_pair()
    s1_stove = rows[(places["S1"].pk, cargo["stove"].pk)]
    assert (s1_stove.needed, s1_stove.delivered, s1_stove.since) == (140, 36, D(2020, 11, 20))
    assert (s1_stove.gap, s1_stove.covered_pct, s1_stove.state) == (104, Decimal("25.7"), "partial")
    assert rows[(places["S1"].pk, cargo["gen"].pk)].delivered == 12  # 4 at the school + 8 on the 26th
    assert rows[(places["S1"].pk, cargo["gen"].pk)].state == "met"
    district_stove = rows[(places["D"].pk, cargo["stove"].pk)]
    assert (district_stove.delivered, district_stove.state) == (61, "met")  # 25 + 36
    assert rows[(places["N"].pk, cargo["timber"].pk)].delivered == 9
    s3_stove = rows[(places["S3"].pk, cargo["stove"].pk)]
    assert (s3_stove.covered_pct, s3_stove.gap, s3_stove.region_code) == (Decimal("150.0"), 0, "S")
    assert (places["S3"].pk, cargo["gen"].pk) not in rows  # the cancelled need does not count
    assert s1_stove.region_code == "N" and rows[(places["N"].pk, cargo["timber"].pk)].region_code == "N"


def test_filters_select_rows(scenario, places, cargo):
    def pairs(**query):
        return {(r.location_code, r.cargo_type_code) for r in coverage.coverage_rows(CoverageQuery(**query))}

    assert pairs(location=places["D"]) == {("N-D", "stove"), ("N-D-1", "stove"), ("N-D-1", "generator")}
    assert pairs(location=places["S"]) == {("S-1", "stove")}
    assert pairs(cargo_type=cargo["gen"]) == {("N-D-1", "generator")}
    assert pairs(sector="housing") == {("N", "timber")}
    assert pairs(priority="critical") == {("N-D-1", "generator")}
    assert pairs(state="met") == {("N-D-1", "generator"), ("N-D", "stove"), ("S-1", "stove")}
    assert pairs(state="partial") == {("N-D-1", "stove"), ("N", "timber")}
    # A row keeps all its open needs when a filter picks it through one of them.
    medium = coverage.coverage_rows(CoverageQuery(priority="medium", location=places["S1"]))
    assert [(r.needed, r.needs) for r in medium] == [(140, 2)]


def test_needs_in_state_follows_their_row(scenario, places):
    met = set(Need.objects.filter(id__in=coverage.needs_in_state("met")).values_list("id", flat=True))
    want = {
        n.pk
        for n in Need.objects.filter(status="open").select_related("assessment")
        if coverage.coverage_by_pair()[(n.assessment.location_id, n.cargo_type_id)].state == "met"
    }
    assert met == want and len(met) == 3


def test_rollups_by_region_and_sector(scenario, cargo):
    rows = coverage.coverage_rows()
    by_region = {(r.key, r.cargo_type_code): r for r in coverage.coverage_by_region(rows)}
    # North stoves: S1 needs 140 and takes the 36 that reached it; the district needs 50 and gets what
    # is left of its 61: 25. No stove counts twice: 61 arrived in North since the assessments.
    assert (by_region[("N", "stove")].needed, by_region[("N", "stove")].covered) == (190, 61)
    assert (by_region[("S", "stove")].needed, by_region[("S", "stove")].covered) == (20, 20)  # surplus not carried
    by_sector = {(r.key, r.cargo_type_code): r for r in coverage.coverage_by_sector()}
    # Heating stoves: 40 at S1 (share 36/140) + 50 in the district (share 25/50) + 20 at S3 (1).
    heating = by_sector[("heating", "stove")]
    assert heating.needed == 110
    assert heating.covered == (Decimal(40) * Decimal(36) / Decimal(140) + 25 + 20).quantize(Decimal("0.001"))
    assert by_sector[("energy", "generator")].covered == 10


def test_a_new_delivery_under_an_assessed_place_raises_its_coverage_after_the_refresh(
    scenario, places, cargo, administrator
):
    key = (places["D"].pk, cargo["stove"].pk)
    before = coverage.coverage_by_pair()[(places["S1"].pk, cargo["stove"].pk)].delivered
    deliver(administrator, places, places["SCHOOL"], D(2020, 11, 28), [(cargo["stove"], 60, 60)])
    assert coverage.coverage_by_pair()[(places["S1"].pk, cargo["stove"].pk)].delivered == before  # not yet
    totals.refresh()
    rows = coverage.coverage_by_pair()
    assert rows[(places["S1"].pk, cargo["stove"].pk)].delivered == before + 60
    assert rows[key].delivered == 61 + 60
    assert rows[(places["S1"].pk, cargo["stove"].pk)].covered_pct == Decimal("68.6")  # 96 / 140


def test_coverage_query_count_does_not_grow(scenario, places, cargo, coordinator, django_assert_num_queries):
    with django_assert_num_queries(1):
        small = coverage.coverage_rows()
    for i in range(30):
        place = LocationFactory(code=f"N-X-{i}", level="settlement", parent=places["N"])
        assess(coordinator, place, D(2020, 11, 21), "water", [(cargo["stove"], 5, "low", "open")])
    with django_assert_num_queries(1):
        assert len(coverage.coverage_rows()) == len(small) + 30
    with django_assert_num_queries(3):
        coverage.coverage_by_sector()
    with django_assert_num_queries(1):
        coverage.coverage_by_region(small)


def test_a_delivery_counts_once_in_the_rollups_where_assessed_places_nest(places, cargo, coordinator, administrator):
    """A region needs 100 generators, a settlement in it 10; 10 arrive at the settlement."""
    assess(coordinator, places["N"], D(2020, 11, 20), "energy", [(cargo["gen"], 100, "high", "open")])
    assess(coordinator, places["S1"], D(2020, 11, 20), "energy", [(cargo["gen"], 10, "high", "open")])
    deliver(administrator, places, places["S1"], D(2020, 11, 22), [(cargo["gen"], 10, 10)])
    totals.refresh()
    rows = coverage.coverage_rows()
    assert {r.location_code: r.delivered for r in rows} == {"N": 10, "N-D-1": 10}  # each row counts what reached it
    north = coverage.coverage_by_region(rows)[0]
    assert (north.needed, north.covered, north.gap) == (110, 10, 100)  # but the region got 10 generators, not 20
    energy = coverage.coverage_by_sector()[0]
    assert (energy.needed, energy.covered) == (110, 10)
