"""The needs API: coverage (JSON, CSV, HXL), needs, assessments, working groups and meetings.

The scenario is that of tests/needs/test_coverage.py (nested places, deliveries before and after the
assessments, one in transit): the API must give the same figures as `needs.coverage`, which that
module checks against a direct computation from the records.
"""

import csv
import datetime
import io
from decimal import Decimal

import hxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from needs import coverage
from needs.coverage import CoverageQuery
from needs.models import Need
from needs.services import (
    ActionItemInput,
    MeetingInput,
    MembershipInput,
    WorkingGroupInput,
    action_item_close,
    meeting_create,
    membership_add,
    working_group_create,
)
from shipments import totals
from tests.factories import LocationFactory, OrganisationFactory
from tests.needs.scenario import assess, deliver, direct_coverage

from . import issue_key, key_client, session_client

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def group(coordinator, ministry, partner_org, places):
    group = working_group_create(
        by=coordinator,
        data=WorkingGroupInput(
            name="Infrastructure assessment",
            code="infra-wg",
            lead_organisation=ministry,
            established_on=D(2020, 11, 14),
            sector="energy",
            area=places["N"],
            mandate="Assess the damage.",
        ),
    )
    membership_add(
        by=coordinator,
        group_id=group.pk,
        data=MembershipInput(
            organisation=ministry, from_on=D(2020, 11, 14), position="Head of the ministry", role="chair"
        ),
    )
    membership_add(
        by=coordinator,
        group_id=group.pk,
        data=MembershipInput(organisation=partner_org, from_on=D(2020, 11, 14), person="A. Partner"),
    )
    return group


def hold_meeting(by, group, on, organisations, *, actions=2, title="Weekly meeting"):
    return meeting_create(
        by=by,
        data=MeetingInput(
            working_group=group,
            held_on=on,
            title=title,
            kind="meeting",
            place="Response centre",
            organisations=organisations,
            attendees="Head of the ministry\nA. Partner (Partner agency)",
            minutes="Reviewed the assessments.",
            decisions="Send generators first\n\nRepair the substation",
            actions=[
                ActionItemInput(
                    description=f"Action {n}", owner=organisations[0], due_on=on + datetime.timedelta(days=3)
                )
                for n in range(actions)
            ],
        ),
    )


@pytest.fixture
def scenario(places, cargo, coordinator, administrator, group):
    s1, district, north, s3 = places["S1"], places["D"], places["N"], places["S3"]
    assess(
        coordinator,
        s1,
        D(2020, 11, 20),
        "energy",
        [(cargo["gen"], 10, "critical", "open"), (cargo["stove"], 100, "high", "open")],
        working_group=group,
        facility="Substation",
    )
    assess(coordinator, s1, D(2020, 11, 24), "heating", [(cargo["stove"], 40, "medium", "open")])
    assess(coordinator, district, D(2020, 11, 18), "heating", [(cargo["stove"], 50, "high", "open")])
    assess(coordinator, north, D(2020, 11, 25), "housing", [(cargo["timber"], 30, "low", "open")])
    assess(
        coordinator,
        s3,
        D(2020, 11, 19),
        "heating",
        [(cargo["stove"], 20, "medium", "open"), (cargo["gen"], 5, "critical", "cancelled")],
    )
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


@pytest.fixture
def partner(partner_org):
    return key_client(issue_key(partner_org))


@pytest.fixture
def staff(coordinator):
    return session_client(coordinator)


def pairs(body) -> set[tuple[str, str]]:
    return {(row["location"], row["cargo_type"]) for row in body["results"]}


# --- Coverage --------------------------------------------------------------------------------------


