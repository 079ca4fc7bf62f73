"""The shipment services: validation, permissions per role, edit conflicts, history.

Every test asserts what is (or is not) in the database afterwards, not only the exception.
"""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from shipments import services
from shipments.access import shipment_get_for_user
from shipments.models import CargoLine, Shipment
from shipments.selectors import shipment_history
from shipments.services import EditConflict, LineInput, ReceiptInput, ShipmentInput

from ..factories import CargoTypeFactory, LocationFactory, OrganisationFactory, UserFactory, make_shipment

pytestmark = pytest.mark.django_db

HEADER_FIELDS = (
    "mode",
    "consignor",
    "consignee",
    "origin",
    "destination",
    "transport_reference",
    "dispatched_on",
    "expected_on",
    "notes",
)


def nov(day: int) -> datetime.date:
    return datetime.date(2020, 11, day)


def tomorrow() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=1)


def line(cargo_type, quantity, tonnes, line_id=None) -> LineInput:
    return LineInput(cargo_type=cargo_type, quantity=Decimal(quantity), tonnes=Decimal(tonnes), id=line_id)


def new_input(consignor, *, lines, **overrides) -> ShipmentInput:
    fields = {
        "mode": "road",
        "consignor": consignor,
        "consignee": OrganisationFactory(),
        "origin": LocationFactory(),
        "destination": LocationFactory(),
        **overrides,
    }
    return ShipmentInput(**fields, lines=lines)


def edit_input(shipment: Shipment, *, lines=None, **changes) -> ShipmentInput:
    """What an edit form would post: the shipment as stored, with `changes` and optionally new `lines`."""
    shipment = Shipment.objects.get(pk=shipment.pk)
    current = [line(x.cargo_type, x.quantity, x.tonnes, line_id=x.pk) for x in shipment.lines.all()]
    fields = {name: getattr(shipment, name) for name in HEADER_FIELDS}
    return ShipmentInput(**{**fields, **changes}, lines=current if lines is None else lines)


def error_keys(excinfo) -> set[str]:
    return set(excinfo.value.message_dict)


def snapshot(shipment_id: int):
    """Everything a service could have written about one shipment (to prove nothing was)."""
    row = Shipment.objects.filter(pk=shipment_id).values().get()
    lines = list(CargoLine.objects.filter(shipment_id=shipment_id).order_by("id").values())
    history = (
        Shipment.history.filter(id=shipment_id).count(),
        CargoLine.history.filter(shipment_id=shipment_id).count(),
    )
    return row, lines, history


@pytest.fixture
def second_cargo(db):
    return CargoTypeFactory(code="tent", name="Tents", unit="pcs")


@pytest.fixture
def planned(officer, cargo_type, second_cargo):
    """A planned shipment of the officer's organisation with two lines (10 t and 5 t)."""
    return make_shipment(by=officer, lines=[(cargo_type, "100", "10"), (second_cargo, "20", "5")], notes="First convoy")


@pytest.fixture
def in_transit(officer, cargo_type, second_cargo):
    return make_shipment(
        by=officer,
        lines=[(cargo_type, "100", "10"), (second_cargo, "20", "5")],
        dispatched_on=nov(10),
        expected_on=nov(12),
    )


# --- shipment_create ---------------------------------------------------------------------------


def test_create_without_dispatch_date_is_planned(officer, ministry, cargo_type, second_cargo):
    data = new_input(
        ministry,
        lines=[line(cargo_type, "100", "10.5"), line(second_cargo, "20", "4")],
        transport_reference="  AB 123 CD ",
        notes="Winter kits",
    )
    shipment = services.shipment_create(by=officer, data=data)

    stored = Shipment.objects.get(pk=shipment.pk)
    assert stored.status == Shipment.Status.PLANNED
    assert stored.dispatched_on is None
    assert stored.delivered_on is None
    assert stored.consignor == ministry
    assert stored.transport_reference == "AB 123 CD"
    assert stored.notes == "Winter kits"
    assert stored.created_by == officer
    assert stored.version == 1
    # Without a dispatch date the reference takes the current year.
    assert stored.reference == f"WB-{timezone.localdate().year}-00001"
    assert [(x.cargo_type, x.quantity, x.tonnes) for x in stored.lines.order_by("id")] == [
        (cargo_type, Decimal("100"), Decimal("10.5")),
        (second_cargo, Decimal("20"), Decimal("4")),
    ]
    assert all(x.received_tonnes is None and x.received_quantity is None for x in stored.lines.all())


def test_create_with_dispatch_date_is_in_transit_and_numbered_in_the_dispatch_year(officer, ministry, cargo_type):
    data = new_input(ministry, lines=[line(cargo_type, "10", "1")], dispatched_on=nov(10), expected_on=nov(14))
    shipment = services.shipment_create(by=officer, data=data)

    stored = Shipment.objects.get(pk=shipment.pk)
    assert stored.status == Shipment.Status.IN_TRANSIT
    assert stored.dispatched_on == nov(10)
    assert stored.expected_on == nov(14)
    assert stored.reference == "WB-2020-00001"
    assert stored.lines.count() == 1


def test_generated_references_are_sequential_per_year(officer, ministry, cargo_type):
    def create(dispatched_on):
        data = new_input(ministry, lines=[line(cargo_type, "1", "1")], dispatched_on=dispatched_on)
        return services.shipment_create(by=officer, data=data).reference

    assert create(nov(2)) == "WB-2020-00001"
    assert create(nov(3)) == "WB-2020-00002"
    assert create(datetime.date(2019, 12, 30)) == "WB-2019-00001"
    assert create(nov(4)) == "WB-2020-00003"
    assert set(Shipment.objects.values_list("reference", flat=True)) == {
        "WB-2020-00001",
        "WB-2020-00002",
        "WB-2020-00003",
        "WB-2019-00001",
    }


