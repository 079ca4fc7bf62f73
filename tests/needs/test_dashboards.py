"""The needs and working-group dashboards, and the summaries their charts read from the API."""

import csv
import datetime
import io
import re
from decimal import Decimal

import hxl
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aidtrack import roles
from needs import coverage
from needs.models import ActionItem, Assessment, Need
from needs.services import (
    ActionItemInput,
    AssessmentInput,
    MeetingInput,
    NeedInput,
    WorkingGroupInput,
    assessment_create,
    meeting_create,
    working_group_create,
)
from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory, UserFactory, bulk_delivered

D = datetime.date


ASSESSED_ON = D(2020, 11, 12)


def assess(by, location, sector, needs, on=ASSESSED_ON, condition="severely_damaged"):
    return assessment_create(
        by=by,
        data=AssessmentInput(
            location=location, sector=sector, assessed_on=on, condition=condition, severity=3, people_affected=100,
            needs=[NeedInput(cargo_type=c, quantity=Decimal(q), priority=p) for c, q, p in needs],
        ),
    )  # fmt: skip


@pytest.fixture
def needs_world(two_regions, coordinator):
    """Needs in both regions for the cargo types bulk_delivered sends (bulk-0, bulk-1, bulk-2)."""
    cargo = [CargoTypeFactory(code=f"bulk-{i}") for i in range(3)]
    assess(coordinator, two_regions["n1"], "heating", [(cargo[0], 500, "critical"), (cargo[1], 20, "low")])
    assess(coordinator, two_regions["north"], "housing", [(cargo[2], 900, "high")], condition="destroyed")
    assess(coordinator, two_regions["s1"], "water", [(cargo[0], 40, "medium")], condition="partially_damaged")
    return cargo


def test_needs_dashboard_shows_the_api_coverage(client, coordinator, two_regions, needs_world):
    bulk_delivered(30, coordinator.organisation, two_regions)
    client.force_login(coordinator)
    data = client.get("/needs/").context["data"]
    api = client.get("/api/v1/coverage/").json()["results"]
    assert [(r.location_code, r.cargo_type_code, str(r.delivered), str(r.needed)) for r in data.coverage_rows] == [
        (r["location"], r["cargo_type"], r["delivered"], r["needed"]) for r in api
    ]
    summary = client.get("/api/v1/needs/summary/").json()["results"]
    assert data.open_needs == sum(r["needs"] for r in summary) == Need.objects.filter(status="open").count() == 4
    assert data.assessments == Assessment.objects.count() == 3
    assert sum(data.states.values()) == len(api)


def test_coverage_rows_come_largest_gap_first(client, coordinator, two_regions, needs_world):
    bulk_delivered(30, coordinator.organisation, two_regions)
    client.force_login(coordinator)
    rows = client.get("/needs/").context["data"].coverage_rows
    shares = [r.covered_share for r in rows]
    assert shares == sorted(shares) and len(rows) == 4


def test_region_filter_keeps_that_regions_rows_and_the_url_reproduces_it(client, coordinator, two_regions, needs_world):
    client.force_login(coordinator)
    html = client.get("/needs/?location=S").content.decode()
    assert 'data-region="S"' in html and 'data-region="N"' not in html
    data = client.get("/needs/?location=N&priority=critical").context["data"]
    assert [(r.location_code, r.cargo_type_code) for r in data.coverage_rows] == [("N-1", "bulk-0")]
    assert data.open_needs == 1  # the needs summary is filtered the same way
    assert 'data-source="/api/v1/needs/summary/?group_by=sector%2Cpriority&amp;location=N&amp;priority=critical"' in (
        client.get("/needs/?location=N&priority=critical").content.decode()
    )


def test_a_bad_filter_is_shown_and_ignored(client, coordinator, two_regions, needs_world):
    client.force_login(coordinator)
    response = client.get("/needs/?location=NOPE&sector=heating")
    assert response.status_code == 200
    assert "location" in response.context["form"].errors
    assert response.context["data"].params == {"sector": "heating"}


@pytest.mark.parametrize("path", ["/needs/", "/needs/coordination/"])
@pytest.mark.parametrize("role", [roles.LOGISTICS_OFFICER, roles.COORDINATOR, roles.ADMINISTRATOR])
def test_every_staff_role_reads_the_dashboards(client, two_regions, path, role):
    client.force_login(UserFactory(role=role))
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/needs/", "/needs/coordination/"])
def test_dashboards_need_a_role(client, db, path):
    assert client.get(path).status_code == 302  # anonymous: to the login page
    client.force_login(UserFactory())
    assert client.get(path).status_code == 403


@pytest.fixture
def groups(coordinator, ministry, two_regions):
    partner = OrganisationFactory(code="unhcr", name="UNHCR")
    group = working_group_create(
        by=coordinator,
        data=WorkingGroupInput(name="Infrastructure", code="infra", lead_organisation=ministry,
                               established_on=D(2020, 11, 13)),
    )  # fmt: skip
    other = working_group_create(
        by=coordinator,
        data=WorkingGroupInput(name="Response centre", code="ihrc", lead_organisation=ministry,
                               established_on=D(2020, 11, 13)),
    )  # fmt: skip
    for i, (g, on) in enumerate([(group, D(2020, 11, 20)), (group, D(2020, 12, 3)), (other, D(2020, 12, 10))]):
        meeting_create(
            by=coordinator,
            data=MeetingInput(
                working_group=g, held_on=on, title=f"Meeting {i}",
                actions=[ActionItemInput(description="Repair the pump", owner=partner, due_on=D(2020, 12, 20)),
                         ActionItemInput(description="Report", owner=ministry, due_on=D(2099, 1, 1))],
            ),
        )  # fmt: skip
    return group, other