def test_coverage_rows_are_the_figures_of_needs_coverage(scenario, partner):
    body = partner.get("/api/v1/coverage/").json()
    rows = coverage.coverage_rows()
    assert [(r["location"], r["cargo_type"]) for r in body["results"]] == [
        (row.location_code, row.cargo_type_code) for row in rows
    ]
    expected = direct_coverage()  # and the same figures straight from the records
    for result, row in zip(body["results"], rows, strict=True):
        assert result == {
            "location": row.location_code,
            "location_name": row.location_name,
            "region": row.region_code,
            "region_name": row.region_name,
            "cargo_type": row.cargo_type_code,
            "cargo_type_name": row.cargo_type_name,
            "unit": row.unit,
            "needed": f"{row.needed:.3f}",
            "delivered": f"{row.delivered:.3f}",
            "covered_pct": f"{row.covered_pct:.1f}",
            "gap": f"{row.gap:.3f}",
            "state": row.state,
            "assessed_since": row.since.isoformat(),
            "needs": row.needs,
            "top_priority": row.top_priority,
        }
        direct = expected[(row.location_id, row.cargo_type_id)]
        assert Decimal(result["needed"]) == direct["needed"] and Decimal(result["delivered"]) == direct["delivered"]
        assert result["assessed_since"] == direct["since"].isoformat()
    s1_stove = next(r for r in body["results"] if (r["location"], r["cargo_type"]) == ("N-D-1", "stove"))
    assert (s1_stove["needed"], s1_stove["delivered"], s1_stove["covered_pct"], s1_stove["gap"]) == (
        "140.000",
        "36.000",
        "25.7",
        "104.000",
    )
    assert (s1_stove["state"], s1_stove["needs"], s1_stove["top_priority"], s1_stove["region"]) == (
        "partial",
        2,
        "high",
        "N",
    )
    assert body["pending_changes"] == 0 and body["as_of"]


def test_coverage_rollups_by_region_and_sector(scenario, partner):
    body = partner.get("/api/v1/coverage/").json()
    rows = coverage.coverage_rows()

    def as_json(rollup, key):
        return {
            key: rollup.key,
            "label": rollup.label,
            "cargo_type": rollup.cargo_type_code,
            "cargo_type_name": rollup.cargo_type_name,
            "unit": rollup.unit,
            "needed": f"{rollup.needed:.3f}",
            "covered": f"{rollup.covered:.3f}",
            "covered_pct": f"{rollup.covered_pct:.1f}",
            "gap": f"{rollup.gap:.3f}",
        }

    assert body["by_region"] == [as_json(r, "region") for r in coverage.coverage_by_region(rows)]
    assert body["by_sector"] == [as_json(r, "sector") for r in coverage.coverage_by_sector()]
    north_stoves = next(r for r in body["by_region"] if (r["region"], r["cargo_type"]) == ("N", "stove"))
    # 61 stoves reached North since the assessments: each counts once (S1 takes 36, the district 25).
    assert (north_stoves["needed"], north_stoves["covered"], north_stoves["label"]) == ("190.000", "61.000", "North")
    heating = next(r for r in body["by_sector"] if (r["sector"], r["cargo_type"]) == ("heating", "stove"))
    assert (heating["label"], heating["needed"]) == ("Heating", "110.000")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("location=N-D", {("N-D", "stove"), ("N-D-1", "stove"), ("N-D-1", "generator")}),
        ("location=S", {("S-1", "stove")}),
        ("cargo_type=generator", {("N-D-1", "generator")}),
        ("sector=housing", {("N", "timber")}),
        ("priority=critical", {("N-D-1", "generator")}),
        ("state=met", {("N-D-1", "generator"), ("N-D", "stove"), ("S-1", "stove")}),
        ("state=partial", {("N-D-1", "stove"), ("N", "timber")}),
        ("state=none", set()),
        ("location=N&cargo_type=stove&state=met", {("N-D", "stove")}),
        (
            "location=&sector=",
            {("N-D-1", "stove"), ("N-D-1", "generator"), ("N-D", "stove"), ("N", "timber"), ("S-1", "stove")},
        ),
    ],
)
def test_coverage_filters(scenario, partner, query, expected):
    response = partner.get(f"/api/v1/coverage/?{query}")
    assert response.status_code == 200
    assert pairs(response.json()) == expected


