"""The shipments API: the same services as the pages, errors in place, idempotent POST, versions."""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aidtrack.models import IdempotencyKey
from shipments import services
from shipments.models import CargoLine, Shipment
from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory, UserFactory, make_shipment

from . import session_client, shipment_body

pytestmark = pytest.mark.django_db
URL = "/api/v1/shipments/"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def codes(ministry, partner_org):
    """The places and cargo the bodies name by code."""
    region = LocationFactory(code="R1", level="region")
    LocationFactory(code="ORIG")
    LocationFactory(code="DEST", parent=region)
    for code, unit in [("bm", "t"), ("stove", "pcs"), ("gen", "pcs")]:
        CargoTypeFactory(code=code, unit=unit)


def three_lines(**changes):
    lines = [
        {"cargo_type": "bm", "quantity": "12", "tonnes": "12"},
        {"cargo_type": "stove", "quantity": "200", "tonnes": "4.5"},
        {"cargo_type": "gen", "quantity": "4", "tonnes": "5"},
    ]
    for index, fields in changes.items():
        lines[int(index.removeprefix("line"))].update(fields)
    return lines


# --- Create -------------------------------------------------------------------------------------


def test_officer_logs_a_shipment_through_the_service(officer, codes):
    response = session_client(officer).post(URL, shipment_body(lines=three_lines()), format="json")
    assert response.status_code == 201, response.data
    shipment = Shipment.objects.get()
    body = response.json()
    assert body["reference"] == shipment.reference and shipment.reference.startswith("WB-")
    assert body["status"] == "planned" and body["version"] == 1
    assert (body["consignor"], body["consignee"], body["origin"], body["destination"]) == (
        "ministry",
        "partner",
        "ORIG",
        "DEST",
    )
    assert [(line["cargo_type"], line["tonnes"], line["received_tonnes"]) for line in body["lines"]] == [
        ("bm", "12.000", None),
        ("stove", "4.500", None),
        ("gen", "5.000", None),
    ]
    assert response["ETag"] == '"1"'
    # What only the service does: the creator and the history record.
    assert shipment.created_by == officer
    record = shipment.history.get()
    assert record.history_user == officer and record.history_change_reason == "Created"


def test_a_dispatch_date_makes_it_in_transit(officer, codes):
    body = shipment_body(dispatched_on="2020-11-16", expected_on="2020-11-18")
    response = session_client(officer).post(URL, body, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "in_transit"
    assert response.json()["reference"].startswith("WB-2020-")


def test_service_line_errors_are_keyed_by_line(officer, codes):
    body = shipment_body(lines=three_lines(line1={"tonnes": "0"}, line2={"quantity": "-1"}))
    response = session_client(officer).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "lines": {
            "1": {"tonnes": ["The weight must be more than 0 t."]},
            "2": {"quantity": ["The quantity must be more than 0."]},
        }
    }
    assert Shipment.objects.count() == 0 and CargoLine.objects.count() == 0


def test_service_field_and_non_field_errors(officer, codes):
    body = shipment_body(destination="ORIG", lines=[])
    response = session_client(officer).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "destination": ["The destination must differ from the origin."],
        "non_field_errors": ["A shipment needs at least one cargo line."],
    }


def test_unknown_codes_and_bad_values_name_the_field_and_line(officer, codes):
    body = shipment_body(
        consignee="nobody",
        dispatched_on="16.11.2020",
        lines=three_lines(line2={"cargo_type": "caviar", "tonnes": "1.2345"}),
    )
    response = session_client(officer).post(URL, body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"consignee", "dispatched_on", "lines"}
    assert "nobody" in errors["consignee"][0]
    assert set(errors["lines"]) == {"2"} and set(errors["lines"]["2"]) == {"cargo_type", "tonnes"}


def test_a_nul_in_a_code_is_an_unknown_code(officer, codes):
    body = shipment_body(consignor="min\x00istry", lines=[{"cargo_type": "\x00", "quantity": "1", "tonnes": "1"}])
    response = session_client(officer).post(URL, body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"consignor", "lines"}


def test_missing_fields_and_a_body_that_is_not_json(officer, codes):
    client = session_client(officer)
    response = client.post(URL, {}, format="json")
    assert response.status_code == 400
    assert {"mode", "consignor", "consignee", "origin", "destination", "lines"} <= set(response.json())
    response = client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    response = client.post(URL, shipment_body(lines="bm"), format="json")
    assert response.status_code == 400 and "lines" in response.json()