def test_generated_reference_skips_one_typed_by_hand(officer, ministry, cargo_type):
    def create(reference=""):
        data = new_input(ministry, lines=[line(cargo_type, "1", "1")], dispatched_on=nov(5), reference=reference)
        return services.shipment_create(by=officer, data=data).reference

    assert create("WB-2020-00002") == "WB-2020-00002"
    assert create() == "WB-2020-00001"
    assert create() == "WB-2020-00003"
    assert Shipment.objects.count() == 3


def test_typed_reference_is_kept_without_surrounding_spaces(officer, ministry, cargo_type):
    data = new_input(ministry, lines=[line(cargo_type, "1", "1")], reference="  UN-KH-77 ")
    shipment = services.shipment_create(by=officer, data=data)
    assert Shipment.objects.get(pk=shipment.pk).reference == "UN-KH-77"


def test_duplicate_reference_is_refused_under_reference(officer, ministry, cargo_type):
    services.shipment_create(by=officer, data=new_input(ministry, lines=[line(cargo_type, "1", "1")], reference="X-1"))

    with pytest.raises(ValidationError) as excinfo:
        services.shipment_create(
            by=officer, data=new_input(ministry, lines=[line(cargo_type, "2", "2")], reference="X-1")
        )

    assert error_keys(excinfo) == {"reference"}
    assert Shipment.objects.count() == 1
    assert CargoLine.objects.count() == 1


def test_a_shipment_without_lines_is_refused(officer, ministry):
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_create(by=officer, data=new_input(ministry, lines=[]))

    assert error_keys(excinfo) == {"__all__"}
    assert Shipment.objects.count() == 0


@pytest.mark.parametrize(
    ("bad_index", "quantity", "tonnes", "key"),
    [
        (0, "10", "0", "tonnes"),
        (1, "10", "-1.5", "tonnes"),
        (2, "10", "0.000", "tonnes"),
        (1, "0", "1", "quantity"),
        (2, "-3", "1", "quantity"),
    ],
)
def test_an_invalid_line_is_named_by_its_position_and_nothing_is_saved(
    officer, ministry, cargo_type, bad_index, quantity, tonnes, key
):
    lines = [line(cargo_type, "5", "1") for _ in range(3)]
    lines[bad_index] = line(cargo_type, quantity, tonnes)

    with pytest.raises(ValidationError) as excinfo:
        services.shipment_create(by=officer, data=new_input(ministry, lines=lines, dispatched_on=nov(9)))

    assert error_keys(excinfo) == {f"lines-{bad_index}-{key}"}
    assert Shipment.objects.count() == 0
    assert CargoLine.objects.count() == 0
    assert Shipment.history.count() == 0
    assert CargoLine.history.count() == 0
    # No reference number was used up by the refused attempt.
    valid = [line(cargo_type, "5", "1")]
    ok = services.shipment_create(by=officer, data=new_input(ministry, lines=valid, dispatched_on=nov(9)))
    assert ok.reference == "WB-2020-00001"


def test_several_invalid_lines_are_all_reported(officer, ministry, cargo_type):
    lines = [line(cargo_type, "5", "1"), line(cargo_type, "0", "1"), line(cargo_type, "5", "-2")]
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_create(by=officer, data=new_input(ministry, lines=lines))
    assert error_keys(excinfo) == {"lines-1-quantity", "lines-2-tonnes"}
    assert Shipment.objects.count() == 0
    assert CargoLine.objects.count() == 0


def test_an_inactive_cargo_type_cannot_go_on_a_new_line(officer, ministry, cargo_type):
    retired = CargoTypeFactory(code="old-stove", name="Old stoves", active=False)
    lines = [line(cargo_type, "5", "1"), line(retired, "5", "1")]

    with pytest.raises(ValidationError) as excinfo:
        services.shipment_create(by=officer, data=new_input(ministry, lines=lines))

    assert error_keys(excinfo) == {"lines-1-cargo_type"}
    assert Shipment.objects.count() == 0
    assert CargoLine.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"mode": "sea"}, "mode"),
        ({"dispatched_on": "tomorrow"}, "dispatched_on"),
        ({"dispatched_on": nov(10), "expected_on": nov(9)}, "expected_on"),
    ],
)
def test_invalid_header_is_refused_and_nothing_saved(officer, ministry, cargo_type, overrides, key):
    if overrides.get("dispatched_on") == "tomorrow":
        overrides = {**overrides, "dispatched_on": tomorrow()}
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_create(by=officer, data=new_input(ministry, lines=[line(cargo_type, "1", "1")], **overrides))
    assert error_keys(excinfo) == {key}
    assert Shipment.objects.count() == 0
    assert CargoLine.objects.count() == 0


def test_origin_equal_to_destination_is_refused(officer, ministry, cargo_type, region):
    data = new_input(ministry, lines=[line(cargo_type, "1", "1")], origin=region, destination=region)
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_create(by=officer, data=data)
    assert error_keys(excinfo) == {"destination"}
    assert Shipment.objects.count() == 0


def test_dispatch_date_today_and_expected_equal_to_dispatch_are_accepted(officer, ministry, cargo_type):
    today = timezone.localdate()
    data = new_input(ministry, lines=[line(cargo_type, "1", "1")], dispatched_on=today, expected_on=today)
    shipment = services.shipment_create(by=officer, data=data)
    assert Shipment.objects.get(pk=shipment.pk).dispatched_on == today


def test_the_same_submission_key_twice_creates_one_shipment(officer, ministry, cargo_type):
    key = uuid.uuid4()
    data = new_input(ministry, lines=[line(cargo_type, "5", "1"), line(cargo_type, "6", "2")])

    first = services.shipment_create(by=officer, data=data, submission_key=key)
    second = services.shipment_create(by=officer, data=data, submission_key=key)

    assert second.pk == first.pk
    assert Shipment.objects.count() == 1
    assert Shipment.objects.get().submission_key == key
    assert CargoLine.objects.count() == 2
    # A different key is a different form: a second shipment.
    third = services.shipment_create(by=officer, data=data, submission_key=uuid.uuid4())
    assert third.pk != first.pk
    assert Shipment.objects.count() == 2