def test_coordination_dashboard_counts_meetings_and_overdue_items(client, coordinator, groups):
    client.force_login(coordinator)
    response = client.get("/needs/coordination/")
    data = response.context["data"]
    by_group = {r["working_group"]: r for r in data.items_by_group}
    assert (by_group["infra"]["items"], by_group["infra"]["open"], by_group["infra"]["overdue"]) == (4, 4, 2)
    assert by_group["ihrc"]["overdue"] == 1
    by_owner = {r["owner"]: r for r in data.items_by_owner}
    assert by_owner["unhcr"]["overdue"] == 3 and by_owner["ministry"]["overdue"] == 0
    assert len(data.overdue) == ActionItem.objects.filter(status="open", due_on__lt=D.today()).count() == 3
    months = {(r["month"], r["working_group"]): r["meetings"] for r in data.meetings_by_month}
    assert months == {("2020-11-01", "infra"): 1, ("2020-12-01", "infra"): 1, ("2020-12-01", "ihrc"): 1}
    assert client.get("/api/v1/meetings/summary/").json()["results"] == data.meetings_by_month


def test_summaries_refuse_an_unknown_group_and_export_csv_and_hxl(client, coordinator, groups, needs_world):
    client.force_login(coordinator)
    bad = client.get("/api/v1/needs/summary/?group_by=colour")
    assert bad.status_code == 400 and "group_by" in bad.json()
    assert client.get("/api/v1/needs/summary/?sector=nope").status_code == 400
    body = client.get("/api/v1/action-items/summary/?group_by=owner,status").json()["results"]
    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/api/v1/action-items/summary/?group_by=owner,status&format=csv").content.decode())
        )
    )
    assert [(r["Owner"], r["Status"], int(r["Action items"])) for r in rows] == [
        (r["owner"], r["status"], r["items"]) for r in body
    ]
    tagged = client.get("/api/v1/needs/summary/?group_by=sector,priority&format=hxl").content.decode()
    dataset = hxl.data(io.BytesIO(tagged.encode()), hxl.InputOptions(allow_local=True))
    assert [column.display_tag for column in dataset.columns][-1] == "#x_needs+num"
    assert sum(int(row.get("#x_needs")) for row in dataset) == 4


def count_queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx)


DASHBOARDS = ["/needs/", "/needs/?location=N&sector=heating", "/needs/coordination/"]


def test_dashboards_cost_the_same_with_10_and_1000_shipments(client, coordinator, two_regions, needs_world, groups):
    client.force_login(coordinator)
    bulk_delivered(10, coordinator.organisation, two_regions)
    small = [count_queries(client, path) for path in DASHBOARDS]
    bulk_delivered(990, coordinator.organisation, two_regions)
    for i in range(20):  # more two_regions, needs and meetings too
        place = LocationFactory(code=f"N-X-{i}", level="settlement", parent=two_regions["north"])
        assess(coordinator, place, "energy", [(needs_world[i % 3], 5, "high")])
    large = [count_queries(client, path) for path in DASHBOARDS]
    assert small == large
    assert len(coverage.coverage_rows()) == 24


def test_people_affected_counts_each_place_once(client, coordinator, two_regions, needs_world):
    client.force_login(coordinator)
    assert client.get("/needs/").context["data"].people_affected == 300  # three places, 100 each
    assess(coordinator, two_regions["n1"], "water", [(needs_world[0], 5, "low")])  # Northtown again, another sector
    assert client.get("/needs/").context["data"].people_affected == 300


def test_an_impossible_number_of_people_is_a_field_error_not_a_server_error(client, coordinator, two_regions):
    from needs.services import MAX_PEOPLE

    with pytest.raises(ValidationError) as error:
        assessment_create(
            by=coordinator,
            data=AssessmentInput(location=two_regions["n1"], sector="water", assessed_on=ASSESSED_ON,
                                 condition="unknown", severity=1, people_affected=MAX_PEOPLE + 1),
        )  # fmt: skip
    assert "people_affected" in error.value.message_dict


def test_months_are_written_for_the_page(client, coordinator, groups):
    client.force_login(coordinator)
    html = client.get("/needs/coordination/").content.decode()
    assert "November 2020" in html and "2020-11-01</td>" not in html


DASHBOARD_VIEWS = ["/", "/?region=N&date_from=2020-11-01", "/needs/", "/needs/?location=N", "/needs/coordination/"]


@pytest.mark.parametrize("path", DASHBOARD_VIEWS)
def test_every_chart_source_and_csv_link_answers(client, coordinator, two_regions, needs_world, groups, path):
    """What the charts fetch and what the CSV links give are real API answers for the same user."""
    bulk_delivered(6, coordinator.organisation, two_regions)
    client.force_login(coordinator)
    html = client.get(path).content.decode()
    sources = [s.replace("&amp;", "&") for s in re.findall(r'data-source="([^"]+)"', html)]
    links = [s.replace("&amp;", "&") for s in re.findall(r'href="([^"]+format=csv)"', html)]
    assert len(sources) >= 2 and len(links) >= 3
    for url in sources:
        response = client.get(url)
        assert response.status_code == 200 and response.json()["results"], url
    for url in links:
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), url
        assert len(response.content.decode().splitlines()) >= 2, url  # a header and at least one row