def test_coverage_filters_apply_to_the_rollups(scenario, partner, places, cargo):
    body = partner.get("/api/v1/coverage/?location=S").json()
    assert {(r["region"], r["cargo_type"]) for r in body["by_region"]} == {("S", "stove")}
    assert {(r["sector"], r["cargo_type"]) for r in body["by_sector"]} == {("heating", "stove")}
    assert body["by_sector"][0]["needed"] == "20.000"
    query = CoverageQuery(location=places["S"])
    assert [r.needed for r in coverage.coverage_by_sector(query)] == [Decimal("20.000")]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("location=ATLANTIS", "location"),
        ("location=N%00", "location"),
        ("cargo_type=gold", "cargo_type"),
        ("sector=space", "sector"),
        ("priority=urgent", "priority"),
        ("state=done", "state"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "csv", "hxl"])
def test_coverage_bad_parameters_get_400_naming_them(scenario, partner, query, param, fmt):
    response = partner.get(f"/api/v1/coverage/?{query}&format={fmt}")
    assert response.status_code == 400
    if fmt == "json":
        assert list(response.json()) == [param]
    else:
        assert list(csv.reader(io.StringIO(response.content.decode())))[1][0] == param


def test_coverage_unknown_format_is_a_404(scenario, partner):
    assert partner.get("/api/v1/coverage/?format=xlsx").status_code == 404