# --- permissions -------------------------------------------------------------------------------


def test_officer_creates_for_own_organisation_only(officer, partner_org, cargo_type):
    with pytest.raises(PermissionDenied):
        services.shipment_create(by=officer, data=new_input(partner_org, lines=[line(cargo_type, "1", "1")]))
    assert Shipment.objects.count() == 0
    assert CargoLine.objects.count() == 0


def test_coordinator_cannot_create(coordinator, ministry, cargo_type):
    with pytest.raises(PermissionDenied):
        services.shipment_create(by=coordinator, data=new_input(ministry, lines=[line(cargo_type, "1", "1")]))
    assert Shipment.objects.count() == 0


def test_user_without_role_cannot_create(ministry, cargo_type):
    nobody = UserFactory(username="nobody", organisation=ministry)
    with pytest.raises(PermissionDenied):
        services.shipment_create(by=nobody, data=new_input(ministry, lines=[line(cargo_type, "1", "1")]))
    assert Shipment.objects.count() == 0


def test_administrator_creates_for_any_consignor(administrator, partner_org, cargo_type):
    shipment = services.shipment_create(
        by=administrator, data=new_input(partner_org, lines=[line(cargo_type, "1", "1")])
    )
    stored = Shipment.objects.get(pk=shipment.pk)
    assert stored.consignor == partner_org
    assert stored.created_by == administrator


def _attempt(action: str, user, shipment: Shipment):
    """Run one changing service on `shipment` as `user`, with otherwise valid input."""
    if action == "update":
        data = edit_input(shipment, transport_reference="CHANGED", notes="changed")
        return services.shipment_update(by=user, shipment_id=shipment.pk, data=data, expected_version=shipment.version)
    if action == "dispatch":
        return services.shipment_dispatch(by=user, shipment_id=shipment.pk, dispatched_on=nov(11))
    if action == "receive":
        return services.shipment_receive(by=user, shipment_id=shipment.pk, delivered_on=nov(18))
    if action == "cancel":
        return services.shipment_cancel(by=user, shipment_id=shipment.pk, reason="Road closed")
    raise AssertionError(action)


ACTIONS = [("update", "planned"), ("dispatch", "planned"), ("receive", "in_transit"), ("cancel", "in_transit")]


@pytest.mark.parametrize(("action", "status"), ACTIONS)
@pytest.mark.parametrize("who", ["other_officer", "coordinator"])
def test_others_cannot_change_the_officers_shipment(request, officer, cargo_type, action, status, who):
    shipment = make_shipment(by=officer, lines=[(cargo_type, "10", "1")], status=status)
    before = snapshot(shipment.pk)

    with pytest.raises(PermissionDenied):
        _attempt(action, request.getfixturevalue(who), shipment)

    assert snapshot(shipment.pk) == before


@pytest.mark.parametrize(
    ("action", "status", "expected_status"),
    [
        ("update", "planned", "planned"),
        ("dispatch", "planned", "in_transit"),
        ("receive", "in_transit", "delivered"),
        ("cancel", "in_transit", "cancelled"),
    ],
)
def test_administrator_changes_any_shipment(officer, administrator, cargo_type, action, status, expected_status):
    shipment = make_shipment(by=officer, lines=[(cargo_type, "10", "1")], status=status)

    _attempt(action, administrator, shipment)

    stored = Shipment.objects.get(pk=shipment.pk)
    assert stored.status == expected_status
    assert stored.version == shipment.version + 1
    assert stored.history.latest().history_user == administrator


@pytest.mark.parametrize(("action", "status"), ACTIONS)
def test_officer_changes_own_organisations_shipment(officer, administrator, cargo_type, action, status):
    # Logged by an administrator, but the consignor is the officer's organisation.
    shipment = make_shipment(by=administrator, consignor=officer.organisation, status=status)
    _attempt(action, officer, shipment)
    assert Shipment.objects.get(pk=shipment.pk).version == shipment.version + 1


def test_officer_cannot_hand_a_shipment_to_another_consignor(officer, partner_org, planned):
    before = snapshot(planned.pk)
    with pytest.raises(PermissionDenied):
        services.shipment_update(
            by=officer, shipment_id=planned.pk, data=edit_input(planned, consignor=partner_org), expected_version=1
        )
    assert snapshot(planned.pk) == before


def test_administrator_can_change_the_consignor(administrator, partner_org, planned):
    services.shipment_update(
        by=administrator, shipment_id=planned.pk, data=edit_input(planned, consignor=partner_org), expected_version=1
    )
    assert Shipment.objects.get(pk=planned.pk).consignor == partner_org


def test_get_for_user_needs_a_role(ministry, planned):
    nobody = UserFactory(username="nobody", organisation=ministry)
    with pytest.raises(Http404):
        shipment_get_for_user(user=nobody, shipment_id=planned.pk)


def test_get_for_user_unknown_id_is_404(officer, planned):
    with pytest.raises(Http404):
        shipment_get_for_user(user=officer, shipment_id=planned.pk + 1000)


def test_get_for_user_coordinator_views_but_cannot_change(coordinator, planned):
    assert shipment_get_for_user(user=coordinator, shipment_id=planned.pk) == planned
    with pytest.raises(PermissionDenied):
        shipment_get_for_user(user=coordinator, shipment_id=planned.pk, for_change=True)


def test_get_for_user_other_officer_views_but_cannot_change(other_officer, planned):
    assert shipment_get_for_user(user=other_officer, shipment_id=planned.pk) == planned
    with pytest.raises(PermissionDenied):
        shipment_get_for_user(user=other_officer, shipment_id=planned.pk, for_change=True)


