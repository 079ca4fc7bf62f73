"""Reference data over the API: cargo types, locations, organisations (codes, never ids)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory

from . import issue_key, key_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner(partner_org):
    return key_client(issue_key(partner_org))


@pytest.fixture
def places(db):
    country = LocationFactory(code="AZ", name="Country", level="country")
    region = LocationFactory(code="AZ-NK", name="Region", level="region", parent=country)
    LocationFactory(
        code="AZ-NK-01", name="District", level="district", parent=region, latitude="39.8", longitude="46.7"
    )
    LocationFactory(code="AZ-NK-02", name="Other district", level="district", parent=region)
    return region


def codes(response):
    assert response.status_code == 200, response.content
    return [row["code"] for row in response.json()["results"]]


def test_locations_with_parent_codes(partner, places):
    body = partner.get("/api/v1/locations/").json()
    assert body["count"] == 4
    district = next(row for row in body["results"] if row["code"] == "AZ-NK-01")
    assert district == {
        "code": "AZ-NK-01",
        "name": "District",
        "alt_names": "",
        "level": "district",
        "parent": "AZ-NK",
        "latitude": "39.800000",
        "longitude": "46.700000",
    }


def test_locations_filtered_by_parent_and_level(partner, places):
    assert codes(partner.get("/api/v1/locations/?parent=AZ-NK")) == ["AZ-NK-01", "AZ-NK-02"]
    assert codes(partner.get("/api/v1/locations/?level=region")) == ["AZ-NK"]
    assert codes(partner.get("/api/v1/locations/?parent=AZ&level=district")) == []


@pytest.mark.parametrize(
    "path, parameter",
    [
        ("/api/v1/locations/?parent=NOWHERE", "parent"),
        ("/api/v1/locations/?level=planet", "level"),
        ("/api/v1/locations/?page=0", "page"),
        ("/api/v1/organisations/?page=x", "page"),
        ("/api/v1/organisations/?page=2", "page"),
        ("/api/v1/cargo-types/?page_size=0", "page_size"),
        ("/api/v1/cargo-types/?page_size=1.5", "page_size"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(partner, places, path, parameter):
    response = partner.get(path)
    assert response.status_code == 400, response.content
    assert parameter in response.json()


def test_organisations_and_cargo_types(partner, partner_org):
    OrganisationFactory(code="child", name="Child", parent=partner_org, kind="ngo", country="AM")
    CargoTypeFactory(code="stove", name="Stoves", category="household", unit="pcs")
    organisations = partner.get("/api/v1/organisations/").json()["results"]
    assert {
        "code": "child",
        "name": "Child",
        "short_name": "",
        "kind": "ngo",
        "country": "AM",
        "parent": "partner",
    } in (organisations)
    cargo = partner.get("/api/v1/cargo-types/").json()["results"]
    assert cargo == [{"code": "stove", "name": "Stoves", "category": "household", "unit": "pcs", "active": True}]


def test_page_size_is_capped_at_1000(partner, db):
    for n in range(3):
        CargoTypeFactory(code=f"c{n}")
    body = partner.get("/api/v1/cargo-types/?page_size=2").json()
    assert len(body["results"]) == 2 and body["count"] == 3 and "page=2" in body["next"]
    assert len(partner.get("/api/v1/cargo-types/?page_size=100000").json()["results"]) == 3


def test_page_size_above_the_cap_returns_the_cap(partner, db):
    CargoTypeFactory.create_batch(1003)
    body = partner.get("/api/v1/cargo-types/?page_size=100000").json()
    assert body["count"] == 1003 and len(body["results"]) == 1000 and "page=2" in body["next"]


def test_partners_cannot_write(partner):
    assert partner.post("/api/v1/locations/", {}).status_code == 403
    assert partner.options("/api/v1/locations/").status_code == 200


def test_organisation_list_query_count_is_constant(partner, db):
    parent = OrganisationFactory(code="parent-org")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert partner.get("/api/v1/organisations/").status_code == 200
        return len(queries)

    before = count()
    OrganisationFactory.create_batch(20, parent=parent)
    assert count() == before


def test_location_list_query_count_is_constant(partner, places):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert partner.get("/api/v1/locations/").status_code == 200
        return len(queries)

    before = count()
    for n in range(20):
        LocationFactory(code=f"AZ-NK-S{n}", level="site", parent=places)
    assert count() == before
