"""The needs services: permissions per role, validation by field and line, atomic writes, history.

Every test asserts what is (or is not) in the database afterwards, not only the exception.
"""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from aidtrack import roles
from needs import coverage, services
from needs.models import ActionItem, Assessment, Meeting, Membership, Need, WorkingGroup
from needs.services import (
    ActionItemInput,
    AssessmentInput,
    EditConflict,
    MeetingInput,
    MembershipInput,
    NeedInput,
    WorkingGroupInput,
)
from shipments import totals

from ..factories import CargoTypeFactory, LocationFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

MODELS = [WorkingGroup, Membership, Meeting, ActionItem, Assessment, Need]


def nov(day: int) -> datetime.date:
    return datetime.date(2020, 11, day)


def today() -> datetime.date:
    return timezone.localdate()


def tomorrow() -> datetime.date:
    return today() + datetime.timedelta(days=1)


def everything() -> dict:
    """Every row a needs service could write, with its history and the meetings' organisations."""
    state = {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}
    state.update({f"{model.__name__} history": model.history.count() for model in MODELS})
    state["meeting organisations"] = list(Meeting.organisations.through.objects.order_by("pk").values())
    return state


def error_keys(excinfo) -> set[str]:
    return set(excinfo.value.message_dict)


# --- inputs -------------------------------------------------------------------------------------


def group_input(lead, **overrides) -> WorkingGroupInput:
    fields = {"name": "Infrastructure working group", "code": "infra", "lead_organisation": lead,
              "established_on": nov(17), **overrides}  # fmt: skip
    return WorkingGroupInput(**fields)


def membership_input(org, **overrides) -> MembershipInput:
    return MembershipInput(**{"organisation": org, "from_on": nov(17), "position": "Shelter coordinator", **overrides})


def meeting_input(group, *, actions=(), **overrides) -> MeetingInput:
    fields = {"working_group": group, "held_on": nov(20), "title": "Weekly meeting", **overrides}
    return MeetingInput(**fields, actions=list(actions))


def action(owner, description="Send the assessment teams", due_on=None, item_id=None) -> ActionItemInput:
    return ActionItemInput(description=description, owner=owner, due_on=due_on, id=item_id)


def need(cargo_type, quantity="10", need_id=None, **overrides) -> NeedInput:
    return NeedInput(cargo_type=cargo_type, quantity=Decimal(quantity), id=need_id, **overrides)


def assessment_input(location, *, needs=(), **overrides) -> AssessmentInput:
    fields = {"location": location, "sector": "heating", "assessed_on": nov(20), "condition": "severely_damaged",
              "severity": 4, **overrides}  # fmt: skip
    return AssessmentInput(**fields, needs=list(needs))


def edit_input(assessment: Assessment, *, needs=None, **changes) -> AssessmentInput:
    """What an edit form would post: the assessment as stored, with `changes` and optionally new `needs`."""
    assessment = Assessment.objects.get(pk=assessment.pk)
    current = [
        need(n.cargo_type, n.quantity, need_id=n.pk, priority=n.priority, needed_by=n.needed_by, status=n.status)
        for n in assessment.needs.order_by("id")
    ]
    fields = {name: getattr(assessment, name) for name in services.ASSESSMENT_FIELDS}
    return AssessmentInput(**{**fields, **changes}, needs=current if needs is None else needs)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def partner(db):
    return OrganisationFactory(code="unhcr", name="UN Refugee Agency")


@pytest.fixture
def place(db):
    return LocationFactory(code="S-1", name="Stepanakert")


@pytest.fixture
def stoves(cargo_type):
    return cargo_type


@pytest.fixture
def generators(db):
    return CargoTypeFactory(code="generator", name="Generators", unit="pcs")


@pytest.fixture
def group(coordinator, ministry):
    return services.working_group_create(by=coordinator, data=group_input(ministry))


@pytest.fixture
def membership(coordinator, group, partner):
    return services.membership_add(by=coordinator, group_id=group.pk, data=membership_input(partner))


@pytest.fixture
def meeting(coordinator, group, ministry, partner):
    """A meeting with two open action items, due on 22 and 25 November."""
    data = meeting_input(
        group,
        organisations=[ministry, partner],
        actions=[action(ministry, "Send the teams", nov(22)), action(partner, "Count the households", nov(25))],
    )
    return services.meeting_create(by=coordinator, data=data)


@pytest.fixture
def item(meeting):
    return meeting.actions.order_by("id").first()


