"""The shipment pages, through HTTP, per role."""

import datetime
import re
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shipments import services
from shipments.models import CargoLine, ReceiptLine, Shipment
from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory, UserFactory, make_shipment

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


def receive_data(shipment, received=None, close=False, **extra):
    """The POST body of the receive page: `received` maps a line's position to (quantity, tonnes)
    or to a dict of that line's fields; the other lines are left blank (nothing arrived now)."""
    lines = list(shipment.lines.order_by("id"))
    data = {
        "received_on": "2020-11-23",
        "note": "",
        "version": shipment.version,
        "submission_key": str(uuid.uuid4()),
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(len(lines)),
    }
    if close:
        data["close"] = "on"
    for i, line in enumerate(lines):
        data.update({f"lines-{i}-line_id": line.pk, f"lines-{i}-received_quantity": "",
                     f"lines-{i}-received_tonnes": "", f"lines-{i}-condition": "good"})  # fmt: skip
        given = (received or {}).get(i)
        if isinstance(given, tuple):
            given = {"received_quantity": given[0], "received_tonnes": given[1]}
        for key, value in (given or {}).items():
            data[f"lines-{i}-{key}"] = value
    data.update(extra)
    return data


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
    receive = receive_data(shipment, {0: ("10", "5"), 1: ("8", "4.25"), 2: ("10", "5")}, close=True)
    # Closing short without a reason: refused next to the line, nothing saved.
    response = client.post(f"/shipments/{shipment.pk}/receive/", receive)
    assert response.status_code == 200
    assert "loss_reason" in response.context["formset"].forms[1].errors
    assert not response.context["formset"].forms[0].errors
    shipment.refresh_from_db()
    assert shipment.status == "in_transit" and not shipment.receipts.exists()

    receive["lines-1-loss_reason"] = "damaged"
    assert client.post(f"/shipments/{shipment.pk}/receive/", receive).status_code == 302
    page = client.get(f"/shipments/{shipment.pk}/")
    totals = page.context["totals"]
    assert (totals["sent"], totals["received"], totals["lost"]) == (Decimal("15"), Decimal("14.25"), Decimal("0.75"))
    html = page.content.decode()
    assert 'data-testid="tonnes-lost">0.750<' in html and "Damaged" in html
    assert page.context["shipment"].status == "delivered"
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


def test_list_query_count_does_not_grow_with_shipments(client, officer, django_assert_num_queries, settings):
    client.force_login(officer)
    settings.LIST_EXACT_COUNT_LIMIT = 10**9  # counted, whatever the table's statistics say (see test_list_queries)
    # Session, user, roles; the count (on PostgreSQL after the estimate that decides whether to count);
    # the filter form's organisations, cargo types and places; the page's rows with their figures.
    expected = 8 + (connection.vendor == "postgresql")
    for n in (10, 190):
        bulk_shipments(n, officer)
        for path in ("/shipments/?sort=-tonnes", "/shipments/", "/shipments/?status=in_transit&sort=-delivered"):
            with django_assert_num_queries(expected):
                assert client.get(path).status_code == 200


def test_a_receipt_posted_with_fewer_lines_than_the_shipment_is_refused_not_a_server_error(client, officer):
    """A line missing from the posted form (a tampered form): when closing, its refusal is shown on top."""
    cargo = [CargoTypeFactory(), CargoTypeFactory()]
    shipment = make_shipment(by=officer, lines=[(c, "10", "5") for c in cargo], status="in_transit")
    second = shipment.lines.order_by("id").last()
    client.force_login(officer)
    response = client.post(
        f"/shipments/{shipment.pk}/receive/",
        {
            "received_on": "2020-11-20",
            "version": shipment.version,
            "close": "on",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "1",
            "lines-0-line_id": second.pk,
            "lines-0-received_quantity": "10",
            "lines-0-received_tonnes": "5",
            "lines-0-condition": "good",
        },
    )
    assert response.status_code == 200
    assert "give the reason" in " ".join(response.context["form"].non_field_errors())
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"


