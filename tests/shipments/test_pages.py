"""The shipment pages, through HTTP, per role."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shipments.models import CargoLine, Shipment
from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory, make_shipment

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(db):
    return LocationFactory(code="ORIG", name="Origin town"), LocationFactory(code="DEST", name="Destination town")


@pytest.fixture
def cargo(db):
    return [
        CargoTypeFactory(code="bm", name="Building materials", unit="t"),
        CargoTypeFactory(code="stove", name="Stoves", unit="pcs"),
        CargoTypeFactory(code="gen", name="Diesel generators", unit="pcs"),
    ]


def form_data(consignor, consignee, places, lines, **extra):
    """The POST body of the shipment form: header fields and a `lines` formset."""
    origin, destination = places
    data = {
        "mode": "road",
        "consignor": consignor.pk,
        "consignee": consignee.pk,
        "origin": origin.pk,
        "destination": destination.pk,
        "transport_reference": "AB 123",
        "dispatched_on": "",
        "expected_on": "",
        "notes": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for i, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{i}-{key}"] = value
    data.update(extra)
    return data


def three_lines(cargo):
    return [
        {"cargo_type": cargo[0].pk, "quantity": "12", "tonnes": "12"},
        {"cargo_type": cargo[1].pk, "quantity": "200", "tonnes": "4.5"},
        {"cargo_type": cargo[2].pk, "quantity": "4", "tonnes": "5"},
    ]


def test_officer_logs_a_shipment_with_three_lines(client, officer, partner_org, places, cargo):
    client.force_login(officer)
    assert client.get("/shipments/new/").status_code == 200
    data = form_data(officer.organisation, partner_org, places, three_lines(cargo), submission_key=str(uuid.uuid4()))
    response = client.post("/shipments/new/", data)
    shipment = Shipment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/shipments/{shipment.pk}/"
    assert shipment.reference.startswith("WB-")
    assert shipment.lines.count() == 3
    assert sum(line.tonnes for line in shipment.lines.all()) == Decimal("21.5")
    page = client.get(response["Location"]).content.decode()
    assert shipment.reference in page and "21.500" in page


def test_the_same_form_posted_twice_creates_one_shipment(client, officer, partner_org, places, cargo):
    client.force_login(officer)
    data = form_data(officer.organisation, partner_org, places, three_lines(cargo), submission_key=str(uuid.uuid4()))
    first = client.post("/shipments/new/", data)
    second = client.post("/shipments/new/", data)
    assert Shipment.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_an_invalid_line_saves_nothing_and_shows_the_error_by_the_line(client, officer, partner_org, places, cargo):
    client.force_login(officer)
    lines = three_lines(cargo)
    lines[1]["tonnes"] = "0"
    data = form_data(officer.organisation, partner_org, places, lines, submission_key=str(uuid.uuid4()))
    response = client.post("/shipments/new/", data)
    assert response.status_code == 200
    assert Shipment.objects.count() == 0 and CargoLine.objects.count() == 0
    formset = response.context["formset"]
    assert "tonnes" in formset.forms[1].errors and not formset.forms[0].errors
    page = response.content.decode()
    assert "The weight must be more than 0 t." in page
    assert 'value="AB 123"' in page  # what the user typed is kept


def test_a_field_error_is_shown_next_to_the_field(client, officer, partner_org, places, cargo):
    client.force_login(officer)
    origin, _ = places
    data = form_data(officer.organisation, partner_org, (origin, origin), three_lines(cargo))
    response = client.post("/shipments/new/", data)
    assert response.context["form"].errors["destination"] == ["The destination must differ from the origin."]
    assert Shipment.objects.count() == 0


def test_add_line_without_javascript_redisplays_with_one_more_line(client, officer, partner_org, places, cargo):
    client.force_login(officer)
    data = form_data(officer.organisation, partner_org, places, three_lines(cargo)[:1], add_line="1")
    response = client.post("/shipments/new/", data)
    assert response.status_code == 200
    assert len(response.context["formset"].forms) == 2
    assert Shipment.objects.count() == 0


def test_remove_line_by_checkbox_without_javascript(client, officer, partner_org, places, cargo):
    client.force_login(officer)
    lines = three_lines(cargo)
    lines[2]["DELETE"] = "on"
    client.post("/shipments/new/", form_data(officer.organisation, partner_org, places, lines))
    assert Shipment.objects.get().lines.count() == 2


def test_officer_cannot_log_for_another_organisation(client, officer, partner_org, places, cargo):
    client.force_login(officer)
    response = client.post("/shipments/new/", form_data(partner_org, partner_org, places, three_lines(cargo)))
    assert response.status_code == 200
    assert "consignor" in response.context["form"].errors
    assert Shipment.objects.count() == 0


@pytest.mark.parametrize("path", ["/shipments/new/"])
def test_coordinator_cannot_open_the_new_form(client, coordinator, path):
    client.force_login(coordinator)
    assert client.get(path).status_code == 403


def test_coordinator_reads_but_cannot_change(client, coordinator, officer):
    shipment = make_shipment(by=officer)
    client.force_login(coordinator)
    assert client.get("/shipments/").status_code == 200
    assert client.get(f"/shipments/{shipment.pk}/").status_code == 200
    for action in ["edit", "dispatch", "receive", "cancel"]:
        assert client.get(f"/shipments/{shipment.pk}/{action}/").status_code == 403, action
        assert client.post(f"/shipments/{shipment.pk}/{action}/", {}).status_code == 403, action


def test_officer_of_another_organisation_cannot_change(client, officer, other_officer):
    shipment = make_shipment(by=officer)
    client.force_login(other_officer)
    assert client.get(f"/shipments/{shipment.pk}/").status_code == 200
    assert client.get(f"/shipments/{shipment.pk}/edit/").status_code == 403
    response = client.post(f"/shipments/{shipment.pk}/cancel/", {"reason": "x", "version": shipment.version})
    assert response.status_code == 403
    shipment.refresh_from_db()
    assert shipment.status == "planned"


def test_administrator_changes_any_shipment(client, officer, administrator):
    shipment = make_shipment(by=officer)
    client.force_login(administrator)
    response = client.post(f"/shipments/{shipment.pk}/cancel/", {"reason": "duplicate", "version": shipment.version})
    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == "cancelled"


def test_user_without_a_role_sees_nothing(client, django_user_model, officer):
    shipment = make_shipment(by=officer)
    nobody = django_user_model.objects.create_user("nobody", password="x")
    client.force_login(nobody)
    assert client.get("/shipments/").status_code == 403
    assert client.get(f"/shipments/{shipment.pk}/").status_code == 404


def edit_data(shipment, **changes):
    lines = [
        {"id": line.pk, "cargo_type": line.cargo_type_id, "quantity": str(line.quantity), "tonnes": str(line.tonnes)}
        for line in shipment.lines.order_by("id")
    ]
    data = form_data(
        shipment.consignor,
        shipment.consignee,
        (shipment.origin, shipment.destination),
        lines,
        version=str(shipment.version),
        **{"lines-INITIAL_FORMS": str(len(lines))},
    )
    data.update(changes)
    return data


def test_edit_conflict_is_refused_with_who_and_when(client, officer, ministry):
    from tests.factories import UserFactory

    colleague = UserFactory(username="colleague", first_name="Karen", last_name="Hakobyan", organisation=ministry,
                            role="logistics_officer")  # fmt: skip
    shipment = make_shipment(by=officer)
    client.force_login(officer)
    opened = edit_data(shipment, transport_reference="MINE")  # the form as officer opened it

    client.force_login(colleague)
    assert (
        client.post(f"/shipments/{shipment.pk}/edit/", edit_data(shipment, transport_reference="THEIRS")).status_code
        == 302
    )

    client.force_login(officer)
    response = client.post(f"/shipments/{shipment.pk}/edit/", opened)
    assert response.status_code == 200
    message = " ".join(response.context["form"].non_field_errors())
    assert "Karen Hakobyan" in message and "changed this shipment" in message
    shipment.refresh_from_db()
    assert shipment.transport_reference == "THEIRS"


def test_edit_adds_and_removes_lines(client, officer):
    cargo = CargoTypeFactory()
    shipment = make_shipment(by=officer, lines=[(cargo, "10", "1"), (cargo, "20", "2")])
    client.force_login(officer)
    data = edit_data(shipment)
    data["lines-0-DELETE"] = "on"
    data.update(
        {"lines-TOTAL_FORMS": "3", "lines-2-cargo_type": cargo.pk, "lines-2-quantity": "5", "lines-2-tonnes": "0.5"}
    )
    assert client.post(f"/shipments/{shipment.pk}/edit/", data).status_code == 302
    assert sorted(shipment.lines.values_list("tonnes", flat=True)) == [Decimal("0.5"), Decimal("2")]


def test_dispatch_then_receive_one_line_short_shows_lost_tonnes(client, officer):
    cargo = [CargoTypeFactory(), CargoTypeFactory(), CargoTypeFactory()]
    shipment = make_shipment(by=officer, lines=[(c, "10", "5") for c in cargo])
    client.force_login(officer)
    response = client.post(
        f"/shipments/{shipment.pk}/dispatch/", {"dispatched_on": "2020-11-20", "version": shipment.version}
    )
    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"
    lines = list(shipment.lines.order_by("id"))
    receive = {
        "delivered_on": "2020-11-23",
        "version": shipment.version,
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "3",
    }
    for i, line in enumerate(lines):
        receive.update(
            {f"lines-{i}-line_id": line.pk, f"lines-{i}-received_quantity": "10", f"lines-{i}-received_tonnes": "5"}
        )
    receive.update({"lines-1-received_quantity": "8", "lines-1-received_tonnes": "4.25"})
    # Short without a reason: refused next to the line, nothing saved.
    response = client.post(f"/shipments/{shipment.pk}/receive/", receive)
    assert response.status_code == 200
    assert "loss_reason" in response.context["formset"].forms[1].errors
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"

    receive["lines-1-loss_reason"] = "damaged"
    assert client.post(f"/shipments/{shipment.pk}/receive/", receive).status_code == 302
    page = client.get(f"/shipments/{shipment.pk}/")
    assert page.context["totals"] == {"sent": Decimal("15"), "received": Decimal("14.25"), "lost": Decimal("0.75")}
    html = page.content.decode()
    assert "0.750" in html and "Damaged" in html
    history = page.context["history"]
    assert {entry["reason"] for entry in history} >= {"Created", "Dispatched", "Received"}
    assert all(entry["who"] == officer.username for entry in history)


def test_list_filters(client, coordinator, officer):
    region = LocationFactory(code="REG", level="region")
    town = LocationFactory(code="REG-T", parent=region)
    elsewhere = LocationFactory(code="ELSE")
    stove, gen = CargoTypeFactory(code="stove2"), CargoTypeFactory(code="gen2")
    a = make_shipment(by=officer, destination=town, lines=[(stove, "1", "1")], transport_reference="KAMAZ 77")
    b = make_shipment(by=officer, destination=elsewhere, mode="rail", lines=[(gen, "1", "1")], status="in_transit")
    client.force_login(coordinator)

    def refs(query):
        return {s.reference for s in client.get(f"/shipments/?{query}").context["page"]}

    assert refs("") == {a.reference, b.reference}
    assert refs("destination=REG") == {a.reference}
    assert refs("cargo_type=gen2") == {b.reference}
    assert refs("mode=rail") == {b.reference}
    assert refs("status=planned") == {a.reference}
    assert refs("q=kamaz") == {a.reference}
    assert refs(f"q={b.reference}") == {b.reference}
    assert refs("date_from=2020-11-16&date_to=2020-11-16") == {b.reference}
    assert [s.reference for s in client.get("/shipments/?sort=-reference").context["page"]] == sorted(
        [a.reference, b.reference], reverse=True
    )


def test_list_rejects_a_bad_filter_value_with_a_message(client, coordinator):
    client.force_login(coordinator)
    response = client.get("/shipments/?date_from=not-a-date&destination=NOPE")
    assert response.status_code == 200
    errors = response.context["filterset"].form.errors
    assert "date_from" in errors and "destination" in errors


def bulk_shipments(n, officer):
    """n shipments of two lines each, written directly (fast) for query-count tests."""
    consignee = OrganisationFactory()
    origin, dest = LocationFactory(), LocationFactory()
    cargo = CargoTypeFactory()
    start = Shipment.objects.count()
    shipments = Shipment.objects.bulk_create(
        Shipment(reference=f"BULK-{start + i}", mode="road", consignor=officer.organisation, consignee=consignee,
                 origin=origin, destination=dest, status="in_transit", dispatched_on=datetime.date(2020, 11, 20))
        for i in range(n)
    )  # fmt: skip
    CargoLine.objects.bulk_create(
        CargoLine(shipment=s, cargo_type=cargo, quantity=1, tonnes=Decimal("1.5")) for s in shipments for _ in range(2)
    )


def count_queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx)


def test_list_query_count_does_not_grow_with_shipments(client, officer, settings):
    client.force_login(officer)
    bulk_shipments(10, officer)
    small = count_queries(client, "/shipments/?sort=-tonnes")
    bulk_shipments(190, officer)
    large = count_queries(client, "/shipments/?sort=-tonnes")
    assert small == large


def test_a_receipt_posted_with_fewer_lines_than_the_shipment_is_refused_not_a_server_error(client, officer):
    cargo = [CargoTypeFactory(), CargoTypeFactory()]
    shipment = make_shipment(by=officer, lines=[(c, "10", "5") for c in cargo], status="in_transit")
    second = shipment.lines.order_by("id").last()
    client.force_login(officer)
    response = client.post(
        f"/shipments/{shipment.pk}/receive/",
        {
            "delivered_on": "2020-11-20",
            "version": shipment.version,
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "1",
            "lines-0-line_id": second.pk,
            "lines-0-received_quantity": "5",
            "lines-0-received_tonnes": "2",
        },
    )
    assert response.status_code == 200
    assert "give the reason" in " ".join(response.context["form"].non_field_errors())
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"