@pytest.fixture
def closed_item(coordinator, meeting):
    last = meeting.actions.order_by("id").last()
    return services.action_item_close(by=coordinator, item_id=last.pk, closed_on=nov(24))


@pytest.fixture
def assessment(coordinator, place, stoves, generators):
    data = assessment_input(place, needs=[need(stoves, "100", priority="high"), need(generators, "5")])
    return services.assessment_create(by=coordinator, data=data)


# --- permissions per role -----------------------------------------------------------------------

# Each write service, called with valid input on the fixtures `world` sets up.
WRITES = {
    "working_group_create": lambda by, w: services.working_group_create(
        by=by, data=group_input(w["ministry"], code="other")
    ),
    "working_group_update": lambda by, w: services.working_group_update(
        by=by, group_id=w["group"].pk, data=group_input(w["ministry"], name="Renamed"), expected_version=None
    ),
    "membership_add": lambda by, w: services.membership_add(
        by=by, group_id=w["group"].pk, data=membership_input(w["ministry"], person="Olga")
    ),
    "membership_update": lambda by, w: services.membership_update(
        by=by,
        membership_id=w["membership"].pk,
        data=membership_input(w["partner"], role="observer"),
        expected_version=None,
    ),
    "meeting_create": lambda by, w: services.meeting_create(
        by=by, data=meeting_input(w["group"], actions=[action(w["ministry"])])
    ),
    "meeting_update": lambda by, w: services.meeting_update(
        by=by, meeting_id=w["meeting"].pk, data=meeting_input(w["group"], title="Renamed")
    ),
    "action_item_close": lambda by, w: services.action_item_close(by=by, item_id=w["item"].pk, closed_on=nov(21)),
    "action_item_reopen": lambda by, w: services.action_item_reopen(by=by, item_id=w["closed_item"].pk),
    "assessment_create": lambda by, w: services.assessment_create(
        by=by, data=assessment_input(w["place"], needs=[need(w["stoves"])])
    ),
    "assessment_update": lambda by, w: services.assessment_update(
        by=by, assessment_id=w["assessment"].pk, data=edit_input(w["assessment"], severity=5), expected_version=1
    ),
    "assessment_delete": lambda by, w: services.assessment_delete(by=by, assessment_id=w["assessment"].pk),
    "need_set_status": lambda by, w: services.need_set_status(
        by=by, need_id=w["assessment"].needs.first().pk, status="cancelled"
    ),
}


@pytest.fixture
def world(ministry, partner, place, stoves, group, membership, meeting, item, closed_item, assessment):
    return locals()


def test_every_write_service_is_listed():
    suffixes = ("_create", "_update", "_add", "_delete")
    public = {name for name in dir(services) if name.endswith(suffixes) and not name.startswith("_")}
    public |= {"action_item_close", "action_item_reopen", "need_set_status"}
    assert public == set(WRITES)


@pytest.mark.parametrize("write", WRITES)
def test_officer_may_not_write(world, officer, write):
    before = everything()
    with pytest.raises(PermissionDenied):
        WRITES[write](officer, world)
    assert everything() == before


@pytest.mark.parametrize("write", WRITES)
def test_user_without_a_role_may_not_write(world, ministry, write):
    nobody = UserFactory(username="nobody", organisation=ministry)
    before = everything()
    with pytest.raises(PermissionDenied):
        WRITES[write](nobody, world)
    assert everything() == before


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("role", ["coordinator", "administrator"])
def test_coordinator_and_administrator_may_write(world, request, role, write):
    user = request.getfixturevalue(role)
    before = everything()
    WRITES[write](user, world)
    assert everything() != before


def test_superuser_counts_as_administrator(world, ministry):
    root = UserFactory(username="root", organisation=ministry, is_superuser=True)
    services.assessment_delete(by=root, assessment_id=world["assessment"].pk)
    assert not Assessment.objects.exists()


# --- working groups and memberships -------------------------------------------------------------