def test_get_for_user_owner_and_administrator_may_change(officer, administrator, planned):
    assert shipment_get_for_user(user=officer, shipment_id=planned.pk, for_change=True) == planned
    assert shipment_get_for_user(user=administrator, shipment_id=planned.pk, for_change=True) == planned


# --- shipment_update ---------------------------------------------------------------------------


def test_update_changes_header_and_lines(officer, planned, cargo_type, second_cargo, region):
    first, second = planned.lines.order_by("id")
    third = CargoTypeFactory(code="blanket", name="Blankets")
    new_consignee = OrganisationFactory(code="unhcr")
    data = edit_input(
        planned,
        mode="rail",
        consignee=new_consignee,
        destination=region,
        transport_reference=" WAGON 7 ",
        expected_on=nov(20),
        notes="Rerouted",
        lines=[
            line(second_cargo, "25", "6.25", line_id=second.pk),  # changed
            line(third, "40", "2"),  # new
            # `first` left out: removed
        ],
    )

    result = services.shipment_update(by=officer, shipment_id=planned.pk, data=data, expected_version=1)

    stored = Shipment.objects.get(pk=planned.pk)
    assert result.pk == planned.pk
    assert (stored.mode, stored.consignee, stored.destination) == ("rail", new_consignee, region)
    assert stored.transport_reference == "WAGON 7"
    assert stored.expected_on == nov(20)
    assert stored.notes == "Rerouted"
    assert stored.reference == planned.reference
    assert stored.status == Shipment.Status.PLANNED
    assert stored.version == 2
    assert not CargoLine.objects.filter(pk=first.pk).exists()
    assert [(x.pk, x.cargo_type, x.quantity, x.tonnes) for x in stored.lines.order_by("id")] == [
        (second.pk, second_cargo, Decimal("25"), Decimal("6.25")),
        (stored.lines.get(cargo_type=third).pk, third, Decimal("40"), Decimal("2")),
    ]
    assert stored.lines.get(cargo_type=third).pk > second.pk


def test_update_saves_only_lines_that_changed(officer, planned, cargo_type):
    first, second = planned.lines.order_by("id")
    lines = [line(cargo_type, "100", "12", line_id=first.pk), line(second.cargo_type, "20", "5", line_id=second.pk)]

    services.shipment_update(
        by=officer, shipment_id=planned.pk, data=edit_input(planned, lines=lines), expected_version=1
    )

    assert CargoLine.objects.get(pk=first.pk).tonnes == Decimal("12")
    assert list(CargoLine.history.filter(id=first.pk).values_list("history_type", flat=True)) == ["~", "+"]
    assert list(CargoLine.history.filter(id=second.pk).values_list("history_type", flat=True)) == ["+"]


def test_update_planned_with_dispatch_date_puts_it_in_transit(officer, planned):
    services.shipment_update(
        by=officer, shipment_id=planned.pk, data=edit_input(planned, dispatched_on=nov(15)), expected_version=1
    )
    stored = Shipment.objects.get(pk=planned.pk)
    assert (stored.status, stored.dispatched_on) == (Shipment.Status.IN_TRANSIT, nov(15))


def test_update_in_transit_cannot_drop_the_dispatch_date(officer, in_transit):
    before = snapshot(in_transit.pk)
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_update(
            by=officer,
            shipment_id=in_transit.pk,
            data=edit_input(in_transit, dispatched_on=None, expected_on=None),
            expected_version=in_transit.version,
        )
    assert error_keys(excinfo) == {"dispatched_on"}
    assert snapshot(in_transit.pk) == before


def test_update_refuses_a_line_of_another_shipment(officer, planned, cargo_type):
    other = make_shipment(by=officer, lines=[(cargo_type, "7", "7")])
    foreign = other.lines.get()
    mine = planned.lines.order_by("id").first()
    before, before_other = snapshot(planned.pk), snapshot(other.pk)
    lines = [line(cargo_type, "100", "10", line_id=mine.pk), line(cargo_type, "1", "1", line_id=foreign.pk)]

    with pytest.raises(ValidationError) as excinfo:
        services.shipment_update(
            by=officer, shipment_id=planned.pk, data=edit_input(planned, lines=lines), expected_version=1
        )

    assert error_keys(excinfo) == {"lines-1-cargo_type"}
    assert snapshot(planned.pk) == before
    assert snapshot(other.pk) == before_other


def test_update_with_an_invalid_line_writes_nothing(officer, planned, cargo_type):
    first = planned.lines.order_by("id").first()
    before = snapshot(planned.pk)
    lines = [line(cargo_type, "100", "10", line_id=first.pk), line(cargo_type, "5", "0")]

    with pytest.raises(ValidationError) as excinfo:
        services.shipment_update(
            by=officer,
            shipment_id=planned.pk,
            data=edit_input(planned, notes="should not stick", lines=lines),
            expected_version=1,
        )

    assert error_keys(excinfo) == {"lines-1-tonnes"}
    assert snapshot(planned.pk) == before


def test_update_with_no_lines_is_refused(officer, planned):
    before = snapshot(planned.pk)
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_update(
            by=officer, shipment_id=planned.pk, data=edit_input(planned, lines=[]), expected_version=1
        )
    assert error_keys(excinfo) == {"__all__"}
    assert snapshot(planned.pk) == before


def test_update_keeps_an_existing_line_whose_type_was_retired(officer, planned, cargo_type):
    cargo_type.active = False
    cargo_type.save()
    services.shipment_update(
        by=officer, shipment_id=planned.pk, data=edit_input(planned, notes="still fine"), expected_version=1
    )
    stored = Shipment.objects.get(pk=planned.pk)
    assert stored.notes == "still fine"
    assert stored.lines.filter(cargo_type=cargo_type).count() == 1