def test_coverage_csv_has_the_json_rows(scenario, partner):
    body = partner.get("/api/v1/coverage/").json()
    response = partner.get("/api/v1/coverage/?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == len(body["results"]) == 5
    for row, result in zip(rows, body["results"], strict=True):
        assert (row["Location code"], row["Region code"], row["Cargo type code"]) == (
            result["location"],
            result["region"],
            result["cargo_type"],
        )
        for header, key in [
            ("Needed", "needed"),
            ("Delivered", "delivered"),
            ("Gap", "gap"),
            ("Covered %", "covered_pct"),
        ]:
            assert Decimal(row[header]) == Decimal(result[key]) and row[header] == result[key]
        assert (row["State"], row["Assessed since"], int(row["Open needs"])) == (
            result["state"],
            result["assessed_since"],
            result["needs"],
        )


def test_coverage_hxl_is_parsed_by_libhxl(scenario, partner):
    body = partner.get("/api/v1/coverage/?location=N").json()
    text = partner.get("/api/v1/coverage/?location=N&format=hxl").content.decode()
    dataset = hxl.data(io.BytesIO(text.encode()), hxl.InputOptions(allow_local=True))
    tags = [str(column) for column in dataset.columns]
    for tag in [
        "#loc+code",
        "#loc+name",
        "#adm1+code",
        "#adm1+name",
        "#item+code",
        "#item+name",
        "#item+unit",
        "#output+num",
        "#x_needed+num",
        "#x_gap+num",
        "#x_coverage+pct",
        "#date+start",
    ]:
        assert tag in tags
    tagged = list(dataset)
    assert len(tagged) == len(body["results"]) == 4
    for row, result in zip(tagged, body["results"], strict=True):
        assert (row.get("#loc+code"), row.get("#adm1+code"), row.get("#item+code")) == (
            result["location"],
            result["region"],
            result["cargo_type"],
        )
        assert Decimal(row.get("#output")) == Decimal(result["delivered"])
        assert Decimal(row.get("#x_needed")) == Decimal(result["needed"])
        assert Decimal(row.get("#x_gap")) == Decimal(result["gap"])
        assert Decimal(row.get("#x_coverage")) == Decimal(result["covered_pct"])
        assert row.get("#date+start") == result["assessed_since"]  # ISO, not locale-formatted
        assert row.get("#item+unit") == result["unit"]


def test_a_new_delivery_shows_in_coverage_after_the_totals_refresh(scenario, partner, places, cargo, administrator):
    def s1_stove():
        body = partner.get("/api/v1/coverage/?location=N-D-1&cargo_type=stove").json()
        return body["results"][0]["delivered"], body["pending_changes"]

    assert s1_stove() == ("36.000", 0)
    deliver(administrator, places, places["SCHOOL"], D(2020, 11, 28), [(cargo["stove"], 60, 60)])
    delivered, pending = s1_stove()
    assert delivered == "36.000" and pending > 0  # not counted yet, and said so
    totals.refresh()
    assert s1_stove() == ("96.000", 0)


def test_coverage_with_nothing_assessed(partner, db):
    body = partner.get("/api/v1/coverage/").json()
    assert body == {"as_of": None, "pending_changes": 0, "results": [], "by_region": [], "by_sector": []}
    assert partner.get("/api/v1/coverage/?format=hxl").content.decode().splitlines()[1].startswith("#loc+code,")


# --- Needs -----------------------------------------------------------------------------------------


def test_needs_list_with_their_coverage(scenario, partner):
    body = partner.get("/api/v1/needs/").json()
    assert body["count"] == Need.objects.count() == 7
    by_pair = coverage.coverage_by_pair()
    for result in body["results"]:
        need = Need.objects.select_related("assessment__location", "cargo_type").get(pk=result["id"])
        assert result["assessment"] == need.assessment_id
        assert (result["location"], result["location_name"], result["sector"]) == (
            need.assessment.location.code,
            need.assessment.location.name,
            need.assessment.sector,
        )
        assert (result["cargo_type"], result["cargo_type_name"], result["unit"]) == (
            need.cargo_type.code,
            need.cargo_type.name,
            need.cargo_type.unit,
        )
        assert (result["quantity"], result["priority"], result["status"]) == (
            f"{need.quantity:.3f}",
            need.priority,
            need.status,
        )
        if need.status == "open":
            row = by_pair[(need.assessment.location_id, need.cargo_type_id)]
            assert result["coverage"] == {"state": row.state, "covered_pct": f"{row.covered_pct:.1f}"}
        else:
            assert result["coverage"] is None
    assert [r["assessed_on"] for r in body["results"]] == sorted(
        (r["assessed_on"] for r in body["results"]), reverse=True
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("location=N-D", {("N-D-1", "generator"), ("N-D-1", "stove"), ("N-D", "stove")}),
        ("sector=heating", {("N-D-1", "stove"), ("N-D", "stove"), ("S-1", "stove"), ("S-1", "generator")}),
        ("cargo_type=timber", {("N", "timber")}),
        ("priority=critical", {("N-D-1", "generator"), ("S-1", "generator")}),
        ("status=cancelled", {("S-1", "generator")}),
        ("coverage=met", {("N-D-1", "generator"), ("N-D", "stove"), ("S-1", "stove")}),
        ("coverage=partial&sector=energy", {("N-D-1", "stove")}),
    ],
)
def test_needs_filters(scenario, partner, query, expected):
    response = partner.get(f"/api/v1/needs/?{query}")
    assert response.status_code == 200
    assert {(r["location"], r["cargo_type"]) for r in response.json()["results"]} == expected


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/needs/?location=ATLANTIS", "location"),
        ("/api/v1/needs/?cargo_type=gold", "cargo_type"),
        ("/api/v1/needs/?coverage=all", "coverage"),
        ("/api/v1/needs/?priority=urgent", "priority"),
        ("/api/v1/needs/?page=0", "page"),
        ("/api/v1/assessments/?condition=fine", "condition"),
        ("/api/v1/assessments/?working_group=nobody", "working_group"),
        ("/api/v1/assessments/?date_from=yesterday", "date_from"),
        ("/api/v1/meetings/?working_group=nobody", "working_group"),
        ("/api/v1/meetings/?date_to=2020-13-01", "date_to"),
        ("/api/v1/meetings/?kind=party", "kind"),
    ],
)
def test_bad_list_parameters_get_400_naming_them(scenario, staff, path, param):
    response = staff.get(path)
    assert response.status_code == 400
    assert param in response.json()


def test_one_need(scenario, partner):
    need = Need.objects.get(cargo_type__code="timber")
    body = partner.get(f"/api/v1/needs/{need.pk}/").json()
    assert (body["id"], body["location"], body["quantity"], body["coverage"]) == (
        need.pk,
        "N",
        "30.000",
        {"state": "partial", "covered_pct": "30.0"},
    )
    assert partner.get("/api/v1/needs/999999/").status_code == 404


# --- Assessments -----------------------------------------------------------------------------------