def test_group_create_strips_and_records_history(coordinator, ministry, place):
    group = services.working_group_create(
        by=coordinator, data=group_input(ministry, name="  Infra  ", code=" infra ", area=place, sector="energy")
    )
    stored = WorkingGroup.objects.get(pk=group.pk)
    assert (stored.name, stored.code, stored.area, stored.sector) == ("Infra", "infra", place, "energy")
    record = stored.history.get()
    assert (record.history_user, record.history_type, record.history_change_reason) == (coordinator, "+", "Created")


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"name": "  "}, "name"),
        ({"code": ""}, "code"),
        ({"code": "infra"}, "code"),  # taken by the `group` fixture
        ({"sector": "space"}, "sector"),
        ({"closed_on": nov(16)}, "closed_on"),
    ],
    ids=["blank-name", "blank-code", "duplicate-code", "unknown-sector", "closed-before-established"],
)
def test_group_validation(coordinator, ministry, group, overrides, key):
    before = everything()
    with pytest.raises(ValidationError) as excinfo:
        services.working_group_create(by=coordinator, data=group_input(ministry, **{"code": "other", **overrides}))
    assert error_keys(excinfo) == {key}
    assert everything() == before


def test_group_update_refuses_another_groups_code(coordinator, ministry, group):
    other = services.working_group_create(by=coordinator, data=group_input(ministry, code="ihrc"))
    with pytest.raises(ValidationError) as excinfo:
        services.working_group_update(
            by=coordinator, group_id=other.pk, data=group_input(ministry, code="infra"), expected_version=None
        )
    assert error_keys(excinfo) == {"code"}
    assert WorkingGroup.objects.get(pk=other.pk).code == "ihrc"
    # Keeping its own code is fine, and an update that changes nothing writes no history.
    services.working_group_update(
        by=coordinator, group_id=other.pk, data=group_input(ministry, code="ihrc"), expected_version=None
    )
    assert other.history.count() == 1


def test_group_update_records_who_changed_it(administrator, ministry, group):
    services.working_group_update(
        by=administrator,
        group_id=group.pk,
        data=group_input(ministry, closed_on=nov(30), mandate="Assess"),
        expected_version=None,
    )
    stored = WorkingGroup.objects.get(pk=group.pk)
    assert (stored.closed_on, stored.mandate) == (nov(30), "Assess")
    latest = stored.history.latest()
    assert (latest.history_user, latest.history_type, latest.history_change_reason) == (administrator, "~", "Edited")


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"role": "secretary"}, "role"),
        ({"person": " ", "position": ""}, "person"),
        ({"to_on": nov(16)}, "to_on"),
    ],
    ids=["unknown-role", "nobody", "ends-before-start"],
)
def test_membership_validation(coordinator, group, partner, membership, overrides, key):
    before = everything()
    with pytest.raises(ValidationError) as excinfo:
        services.membership_add(by=coordinator, group_id=group.pk, data=membership_input(partner, **overrides))
    assert error_keys(excinfo) == {key}
    with pytest.raises(ValidationError) as excinfo:
        services.membership_update(
            by=coordinator,
            membership_id=membership.pk,
            data=membership_input(partner, **overrides),
            expected_version=None,
        )
    assert error_keys(excinfo) == {key}
    assert everything() == before


def test_membership_add_and_update(coordinator, administrator, group, partner, membership):
    assert (membership.working_group, membership.role) == (group, "member")
    assert membership.history.get().history_user == coordinator
    services.membership_update(
        by=administrator,
        membership_id=membership.pk,
        data=membership_input(partner, role="observer", to_on=nov(30)),
        expected_version=None,
    )
    stored = Membership.objects.get(pk=membership.pk)
    assert (stored.role, stored.to_on) == ("observer", nov(30))
    assert stored.history.latest().history_user == administrator


# --- meetings and action items -------------------------------------------------------------------


def test_meeting_create_records_participants_decisions_and_actions(coordinator, meeting, ministry, partner):
    stored = Meeting.objects.get(pk=meeting.pk)
    assert set(stored.organisations.all()) == {ministry, partner}
    assert stored.created_by == coordinator
    items = list(stored.actions.order_by("id"))
    assert [(i.description, i.owner, i.due_on, i.status, i.closed_on) for i in items] == [
        ("Send the teams", ministry, nov(22), "open", None),
        ("Count the households", partner, nov(25), "open", None),
    ]
    assert stored.history.filter(history_type="+").get().history_user == coordinator
    assert all(i.history.get().history_user == coordinator for i in items)
    assert all(i.is_overdue for i in items)  # open, due in 2020