def test_update_against_an_older_version_is_an_edit_conflict(officer, administrator, planned):
    administrator.first_name, administrator.last_name = "Ada", "Admin"
    administrator.save()
    opened = edit_input(planned, notes="officer's notes")  # the officer opens the form at version 1
    services.shipment_update(
        by=administrator, shipment_id=planned.pk, data=edit_input(planned, notes="admin's notes"), expected_version=1
    )
    before = snapshot(planned.pk)

    with pytest.raises(EditConflict) as excinfo:
        services.shipment_update(by=officer, shipment_id=planned.pk, data=opened, expected_version=1)

    assert excinfo.value.changed_by == "Ada Admin"
    assert excinfo.value.changed_at is not None
    assert abs(excinfo.value.changed_at - timezone.now()) < datetime.timedelta(minutes=5)
    assert "Ada Admin" in str(excinfo.value)
    assert snapshot(planned.pk) == before
    stored = Shipment.objects.get(pk=planned.pk)
    assert (stored.notes, stored.version) == ("admin's notes", 2)


@pytest.mark.parametrize("action", ["update", "dispatch", "cancel"])
def test_every_change_checks_the_version_and_names_the_last_editor(officer, administrator, planned, action):
    # No full name: the username names the editor.
    services.shipment_update(
        by=administrator, shipment_id=planned.pk, data=edit_input(planned, notes="admin"), expected_version=1
    )
    before = snapshot(planned.pk)

    with pytest.raises(EditConflict) as excinfo:
        if action == "update":
            services.shipment_update(by=officer, shipment_id=planned.pk, data=edit_input(planned), expected_version=1)
        elif action == "dispatch":
            services.shipment_dispatch(by=officer, shipment_id=planned.pk, dispatched_on=nov(11), expected_version=1)
        else:
            services.shipment_cancel(by=officer, shipment_id=planned.pk, reason="x", expected_version=1)

    assert excinfo.value.changed_by == "administrator"
    assert snapshot(planned.pk) == before


def test_receive_checks_the_version(officer, administrator, in_transit):
    services.shipment_update(
        by=administrator,
        shipment_id=in_transit.pk,
        data=edit_input(in_transit, notes="admin"),
        expected_version=in_transit.version,
    )
    before = snapshot(in_transit.pk)
    with pytest.raises(EditConflict) as excinfo:
        services.shipment_receive(
            by=officer, shipment_id=in_transit.pk, delivered_on=nov(12), expected_version=in_transit.version
        )
    assert excinfo.value.changed_by == "administrator"
    assert snapshot(in_transit.pk) == before


def test_cancelled_shipments_cannot_be_edited(officer, cargo_type):
    shipment = make_shipment(by=officer, lines=[(cargo_type, "10", "1")], status="in_transit")
    shipment = services.shipment_cancel(by=officer, shipment_id=shipment.pk, reason="No fuel")
    before = snapshot(shipment.pk)

    with pytest.raises(ValidationError) as excinfo:
        services.shipment_update(
            by=officer,
            shipment_id=shipment.pk,
            data=edit_input(shipment, notes="late edit"),
            expected_version=shipment.version,
        )

    assert error_keys(excinfo) == {"__all__"}
    assert snapshot(shipment.pk) == before


@pytest.mark.parametrize("status", ["partly_received", "delivered"])
def test_after_receipt_notes_and_transport_reference_stay_editable(officer, in_transit, status):
    first, second = in_transit.lines.order_by("id")
    services.receipt_create(
        by=officer, shipment_id=in_transit.pk, received_on=nov(12), close=status == "delivered",
        lines=[ReceiptInput(first.pk, 1, 1, loss_reason="lost"), ReceiptInput(second.pk, 0, 0, loss_reason="lost")],
        expected_version=in_transit.version,
    )  # fmt: skip
    shipment = Shipment.objects.get(pk=in_transit.pk)
    assert shipment.status == status
    services.shipment_update(
        by=officer, shipment_id=shipment.pk, expected_version=shipment.version,
        data=edit_input(shipment, notes="Wagon 2 arrives Monday", transport_reference=" 5201-7731 "),
    )  # fmt: skip
    stored = Shipment.objects.get(pk=shipment.pk)
    assert (stored.notes, stored.transport_reference, stored.status) == ("Wagon 2 arrives Monday", "5201-7731", status)
    assert stored.version == shipment.version + 1


@pytest.mark.parametrize(
    "change",
    [{"destination": "other"}, {"dispatched_on": nov(9)}, {"mode": "rail"}, {"lines": "heavier"}],
    ids=["destination", "dispatched_on", "mode", "lines"],
)
def test_after_receipt_route_dates_and_lines_cannot_change(officer, in_transit, change):
    first = in_transit.lines.order_by("id").first()
    services.receipt_create(
        by=officer, shipment_id=in_transit.pk, received_on=nov(12), lines=[ReceiptInput(first.pk, 1, 1)]
    )
    shipment = Shipment.objects.get(pk=in_transit.pk)
    before = snapshot(shipment.pk)
    if change.get("destination"):
        change = {"destination": LocationFactory()}
    elif change.get("lines"):
        change = {"lines": [line(x.cargo_type, x.quantity, x.tonnes + 1, line_id=x.pk) for x in shipment.lines.all()]}
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_update(
            by=officer, shipment_id=shipment.pk, data=edit_input(shipment, notes="x", **change),
            expected_version=shipment.version,
        )  # fmt: skip
    assert error_keys(excinfo) == {"__all__"}
    assert snapshot(shipment.pk) == before