# --- receipts: record, close, correct, reopen ------------------------------------------------------


@pytest.fixture
def moving(officer):
    """In transit since 16 Nov 2020: stoves (200 pcs, 4.5 t) and generators (4 pcs, 5 t)."""
    stoves = CargoTypeFactory(code="stove", name="Stoves", unit="pcs")
    generators = CargoTypeFactory(code="gen", name="Diesel generators", unit="pcs")
    return make_shipment(by=officer, lines=[(stoves, "200", "4.5"), (generators, "4", "5")], status="in_transit")


def receive(by, shipment, received, received_on=datetime.date(2020, 11, 20), close=False, **kwargs):
    """Record a receipt through the service: `received` maps a line's position to (quantity, tonnes)."""
    lines = list(shipment.lines.order_by("id"))
    return services.receipt_create(
        by=by,
        shipment_id=shipment.pk,
        received_on=received_on,
        lines=[services.ReceiptInput(lines[i].pk, Decimal(q), Decimal(t), **kwargs) for i, (q, t) in received.items()],
        close=close,
    )


def line_values(shipment):
    return [(line.received_quantity, line.received_tonnes) for line in shipment.lines.order_by("id")]


def unlabelled_inputs(html: str) -> list[str]:
    """The ids (or names) of the visible inputs, selects and textareas of a page that no label names."""
    labelled = set(re.findall(r'<label[^>]*\sfor="([^"]+)"', html))
    missing = []
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if re.search(r'type="(hidden|submit)"', tag):
            continue
        found = re.search(r'\sid="([^"]+)"', tag)
        if not found or (found.group(1) not in labelled and "aria-label=" not in tag):
            missing.append(found.group(1) if found else tag)
    return missing


def test_the_receive_page_shows_what_was_sent_received_and_remains_with_blank_inputs(client, officer, moving):
    receive(officer, moving, {0: ("50", "1.125")})
    client.force_login(officer)
    response = client.get(f"/shipments/{moving.pk}/receive/")
    assert response.status_code == 200
    html = response.content.decode()
    rows = re.findall(r'<tr data-testid="receipt-line">.*?</tr>', html, re.S)
    assert len(rows) == 2
    assert "200 pcs · 4.500 t" in rows[0] and "50 pcs · 1.125 t" in rows[0] and "150 pcs · 3.375 t" in rows[0]
    assert "4 pcs · 5.000 t" in rows[1] and "—" in rows[1]  # nothing of it received yet
    # Received now starts blank (not "everything"), the condition at good.
    for i in range(2):
        assert re.search(rf'name="lines-{i}-received_tonnes"[^>]*>', html).group(0).count("value=") == 0
        select = re.search(rf'<select name="lines-{i}-condition".*?</select>', html, re.S).group(0)
        assert '<option value="good" selected>' in select
    form = response.context["form"]
    assert form["submission_key"].value() and form["version"].value() == moving.version + 1
    assert unlabelled_inputs(html) == []


def test_a_partial_receipt_then_the_rest_with_receipt_complete(client, officer, moving):
    client.force_login(officer)
    response = client.post(f"/shipments/{moving.pk}/receive/", receive_data(moving, {1: ("2", "2.5")}, note="Wagon 1"))
    assert response.status_code == 302 and response["Location"] == f"/shipments/{moving.pk}/"
    moving.refresh_from_db()
    assert moving.status == "partly_received" and moving.delivered_on is None
    assert line_values(moving) == [(None, None), (Decimal("2"), Decimal("2.5"))]  # blank line: nothing now
    page = client.get(f"/shipments/{moving.pk}/").content.decode()
    assert "Partly received" in page and "Wagon 1" in page
    remaining = re.findall(r'data-testid="line-remaining">([^<]*)<', page)
    assert remaining == ["4.500", "2.500"]
    assert 'data-testid="tonnes-remaining">7.000<' in page and 'data-testid="tonnes-lost"' not in page

    data = receive_data(moving, {0: ("200", "4.5"), 1: ("2", "2.5")}, close=True, received_on="2020-11-24")
    assert client.post(f"/shipments/{moving.pk}/receive/", data).status_code == 302
    moving.refresh_from_db()
    assert moving.status == "delivered" and moving.delivered_on == datetime.date(2020, 11, 24)
    assert line_values(moving) == [(Decimal("200"), Decimal("4.5")), (Decimal("4"), Decimal("5"))]
    assert moving.receipts.count() == 2