@pytest.mark.parametrize(
    ("overrides", "actions", "key"),
    [
        ({"title": " "}, [], "title"),
        ({"kind": "party"}, [], "kind"),
        ({"held_on": nov(16)}, [], "held_on"),  # the group was established on 17 November
        ({}, [{"description": "  "}], "actions-1-description"),
        ({}, [{"owner": None}], "actions-1-owner"),
        ({}, [{"due_on": nov(19)}], "actions-1-due_on"),
        ({}, [{"item_id": 999999}], "actions-1-description"),
    ],
    ids=["blank-title", "unknown-kind", "before-group", "blank-action", "no-owner", "due-before-meeting", "foreign"],
)
def test_meeting_validation_by_field_and_line(coordinator, group, ministry, overrides, actions, key):
    """The second action is the bad one: the error names its line, and nothing at all is written."""
    lines = [action(ministry, "Fine"), *[action(**{"owner": ministry, **bad}) for bad in actions]]
    before = everything()
    with pytest.raises(ValidationError) as excinfo:
        services.meeting_create(by=coordinator, data=meeting_input(group, actions=lines, **overrides))
    assert error_keys(excinfo) == {key}
    assert everything() == before


def test_meeting_update_changes_keeps_adds_and_removes_actions(administrator, meeting, group, ministry, partner):
    first, second = meeting.actions.order_by("id")
    services.action_item_close(by=administrator, item_id=second.pk, closed_on=nov(23))
    data = meeting_input(
        group,
        title="Weekly meeting 2",
        decisions="Heating first",
        organisations=[partner],
        actions=[
            action(partner, "Count the households again", nov(26), item_id=second.pk),
            action(ministry, "Map the substations", nov(30)),
        ],
    )
    services.meeting_update(by=administrator, meeting_id=meeting.pk, data=data)

    stored = Meeting.objects.get(pk=meeting.pk)
    assert (stored.title, stored.decision_list) == ("Weekly meeting 2", ["Heating first"])
    assert list(stored.organisations.all()) == [partner]
    kept, added = stored.actions.order_by("id")
    assert (kept.pk, kept.description, kept.due_on, kept.status) == (second.pk, "Count the households again",
                                                                     nov(26), "done")  # fmt: skip
    assert (added.description, added.owner, added.status) == ("Map the substations", ministry, "open")
    assert not ActionItem.objects.filter(pk=first.pk).exists()
    deleted = ActionItem.history.get(id=first.pk, history_type="-")
    assert deleted.history_user == administrator
    assert stored.history.latest().history_user == administrator


def test_meeting_update_refuses_an_action_of_another_meeting(coordinator, meeting, group, ministry):
    other = services.meeting_create(by=coordinator, data=meeting_input(group, actions=[action(ministry)]))
    foreign = other.actions.get()
    before = everything()
    with pytest.raises(ValidationError) as excinfo:
        services.meeting_update(
            by=coordinator,
            meeting_id=meeting.pk,
            data=meeting_input(group, title="Changed", actions=[action(ministry, item_id=foreign.pk)]),
        )
    assert error_keys(excinfo) == {"actions-0-description"}
    assert everything() == before


def test_meeting_update_refuses_the_same_action_twice(coordinator, meeting, item, group, ministry):
    before = everything()
    with pytest.raises(ValidationError) as excinfo:
        services.meeting_update(
            by=coordinator,
            meeting_id=meeting.pk,
            data=meeting_input(group, actions=[action(ministry, item_id=item.pk), action(ministry, item_id=item.pk)]),
        )
    assert error_keys(excinfo) == {"actions-1-description"}
    assert everything() == before


def test_meeting_create_is_all_or_nothing(coordinator, group, ministry, monkeypatch):
    """A failure while saving the second action item leaves no meeting and no first item behind."""
    real_save, saved = services._save, []

    def failing_save(instance, by, reason=None):
        if isinstance(instance, ActionItem):
            saved.append(instance)
            if len(saved) == 2:
                raise RuntimeError("disk full")
        real_save(instance, by, reason)

    monkeypatch.setattr(services, "_save", failing_save)
    before = everything()
    with pytest.raises(RuntimeError):
        services.meeting_create(by=coordinator, data=meeting_input(group, actions=[action(ministry), action(ministry)]))
    assert everything() == before


def test_close_an_action_item(coordinator, item):
    closed = services.action_item_close(by=coordinator, item_id=item.pk)
    stored = ActionItem.objects.get(pk=item.pk)
    assert (stored.status, stored.closed_on, stored.is_overdue) == ("done", today(), False)
    latest = stored.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (coordinator, "Done")
    assert closed.pk == item.pk