def test_every_service_write_increments_the_version(officer, planned):
    assert Shipment.objects.get(pk=planned.pk).version == 1
    services.shipment_update(by=officer, shipment_id=planned.pk, data=edit_input(planned), expected_version=1)
    assert Shipment.objects.get(pk=planned.pk).version == 2
    services.shipment_dispatch(by=officer, shipment_id=planned.pk, dispatched_on=nov(11), expected_version=2)
    assert Shipment.objects.get(pk=planned.pk).version == 3
    services.shipment_receive(by=officer, shipment_id=planned.pk, delivered_on=nov(12), expected_version=3)
    assert Shipment.objects.get(pk=planned.pk).version == 4


# --- shipment_dispatch -------------------------------------------------------------------------


def test_dispatch_puts_a_planned_shipment_in_transit(officer, planned):
    result = services.shipment_dispatch(
        by=officer, shipment_id=planned.pk, dispatched_on=nov(11), expected_on=nov(14), expected_version=1
    )
    stored = Shipment.objects.get(pk=planned.pk)
    assert result.status == stored.status == Shipment.Status.IN_TRANSIT
    assert (stored.dispatched_on, stored.expected_on, stored.delivered_on) == (nov(11), nov(14), None)
    assert stored.version == 2


def test_dispatch_drops_an_expected_date_before_the_new_dispatch_date(officer, ministry, cargo_type):
    shipment = services.shipment_create(
        by=officer, data=new_input(ministry, lines=[line(cargo_type, "1", "1")], expected_on=nov(5))
    )
    services.shipment_dispatch(by=officer, shipment_id=shipment.pk, dispatched_on=nov(11))
    stored = Shipment.objects.get(pk=shipment.pk)
    assert (stored.status, stored.dispatched_on, stored.expected_on) == ("in_transit", nov(11), None)


@pytest.mark.parametrize("status", ["in_transit", "delivered", "cancelled"])
def test_only_planned_shipments_can_be_dispatched(officer, cargo_type, status):
    shipment = make_shipment(
        by=officer, lines=[(cargo_type, "10", "1")], status="delivered" if status == "delivered" else "in_transit"
    )
    if status == "cancelled":
        shipment = services.shipment_cancel(by=officer, shipment_id=shipment.pk, reason="No fuel")
    before = snapshot(shipment.pk)

    with pytest.raises(ValidationError) as excinfo:
        services.shipment_dispatch(by=officer, shipment_id=shipment.pk, dispatched_on=nov(20))

    assert error_keys(excinfo) == {"__all__"}
    assert snapshot(shipment.pk) == before


@pytest.mark.parametrize(
    ("dispatched_on", "expected_on", "key"),
    [("tomorrow", None, "dispatched_on"), (nov(11), nov(10), "expected_on")],
)
def test_dispatch_refuses_bad_dates(officer, planned, dispatched_on, expected_on, key):
    if dispatched_on == "tomorrow":
        dispatched_on = tomorrow()
    before = snapshot(planned.pk)
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_dispatch(
            by=officer, shipment_id=planned.pk, dispatched_on=dispatched_on, expected_on=expected_on
        )
    assert error_keys(excinfo) == {key}
    assert snapshot(planned.pk) == before


# --- shipment_receive --------------------------------------------------------------------------


def test_receive_without_receipts_receives_every_line_in_full(officer, in_transit):
    result = services.shipment_receive(by=officer, shipment_id=in_transit.pk, delivered_on=nov(13))

    stored = Shipment.objects.get(pk=in_transit.pk)
    assert result.status == stored.status == Shipment.Status.DELIVERED
    assert stored.delivered_on == nov(13)
    lines = list(stored.lines.order_by("id"))
    assert len(lines) == 2
    for x in lines:
        assert (x.received_quantity, x.received_tonnes) == (x.quantity, x.tonnes)
        assert x.loss_reason == ""
        assert x.lost_tonnes == Decimal("0")


def test_receive_on_the_dispatch_day_is_accepted(officer, in_transit):
    services.shipment_receive(by=officer, shipment_id=in_transit.pk, delivered_on=in_transit.dispatched_on)
    assert Shipment.objects.get(pk=in_transit.pk).delivered_on == nov(10)


def test_a_short_line_without_reason_is_refused_and_nothing_saved(officer, in_transit):
    first, second = in_transit.lines.order_by("id")
    before = snapshot(in_transit.pk)
    receipts = [
        ReceiptInput(line_id=first.pk, received_quantity=Decimal("100"), received_tonnes=Decimal("10")),
        ReceiptInput(line_id=second.pk, received_quantity=Decimal("20"), received_tonnes=Decimal("4")),
    ]

    with pytest.raises(ValidationError) as excinfo:
        services.shipment_receive(by=officer, shipment_id=in_transit.pk, delivered_on=nov(13), receipts=receipts)

    assert error_keys(excinfo) == {"lines-1-loss_reason"}
    assert snapshot(in_transit.pk) == before
    stored = Shipment.objects.get(pk=in_transit.pk)
    assert (stored.status, stored.delivered_on) == (Shipment.Status.IN_TRANSIT, None)
    assert all(x.received_tonnes is None for x in stored.lines.all())


def test_a_short_quantity_alone_also_needs_a_reason(officer, in_transit):
    first = in_transit.lines.order_by("id").first()
    receipts = [ReceiptInput(line_id=first.pk, received_quantity=Decimal("99"), received_tonnes=Decimal("10"))]
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_receive(by=officer, shipment_id=in_transit.pk, delivered_on=nov(13), receipts=receipts)
    assert error_keys(excinfo) == {"lines-0-loss_reason"}
    assert Shipment.objects.get(pk=in_transit.pk).status == Shipment.Status.IN_TRANSIT


def test_an_unknown_loss_reason_is_refused(officer, in_transit):
    first = in_transit.lines.order_by("id").first()
    receipts = [
        ReceiptInput(
            line_id=first.pk, received_quantity=Decimal("90"), received_tonnes=Decimal("9"), loss_reason="eaten"
        )
    ]
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_receive(by=officer, shipment_id=in_transit.pk, delivered_on=nov(13), receipts=receipts)
    assert error_keys(excinfo) == {"lines-0-loss_reason"}
    assert CargoLine.objects.filter(received_tonnes__isnull=False).count() == 0