def test_the_same_receipt_posted_twice_records_once(client, officer, moving):
    client.force_login(officer)
    data = receive_data(moving, {0: ("20", "0.45")})
    first = client.post(f"/shipments/{moving.pk}/receive/", data)
    second = client.post(f"/shipments/{moving.pk}/receive/", data)  # the old version, the same key
    assert first.status_code == second.status_code == 302
    assert moving.receipts.count() == 1
    moving.refresh_from_db()
    assert line_values(moving)[0] == (Decimal("20"), Decimal("0.45"))


def test_a_receipt_that_closes_posted_twice_records_once(client, officer, moving):
    client.force_login(officer)
    data = receive_data(moving, {0: ("200", "4.5"), 1: ("4", "5")}, close=True)
    assert client.post(f"/shipments/{moving.pk}/receive/", data).status_code == 302
    assert client.post(f"/shipments/{moving.pk}/receive/", data).status_code == 302  # closed by now
    assert moving.receipts.count() == 1 and ReceiptLine.objects.count() == 2


def test_receive_errors_are_shown_by_the_field_and_nothing_is_saved(client, officer, moving):
    client.force_login(officer)
    damaged = {"received_quantity": "5", "received_tonnes": "1", "condition": "damaged", "damage_reason": ""}
    response = client.post(f"/shipments/{moving.pk}/receive/", receive_data(moving, {1: damaged}))
    assert response.status_code == 200
    line_forms = response.context["formset"].forms
    assert line_forms[1].errors == {"damage_reason": ["Say what is damaged."]} and not line_forms[0].errors
    assert "Say what is damaged." in response.content.decode()

    response = client.post(
        f"/shipments/{moving.pk}/receive/", receive_data(moving, {0: ("1", "1")}, received_on="2020-11-01")
    )
    assert response.context["form"].errors["received_on"] == ["The receipt date cannot be before the dispatch date."]

    response = client.post(f"/shipments/{moving.pk}/receive/", receive_data(moving, {}))
    assert "Enter what arrived of at least one line." in response.context["form"].non_field_errors()

    response = client.post(f"/shipments/{moving.pk}/receive/", receive_data(moving, {0: ("-1", "1")}))
    assert "received_quantity" in response.context["formset"].forms[0].errors
    assert not moving.receipts.exists()
    assert unlabelled_inputs(response.content.decode()) == []


def test_more_than_was_sent_is_shown_as_overage_and_damage_is_shown(client, officer, moving):
    receive(officer, moving, {0: ("200", "5.5")})
    receive(officer, moving, {1: ("1", "1.25")}, condition="damaged", damage_reason="Crushed crate")
    client.force_login(officer)
    page = client.get(f"/shipments/{moving.pk}/")
    html = page.content.decode()
    assert "+1.000 t overage" in html
    assert re.findall(r'data-testid="line-damaged">([^<]*)<', html) == ["—", "1.250"]
    assert 'data-testid="tonnes-damaged">1.250<' in html and "Crushed crate" in html
    totals = page.context["totals"]
    assert (totals["received"], totals["overage"], totals["remaining"]) == (
        Decimal("6.75"),
        Decimal("1"),
        Decimal("3.75"),
    )