def test_drop_an_action_item_on_a_date(administrator, item):
    services.action_item_close(by=administrator, item_id=item.pk, status="dropped", closed_on=nov(21))
    stored = ActionItem.objects.get(pk=item.pk)
    assert (stored.status, stored.closed_on) == ("dropped", nov(21))
    assert stored.history.latest().history_change_reason == "Dropped"


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"status": "open"}, "status"),
        ({"status": "finished"}, "status"),
        ({"closed_on": "tomorrow"}, "closed_on"),
        ({"closed_on": nov(19)}, "closed_on"),  # the meeting was on 20 November
    ],
    ids=["open", "unknown", "future", "before-meeting"],
)
def test_close_validation(coordinator, item, kwargs, key):
    if kwargs.get("closed_on") == "tomorrow":
        kwargs = {"closed_on": tomorrow()}
    before = everything()
    with pytest.raises(ValidationError) as excinfo:
        services.action_item_close(by=coordinator, item_id=item.pk, **kwargs)
    assert error_keys(excinfo) == {key}
    assert everything() == before


def test_a_closed_item_cannot_be_closed_again(coordinator, closed_item):
    before = everything()
    with pytest.raises(ValidationError) as excinfo:
        services.action_item_close(by=coordinator, item_id=closed_item.pk, status="dropped")
    assert error_keys(excinfo) == {services.NON_FIELD}
    assert everything() == before
    assert ActionItem.objects.get(pk=closed_item.pk).status == "done"


def test_reopen_a_closed_item(administrator, closed_item):
    services.action_item_reopen(by=administrator, item_id=closed_item.pk)
    stored = ActionItem.objects.get(pk=closed_item.pk)
    assert (stored.status, stored.closed_on, stored.is_overdue) == ("open", None, True)
    latest = stored.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (administrator, "Reopened")
    # Closed again after reopening, with a fresh date.
    services.action_item_close(by=administrator, item_id=closed_item.pk, closed_on=nov(28))
    assert ActionItem.objects.get(pk=closed_item.pk).closed_on == nov(28)


def test_reopening_an_open_item_writes_nothing(coordinator, item):
    before = everything()
    services.action_item_reopen(by=coordinator, item_id=item.pk)
    assert everything() == before


# --- assessments and needs -----------------------------------------------------------------------


def test_assessment_create_with_needs_and_history(coordinator, assessment, place, stoves, generators):
    stored = Assessment.objects.get(pk=assessment.pk)
    assert (stored.location, stored.sector, stored.version, stored.created_by) == (place, "heating", 1, coordinator)
    assert [(n.cargo_type, n.quantity, n.priority, n.status) for n in stored.needs.order_by("id")] == [
        (stoves, Decimal("100"), "high", "open"),
        (generators, Decimal("5"), "medium", "open"),
    ]
    record = stored.history.get()
    assert (record.history_user, record.history_type, record.history_change_reason) == (coordinator, "+", "Created")
    assert {h.history_user for h in Need.history.all()} == {coordinator}
    assert Need.history.count() == 2


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"sector": "space"}, "sector"),
        ({"condition": "fine"}, "condition"),
        ({"severity": 0}, "severity"),
        ({"severity": 6}, "severity"),
        ({"severity": None}, "severity"),
        ({"people_affected": -1}, "people_affected"),
        ({"assessed_on": "tomorrow"}, "assessed_on"),
    ],
    ids=["sector", "condition", "severity-0", "severity-6", "no-severity", "negative-people", "future"],
)
def test_assessment_validation(coordinator, place, stoves, overrides, key):
    if overrides.get("assessed_on") == "tomorrow":
        overrides = {"assessed_on": tomorrow()}
    before = everything()
    with pytest.raises(ValidationError) as excinfo:
        services.assessment_create(by=coordinator, data=assessment_input(place, needs=[need(stoves)], **overrides))
    assert error_keys(excinfo) == {key}
    assert everything() == before


@pytest.mark.parametrize(
    ("bad", "key"),
    [
        ({"quantity": "0"}, "needs-1-quantity"),
        ({"quantity": "-3"}, "needs-1-quantity"),
        ({"priority": "urgent"}, "needs-1-priority"),
        ({"status": "met"}, "needs-1-status"),
        ({"needed_by": nov(19)}, "needs-1-needed_by"),  # assessed on 20 November
        ({"need_id": 999999}, "needs-1-cargo_type"),
    ],
    ids=["zero", "negative", "priority", "status", "due-before-assessment", "foreign"],
)
def test_need_validation_names_the_line_and_saves_nothing(coordinator, place, stoves, generators, bad, key):
    """The first line is fine, the second is not: no assessment and no need are saved."""
    lines = [need(stoves, "100"), need(generators, **{"quantity": "5", **bad})]
    before = everything()
    with pytest.raises(ValidationError) as excinfo:
        services.assessment_create(by=coordinator, data=assessment_input(place, needs=lines))
    assert error_keys(excinfo) == {key}
    assert everything() == before


