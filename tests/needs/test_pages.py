"""The needs and working-group pages through HTTP: who may read and change what, and what each list costs."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from needs import services
from needs.models import ActionItem, Assessment, Meeting, WorkingGroup
from shipments import totals
from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory, make_shipment

pytestmark = pytest.mark.django_db

D = datetime.date
MEETING_DAY = ASSESSMENT_DAY = D(2020, 11, 20)


# --- records made through the services ------------------------------------------------------------


def make_group(by, lead, code="iawg", **extra) -> WorkingGroup:
    data = services.WorkingGroupInput(
        name=extra.pop("name", f"Group {code}"), code=code, lead_organisation=lead,
        established_on=extra.pop("established_on", D(2020, 11, 14)), **extra,
    )  # fmt: skip
    return services.working_group_create(by=by, data=data)


def make_meeting(by, group, actions=(), held_on=MEETING_DAY, **extra) -> Meeting:
    data = services.MeetingInput(
        working_group=group, held_on=held_on, title=extra.pop("title", "Coordination meeting"),
        actions=[services.ActionItemInput(description=d, owner=o, due_on=due) for d, o, due in actions], **extra,
    )  # fmt: skip
    return services.meeting_create(by=by, data=data)


def make_assessment(by, location, needs, on=ASSESSMENT_DAY, **extra) -> Assessment:
    data = services.AssessmentInput(
        location=location, sector=extra.pop("sector", "energy"), assessed_on=on,
        condition=extra.pop("condition", "severely_damaged"), severity=extra.pop("severity", 4),
        needs=[services.NeedInput(cargo_type=c, quantity=Decimal(q)) for c, q in needs], **extra,
    )  # fmt: skip
    return services.assessment_create(by=by, data=data)


@pytest.fixture
def town(region):
    return LocationFactory(code="R1-T", name="Town", level="settlement", parent=region)


@pytest.fixture
def records(coordinator, ministry, town, cargo_type):
    """A group with a member, a meeting with an open and an overdue action item, an assessment with a need."""
    group = make_group(coordinator, ministry)
    member = services.membership_add(
        by=coordinator, group_id=group.pk,
        data=services.MembershipInput(organisation=ministry, from_on=D(2020, 11, 14), person="Head of the centre"),
    )  # fmt: skip
    today = timezone.localdate()
    meeting = make_meeting(
        coordinator, group, held_on=today - datetime.timedelta(days=10), decisions="Send generators\nOpen a depot",
        actions=[("Deliver stoves", ministry, today + datetime.timedelta(days=5)),
                 ("Report on the substation", ministry, today - datetime.timedelta(days=2))],
    )  # fmt: skip
    assessment = make_assessment(coordinator, town, [(cargo_type, "100")], working_group=group)
    return {"group": group, "member": member, "meeting": meeting, "assessment": assessment}


def read_paths(records):
    group, assessment = records["group"], records["assessment"]
    return [
        "/needs/assessments/",
        f"/needs/assessments/{assessment.pk}/",
        "/needs/list/",
        "/needs/groups/",
        f"/needs/groups/{group.pk}/",
    ]


def change_paths(records):
    """Every form page (GET shows it, POST saves it)."""
    group, member, meeting, assessment = records["group"], records["member"], records["meeting"], records["assessment"]
    return [
        "/needs/assessments/new/",
        f"/needs/assessments/{assessment.pk}/edit/",
        "/needs/groups/new/",
        f"/needs/groups/{group.pk}/edit/",
        f"/needs/groups/{group.pk}/members/new/",
        f"/needs/groups/{group.pk}/members/{member.pk}/edit/",
        f"/needs/groups/{group.pk}/meetings/new/",
        f"/needs/meetings/{meeting.pk}/edit/",
    ]


def action_paths(records):
    """The POST-only buttons of the group page."""
    items = list(records["meeting"].actions.order_by("id"))
    return [f"/needs/meetings/actions/{items[0].pk}/close/", f"/needs/meetings/actions/{items[0].pk}/reopen/"]


# --- per role -------------------------------------------------------------------------------------


def test_officer_reads_every_page_without_edit_buttons(client, officer, records):
    client.force_login(officer)
    for path in read_paths(records):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.content.decode()
        assert "/edit/" not in page and "/new/" not in page, path
        assert "Mark done" not in page and "/close/" not in page, path


def test_officer_gets_403_on_every_form_and_button(client, officer, records):
    client.force_login(officer)
    for path in change_paths(records):
        assert client.get(path).status_code == 403, path
        assert client.post(path, {"name": "x", "title": "x"}).status_code == 403, path
    for path in action_paths(records):
        assert client.post(path, {"status": "done"}).status_code == 403, path
    assert not ActionItem.objects.exclude(status="open").exists()
    assert WorkingGroup.objects.count() == 1 and Meeting.objects.count() == 1 and Assessment.objects.count() == 1


@pytest.mark.parametrize("role", ["coordinator", "administrator"])
def test_coordinator_and_administrator_open_every_form_and_see_the_buttons(client, request, role, records):
    client.force_login(request.getfixturevalue(role))
    for path in change_paths(records):
        assert client.get(path).status_code == 200, path
    page = client.get(f"/needs/groups/{records['group'].pk}/").content.decode()
    assert "Mark done" in page and f"/needs/meetings/{records['meeting'].pk}/edit/" in page
    assert (
        f"/needs/assessments/{records['assessment'].pk}/edit/"
        in client.get(f"/needs/assessments/{records['assessment'].pk}/").content.decode()
    )


@pytest.mark.parametrize("role", ["coordinator", "administrator"])
def test_coordinator_and_administrator_mark_an_item_done(client, request, role, records):
    client.force_login(request.getfixturevalue(role))
    item = records["meeting"].actions.order_by("id").first()
    response = client.post(f"/needs/meetings/actions/{item.pk}/close/", {"status": "done"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.closed_on) == ("done", timezone.localdate())


def test_anonymous_is_sent_to_the_login_page(client, records):
    for path in read_paths(records) + change_paths(records):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
    for path in action_paths(records):
        response = client.post(path, {"status": "done"})
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
    assert not ActionItem.objects.exclude(status="open").exists()


def test_a_user_without_a_role_is_refused(client, django_user_model, records):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    for path in read_paths(records) + change_paths(records):
        assert client.get(path).status_code == 403, path


def test_nav_shows_needs_and_working_groups_to_staff(client, officer, records):
    client.force_login(officer)
    page = client.get("/needs/groups/").content.decode()
    assert 'href="/needs/"' in page and 'href="/needs/coordination/"' in page  # the dashboards lead to the lists
    dashboards = client.get("/needs/").content.decode() + client.get("/needs/coordination/").content.decode()
    assert 'href="/needs/list/"' in dashboards and 'href="/needs/groups/"' in dashboards


# --- what the pages show --------------------------------------------------------------------------


def test_group_detail_shows_members_meetings_decisions_and_overdue_items(client, officer, records):
    client.force_login(officer)
    response = client.get(f"/needs/groups/{records['group'].pk}/")
    page = response.content.decode()
    assert "Head of the centre" in page and "Send generators" in page and "Open a depot" in page
    overdue = [item for item in response.context["open_items"] if item.is_overdue]
    assert [item.description for item in overdue] == ["Report on the substation"]
    assert response.context["open_items"][0].description == "Report on the substation"  # overdue first
    assert page.count("data-overdue") == 2  # in the open items and under its meeting
    assert "Overdue" in page


def test_group_list_counts(client, officer, coordinator, records):
    make_meeting(coordinator, records["group"])
    client.force_login(officer)
    group = client.get("/needs/groups/").context["page"][0]
    assert (group.member_count, group.meeting_count, group.open_items, group.overdue_items) == (1, 2, 2, 1)


def test_meetings_are_listed_newest_first(client, officer, coordinator, records):
    make_meeting(coordinator, records["group"], held_on=D(2020, 11, 15), title="Founding meeting")
    client.force_login(officer)
    meetings = client.get(f"/needs/groups/{records['group'].pk}/").context["meetings"]
    assert [m.title for m in meetings] == ["Coordination meeting", "Founding meeting"]


def test_assessment_list_filters(client, officer, coordinator, region, town, cargo_type, records):
    elsewhere = LocationFactory(code="X1", name="Elsewhere", level="settlement")
    other = make_assessment(coordinator, elsewhere, [(cargo_type, "5")], on=D(2020, 11, 25), sector="water",
                            condition="destroyed")  # fmt: skip
    client.force_login(officer)

    def ids(query):
        response = client.get(f"/needs/assessments/?{query}")
        assert response.status_code == 200
        return {a.pk for a in response.context["page"]}

    first = records["assessment"].pk
    assert ids("") == {first, other.pk}
    assert ids("location=R1") == {first}  # the town lies under the region
    assert ids("sector=water") == {other.pk}
    assert ids("condition=severely_damaged") == {first}
    assert ids("working_group=iawg") == {first}
    assert ids("date_from=2020-11-21") == {other.pk}
    assert ids("date_to=2020-11-20") == {first}


def test_need_list_shows_coverage_and_filters_by_it(client, officer, coordinator, administrator, town, cargo_type):
    gen = CargoTypeFactory(code="gen", name="Generators", unit="pcs")
    timber = CargoTypeFactory(code="timber", name="Timber", unit="t")
    assessment = make_assessment(coordinator, town, [(cargo_type, "100"), (gen, "4"), (timber, "10")])
    make_shipment(by=administrator, destination=town, dispatched_on=D(2020, 11, 21), status="delivered",
                  lines=[(cargo_type, "40", "2"), (gen, "4", "3")])  # fmt: skip
    totals.refresh()
    client.force_login(officer)
    response = client.get("/needs/list/")
    states = {need.cargo_type.code: need.coverage.state for need in response.context["page"]}
    assert states == {"stove": "partial", "gen": "met", "timber": "none"}
    page = response.content.decode()
    assert "40 / 100 pcs" in page and "40&nbsp;%" in page and "Met" in page
    assert {n.cargo_type.code for n in client.get("/needs/list/?coverage=met").context["page"]} == {"gen"}
    assert {n.cargo_type.code for n in client.get("/needs/list/?coverage=none").context["page"]} == {"timber"}
    assert {n.cargo_type.code for n in client.get("/needs/list/?cargo_type=gen&location=R1").context["page"]} == {"gen"}
    detail = client.get(f"/needs/assessments/{assessment.pk}/")
    assert [need.coverage.state for need in detail.context["needs"]] == ["partial", "met", "none"]


def test_need_list_filters(client, officer, coordinator, town, cargo_type):
    gen = CargoTypeFactory(code="gen")
    make_assessment(coordinator, town, [(cargo_type, "1")], sector="heating")
    water = make_assessment(coordinator, LocationFactory(code="X2"), [(gen, "2")], sector="water")
    need = water.needs.get()
    services.need_set_status(by=coordinator, need_id=need.pk, status="cancelled")
    client.force_login(officer)

    def codes(query):
        return {n.cargo_type.code for n in client.get(f"/needs/list/?{query}").context["page"]}

    assert codes("") == {"stove", "gen"}
    assert codes("location=R1") == {"stove"}
    assert codes("sector=water") == {"gen"}
    assert codes("cargo_type=stove") == {"stove"}
    assert codes("status=cancelled") == {"gen"}
    assert codes("priority=medium") == {"stove", "gen"}
    assert codes("priority=critical") == set()


def test_assessment_detail_shows_history_of_the_assessment_and_its_needs(client, coordinator, records):
    assessment = records["assessment"]
    need = assessment.needs.get()
    services.need_set_status(by=coordinator, need_id=need.pk, status="cancelled")
    client.force_login(coordinator)
    history = client.get(f"/needs/assessments/{assessment.pk}/").context["history"]
    assert history[0]["subject"] == "Need: Stoves" and history[0]["changes"] == [("status", "Open", "Cancelled")]
    assert {entry["reason"] for entry in history} >= {"Created", "Cancelled"}


# --- query counts ---------------------------------------------------------------------------------


def more_assessments(n, by, places, cargo):
    for i in range(n):
        needs = [(cargo[i % len(cargo)], "10"), (cargo[(i + 1) % len(cargo)], "5")]
        make_assessment(by, places[i % len(places)], needs, working_group=WorkingGroup.objects.first())


def more_group_records(n, by, group, orgs):
    for i in range(n):
        actions = [(f"Item {i}-{j}", orgs[j % len(orgs)], D(2020, 11, 25 + j)) for j in range(3)]
        make_meeting(by, group, held_on=D(2020, 11, 15 + i % 10), title=f"Meeting {i}",
                     organisations=orgs[: 1 + i % len(orgs)], actions=actions)  # fmt: skip
        services.membership_add(by=by, group_id=group.pk, data=services.MembershipInput(
            organisation=orgs[i % len(orgs)], from_on=D(2020, 11, 14), person=f"Person {i}"))  # fmt: skip


@pytest.fixture
def grow(coordinator, administrator, records, region, town, cargo_type):
    """Adds many more rows of every kind, with deliveries so coverage has something to count."""
    places = [town, LocationFactory(code="R1-V", name="Village", parent=region), LocationFactory(code="R2")]
    cargo = [cargo_type, CargoTypeFactory(code="gen"), CargoTypeFactory(code="timber")]
    orgs = [OrganisationFactory() for _ in range(4)]

    def add(n=20):
        more_assessments(n, coordinator, places, cargo)
        more_group_records(n, coordinator, records["group"], orgs)
        for i in range(3):
            make_group(coordinator, orgs[i], code=f"g{WorkingGroup.objects.count()}-{i}", area=places[i])
        make_shipment(by=administrator, destination=places[1], dispatched_on=D(2020, 11, 22), status="delivered",
                      lines=[(cargo[0], "10", "1"), (cargo[1], "3", "1")])  # fmt: skip
        totals.refresh()

    return add


@pytest.mark.parametrize(
    "path",
    [
        "/needs/assessments/",
        "/needs/assessments/?location=R1&sector=energy",
        "/needs/list/",
        "/needs/list/?location=R1&coverage=partial",
        "/needs/groups/",
        "group_detail",
    ],
)
def test_query_count_does_not_grow_with_the_data(client, officer, records, grow, path, django_assert_num_queries):
    if path == "group_detail":
        path = f"/needs/groups/{records['group'].pk}/"
    client.force_login(officer)

    def shown(response):
        return len(response.context["meetings"] if "meetings" in response.context else response.context["page"])

    grow(2)
    with CaptureQueriesContext(connection) as ctx:
        few_rows = shown(client.get(path))
    grow(20)
    with django_assert_num_queries(len(ctx)):
        response = client.get(path)
    assert response.status_code == 200
    assert shown(response) > few_rows