def test_assessments_with_their_needs(scenario, staff, group):
    body = staff.get("/api/v1/assessments/").json()
    assert body["count"] == 5
    first = body["results"][0]  # newest first
    assert (first["location"], first["sector"], first["assessed_on"], first["open_needs"]) == (
        "N",
        "housing",
        "2020-11-25",
        1,
    )
    substation = next(r for r in body["results"] if r["facility"] == "Substation")
    assert (substation["working_group"], substation["location_name"]) == (group.code, "Settlement one")
    assert [(n["cargo_type"], n["quantity"], n["priority"]) for n in substation["needs"]] == [
        ("generator", "10.000", "critical"),
        ("stove", "100.000", "high"),
    ]
    assert [n["coverage"]["state"] for n in substation["needs"]] == ["met", "partial"]
    assert all(n["assessment"] == substation["id"] for n in substation["needs"])
    s3 = next(r for r in body["results"] if r["location"] == "S-1")
    assert s3["open_needs"] == 1 and [n["coverage"] for n in s3["needs"]][1] is None  # the cancelled need
    detail = staff.get(f"/api/v1/assessments/{substation['id']}/").json()
    assert detail == substation


def test_assessment_filters(scenario, staff, group):
    def locations(query):
        return sorted(r["location"] for r in staff.get(f"/api/v1/assessments/?{query}").json()["results"])

    assert locations("location=N-D") == ["N-D", "N-D-1", "N-D-1"]
    assert locations("sector=heating") == ["N-D", "N-D-1", "S-1"]
    assert locations(f"working_group={group.code}") == ["N-D-1"]
    assert locations("date_from=2020-11-20&date_to=2020-11-24") == ["N-D-1", "N-D-1"]
    assert locations("condition=destroyed") == []


# --- Working groups and meetings -------------------------------------------------------------------


def test_working_groups_and_their_members(group, staff, coordinator, ministry, partner_org):
    meeting = hold_meeting(coordinator, group, D(2020, 11, 16), [ministry, partner_org], actions=3)
    first = meeting.actions.order_by("id").first()
    action_item_close(by=coordinator, item_id=first.pk, closed_on=D(2020, 11, 18))
    body = staff.get("/api/v1/working-groups/").json()
    assert body["count"] == 1
    listed = body["results"][0]
    assert listed == {
        "code": "infra-wg",
        "name": "Infrastructure assessment",
        "mandate": "Assess the damage.",
        "sector": "energy",
        "area": "N",
        "area_name": "North",
        "lead_organisation": "ministry",
        "lead_organisation_name": ministry.name,
        "established_on": "2020-11-14",
        "closed_on": None,
        "member_count": 2,
        "meeting_count": 1,
        "open_action_items": 2,
        "overdue_action_items": 2,
    }
    detail = staff.get("/api/v1/working-groups/infra-wg/").json()
    assert {k: v for k, v in detail.items() if k != "memberships"} == listed
    assert [(m["organisation"], m["role"], m["person"], m["position"]) for m in detail["memberships"]] == [
        ("ministry", "chair", "", "Head of the ministry"),
        ("partner", "member", "A. Partner", ""),
    ]
    assert staff.get("/api/v1/working-groups/nobody/").status_code == 404
    assert staff.get("/api/v1/working-groups/a%00b/").status_code == 404