def test_quantity_none_is_refused(coordinator, place, stoves):
    bad = NeedInput(cargo_type=stoves, quantity=None)
    with pytest.raises(ValidationError) as excinfo:
        services.assessment_create(by=coordinator, data=assessment_input(place, needs=[bad]))
    assert error_keys(excinfo) == {"needs-0-quantity"}
    assert not Assessment.objects.exists()


def test_a_retired_cargo_type_is_refused_for_new_needs_but_kept_on_existing_ones(
    coordinator, assessment, place, stoves
):
    stoves.active = False
    stoves.save()
    with pytest.raises(ValidationError) as excinfo:
        services.assessment_create(by=coordinator, data=assessment_input(place, needs=[need(stoves)]))
    assert error_keys(excinfo) == {"needs-0-cargo_type"}
    # The assessment that lists stoves already can still be edited.
    services.assessment_update(
        by=coordinator, assessment_id=assessment.pk, data=edit_input(assessment, severity=5), expected_version=1
    )
    assert Assessment.objects.get(pk=assessment.pk).severity == 5
    # But a new line of the retired type, or an existing line switched to it, is refused.
    bad = edit_input(assessment)
    switched = [bad.needs[0], need(stoves, "5", need_id=bad.needs[1].id)]
    for needs in ([*bad.needs, need(stoves, "1")], switched):
        with pytest.raises(ValidationError):
            services.assessment_update(
                by=coordinator, assessment_id=assessment.pk, data=edit_input(assessment, needs=needs),
                expected_version=2,
            )  # fmt: skip


def test_submission_key_returns_the_first_assessment(coordinator, administrator, officer, place, stoves):
    key = uuid.uuid4()
    first = services.assessment_create(by=coordinator, data=assessment_input(place, needs=[need(stoves)]),
                                       submission_key=key)  # fmt: skip
    before = everything()
    again = services.assessment_create(
        by=administrator, data=assessment_input(place, needs=[need(stoves, "99")], severity=1), submission_key=key
    )
    assert again.pk == first.pk
    assert everything() == before
    with pytest.raises(PermissionDenied):  # permission first, even for a replay
        services.assessment_create(by=officer, data=assessment_input(place), submission_key=key)
    # Another key is another assessment.
    services.assessment_create(by=coordinator, data=assessment_input(place), submission_key=uuid.uuid4())
    assert Assessment.objects.count() == 2


def test_assessment_update_changes_needs(administrator, assessment, stoves, generators):
    current = edit_input(assessment)
    first, second = current.needs
    needs = [need(stoves, "120", need_id=first.id, priority="critical"), need(generators, "3", needed_by=nov(30))]
    services.assessment_update(
        by=administrator,
        assessment_id=assessment.pk,
        data=edit_input(assessment, needs=needs, summary="Worse than thought", facility="  Boiler house "),
        expected_version=1,
    )
    stored = Assessment.objects.get(pk=assessment.pk)
    assert (stored.version, stored.summary, stored.facility) == (2, "Worse than thought", "Boiler house")
    rows = [(n.pk, n.cargo_type, n.quantity, n.priority, n.needed_by) for n in stored.needs.order_by("id")]
    assert rows[0] == (first.id, stoves, Decimal("120"), "critical", None)
    assert rows[1][1:] == (generators, Decimal("3"), "medium", nov(30)) and rows[1][0] != second.id
    assert not Need.objects.filter(pk=second.id).exists()
    assert Need.history.get(id=second.id, history_type="-").history_user == administrator
    latest = stored.history.latest()
    assert (latest.history_user, latest.history_change_reason, latest.version) == (administrator, "Edited", 2)