def test_receipts_are_listed_in_date_order_with_their_lines_and_who_recorded_them(
    client, officer, administrator, moving
):
    receive(administrator, moving, {1: ("1", "1.25")}, received_on=datetime.date(2020, 11, 22))
    receive(officer, moving, {0: ("100", "2.25")}, received_on=datetime.date(2020, 11, 19))
    client.force_login(officer)
    response = client.get(f"/shipments/{moving.pk}/")
    receipts = response.context["receipts"]
    assert [r.received_on.day for r in receipts] == [19, 22]
    assert [[row["line"].cargo_type.name for row in r.items] for r in receipts] == [["Stoves"], ["Diesel generators"]]
    html = response.content.decode()
    assert re.findall(r'data-testid="recorded-by">recorded by ([^<]*)<', html) == ["officer", "administrator"]


def test_close_page_needs_a_reason_per_short_line(client, officer, moving):
    receive(officer, moving, {0: ("200", "4.5"), 1: ("3", "4")})
    moving.refresh_from_db()
    client.force_login(officer)
    response = client.get(f"/shipments/{moving.pk}/close/")
    html = response.content.decode()
    assert len(response.context["formset"].forms) == 1  # only the generators are short
    assert "Arrived in full." in html and unlabelled_inputs(html) == []
    short = moving.lines.order_by("id").last()
    data = close_data(moving, [short], closed_on="2020-11-25")
    response = client.post(f"/shipments/{moving.pk}/close/", data)
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors == {
        "loss_reason": ["Less arrived than was sent: give the reason."]
    }
    moving.refresh_from_db()
    assert moving.status == "partly_received"

    data.update({"lines-0-loss_reason": "stolen", "lines-0-loss_note": "at the border"})
    assert client.post(f"/shipments/{moving.pk}/close/", data).status_code == 302
    moving.refresh_from_db()
    assert moving.status == "delivered" and moving.delivered_on == datetime.date(2020, 11, 25)
    html = client.get(f"/shipments/{moving.pk}/").content.decode()
    assert 'data-testid="tonnes-lost">1.000<' in html and "Stolen" in html and "at the border" in html


def test_close_page_refuses_a_date_before_the_last_receipt(client, officer, moving):
    receive(officer, moving, {0: ("200", "4.5"), 1: ("4", "5")}, received_on=datetime.date(2020, 11, 22))
    moving.refresh_from_db()
    client.force_login(officer)
    response = client.post(f"/shipments/{moving.pk}/close/", close_data(moving, [], closed_on="2020-11-21"))
    assert response.status_code == 200
    assert "before the last receipt" in response.context["form"].errors["closed_on"][0]


def close_data(shipment, short_lines, **extra):
    """The POST body of the close page: no loss reason given for `short_lines`."""
    data = {"closed_on": "2020-11-25", "version": shipment.version, "lines-TOTAL_FORMS": str(len(short_lines)),
            "lines-INITIAL_FORMS": str(len(short_lines))}  # fmt: skip
    for i, line in enumerate(short_lines):
        data.update({f"lines-{i}-line_id": line.pk, f"lines-{i}-loss_reason": "", f"lines-{i}-loss_note": ""})
    data.update(extra)
    return data


def correct_data(receipt, received, reason="Miscounted", **extra):
    """The POST body of the correct page: `received` maps a line's position to (quantity, tonnes)."""
    return receive_data(receipt.shipment, received, version=receipt.version, reason=reason,
                        received_on=receipt.received_on.isoformat(), note=receipt.note, **extra)  # fmt: skip