def test_meetings_with_decisions_attendees_and_action_items(group, staff, coordinator, ministry, partner_org):
    other = working_group_create(
        by=coordinator,
        data=WorkingGroupInput(
            name="Response centre", code="centre", lead_organisation=ministry, established_on=D(2020, 11, 14)
        ),
    )
    early = hold_meeting(coordinator, group, D(2020, 11, 16), [ministry, partner_org], actions=2)
    action_item_close(by=coordinator, item_id=early.actions.order_by("id").first().pk, closed_on=D(2020, 11, 17))
    hold_meeting(coordinator, group, D(2020, 11, 20), [partner_org], actions=0, title="Field visit")
    hold_meeting(coordinator, other, D(2020, 11, 18), [ministry], actions=1, title="Centre meeting")
    body = staff.get("/api/v1/meetings/").json()
    assert [m["held_on"] for m in body["results"]] == ["2020-11-20", "2020-11-18", "2020-11-16"]
    first = body["results"][2]
    assert (first["working_group"], first["working_group_name"], first["kind"], first["place"]) == (
        "infra-wg",
        "Infrastructure assessment",
        "meeting",
        "Response centre",
    )
    assert first["organisations"] == [
        {"code": "ministry", "name": ministry.name},
        {"code": "partner", "name": partner_org.name},
    ]
    assert first["attendees"] == ["Head of the ministry", "A. Partner (Partner agency)"]
    assert first["decisions"] == ["Send generators first", "Repair the substation"]
    assert first["minutes"] == "Reviewed the assessments."
    assert [
        (a["description"], a["status"], a["closed_on"], a["overdue"], a["owner"]) for a in first["action_items"]
    ] == [("Action 0", "done", "2020-11-17", False, "ministry"), ("Action 1", "open", None, True, "ministry")]

    def titles(query):
        return [m["title"] for m in staff.get(f"/api/v1/meetings/?{query}").json()["results"]]

    assert titles("working_group=centre") == ["Centre meeting"]
    assert titles("date_from=2020-11-17&date_to=2020-11-19") == ["Centre meeting"]
    assert titles("working_group=infra-wg&date_from=2020-11-17") == ["Field visit"]
    assert staff.get(f"/api/v1/meetings/{early.pk}/").json() == first
    assert staff.get("/api/v1/meetings/999999/").status_code == 404


def test_partners_read_coverage_and_needs_only(scenario, partner, group):
    need, assessment = Need.objects.first(), Need.objects.first().assessment
    assert partner.get("/api/v1/coverage/").status_code == 200
    assert partner.get(f"/api/v1/needs/{need.pk}/").status_code == 200
    for path in [f"/api/v1/assessments/{assessment.pk}/", "/api/v1/working-groups/infra-wg/", "/api/v1/meetings/"]:
        assert partner.get(path).status_code == 403, path
    assert partner.post("/api/v1/needs/", {}).status_code == 403


# --- Query counts ----------------------------------------------------------------------------------


def grow(coordinator, administrator, group, organisations, places, cargo, n):
    """`n` more assessed settlements with two needs each, a delivery to each, and `n` meetings."""
    for i in range(n):
        place = LocationFactory(code=f"N-D-X{i}", name=f"Extra {i}", level="settlement", parent=places["D"])
        assess(
            coordinator,
            place,
            D(2020, 11, 20),
            "water",
            [(cargo["gen"], 3, "high", "open"), (cargo["timber"], 7, "low", "open")],
        )
        deliver(administrator, places, place, D(2020, 11, 22), [(cargo["gen"], 2, 2)])
        hold_meeting(coordinator, group, D(2020, 11, 15) + datetime.timedelta(days=i), organisations, actions=2)
    totals.refresh()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/coverage/",
        "/api/v1/coverage/?location=N&format=hxl",
        "/api/v1/needs/",
        "/api/v1/needs/?coverage=partial&location=N",
        "/api/v1/assessments/",
        "/api/v1/working-groups/",
        "/api/v1/meetings/",
    ],
)
def test_query_count_does_not_grow_with_the_data(
    scenario,
    path,
    staff,
    coordinator,
    administrator,
    group,
    ministry,
    partner_org,
    places,
    cargo,
    django_assert_num_queries,
):
    hold_meeting(coordinator, group, D(2020, 11, 16), [ministry], actions=1)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff.get(path).status_code == 200
        return len(queries)

    few = count()
    extra_orgs = [OrganisationFactory() for _ in range(3)]
    grow(coordinator, administrator, group, [ministry, partner_org, *extra_orgs], places, cargo, 12)
    with django_assert_num_queries(few):
        response = staff.get(path)
    assert response.status_code == 200
    if not path.endswith("hxl"):
        body = response.json()
        assert len(body.get("results", [])) > 5 or "working-groups" in path


def test_a_need_alone_has_the_coverage_it_has_in_the_list(scenario, partner):
    """The detail computes only its place's rows; it must agree with the list, which computes all."""
    listed = {n["id"]: n["coverage"] for n in partner.get("/api/v1/needs/?page_size=1000").json()["results"]}
    assert any(listed.values()) and None in listed.values()  # open and cancelled needs both checked
    for need_id, listed_coverage in listed.items():
        assert partner.get(f"/api/v1/needs/{need_id}/").json()["coverage"] == listed_coverage