def test_a_short_line_with_reason_is_saved_with_its_loss(officer, in_transit):
    first, second = in_transit.lines.order_by("id")
    receipts = [
        ReceiptInput(
            line_id=first.pk,
            received_quantity=Decimal("75"),
            received_tonnes=Decimal("7.5"),
            loss_reason=CargoLine.LossReason.DAMAGED,
            loss_note="  Crushed in transit ",
        )
    ]

    services.shipment_receive(by=officer, shipment_id=in_transit.pk, delivered_on=nov(13), receipts=receipts)

    stored = Shipment.objects.get(pk=in_transit.pk)
    assert (stored.status, stored.delivered_on) == (Shipment.Status.DELIVERED, nov(13))
    short = CargoLine.objects.get(pk=first.pk)
    assert (short.received_quantity, short.received_tonnes) == (Decimal("75"), Decimal("7.5"))
    assert short.loss_reason == "damaged"
    assert short.loss_note == "Crushed in transit"
    assert short.lost_tonnes == Decimal("2.5")
    # The line not named in the receipts arrived in full.
    full = CargoLine.objects.get(pk=second.pk)
    assert (full.received_quantity, full.received_tonnes, full.loss_reason) == (Decimal("20"), Decimal("5"), "")
    assert full.lost_tonnes == Decimal("0")


def test_a_reason_given_for_a_full_line_is_not_stored(officer, in_transit):
    first = in_transit.lines.order_by("id").first()
    receipts = [
        ReceiptInput(
            line_id=first.pk,
            received_quantity=Decimal("100"),
            received_tonnes=Decimal("10"),
            loss_reason="lost",
            loss_note="n/a",
        )
    ]
    services.shipment_receive(by=officer, shipment_id=in_transit.pk, delivered_on=nov(13), receipts=receipts)
    stored = CargoLine.objects.get(pk=first.pk)
    assert (stored.loss_reason, stored.loss_note) == ("", "")


def test_nothing_arrived_is_recorded_with_a_reason(officer, in_transit):
    first = in_transit.lines.order_by("id").first()
    receipts = [ReceiptInput(first.pk, Decimal("0"), Decimal("0"), loss_reason="stolen")]
    services.shipment_receive(by=officer, shipment_id=in_transit.pk, delivered_on=nov(13), receipts=receipts)
    assert CargoLine.objects.get(pk=first.pk).lost_tonnes == Decimal("10")


@pytest.mark.parametrize(
    ("quantity", "tonnes", "key"),
    [
        ("100", "-1", "lines-0-received_tonnes"),
        ("-1", "10", "lines-0-received_quantity"),
    ],
)
def test_received_negative_is_refused(officer, in_transit, quantity, tonnes, key):
    first = in_transit.lines.order_by("id").first()
    before = snapshot(in_transit.pk)
    receipts = [ReceiptInput(first.pk, Decimal(quantity), Decimal(tonnes), loss_reason="other")]
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_receive(by=officer, shipment_id=in_transit.pk, delivered_on=nov(13), receipts=receipts)
    assert key in error_keys(excinfo)
    assert snapshot(in_transit.pk) == before


def test_receipt_for_a_line_of_another_shipment_is_refused(officer, in_transit, cargo_type):
    other = make_shipment(by=officer, lines=[(cargo_type, "1", "1")], status="in_transit")
    receipts = [ReceiptInput(other.lines.get().pk, Decimal("1"), Decimal("1"))]
    before, before_other = snapshot(in_transit.pk), snapshot(other.pk)
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_receive(by=officer, shipment_id=in_transit.pk, delivered_on=nov(13), receipts=receipts)
    assert error_keys(excinfo) == {"__all__"}
    assert snapshot(in_transit.pk) == before
    assert snapshot(other.pk) == before_other


@pytest.mark.parametrize("delivered_on", [nov(9), "tomorrow"])
def test_receive_refuses_a_delivery_date_before_dispatch_or_in_the_future(officer, in_transit, delivered_on):
    if delivered_on == "tomorrow":
        delivered_on = tomorrow()
    before = snapshot(in_transit.pk)
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_receive(by=officer, shipment_id=in_transit.pk, delivered_on=delivered_on)
    assert error_keys(excinfo) == {"received_on"}
    assert snapshot(in_transit.pk) == before


@pytest.mark.parametrize("status", ["planned", "delivered", "cancelled"])
def test_only_shipments_in_transit_can_be_received(officer, cargo_type, status):
    shipment = make_shipment(
        by=officer, lines=[(cargo_type, "10", "1")], status="planned" if status == "cancelled" else status
    )
    if status == "cancelled":
        shipment = services.shipment_cancel(by=officer, shipment_id=shipment.pk, reason="No truck")
    before = snapshot(shipment.pk)
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_receive(by=officer, shipment_id=shipment.pk, delivered_on=nov(25))
    assert error_keys(excinfo) == {"__all__"}
    assert snapshot(shipment.pk) == before


# --- shipment_cancel ---------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancel_needs_a_reason(officer, planned, reason):
    before = snapshot(planned.pk)
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_cancel(by=officer, shipment_id=planned.pk, reason=reason)
    assert error_keys(excinfo) == {"reason"}
    assert snapshot(planned.pk) == before


def test_cancel_a_planned_shipment_appends_the_reason_to_the_notes(officer, planned):
    services.shipment_cancel(by=officer, shipment_id=planned.pk, reason="  Road washed out ", expected_version=1)
    stored = Shipment.objects.get(pk=planned.pk)
    assert stored.status == Shipment.Status.CANCELLED
    assert stored.notes == "First convoy\nCancelled: Road washed out"
    assert stored.version == 2
    assert stored.lines.count() == 2  # the lines stay, for the record