def test_a_receipt_is_corrected_with_a_reason_and_the_correction_is_shown(client, officer, ministry, moving):
    receipt = receive(officer, moving, {0: ("100", "2.25")})
    colleague = UserFactory(username="karen", first_name="Karen", last_name="Hakobyan", organisation=ministry,
                            role="logistics_officer")  # fmt: skip
    client.force_login(colleague)
    response = client.get(f"/shipments/{moving.pk}/receipts/{receipt.pk}/correct/")
    html = response.content.decode()
    assert response.status_code == 200 and unlabelled_inputs(html) == []
    assert re.search(r'name="lines-0-received_tonnes"[^>]*value="2.250"', html)  # the receipt's values

    response = client.post(
        f"/shipments/{moving.pk}/receipts/{receipt.pk}/correct/", correct_data(receipt, {0: ("90", "2")}, reason="")
    )
    assert response.context["form"].errors["reason"] == ["Say why the receipt is corrected."]

    data = correct_data(receipt, {0: ("90", "2"), 1: ("1", "1.25")}, reason="Recounted at the warehouse")
    assert client.post(f"/shipments/{moving.pk}/receipts/{receipt.pk}/correct/", data).status_code == 302
    moving.refresh_from_db()
    assert line_values(moving) == [(Decimal("90"), Decimal("2")), (Decimal("1"), Decimal("1.25"))]

    client.force_login(officer)
    page = client.get(f"/shipments/{moving.pk}/")
    [shown] = page.context["receipts"]
    [correction] = shown.corrections
    assert correction["who"] == colleague and correction["reason"] == "Recounted at the warehouse"
    assert ("Stoves: quantity", "100", "90") in correction["changes"]
    assert ("Stoves: tonnes", "2.250", "2.000") in correction["changes"]
    assert ("Diesel generators", "—", "1 pcs · 1.250 t") in correction["changes"]
    corrections = re.search(r'data-testid="corrections">(.*?)</ol>', page.content.decode(), re.S).group(1)
    assert "Karen Hakobyan" in corrections and "Recounted at the warehouse" in corrections
    assert "Stoves: tonnes: 2.250 → 2.000" in corrections


def test_a_stale_correction_is_refused_with_who_changed_the_receipt(client, officer, administrator, moving):
    receipt = receive(officer, moving, {0: ("100", "2.25")})
    opened = correct_data(receipt, {0: ("90", "2")})  # the form as the officer opened it
    first = moving.lines.order_by("id")[0]
    services.receipt_correct(by=administrator, receipt_id=receipt.pk, received_on=receipt.received_on, reason="Typo",
                             lines=[services.ReceiptInput(first.pk, Decimal("99"), Decimal("2.2"))])  # fmt: skip
    client.force_login(officer)
    response = client.post(f"/shipments/{moving.pk}/receipts/{receipt.pk}/correct/", opened)
    assert response.status_code == 200
    message = " ".join(response.context["form"].non_field_errors())
    assert "administrator" in message and "changed this receipt" in message
    assert message in response.content.decode()
    assert line_values(moving)[0] == (Decimal("99"), Decimal("2.2"))


def test_a_receipt_of_another_shipment_is_not_found(client, officer, moving):
    other = make_shipment(by=officer, status="in_transit")
    receipt = receive(officer, other, {0: ("1", "1")})
    client.force_login(officer)
    assert client.get(f"/shipments/{moving.pk}/receipts/{receipt.pk}/correct/").status_code == 404


def test_only_an_administrator_reopens_a_delivered_shipment(client, officer, coordinator, administrator, moving):
    receive(officer, moving, {0: ("200", "4.5"), 1: ("4", "5")}, close=True)
    moving.refresh_from_db()
    for user in (officer, coordinator):
        client.force_login(user)
        assert client.get(f"/shipments/{moving.pk}/reopen/").status_code == 403
        response = client.post(f"/shipments/{moving.pk}/reopen/", {"reason": "x", "version": moving.version})
        assert response.status_code == 403
        assert "Reopen" not in client.get(f"/shipments/{moving.pk}/").content.decode()
    moving.refresh_from_db()
    assert moving.status == "delivered"

    client.force_login(administrator)
    assert f'href="/shipments/{moving.pk}/reopen/"' in client.get(f"/shipments/{moving.pk}/").content.decode()
    response = client.post(f"/shipments/{moving.pk}/reopen/", {"reason": "", "version": moving.version})
    assert response.context["form"].errors["reason"] == ["Say why the shipment is reopened."]
    response = client.post(
        f"/shipments/{moving.pk}/reopen/", {"reason": "A wagon turned up", "version": moving.version}
    )
    assert response.status_code == 302
    moving.refresh_from_db()
    assert moving.status == "partly_received" and moving.delivered_on is None


