"""The needs forms through HTTP: assessments with need lines, meetings with action items, groups and members."""

import datetime
import uuid

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format

from needs import services
from needs.models import ActionItem, Assessment, Meeting, Membership, Need, WorkingGroup
from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory, UserFactory

from .test_pages import make_assessment, make_group, make_meeting

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def town(region):
    return LocationFactory(code="R1-T", name="Town", level="settlement", parent=region)


@pytest.fixture
def cargo(cargo_type):
    return [cargo_type, CargoTypeFactory(code="gen", name="Generators"), CargoTypeFactory(code="bm", name="Timber")]


def management(prefix, lines, initial=0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(len(lines)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def lines_data(prefix, lines) -> dict:
    return {f"{prefix}-{i}-{key}": value for i, line in enumerate(lines) for key, value in line.items()}


def assessment_data(town, needs, **extra) -> dict:
    data = {
        "location": town.pk,
        "facility": "Substation No. 2",
        "sector": "energy",
        "working_group": "",
        "assessed_on": "2020-11-20",
        "condition": "severely_damaged",
        "severity": "4",
        "people_affected": "1200",
        "summary": "Transformer destroyed",
        **management("needs", needs),
        **lines_data("needs", needs),
    }
    data.update(extra)
    return data


def two_needs(cargo):
    return [
        {"cargo_type": cargo[0].pk, "quantity": "150", "priority": "high", "needed_by": "", "status": "open"},
        {"cargo_type": cargo[1].pk, "quantity": "4", "priority": "critical", "needed_by": "2020-12-01",
         "status": "open"},
    ]  # fmt: skip


def line_chunks(page: str, marker: str) -> list[str]:
    """The HTML of each formset line, in order (each line starts with its data-testid)."""
    return page.split(f'data-testid="{marker}"')[1:]


# --- assessments ----------------------------------------------------------------------------------


def test_coordinator_records_an_assessment_with_need_lines(client, coordinator, town, cargo):
    client.force_login(coordinator)
    form = client.get("/needs/assessments/new/")
    assert form.status_code == 200 and len(form.context["formset"].forms) == 1  # one blank line to start
    response = client.post(
        "/needs/assessments/new/", assessment_data(town, two_needs(cargo), submission_key=uuid.uuid4())
    )
    assessment = Assessment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/needs/assessments/{assessment.pk}/"
    assert (assessment.facility, assessment.severity, assessment.people_affected) == ("Substation No. 2", 4, 1200)
    assert [(n.cargo_type.code, n.quantity, n.priority) for n in assessment.needs.order_by("id")] == [
        ("stove", 150, "high"),
        ("gen", 4, "critical"),
    ]
    page = client.get(response["Location"]).content.decode()
    assert "Substation No. 2" in page and "Generators" in page and "Not covered" in page


def test_an_error_on_line_2_is_shown_by_that_line_and_nothing_is_saved(client, coordinator, town, cargo):
    client.force_login(coordinator)
    needs = two_needs(cargo)
    needs[1]["needed_by"] = "2020-11-01"  # before the assessment: refused by the service, keyed needs-1-needed_by
    response = client.post("/needs/assessments/new/", assessment_data(town, needs))
    assert response.status_code == 200
    assert Assessment.objects.count() == 0 and Need.objects.count() == 0
    formset = response.context["formset"]
    assert list(formset.forms[1].errors) == ["needed_by"] and not formset.forms[0].errors
    chunks = line_chunks(response.content.decode(), "need-line")
    assert len(chunks) == 3  # the two lines, then the template of a new one
    message = "A need cannot be due before it was assessed."
    assert message in chunks[1] and message not in chunks[0]
    assert 'value="Substation No. 2"' in response.content.decode()  # what the user typed is kept


def test_a_form_error_on_line_2_is_shown_by_that_line(client, coordinator, town, cargo):
    client.force_login(coordinator)
    needs = two_needs(cargo)
    needs[1]["quantity"] = "many"
    response = client.post("/needs/assessments/new/", assessment_data(town, needs))
    assert response.status_code == 200 and Assessment.objects.count() == 0
    assert "quantity" in response.context["formset"].forms[1].errors
    assert "Enter a number." in line_chunks(response.content.decode(), "need-line")[1]


def test_a_zero_quantity_is_refused_by_the_line(client, coordinator, town, cargo):
    client.force_login(coordinator)
    needs = two_needs(cargo)
    needs[1]["quantity"] = "0"
    response = client.post("/needs/assessments/new/", assessment_data(town, needs))
    assert Need.objects.count() == 0
    assert "The quantity must be more than 0." in line_chunks(response.content.decode(), "need-line")[1]


def test_the_same_form_posted_twice_creates_one_assessment(client, coordinator, town, cargo):
    client.force_login(coordinator)
    data = assessment_data(town, two_needs(cargo), submission_key=str(uuid.uuid4()))
    first = client.post("/needs/assessments/new/", data)
    second = client.post("/needs/assessments/new/", data)
    assert Assessment.objects.count() == 1 and Need.objects.count() == 2
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]


def test_add_a_line_without_javascript_shows_one_more_line_and_saves_nothing(client, coordinator, town, cargo):
    client.force_login(coordinator)
    response = client.post("/needs/assessments/new/", assessment_data(town, two_needs(cargo)[:1], add_line="1"))
    assert response.status_code == 200
    assert len(response.context["formset"].forms) == 2 and Assessment.objects.count() == 0


def test_remove_a_line_by_its_checkbox_and_skip_a_blank_line(client, coordinator, town, cargo):
    client.force_login(coordinator)
    needs = [*two_needs(cargo), {"cargo_type": "", "quantity": "", "priority": "medium", "status": "open"}]
    needs[0]["DELETE"] = "on"
    assert client.post("/needs/assessments/new/", assessment_data(town, needs)).status_code == 302
    assert [n.cargo_type.code for n in Assessment.objects.get().needs.all()] == ["gen"]


def edit_data(assessment, **changes) -> dict:
    needs = [
        {"id": n.pk, "cargo_type": n.cargo_type_id, "quantity": str(n.quantity), "priority": n.priority,
         "needed_by": n.needed_by.isoformat() if n.needed_by else "", "status": n.status}
        for n in assessment.needs.order_by("id")
    ]  # fmt: skip
    data = assessment_data(assessment.location, needs, version=str(assessment.version))
    data.update({"needs-INITIAL_FORMS": str(len(needs)), "facility": assessment.facility, **changes})
    data.pop("submission_key", None)
    return data


def test_edit_changes_adds_and_removes_need_lines(client, coordinator, town, cargo):
    assessment = make_assessment(coordinator, town, [(cargo[0], "10"), (cargo[1], "2")])
    client.force_login(coordinator)
    data = edit_data(assessment, **{"needs-0-quantity": "12", "needs-1-DELETE": "on", "needs-TOTAL_FORMS": "3"})
    data.update({"needs-2-cargo_type": cargo[2].pk, "needs-2-quantity": "30", "needs-2-priority": "low",
                 "needs-2-status": "open"})  # fmt: skip
    response = client.post(f"/needs/assessments/{assessment.pk}/edit/", data)
    assert response.status_code == 302
    assert [(n.cargo_type.code, n.quantity) for n in assessment.needs.order_by("id")] == [("stove", 12), ("bm", 30)]
    assessment.refresh_from_db()
    assert assessment.version == 2


def test_edit_conflict_is_refused_with_who_and_when(client, coordinator, ministry, town, cargo):
    colleague = UserFactory(username="colleague", first_name="Anna", last_name="Petrosyan", organisation=ministry,
                            role="coordinator")  # fmt: skip
    assessment = make_assessment(coordinator, town, [(cargo[0], "10")], facility="School No. 1")
    opened = edit_data(assessment, facility="Mine")  # the form as the coordinator opened it

    client.force_login(colleague)
    assert (
        client.post(f"/needs/assessments/{assessment.pk}/edit/", edit_data(assessment, facility="Theirs")).status_code
        == 302
    )

    client.force_login(coordinator)
    response = client.post(f"/needs/assessments/{assessment.pk}/edit/", opened)
    assert response.status_code == 200
    message = " ".join(response.context["form"].non_field_errors())
    assert "Anna Petrosyan" in message and "after you opened it" in message
    assert 'data-testid="form-errors"' in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.facility == "Theirs"


# --- meetings and action items --------------------------------------------------------------------


@pytest.fixture
def group(coordinator, ministry):
    return make_group(coordinator, ministry)


def meeting_data(actions, orgs=(), **extra) -> dict:
    data = {
        "title": "Meeting with the head of government",
        "held_on": "2020-11-20",
        "kind": "official_visit",
        "place": "Stepanakert",
        "organisations": [org.pk for org in orgs],
        "attendees": "Head of the ministry\nHead of government",
        "minutes": "Discussed the winter.",
        "decisions": "Deliver generators to the hospital\nRestore the water supply",
        **management("actions", actions),
        **lines_data("actions", actions),
    }
    data.update(extra)
    return data


def test_coordinator_records_a_meeting_with_two_action_items(client, coordinator, group, ministry):
    partner = OrganisationFactory(code="water", name="Water utility")
    client.force_login(coordinator)
    assert client.get(f"/needs/groups/{group.pk}/meetings/new/").status_code == 200
    actions = [
        {"description": "Deliver 10 generators", "owner": ministry.pk, "due_on": "2020-11-25"},
        {"description": "Survey the pumping station", "owner": partner.pk, "due_on": ""},
    ]
    response = client.post(f"/needs/groups/{group.pk}/meetings/new/", meeting_data(actions, orgs=[ministry, partner]))
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/needs/groups/{group.pk}/#meeting-{meeting.pk}"
    assert set(meeting.organisations.all()) == {ministry, partner}
    assert meeting.decision_list == ["Deliver generators to the hospital", "Restore the water supply"]
    assert [(a.description, a.owner, a.status) for a in meeting.actions.order_by("id")] == [
        ("Deliver 10 generators", ministry, "open"),
        ("Survey the pumping station", partner, "open"),
    ]
    page = client.get(f"/needs/groups/{group.pk}/").content.decode()
    assert "Restore the water supply" in page and "Survey the pumping station" in page and "Head of government" in page


def test_an_action_item_error_is_shown_by_its_line_and_nothing_is_saved(client, coordinator, group, ministry):
    client.force_login(coordinator)
    actions = [
        {"description": "Deliver 10 generators", "owner": ministry.pk, "due_on": "2020-11-25"},
        {"description": "Survey the pumping station", "owner": ministry.pk, "due_on": "2020-11-01"},
    ]
    response = client.post(f"/needs/groups/{group.pk}/meetings/new/", meeting_data(actions))
    assert response.status_code == 200
    assert Meeting.objects.count() == 0 and ActionItem.objects.count() == 0
    assert list(response.context["formset"].forms[1].errors) == ["due_on"]
    chunks = line_chunks(response.content.decode(), "action-line")
    assert "The due date cannot be before the meeting." in chunks[1]
    assert "The due date cannot be before the meeting." not in chunks[0]


def test_meeting_add_line_without_javascript(client, coordinator, group):
    client.force_login(coordinator)
    response = client.post(f"/needs/groups/{group.pk}/meetings/new/", meeting_data([], add_line="1"))
    assert response.status_code == 200 and len(response.context["formset"].forms) == 1
    assert Meeting.objects.count() == 0


def test_meeting_edit_changes_and_removes_items_and_keeps_closed_ones_closed(client, coordinator, group, ministry):
    meeting = make_meeting(coordinator, group, actions=[("First", ministry, None), ("Second", ministry, None),
                                                        ("Third", ministry, None)])  # fmt: skip
    first, second, third = meeting.actions.order_by("id")
    services.action_item_close(by=coordinator, item_id=third.pk, closed_on=D(2020, 11, 21))
    client.force_login(coordinator)
    form = client.get(f"/needs/meetings/{meeting.pk}/edit/")
    assert "stays closed" in form.content.decode()
    actions = [
        {"id": first.pk, "description": "First, changed", "owner": ministry.pk, "due_on": ""},
        {"id": second.pk, "description": "Second", "owner": ministry.pk, "due_on": "", "DELETE": "on"},
        {"id": third.pk, "description": "Third", "owner": ministry.pk, "due_on": ""},
    ]
    version = form.context["form"].initial["version"]
    data = meeting_data(actions, title="Renamed", version=version, **{"actions-INITIAL_FORMS": "3"})
    assert client.post(f"/needs/meetings/{meeting.pk}/edit/", data).status_code == 302
    meeting.refresh_from_db()
    assert meeting.title == "Renamed"
    assert [(a.description, a.status) for a in meeting.actions.order_by("id")] == [
        ("First, changed", "open"),
        ("Third", "done"),
    ]


def test_a_meeting_form_opened_before_an_item_was_marked_done_is_refused(client, coordinator, group, ministry):
    meeting = make_meeting(coordinator, group, actions=[("Deliver stoves", ministry, None)])
    item = meeting.actions.get()
    client.force_login(coordinator)
    version = client.get(f"/needs/meetings/{meeting.pk}/edit/").context["form"].initial["version"]
    opened = meeting_data(
        [{"id": item.pk, "description": "Deliver 50 stoves", "owner": ministry.pk, "due_on": ""}],
        version=version,
        **{"actions-INITIAL_FORMS": "1"},
    )
    closer = UserFactory(username="closer", first_name="Lena", last_name="Orlova", role="coordinator")
    other = Client()
    other.force_login(closer)
    other.post(f"/needs/meetings/actions/{item.pk}/close/", {"status": "done"})
    response = client.post(f"/needs/meetings/{meeting.pk}/edit/", opened)
    assert response.status_code == 200
    # The message names who made the form stale: whoever closed the item, not the meeting's author.
    message = " ".join(response.context["form"].non_field_errors())
    assert "Lena Orlova changed this record" in message and "after you opened it" in message
    item.refresh_from_db()
    assert (item.description, item.status) == ("Deliver stoves", "done")


def test_items_of_a_meeting_not_yet_held_cannot_be_closed_until_its_day(client, coordinator, group, ministry):
    held_on = timezone.localdate() + datetime.timedelta(days=3)
    meeting = make_meeting(coordinator, group, held_on=held_on, actions=[("Deliver stoves", ministry, None)])
    item = meeting.actions.get()
    client.force_login(coordinator)
    page = client.get(f"/needs/groups/{group.pk}/").content.decode()
    assert f"/needs/meetings/actions/{item.pk}/close/" not in page  # no buttons that can only fail
    assert "can be closed from" in page
    response = client.post(f"/needs/meetings/actions/{item.pk}/close/", {"status": "done"}, follow=True)
    errors = [str(m) for m in response.context["messages"]]
    assert errors == [f"The meeting is on {date_format(held_on)}: its action items can be closed from that day."]
    item.refresh_from_db()
    assert (item.status, item.closed_on) == ("open", None)


@pytest.mark.parametrize("status", ["done", "dropped"])
def test_marking_an_item_done_or_dropped_from_the_group_page(client, coordinator, group, ministry, status):
    today = timezone.localdate()
    meeting = make_meeting(coordinator, group, held_on=today, actions=[("Deliver stoves", ministry, today)])
    item = meeting.actions.get()
    client.force_login(coordinator)
    response = client.post(f"/needs/meetings/actions/{item.pk}/close/", {"status": status}, follow=True)
    assert response.redirect_chain[-1][0] == f"/needs/groups/{group.pk}/#meeting-{meeting.pk}"
    item.refresh_from_db()
    assert (item.status, item.closed_on) == (status, today)
    page = response.content.decode()
    assert f'data-status="{status}"' in page and "No open action items." in page

    # Closing it again is refused with a message, not a server error; reopening puts it back.
    again = client.post(f"/needs/meetings/actions/{item.pk}/close/", {"status": "done"}, follow=True)
    assert "This action item is closed already." in again.content.decode()
    client.post(f"/needs/meetings/actions/{item.pk}/reopen/")
    item.refresh_from_db()
    assert (item.status, item.closed_on) == ("open", None)


def test_closing_needs_post(client, coordinator, group, ministry):
    meeting = make_meeting(coordinator, group, actions=[("Deliver stoves", ministry, None)])
    client.force_login(coordinator)
    assert client.get(f"/needs/meetings/actions/{meeting.actions.get().pk}/close/").status_code == 405


def test_overdue_items_are_shown_as_overdue(client, officer, coordinator, group, ministry):
    today = timezone.localdate()
    make_meeting(coordinator, group, held_on=today - datetime.timedelta(days=30), actions=[
        ("Late item", ministry, today - datetime.timedelta(days=1)),
        ("Due today", ministry, today),
        ("No date", ministry, None),
    ])  # fmt: skip
    client.force_login(officer)
    response = client.get(f"/needs/groups/{group.pk}/")
    page = response.content.decode()
    open_list = page.split('data-testid="open-items"')[1].split("</ul>")[0]
    items = open_list.split('data-testid="action-item"')[1:]
    assert [("Late item" in i, "data-overdue" in i, "Overdue" in i) for i in items] == [
        (True, True, True),
        (False, False, False),
        (False, False, False),
    ]
    listed = client.get("/needs/groups/").context["page"][0]
    assert (listed.open_items, listed.overdue_items) == (3, 1)


# --- working groups and members -------------------------------------------------------------------


def test_coordinator_creates_and_edits_a_working_group(client, coordinator, ministry, region):
    client.force_login(coordinator)
    data = {"name": "Infrastructure assessment group", "code": "infra", "sector": "energy", "area": region.pk,
            "lead_organisation": ministry.pk, "established_on": "2020-11-14", "closed_on": "",
            "mandate": "Assess"}  # fmt: skip
    response = client.post("/needs/groups/new/", data)
    group = WorkingGroup.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/needs/groups/{group.pk}/"
    assert (group.code, group.area, group.lead_organisation) == ("infra", region, ministry)
    opened = client.get(f"/needs/groups/{group.pk}/edit/").context["form"].initial["version"]
    data.update(name="Renamed", closed_on="2020-11-10", version=opened)  # closing before it was established
    response = client.post(f"/needs/groups/{group.pk}/edit/", data)
    assert response.context["form"].errors == {"closed_on": ["A group cannot close before it was established."]}
    data["closed_on"] = "2021-01-31"
    assert client.post(f"/needs/groups/{group.pk}/edit/", data).status_code == 302
    group.refresh_from_db()
    assert (group.name, group.closed_on) == ("Renamed", D(2021, 1, 31))
    # The same form posted again is now stale: refused, saying who changed the group.
    data["mandate"] = "Overwrite"
    response = client.post(f"/needs/groups/{group.pk}/edit/", data)
    assert response.status_code == 200 and "after you opened it" in str(response.context["form"].non_field_errors())
    group.refresh_from_db()
    assert group.mandate == "Assess"
    # An edit form posted without its version is refused too, not saved unchecked.
    del data["version"]
    assert "version" in client.post(f"/needs/groups/{group.pk}/edit/", data).context["form"].errors


def test_a_duplicate_group_code_is_shown_by_the_field(client, coordinator, ministry, group):
    client.force_login(coordinator)
    data = {"name": "Another", "code": group.code, "lead_organisation": ministry.pk, "established_on": "2020-11-14"}
    response = client.post("/needs/groups/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors == {"code": ["A working group with this code exists already."]}
    assert WorkingGroup.objects.count() == 1


def test_coordinator_adds_and_edits_a_member(client, coordinator, ministry, group):
    client.force_login(coordinator)
    data = {"organisation": ministry.pk, "person": "", "position": "", "role": "chair", "from_on": "2020-11-14"}
    response = client.post(f"/needs/groups/{group.pk}/members/new/", data)
    assert response.status_code == 200 and "person" in response.context["form"].errors  # a person or a position
    data["position"] = "Minister"
    response = client.post(f"/needs/groups/{group.pk}/members/new/", data)
    assert response.status_code == 302 and response["Location"] == f"/needs/groups/{group.pk}/#members"
    member = Membership.objects.get()
    opened = client.get(f"/needs/groups/{group.pk}/members/{member.pk}/edit/").context["form"].initial["version"]
    data.update(role="observer", to_on="2020-12-31", version=opened)
    assert client.post(f"/needs/groups/{group.pk}/members/{member.pk}/edit/", data).status_code == 302
    member.refresh_from_db()
    assert (member.role, member.to_on) == ("observer", D(2020, 12, 31))
    other = make_group(coordinator, ministry, code="other")
    assert client.get(f"/needs/groups/{other.pk}/members/{member.pk}/edit/").status_code == 404