def test_officer_cannot_log_for_another_consignor(officer, codes):
    body = shipment_body(consignor="partner", consignee="ministry")
    response = session_client(officer).post(URL, body, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Logistics officers log shipments sent by their own organisation only."}
    assert Shipment.objects.count() == 0


def test_administrator_logs_for_any_consignor(administrator, codes):
    body = shipment_body(consignor="partner", consignee="ministry")
    assert session_client(administrator).post(URL, body, format="json").status_code == 201


def test_coordinator_cannot_log_even_a_bad_body(coordinator, codes):
    response = session_client(coordinator).post(URL, {}, format="json")
    assert response.status_code == 403


# --- Idempotency-Key ----------------------------------------------------------------------------


def test_the_same_idempotency_key_twice_creates_one_shipment(officer, codes):
    client = session_client(officer)
    body = shipment_body(lines=three_lines())
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    second = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()  # the same document (PostgreSQL's jsonb may store keys in another order)
    assert second["Idempotent-Replayed"] == "true"
    assert Shipment.objects.count() == 1 and CargoLine.objects.count() == 3


def test_the_same_key_with_another_body_is_refused(officer, codes):
    client = session_client(officer)
    client.post(URL, shipment_body(), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    response = client.post(URL, shipment_body(notes="Other"), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]
    assert Shipment.objects.count() == 1


def test_keys_belong_to_their_user(officer, administrator, codes):
    body = shipment_body()
    session_client(officer).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = session_client(administrator).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 201
    assert Shipment.objects.count() == 2


def test_a_refused_attempt_is_not_remembered(officer, codes):
    """A 400 stores nothing: the client may correct the body and retry with the same key."""
    client = session_client(officer)
    bad = client.post(URL, shipment_body(destination="ORIG"), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert bad.status_code == 400 and not IdempotencyKey.objects.exists()
    good = client.post(URL, shipment_body(), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert good.status_code == 201
    assert IdempotencyKey.objects.get().response_status == 201


def test_an_unusable_idempotency_key_is_a_400(officer, codes):
    response = session_client(officer).post(URL, shipment_body(), format="json", HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert Shipment.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_create_one_shipment(officer, codes, monkeypatch):
    """Two requests with the same key at the same moment: the second waits for the first, then replays it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent writers (SQLite serialises them at the file)")
    started = threading.Event()
    create = services.shipment_create

    def slow_create(**kwargs):
        shipment = create(**kwargs)
        started.set()
        time.sleep(0.5)  # hold the transaction open while the repeat arrives
        return shipment

    monkeypatch.setattr(services, "shipment_create", slow_create)
    body, responses = shipment_body(), {}

    def post(name):
        try:
            client = session_client(officer)
            responses[name] = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="race")
        finally:
            connection.close()

    first = threading.Thread(target=post, args=("first",))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=post, args=("second",))
    second.start()
    first.join(10)
    second.join(10)
    assert responses["first"].status_code == responses["second"].status_code == 201
    assert responses["first"].json() == responses["second"].json()
    assert responses["second"]["Idempotent-Replayed"] == "true"
    assert Shipment.objects.count() == 1


# --- Read ---------------------------------------------------------------------------------------


def test_read_one_shipment_by_reference(coordinator, officer, codes):
    shipment = make_shipment(by=officer, status="delivered")
    response = session_client(coordinator).get(f"{URL}{shipment.reference}/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "delivered" and body["delivered_on"] == "2020-11-18"
    assert body["lines"][0]["received_tonnes"] == "10.000" and body["lines"][0]["tonnes"] == "10.000"
    assert response["ETag"] == f'"{shipment.version}"'


@pytest.mark.parametrize("reference", ["WB-1999-99999", "nul\x00"])
def test_an_unknown_reference_is_a_404(officer, reference):
    assert session_client(officer).get(f"{URL}{reference}/").status_code == 404


def test_the_list_filters_as_the_page_does(officer, codes):
    region = LocationFactory(code="R1")
    stove = CargoTypeFactory(code="stove")
    inside = make_shipment(by=officer, destination=LocationFactory(code="DEST"), lines=[(stove, "1", "1")])
    make_shipment(by=officer, destination=LocationFactory(code="ELSEWHERE"))
    client = session_client(officer)
    for query in [f"destination={region.code}", "cargo_type=stove", f"q={inside.reference}"]:
        body = client.get(f"{URL}?{query}").json()
        assert [s["reference"] for s in body["results"]] == [inside.reference], query
    body = client.get(f"{URL}?sort=reference&page_size=1").json()
    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("destination=NOWHERE", "destination"),
        ("cargo_type=caviar", "cargo_type"),
        ("mode=ship", "mode"),
        ("status=lost", "status"),
        ("date_from=yesterday", "date_from"),
        ("date_to=2020-13-45", "date_to"),
        ("sort=weight", "sort"),
        ("q=%00", "q"),
        ("page=0", "page"),
        ("page=two", "page"),
        ("page=99", "page"),
        ("page_size=-5", "page_size"),
        ("page_size=lots", "page_size"),
        ("page_size=%C2%B2", "page_size"),
        ("page=%D9%A3", "page"),
    ],
)
def test_bad_list_parameters_are_a_400_naming_them(officer, codes, query, parameter):
    response = session_client(officer).get(f"{URL}?{query}")
    assert response.status_code == 400, response.content
    assert parameter in response.json()


def test_the_list_query_count_does_not_grow_with_the_shipments(officer, codes):
    client = session_client(officer)
    consignor, places = officer.organisation, [LocationFactory(), LocationFactory()]
    cargo = [CargoTypeFactory(), CargoTypeFactory()]

    def add(count):
        for i in range(count):
            shipment = make_shipment(
                by=officer,
                consignor=consignor,
                consignee=consignor,
                origin=places[0],
                destination=places[1],
                lines=[(cargo[0], "1", "1"), (cargo[1], "2", "2")],
                status="in_transit" if i % 2 else "planned",
            )
            if i % 2:  # half of them partly received, in two receipts of both lines, one part damaged
                first, second = shipment.lines.order_by("id")
                for day in (17, 18):
                    services.receipt_create(
                        by=officer if day == 17 else UserFactory(organisation=consignor, role="logistics_officer"),
                        shipment_id=shipment.pk,
                        received_on=datetime.date(2020, 11, day),
                        lines=[
                            services.ReceiptInput(first.pk, Decimal("0.25"), Decimal("0.25")),
                            services.ReceiptInput(
                                second.pk, Decimal("0.5"), Decimal("0.5"), condition="damaged", damage_reason="Wet"
                            ),
                        ],
                    )

    def list_queries():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{URL}?page_size=1000")
        assert response.status_code == 200
        return len(response.json()["results"]), len(queries)

    add(10)
    ten = list_queries()
    add(90)
    hundred = list_queries()
    assert (ten[0], hundred[0]) == (10, 100)
    assert ten[1] == hundred[1], (ten, hundred)
    receipts = [r for s in client.get(f"{URL}?page_size=1000").json()["results"] for r in s["receipts"]]
    assert len(receipts) == 100 and {r["recorded_by"] for r in receipts} > {officer.username}
    assert {(line["cargo_type"], line["condition"]) for r in receipts for line in r["lines"]} == {
        (cargo[0].code, "good"),
        (cargo[1].code, "damaged"),
    }


# --- Change -------------------------------------------------------------------------------------


@pytest.fixture
def planned(officer, codes):
    return make_shipment(
        by=officer,
        consignee=OrganisationFactory(code="partner"),
        origin=LocationFactory(code="ORIG"),
        destination=LocationFactory(code="DEST"),
        lines=[(CargoTypeFactory(code="bm"), "12", "12"), (CargoTypeFactory(code="stove"), "200", "4.5")],
    )


def test_patch_changes_the_given_fields_only(officer, planned):
    response = session_client(officer).patch(
        f"{URL}{planned.reference}/", {"notes": "Checked.", "version": 1}, format="json"
    )
    assert response.status_code == 200, response.data
    body = response.json()
    assert body["notes"] == "Checked." and body["version"] == 2 and body["destination"] == "DEST"
    assert len(body["lines"]) == 2
    assert response["ETag"] == '"2"'


def test_patch_lines_replaces_the_list(officer, planned):
    kept = planned.lines.get(cargo_type__code="bm")
    lines = [{"id": kept.pk, "cargo_type": "bm", "quantity": "12", "tonnes": "11.5"}, three_lines()[2]]
    response = session_client(officer).patch(f"{URL}{planned.reference}/", {"lines": lines}, format="json")
    assert response.status_code == 200, response.data
    assert [(line["cargo_type"], line["tonnes"]) for line in response.json()["lines"]] == [
        ("bm", "11.500"),
        ("gen", "5.000"),
    ]
    assert planned.lines.get(pk=kept.pk).tonnes == Decimal("11.5")


def test_patch_with_a_stale_version_is_a_409(officer, planned):
    client = session_client(officer)
    url = f"{URL}{planned.reference}/"
    assert client.patch(url, {"notes": "First."}, format="json").status_code == 200
    response = client.patch(url, {"notes": "Second.", "version": 1}, format="json")
    assert response.status_code == 409
    assert "changed this shipment" in response.json()["detail"]
    response = client.patch(url, {"notes": "Second."}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 409
    assert client.patch(url, {"notes": "Second."}, format="json", HTTP_IF_MATCH='"2"').status_code == 200
    assert Shipment.objects.get().notes == "Second."


def test_patch_errors(officer, other_officer, planned):
    client = session_client(officer)
    url = f"{URL}{planned.reference}/"
    response = client.patch(url, {"lines": [{"id": 999999, "cargo_type": "bm", "quantity": "1", "tonnes": "1"}]})
    assert response.json() == {"lines": {"0": {"cargo_type": ["This line does not belong to the shipment."]}}}
    assert client.patch(url, {"notes": "x"}, HTTP_IF_MATCH="soon").json().keys() == {"If-Match"}
    assert client.patch(url, {"notes": "x"}, HTTP_IF_MATCH='"\u00b2"').json().keys() == {"If-Match"}
    assert client.patch(url, {"consignor": "partner"}).status_code == 403
    assert session_client(other_officer).patch(url, {"notes": "x"}).status_code == 403


def test_the_notes_of_a_delivered_shipment_can_be_patched(officer, codes):
    shipment = make_shipment(by=officer, status="delivered")
    client = session_client(officer)
    url = f"{URL}{shipment.reference}/"
    response = client.patch(url, {"notes": "Seal checked.", "version": shipment.version}, format="json")
    assert response.status_code == 200, response.data
    body = response.json()
    assert body["notes"] == "Seal checked." and body["status"] == "delivered"
    assert body["version"] == shipment.version + 1 and response["ETag"] == f'"{shipment.version + 1}"'
    assert client.patch(url, {"transport_reference": "AB 124"}, format="json").status_code == 200
    shipment.refresh_from_db()
    assert (shipment.notes, shipment.transport_reference) == ("Seal checked.", "AB 124")
    assert shipment.history.latest().history_change_reason == "Notes edited"


def test_only_the_notes_of_a_received_shipment_can_be_patched(officer, codes):
    shipment = make_shipment(by=officer, status="delivered")
    client = session_client(officer)
    url = f"{URL}{shipment.reference}/"
    message = ["Once cargo has been received only the notes and the transport reference can change."]
    for change in [{"destination": "DEST"}, {"expected_on": "2020-11-30"}, {"notes": "x", "lines": three_lines()}]:
        response = client.patch(url, change, format="json")
        assert response.status_code == 400, change
        assert response.json() == {"non_field_errors": message}
    assert Shipment.objects.get().version == shipment.version


def test_a_cancelled_shipment_cannot_be_patched(officer, codes):
    shipment = make_shipment(by=officer)
    services.shipment_cancel(by=officer, shipment_id=shipment.pk, reason="Not needed")
    response = session_client(officer).patch(f"{URL}{shipment.reference}/", {"notes": "x"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["A cancelled shipment cannot be edited."]}


def test_a_shipment_in_transit_keeps_its_dispatch_date(officer, codes):
    shipment = make_shipment(by=officer, status="in_transit", dispatched_on=datetime.date(2020, 11, 16))
    response = session_client(officer).patch(f"{URL}{shipment.reference}/", {"dispatched_on": None}, format="json")
    assert response.status_code == 400 and "dispatched_on" in response.json()


def test_a_user_without_a_role_gets_a_403(db):
    assert session_client(UserFactory()).get(URL).status_code == 403