def test_reopen_is_not_offered_on_an_open_shipment(client, administrator, moving):
    client.force_login(administrator)
    assert "/reopen/" not in client.get(f"/shipments/{moving.pk}/").content.decode()
    assert client.get(f"/shipments/{moving.pk}/reopen/").status_code == 302


WRITE_PAGES = ["receive", "close", "correct"]


def page_path(shipment, receipt, name):
    return (
        f"/shipments/{shipment.pk}/receipts/{receipt.pk}/correct/"
        if name == "correct"
        else f"/shipments/{shipment.pk}/{name}/"
    )


@pytest.mark.parametrize("name", WRITE_PAGES)
@pytest.mark.parametrize("who", ["other_officer", "coordinator"])
def test_receipt_pages_are_refused_to_others(client, request, officer, moving, name, who):
    receipt = receive(officer, moving, {0: ("100", "2.25")})
    moving.refresh_from_db()
    client.force_login(request.getfixturevalue(who))
    path = page_path(moving, receipt, name)
    assert client.get(path).status_code == 403
    data = {**correct_data(receipt, {0: ("200", "4.5"), 1: ("4", "5")}), "close": "on", "closed_on": "2020-11-25",
            "version": moving.version if name != "correct" else receipt.version}  # fmt: skip
    assert client.post(path, data).status_code == 403
    assert moving.receipts.count() == 1 and line_values(moving)[0] == (Decimal("100"), Decimal("2.25"))
    moving.refresh_from_db()
    assert moving.status == "partly_received"
    html = client.get(f"/shipments/{moving.pk}/").content.decode()
    assert "/receive/" not in html and "/close/" not in html and "/correct/" not in html


@pytest.mark.parametrize("who", ["officer", "administrator"])
def test_receipt_pages_are_open_to_the_consignors_officers_and_administrators(client, request, officer, moving, who):
    receipt = receive(officer, moving, {0: ("100", "2.25")})
    moving.refresh_from_db()
    client.force_login(request.getfixturevalue(who))
    for name in WRITE_PAGES:
        assert client.get(page_path(moving, receipt, name)).status_code == 200, name
    html = client.get(f"/shipments/{moving.pk}/").content.decode()
    for name in WRITE_PAGES:
        assert page_path(moving, receipt, name) in html, name
    data = receive_data(moving, {1: ("4", "5")}, close=True, **{"lines-0-loss_reason": "lost"})
    assert client.post(f"/shipments/{moving.pk}/receive/", data).status_code == 302
    moving.refresh_from_db()
    assert moving.status == "delivered"


def test_the_buttons_follow_the_status(client, officer, moving):
    client.force_login(officer)
    html = client.get(f"/shipments/{moving.pk}/").content.decode()
    assert "Record receipt" in html and "Close shipment" in html and "Edit notes" not in html
    receive(officer, moving, {0: ("200", "4.5"), 1: ("4", "5")}, close=True)
    html = client.get(f"/shipments/{moving.pk}/").content.decode()
    assert "Record receipt" not in html and "Close shipment" not in html and "Cancel shipment" not in html
    assert "Edit notes" in html and "/correct/" in html
    assert client.get(f"/shipments/{moving.pk}/receive/").status_code == 302  # closed: back to its page
    assert client.get(f"/shipments/{moving.pk}/close/").status_code == 302