def test_assessment_update_is_all_or_nothing(coordinator, assessment, stoves, generators, monkeypatch):
    """Validation names the bad line before anything is written, and a failure mid-way rolls back."""
    current = edit_input(assessment)
    before = everything()
    bad = [need(stoves, "150", need_id=current.needs[0].id), need(generators, "0", need_id=current.needs[1].id)]
    with pytest.raises(ValidationError) as excinfo:
        services.assessment_update(
            by=coordinator, assessment_id=assessment.pk, data=edit_input(assessment, needs=bad, severity=5),
            expected_version=1,
        )  # fmt: skip
    assert error_keys(excinfo) == {"needs-1-quantity"}
    assert everything() == before

    real_save = services._save

    def failing_save(instance, by, reason=None):
        if isinstance(instance, Need) and instance.cargo_type == generators:
            raise RuntimeError("disk full")
        real_save(instance, by, reason)

    monkeypatch.setattr(services, "_save", failing_save)
    good = [need(stoves, "150", need_id=current.needs[0].id), need(generators, "7", need_id=current.needs[1].id)]
    with pytest.raises(RuntimeError):
        services.assessment_update(
            by=coordinator, assessment_id=assessment.pk, data=edit_input(assessment, needs=good, severity=5),
            expected_version=1,
        )  # fmt: skip
    assert everything() == before


def test_assessment_create_is_all_or_nothing(coordinator, place, stoves, generators, monkeypatch):
    real_save = services._save

    def failing_save(instance, by, reason=None):
        if isinstance(instance, Need) and instance.cargo_type == generators:
            raise RuntimeError("disk full")
        real_save(instance, by, reason)

    monkeypatch.setattr(services, "_save", failing_save)
    before = everything()
    with pytest.raises(RuntimeError):
        services.assessment_create(
            by=coordinator, data=assessment_input(place, needs=[need(stoves), need(generators)]),
            submission_key=uuid.uuid4(),
        )  # fmt: skip
    assert everything() == before


def test_stale_version_is_an_edit_conflict(coordinator, administrator, assessment):
    services.assessment_update(
        by=administrator, assessment_id=assessment.pk, data=edit_input(assessment, severity=5), expected_version=1
    )
    before = everything()
    with pytest.raises(EditConflict) as excinfo:
        services.assessment_update(
            by=coordinator, assessment_id=assessment.pk, data=edit_input(assessment, severity=2), expected_version=1
        )
    assert administrator.username in excinfo.value.message
    assert everything() == before
    assert Assessment.objects.get(pk=assessment.pk).severity == 5
    # The current version goes through; no version at all (a script, the admin) is not checked.
    services.assessment_update(
        by=coordinator, assessment_id=assessment.pk, data=edit_input(assessment, severity=3), expected_version=2
    )
    services.assessment_update(
        by=coordinator, assessment_id=assessment.pk, data=edit_input(assessment, severity=1), expected_version=None
    )
    assert Assessment.objects.values_list("severity", "version").get() == (1, 4)


def test_a_conflict_made_by_cancelling_a_need_names_who_cancelled_it(coordinator, administrator, assessment):
    opened = Assessment.objects.get(pk=assessment.pk).version
    services.need_set_status(by=administrator, need_id=assessment.needs.first().pk, status="cancelled")
    with pytest.raises(EditConflict) as excinfo:
        services.assessment_update(
            by=coordinator, assessment_id=assessment.pk, data=edit_input(assessment, severity=2),
            expected_version=opened,
        )  # fmt: skip
    assert excinfo.value.message.startswith(administrator.username)


def test_assessment_delete_removes_it_and_its_needs_with_history(administrator, assessment):
    need_ids = list(assessment.needs.values_list("id", flat=True))
    services.assessment_delete(by=administrator, assessment_id=assessment.pk)
    assert not Assessment.objects.exists() and not Need.objects.exists()
    assert Assessment.history.get(id=assessment.pk, history_type="-").history_user == administrator
    deleted = Need.history.filter(history_type="-")
    assert sorted(deleted.values_list("id", flat=True)) == sorted(need_ids)
    assert {h.history_user for h in deleted} == {administrator}


@pytest.fixture
def delivered_stoves(administrator, place, stoves):
    """40 stoves delivered to the assessed place on 22 November, the totals refreshed."""
    from shipments import services as shipment_services

    origin = LocationFactory(code="DEPOT", name="Depot", level="site")
    data = shipment_services.ShipmentInput(
        mode="road", consignor=administrator.organisation, consignee=OrganisationFactory(), origin=origin,
        destination=place, dispatched_on=nov(21), delivered_on=nov(22),
        lines=[shipment_services.LineInput(cargo_type=stoves, quantity=Decimal(40), tonnes=Decimal(1),
                                           received_quantity=Decimal(40), received_tonnes=Decimal(1))],
    )  # fmt: skip
    shipment_services.shipment_create(by=administrator, data=data)
    totals.refresh()