def test_cancel_a_shipment_in_transit(officer, in_transit):
    services.shipment_cancel(by=officer, shipment_id=in_transit.pk, reason="Turned back")
    stored = Shipment.objects.get(pk=in_transit.pk)
    assert stored.status == Shipment.Status.CANCELLED
    assert stored.notes == "Cancelled: Turned back"
    assert stored.dispatched_on == nov(10)
    assert stored.delivered_on is None


@pytest.mark.parametrize("status", ["delivered", "cancelled"])
def test_delivered_or_cancelled_cannot_be_cancelled(officer, cargo_type, status):
    shipment = make_shipment(
        by=officer, lines=[(cargo_type, "10", "1")], status="delivered" if status == "delivered" else "planned"
    )
    if status == "cancelled":
        shipment = services.shipment_cancel(by=officer, shipment_id=shipment.pk, reason="first")
    before = snapshot(shipment.pk)
    with pytest.raises(ValidationError) as excinfo:
        services.shipment_cancel(by=officer, shipment_id=shipment.pk, reason="again")
    assert error_keys(excinfo) == {"__all__"}
    assert snapshot(shipment.pk) == before


# --- history -----------------------------------------------------------------------------------


def test_history_records_who_did_what(officer, in_transit):
    services.shipment_receive(by=officer, shipment_id=in_transit.pk, delivered_on=nov(13))

    records = list(Shipment.history.filter(id=in_transit.pk).order_by("history_date", "history_id"))
    assert [(r.history_type, r.history_change_reason, r.status) for r in records] == [
        ("+", "Created", "in_transit"),
        ("~", "Received", "delivered"),
    ]
    assert {r.history_user for r in records} == {officer}
    line_records = CargoLine.history.filter(shipment_id=in_transit.pk)
    assert sorted(line_records.values_list("history_type", flat=True)) == ["+", "+", "~", "~"]
    assert {r.history_user for r in line_records} == {officer}


def test_history_of_create_dispatch_receive(officer, administrator, planned):
    services.shipment_dispatch(by=administrator, shipment_id=planned.pk, dispatched_on=nov(11))
    services.shipment_receive(by=officer, shipment_id=planned.pk, delivered_on=nov(13))

    records = list(Shipment.history.filter(id=planned.pk).order_by("history_date", "history_id"))
    assert [(r.history_change_reason, r.history_user, r.status) for r in records] == [
        ("Created", officer, "planned"),
        ("Dispatched", administrator, "in_transit"),
        ("Received", officer, "delivered"),
    ]

    entries = shipment_history(Shipment.objects.get(pk=planned.pk))
    whens = [e["when"] for e in entries]
    assert whens == sorted(whens, reverse=True)
    assert (entries[0]["subject"], entries[0]["who"], entries[0]["reason"]) == ("Shipment", "officer", "Received")
    assert entries[-1]["subject"] == "Shipment"
    assert (entries[-1]["action"], entries[-1]["reason"], entries[-1]["who"]) == ("created", "Created", "officer")
    shipment_entries = [(e["who"], e["reason"]) for e in entries if e["subject"] == "Shipment"]
    assert shipment_entries == [("officer", "Received"), ("administrator", "Dispatched"), ("officer", "Created")]
    dispatched = next(e for e in entries if e["reason"] == "Dispatched")
    assert ("status", "Planned", "In transit") in dispatched["changes"]
    assert ("dispatched", None, nov(11)) in dispatched["changes"]
    line_entries = [e for e in entries if e["subject"].startswith("Line: ")]
    assert {e["subject"] for e in line_entries} == {"Line: Stoves", "Line: Tents"}
    assert sorted(e["action"] for e in line_entries) == ["changed", "changed", "created", "created"]


def test_history_of_an_edit_names_the_fields_and_values(officer, administrator, planned, cargo_type):
    administrator.first_name, administrator.last_name = "Ada", "Admin"
    administrator.save()
    first, second = planned.lines.order_by("id")
    old_consignee = planned.consignee
    data = edit_input(
        planned,
        consignee=OrganisationFactory(code="unhcr", name="UNHCR"),
        mode="rail",
        transport_reference="TRUCK 9",
        expected_on=nov(21),
        lines=[line(cargo_type, "100", "12", line_id=first.pk)],  # `second` removed
    )
    services.shipment_update(by=administrator, shipment_id=planned.pk, data=data, expected_version=1)

    entries = shipment_history(Shipment.objects.get(pk=planned.pk))

    edit = next(e for e in entries if e["subject"] == "Shipment" and e["action"] == "changed")
    assert (edit["who"], edit["reason"]) == ("Ada Admin", "Edited")
    # Choice labels and the names of related rows, not raw values; the version counter is left out.
    assert sorted(edit["changes"], key=lambda c: c[0]) == [
        ("consignee", str(old_consignee), "UNHCR"),
        ("expected", None, nov(21)),
        ("transport mode", "Road", "Rail"),
        ("transport reference", "", "TRUCK 9"),
    ]
    line_edit = next(e for e in entries if e["subject"] == "Line: Stoves" and e["action"] == "changed")
    assert line_edit["who"] == "Ada Admin"
    assert [(name, Decimal(old), Decimal(new)) for name, old, new in line_edit["changes"]] == [
        ("weight (t)", Decimal("10"), Decimal("12"))
    ]
    removed = next(e for e in entries if e["action"] == "removed")
    assert (removed["subject"], removed["who"]) == ("Line: Tents", "Ada Admin")
    # Newest first: the edit and its line changes come before anything from the create.
    created = [i for i, e in enumerate(entries) if e["action"] == "created"]
    assert min(created) > entries.index(edit)
    assert CargoLine.history.filter(id=second.pk, history_type="-").get().history_user == administrator