def test_detail_query_count_does_not_grow_with_receipts(client, officer, moving):
    lines = list(moving.lines.order_by("id"))

    def add_corrected_receipt(day):
        on = datetime.date(2020, 11, day)
        receipt = receive(officer, moving, {0: ("1", "0.02"), 1: ("1", "0.5")}, received_on=on, condition="damaged",
                          damage_reason="wet")  # fmt: skip
        services.receipt_correct(by=officer, receipt_id=receipt.pk, received_on=receipt.received_on, reason="recount",
                                 lines=[services.ReceiptInput(lines[0].pk, Decimal("2"), Decimal("0.04"))])  # fmt: skip

    add_corrected_receipt(17)
    client.force_login(officer)
    small = count_queries(client, f"/shipments/{moving.pk}/")
    for day in range(18, 28):
        add_corrected_receipt(day)
    response = client.get(f"/shipments/{moving.pk}/")
    assert len(response.context["receipts"]) == 11
    assert all(len(r.corrections) == 1 and len(r.corrections[0]["changes"]) == 5 for r in response.context["receipts"])
    assert count_queries(client, f"/shipments/{moving.pk}/") == small


def test_the_detail_page_shows_records_of_deleted_users(client, officer, moving, administrator, ministry):
    clerk = UserFactory(username="clerk", organisation=ministry, role="logistics_officer")
    receipt = receive(clerk, moving, {0: ("100", "2.25")})
    first = moving.lines.order_by("id")[0]
    services.receipt_correct(by=clerk, receipt_id=receipt.pk, received_on=receipt.received_on, reason="recount",
                             lines=[services.ReceiptInput(first.pk, Decimal("90"), Decimal("2"))])  # fmt: skip
    Shipment.objects.filter(pk=moving.pk).update(created_by=None)
    clerk.delete()
    client.force_login(administrator)
    response = client.get(f"/shipments/{moving.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "recorded by a deleted user" in html
    assert response.context["receipts"][0].corrections[0]["who"] is None


def test_the_edit_page_of_a_received_shipment_changes_notes_and_transport_reference_only(client, officer, moving):
    receive(officer, moving, {0: ("200", "4.5")})
    moving.refresh_from_db()
    client.force_login(officer)
    response = client.get(f"/shipments/{moving.pk}/edit/")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.notes_only
    assert {name for name, field in form.fields.items() if not field.disabled and not field.widget.is_hidden} == {
        "notes",
        "transport_reference",
    }
    assert 'data-testid="notes-only"' in response.content.decode()
    destination = moving.destination
    data = edit_data(moving, notes="Seal broken on wagon 2", transport_reference="RZD 555",
                     destination=LocationFactory().pk, dispatched_on="2020-11-17")  # fmt: skip
    assert client.post(f"/shipments/{moving.pk}/edit/", data).status_code == 302
    moving.refresh_from_db()
    assert (moving.notes, moving.transport_reference) == ("Seal broken on wagon 2", "RZD 555")
    assert moving.destination == destination and moving.dispatched_on == datetime.date(2020, 11, 16)
    assert moving.status == "partly_received" and moving.lines.count() == 2

    receive(officer, moving, {1: ("4", "5")}, close=True)
    moving.refresh_from_db()
    response = client.post(f"/shipments/{moving.pk}/edit/", edit_data(moving, notes="Closed; all good"))
    assert response.status_code == 302
    moving.refresh_from_db()
    assert moving.notes == "Closed; all good" and moving.status == "delivered"


def test_a_cancelled_shipment_cannot_be_edited(client, officer):
    shipment = make_shipment(by=officer)
    services.shipment_cancel(by=officer, shipment_id=shipment.pk, reason="duplicate")
    client.force_login(officer)
    assert client.get(f"/shipments/{shipment.pk}/edit/").status_code == 302


# --- records of deleted users -------------------------------------------------------------------------


@pytest.fixture
def by_a_deleted_user(ministry):
    """Shipments in each state logged, dispatched, received and corrected by a user since deleted: their
    created_by, recorded_by and history users are NULL."""
    clerk = UserFactory(username="clerk", organisation=ministry, role="administrator")
    stoves = CargoTypeFactory(code="stove", name="Stoves", unit="pcs")
    planned = make_shipment(by=clerk, lines=[(stoves, "10", "1")])
    moving = make_shipment(
        by=clerk, lines=[(stoves, "200", "4.5"), (CargoTypeFactory(), "4", "5")], status="in_transit"
    )
    receipt = receive(clerk, moving, {0: ("100", "2.25")}, condition="damaged", damage_reason="wet")
    first = moving.lines.order_by("id")[0]
    services.receipt_correct(by=clerk, receipt_id=receipt.pk, received_on=receipt.received_on, reason="recount",
                             lines=[services.ReceiptInput(first.pk, Decimal("90"), Decimal("2"))])  # fmt: skip
    delivered = make_shipment(by=clerk, status="delivered")
    clerk.delete()
    assert not Shipment.objects.filter(created_by__isnull=False).exists()
    assert not moving.receipts.filter(recorded_by__isnull=False).exists()
    assert not Shipment.history.filter(history_user__isnull=False).exists()
    return {"planned": planned, "moving": moving, "receipt": receipt, "delivered": delivered}


@pytest.mark.parametrize(
    "page",
    ["list", "overview", "detail", "detail_delivered", "edit", "edit_notes", "dispatch", "cancel", "receive",
     "close", "correct", "reopen", "api_list", "api_detail"],
)  # fmt: skip
def test_every_page_shows_the_records_of_a_deleted_user(client, administrator, by_a_deleted_user, page):
    planned, moving, delivered = (by_a_deleted_user[name] for name in ("planned", "moving", "delivered"))
    path = {
        "list": "/shipments/",
        "overview": "/",
        "detail": f"/shipments/{moving.pk}/",
        "detail_delivered": f"/shipments/{delivered.pk}/",
        "edit": f"/shipments/{planned.pk}/edit/",
        "edit_notes": f"/shipments/{moving.pk}/edit/",
        "dispatch": f"/shipments/{planned.pk}/dispatch/",
        "cancel": f"/shipments/{planned.pk}/cancel/",
        "receive": f"/shipments/{moving.pk}/receive/",
        "close": f"/shipments/{moving.pk}/close/",
        "correct": f"/shipments/{moving.pk}/receipts/{by_a_deleted_user['receipt'].pk}/correct/",
        "reopen": f"/shipments/{delivered.pk}/reopen/",
        "api_list": "/api/v1/shipments/",
        "api_detail": f"/api/v1/shipments/{moving.reference}/",
    }[page]
    client.force_login(administrator)
    response = client.get(path)
    assert response.status_code == 200, path
    body = response.content.decode()
    if page == "list":
        assert all(s.reference in body for s in (planned, moving, delivered))
    elif page == "overview":
        assert delivered.reference in body
    elif page == "detail":
        assert "recorded by a deleted user" in body and "Receipt corrected" in body
        assert response.context["receipts"][0].corrections[0]["who"] is None
    elif page.startswith("api"):
        assert moving.reference in body
    else:
        assert moving.reference in body or planned.reference in body or delivered.reference in body


def test_administrators_find_and_read_shipments_with_their_receipts_in_the_admin(client, administrator, officer):
    """The admin lists and shows shipments read-only (writes go through the pages' services) and
    links to the page where a receipt is corrected."""
    shipment = make_shipment(by=officer, status="delivered", lines=[(CargoTypeFactory(), "10", "2")])
    client.force_login(administrator)
    listing = client.get("/admin/shipments/shipment/", {"q": shipment.reference})
    assert listing.status_code == 200 and shipment.reference in listing.content.decode()
    page = client.get(f"/admin/shipments/shipment/{shipment.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and "Receipts" in html
    assert reverse("shipments:detail", args=[shipment.pk]) in html  # "View on site"
    assert client.post(f"/admin/shipments/shipment/{shipment.pk}/change/", {"notes": "x"}).status_code == 403
    assert client.get("/admin/shipments/shipment/add/").status_code == 403