def test_cancelling_a_need_removes_it_from_coverage(coordinator, assessment, place, stoves, delivered_stoves):
    stove_need = assessment.needs.get(cargo_type=stoves)
    row = coverage.coverage_by_pair()[(place.pk, stoves.pk)]
    assert (row.needed, row.delivered, row.state) == (100, 40, "partial")

    services.need_set_status(by=coordinator, need_id=stove_need.pk, status="cancelled")
    assert (place.pk, stoves.pk) not in coverage.coverage_by_pair()
    assert not Need.objects.filter(id__in=coverage.needs_in_state("partial")).exists()
    latest = Need.objects.get(pk=stove_need.pk).history.latest()
    assert (latest.history_user, latest.history_change_reason, latest.status) == (coordinator, "Cancelled", "cancelled")

    services.need_set_status(by=coordinator, need_id=stove_need.pk, status="open")
    assert coverage.coverage_by_pair()[(place.pk, stoves.pk)].needed == 100
    assert Need.objects.get(pk=stove_need.pk).history.latest().history_change_reason == "Reopened"


def test_a_need_cancelled_through_the_assessment_form_leaves_coverage_too(
    coordinator, assessment, place, stoves, delivered_stoves
):
    current = edit_input(assessment)
    needs = [NeedInput(**{**vars(current.needs[0]), "status": "cancelled"}), current.needs[1]]
    services.assessment_update(
        by=coordinator, assessment_id=assessment.pk, data=edit_input(assessment, needs=needs), expected_version=1
    )
    assert (place.pk, stoves.pk) not in coverage.coverage_by_pair()


def test_need_set_status_validation_and_no_op(coordinator, assessment):
    stove_need = assessment.needs.first()
    before = everything()
    with pytest.raises(ValidationError) as excinfo:
        services.need_set_status(by=coordinator, need_id=stove_need.pk, status="met")
    assert error_keys(excinfo) == {"status"}
    services.need_set_status(by=coordinator, need_id=stove_need.pk, status="open")  # already open: nothing written
    assert everything() == before


def test_roles_of_the_named_users(officer, coordinator, administrator):
    """The fixtures are what these tests assume: one role each."""
    assert roles.user_roles(officer) == {roles.LOGISTICS_OFFICER}
    assert roles.user_roles(coordinator) == {roles.COORDINATOR}
    assert roles.user_roles(administrator) == {roles.ADMINISTRATOR}


def test_a_group_or_membership_edited_since_the_form_opened_is_refused(coordinator, administrator, ministry, group,
                                                                        partner, membership):  # fmt: skip
    opened = WorkingGroup.objects.get(pk=group.pk).version
    services.working_group_update(
        by=administrator, group_id=group.pk, data=group_input(ministry, mandate="New mandate"), expected_version=opened
    )
    with pytest.raises(services.EditConflict):
        services.working_group_update(
            by=coordinator, group_id=group.pk, data=group_input(ministry, name="Renamed"), expected_version=opened
        )
    assert WorkingGroup.objects.get(pk=group.pk).mandate == "New mandate"  # not overwritten by the stale form
    opened = Membership.objects.get(pk=membership.pk).version
    services.membership_update(
        by=administrator, membership_id=membership.pk, data=membership_input(partner, role="observer"),
        expected_version=opened,
    )  # fmt: skip
    with pytest.raises(services.EditConflict):
        services.membership_update(
            by=coordinator, membership_id=membership.pk, data=membership_input(partner, person="Olga"),
            expected_version=opened,
        )  # fmt: skip
    assert Membership.objects.get(pk=membership.pk).role == "observer"


def test_a_group_cannot_be_redated_around_its_own_meetings(coordinator, ministry, group):
    services.meeting_create(by=coordinator, data=meeting_input(group))
    held = Meeting.objects.get().held_on
    for field, date in [("established_on", held + datetime.timedelta(days=1)),
                        ("closed_on", held - datetime.timedelta(days=1))]:  # fmt: skip
        with pytest.raises(ValidationError) as excinfo:
            services.working_group_update(
                by=coordinator, group_id=group.pk, data=group_input(ministry, **{field: date}), expected_version=None
            )
        assert field in error_keys(excinfo)
    services.working_group_update(  # closing on the day of its last meeting is fine
        by=coordinator, group_id=group.pk, data=group_input(ministry, closed_on=held), expected_version=None
    )
