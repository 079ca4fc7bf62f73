"""Receipts over the API: nested in the shipment, recorded (idempotently) and corrected through the services."""

import datetime
from decimal import Decimal

import pytest

from aidtrack.models import IdempotencyKey
from shipments import services
from shipments.models import CargoLine, Receipt, ReceiptLine, Shipment
from tests.factories import CargoTypeFactory, make_shipment

from . import issue_key, key_client, session_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/shipments/"
DAY = datetime.date(2020, 11, 17)


@pytest.fixture
def shipment(officer):
    """In transit since 16 November: 12 t of building material (12 t), 200 stoves (4.5 t)."""
    return make_shipment(
        by=officer,
        status="in_transit",
        lines=[(CargoTypeFactory(code="bm", unit="t"), "12", "12"), (CargoTypeFactory(code="stove"), "200", "4.5")],
    )


def lines_of(shipment) -> list[CargoLine]:
    return list(shipment.lines.order_by("id"))


def receipts_url(shipment) -> str:
    return f"{URL}{shipment.reference}/receipts/"


def line(cargo_line, quantity, tonnes, **extra) -> dict:
    return {"line": cargo_line.pk, "received_quantity": str(quantity), "received_tonnes": str(tonnes), **extra}


def record(by, shipment, received_on=DAY, **values) -> Receipt:
    """A receipt of 6 t of the first line, through the service."""
    first = lines_of(shipment)[0]
    items = values.pop("lines", None) or [services.ReceiptInput(first.pk, Decimal(6), Decimal(6))]
    return services.receipt_create(by=by, shipment_id=shipment.pk, received_on=received_on, lines=items, **values)


# --- Read ---------------------------------------------------------------------------------------


def test_the_shipment_nests_its_receipts_in_date_order(officer, coordinator, shipment):
    bm, stove = lines_of(shipment)
    later = record(officer, shipment, received_on=DAY + datetime.timedelta(days=1))
    last = record(officer, shipment, received_on=DAY + datetime.timedelta(days=2))
    earlier = record(
        officer,
        shipment,
        note="Wagon 2",
        lines=[
            services.ReceiptInput(stove.pk, Decimal(50), Decimal("1.125"), condition="damaged", damage_reason="Wet"),
            services.ReceiptInput(bm.pk, Decimal(1), Decimal(1)),
        ],
    )
    response = session_client(coordinator).get(f"{URL}{shipment.reference}/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "partly_received"
    assert [r["id"] for r in body["receipts"]] == [earlier.pk, later.pk, last.pk]
    first = dict(body["receipts"][0])
    assert datetime.datetime.fromisoformat(first.pop("created_at")) == earlier.created_at
    assert first == {
        "id": earlier.pk,
        "received_on": "2020-11-17",
        "recorded_by": officer.username,
        "note": "Wagon 2",
        "correction_reason": "",
        "version": 1,
        "lines": [  # in the order of the shipment's lines
            {
                "line": bm.pk,
                "cargo_type": "bm",
                "quantity": "1.000",
                "tonnes": "1.000",
                "condition": "good",
                "damage_reason": "",
            },
            {
                "line": stove.pk,
                "cargo_type": "stove",
                "quantity": "50.000",
                "tonnes": "1.125",
                "condition": "damaged",
                "damage_reason": "Wet",
            },
        ],
    }
    assert [(li["received_tonnes"], li["loss_reason"]) for li in body["lines"]] == [("13.000", ""), ("1.125", "")]
    listed = session_client(coordinator).get(URL).json()["results"]
    assert listed[0]["receipts"] == body["receipts"]


def test_a_receipt_by_a_deleted_user_names_nobody(officer, administrator, shipment):
    receipt = record(administrator, shipment)
    administrator.delete()
    body = session_client(officer).get(f"{receipts_url(shipment)}{receipt.pk}/").json()
    assert body["recorded_by"] is None
    assert body["shipment"] == shipment.reference


def test_read_one_receipt(coordinator, officer, shipment):
    receipt = record(officer, shipment)
    client = session_client(coordinator)
    response = client.get(f"{receipts_url(shipment)}{receipt.pk}/")
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    body = response.json()
    assert body["id"] == receipt.pk and body["shipment_version"] == Shipment.objects.get().version
    other = make_shipment(by=officer, status="in_transit")
    assert client.get(f"{receipts_url(other)}{receipt.pk}/").status_code == 404  # another shipment's receipt
    assert client.get(f"{receipts_url(shipment)}999999/").status_code == 404


# --- Record -------------------------------------------------------------------------------------


def test_officer_records_a_receipt_through_the_service(officer, shipment):
    bm, stove = lines_of(shipment)
    body = {
        "received_on": "2020-11-17",
        "note": "First wagon",
        "lines": [line(stove, 100, "2.25", condition="damaged", damage_reason="Crushed"), line(bm, 5, 5)],
    }
    response = session_client(officer).post(receipts_url(shipment), body, format="json")
    assert response.status_code == 201, response.data
    receipt = Receipt.objects.get()
    answer = response.json()
    assert answer["id"] == receipt.pk and answer["recorded_by"] == officer.username and answer["note"] == "First wagon"
    assert answer["shipment"] == shipment.reference and answer["shipment_version"] == shipment.version + 1
    assert [(li["cargo_type"], li["tonnes"], li["condition"]) for li in answer["lines"]] == [
        ("bm", "5.000", "good"),
        ("stove", "2.250", "damaged"),
    ]
    assert response["ETag"] == '"1"'
    shipment.refresh_from_db()
    assert shipment.status == "partly_received"
    assert [(li.received_quantity, li.received_tonnes) for li in lines_of(shipment)] == [
        (Decimal(5), Decimal(5)),
        (Decimal(100), Decimal("2.25")),
    ]
    assert receipt.history.get().history_user == officer


def test_a_receipt_that_closes_the_shipment_short(officer, shipment):
    bm, stove = lines_of(shipment)
    body = {
        "received_on": "2020-11-18",
        "close": True,
        "lines": [line(bm, 12, 12), line(stove, 150, "3.375", loss_reason="stolen", loss_note="Seal broken")],
    }
    response = session_client(officer).post(receipts_url(shipment), body, format="json")
    assert response.status_code == 201, response.data
    shipment.refresh_from_db()
    assert shipment.status == "delivered" and shipment.delivered_on == datetime.date(2020, 11, 18)
    assert lines_of(shipment)[1].loss_reason == "stolen"


def test_closing_short_without_a_reason_names_the_line_in_the_body(officer, shipment):
    bm, stove = lines_of(shipment)
    client = session_client(officer)
    # The body lists the stoves first: the error is at the body's place 0, not the shipment's line 1.
    body = {"received_on": "2020-11-18", "close": True, "lines": [line(stove, 150, "3.375"), line(bm, 12, 12)]}
    response = client.post(receipts_url(shipment), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"lines": {"0": {"loss_reason": ["Less arrived than was sent: give the reason."]}}}
    # A short line the body left out is named by its id.
    body = {"received_on": "2020-11-18", "close": True, "lines": [line(bm, 12, 12)]}
    response = client.post(receipts_url(shipment), body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [f"Cargo line {stove.pk} (not in the body): Less arrived than was sent: give the reason."]
    }
    assert not Receipt.objects.exists()


def test_receipt_errors_name_the_fields(officer, shipment):
    bm, stove = lines_of(shipment)
    other_line = make_shipment(by=officer).lines.get()
    client = session_client(officer)
    response = client.post(receipts_url(shipment), {"lines": "all"}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"received_on", "lines"}
    body = {
        "received_on": "2020-11-17",
        "lines": [line(bm, 1, 1), line(other_line, 1, 1), line(stove, "x", 1, condition="wet")],
    }
    response = client.post(receipts_url(shipment), body, format="json")
    assert response.status_code == 400
    errors = response.json()["lines"]
    assert set(errors) == {"1", "2"}
    assert errors["1"] == {"line": ["This line does not belong to the shipment."]}
    assert set(errors["2"]) == {"received_quantity", "condition"}
    # The service's rules: a date in the future, damaged without saying what.
    body = {"received_on": "2999-01-01", "lines": [line(stove, 1, "0.1", condition="damaged")]}
    response = client.post(receipts_url(shipment), body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "received_on": ["The receipt date cannot be in the future."],
        "lines": {"0": {"damage_reason": ["Say what is damaged."]}},
    }
    body = {"received_on": "2020-11-17", "lines": [line(bm, 0, 0)]}
    response = client.post(receipts_url(shipment), body, format="json")
    assert response.json() == {"non_field_errors": ["Enter what arrived of at least one line."]}
    assert not Receipt.objects.exists()


def test_a_planned_or_closed_shipment_cannot_be_received(officer):
    for status in ("planned", "delivered"):
        shipment = make_shipment(by=officer, status=status)
        body = {"received_on": "2020-11-18", "lines": [line(shipment.lines.get(), 1, 1)]}
        response = session_client(officer).post(receipts_url(shipment), body, format="json")
        assert response.status_code == 400, status
        assert "non_field_errors" in response.json()


def test_a_stale_shipment_version_is_a_409(officer, shipment):
    bm = lines_of(shipment)[0]
    client = session_client(officer)
    body = {"received_on": "2020-11-17", "lines": [line(bm, 1, 1)]}
    assert (
        client.post(receipts_url(shipment), {**body, "version": shipment.version + 1}, format="json").status_code == 409
    )
    response = client.post(receipts_url(shipment), body, format="json", HTTP_IF_MATCH=f'"{shipment.version + 1}"')
    assert response.status_code == 409 and "changed this shipment" in response.json()["detail"]
    response = client.post(receipts_url(shipment), body, format="json", HTTP_IF_MATCH=f'"{shipment.version}"')
    assert response.status_code == 201
    assert Receipt.objects.count() == 1


def test_the_same_idempotency_key_records_once(officer, shipment):
    bm = lines_of(shipment)[0]
    client = session_client(officer)
    body = {"received_on": "2020-11-17", "lines": [line(bm, 2, 2)]}
    first = client.post(receipts_url(shipment), body, format="json", HTTP_IDEMPOTENCY_KEY="wagon-1")
    second = client.post(receipts_url(shipment), body, format="json", HTTP_IDEMPOTENCY_KEY="wagon-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and second["Idempotent-Replayed"] == "true"
    assert Receipt.objects.count() == 1 and lines_of(shipment)[0].received_tonnes == Decimal(2)
    other = client.post(
        receipts_url(shipment), {**body, "note": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="wagon-1"
    )
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    # Without a key, or with a new one, the same body is a new receipt.
    assert client.post(receipts_url(shipment), body, format="json", HTTP_IDEMPOTENCY_KEY="wagon-2").status_code == 201
    assert Receipt.objects.count() == 2 and lines_of(shipment)[0].received_tonnes == Decimal(4)


def test_a_refused_receipt_is_not_remembered(officer, shipment):
    bm = lines_of(shipment)[0]
    client = session_client(officer)
    bad = {"received_on": "2999-01-01", "lines": [line(bm, 2, 2)]}
    assert client.post(receipts_url(shipment), bad, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 400
    assert not IdempotencyKey.objects.exists()
    good = {**bad, "received_on": "2020-11-17"}
    assert client.post(receipts_url(shipment), good, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201


def test_who_may_record_a_receipt(officer, other_officer, coordinator, administrator, partner_org, shipment):
    body = {"received_on": "2020-11-17", "lines": [line(lines_of(shipment)[0], 1, 1)]}
    assert session_client(coordinator).post(receipts_url(shipment), body, format="json").status_code == 403
    assert session_client(other_officer).post(receipts_url(shipment), body, format="json").status_code == 403
    partner = key_client(issue_key(partner_org))
    assert partner.post(receipts_url(shipment), body, format="json").status_code == 403
    assert not Receipt.objects.exists()
    assert session_client(administrator).post(receipts_url(shipment), body, format="json").status_code == 201
    unknown = f"{URL}WB-1999-99999/receipts/"
    assert session_client(officer).post(unknown, body, format="json").status_code == 404


# --- Correct ------------------------------------------------------------------------------------


def test_a_correction_replaces_the_lines_and_keeps_the_reason(officer, shipment):
    stove = lines_of(shipment)[1]
    receipt = record(officer, shipment)
    url = f"{receipts_url(shipment)}{receipt.pk}/"
    body = {
        "version": 1,
        "reason": "Wrong wagon counted",
        "received_on": "2020-11-18",
        "lines": [line(stove, 10, "0.225", condition="damaged", damage_reason="Dented")],
    }
    response = session_client(officer).patch(url, body, format="json")
    assert response.status_code == 200, response.data
    answer = response.json()
    assert answer["version"] == 2 and answer["correction_reason"] == "Wrong wagon counted"
    assert answer["received_on"] == "2020-11-18"
    assert [(li["cargo_type"], li["tonnes"], li["damage_reason"]) for li in answer["lines"]] == [
        ("stove", "0.225", "Dented")
    ]
    assert response["ETag"] == '"2"'
    assert [li.received_tonnes for li in lines_of(shipment)] == [None, Decimal("0.225")]
    assert ReceiptLine.objects.get().line == stove
    assert receipt.history.latest().history_change_reason == "Corrected"


def test_a_correction_of_the_date_only_keeps_the_lines(officer, shipment):
    first, second = lines_of(shipment)
    damaged = services.ReceiptInput(second.pk, Decimal(2), Decimal("0.5"), condition="damaged", damage_reason="Wet")
    receipt = record(officer, shipment, note="Kept", lines=[services.ReceiptInput(first.pk, 6, 6), damaged])
    url = f"{receipts_url(shipment)}{receipt.pk}/"
    response = session_client(officer).patch(url, {"reason": "Typo", "received_on": "2020-11-16"}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.data
    receipt.refresh_from_db()
    assert receipt.received_on == datetime.date(2020, 11, 16) and receipt.note == "Kept"
    assert [(li.line_id, li.tonnes, li.condition, li.damage_reason) for li in receipt.lines.order_by("line_id")] == [
        (first.pk, Decimal(6), "good", ""),
        (second.pk, Decimal("0.5"), "damaged", "Wet"),
    ]
    # The lines only: the date stays, and the lines given replace the receipt's.
    body = {"reason": "Scale", "lines": [{"line": first.pk, "received_quantity": "5", "received_tonnes": "5"}]}
    response = session_client(officer).patch(url, body, format="json", HTTP_IF_MATCH='"2"')
    assert response.status_code == 200, response.data
    receipt.refresh_from_db()
    assert receipt.received_on == datetime.date(2020, 11, 16)
    assert [(li.line_id, li.tonnes) for li in receipt.lines.all()] == [(first.pk, Decimal(5))]


def test_a_correction_needs_a_version_and_a_reason(officer, shipment):
    receipt = record(officer, shipment)
    url = f"{receipts_url(shipment)}{receipt.pk}/"
    client = session_client(officer)
    response = client.patch(url, {"reason": "Typo"}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"version"}
    response = client.patch(url, {"version": 1}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"reason"}
    response = client.patch(url, {"version": 1, "reason": "   "}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"reason"}
    assert client.patch(url, {"reason": "x"}, HTTP_IF_MATCH="soon").json().keys() == {"If-Match"}
    receipt.refresh_from_db()
    assert receipt.version == 1


def test_a_stale_receipt_version_is_a_409(officer, shipment):
    receipt = record(officer, shipment)
    url = f"{receipts_url(shipment)}{receipt.pk}/"
    client = session_client(officer)
    assert client.patch(url, {"version": 1, "reason": "First", "note": "a"}, format="json").status_code == 200
    response = client.patch(url, {"version": 1, "reason": "Second", "note": "b"}, format="json")
    assert response.status_code == 409
    assert "changed this receipt" in response.json()["detail"]
    assert client.patch(url, {"reason": "Second", "note": "b"}, HTTP_IF_MATCH='"1"').status_code == 409
    assert client.patch(url, {"reason": "Second", "note": "b"}, HTTP_IF_MATCH='"2"').status_code == 200
    receipt.refresh_from_db()
    assert (receipt.note, receipt.correction_reason, receipt.version) == ("b", "Second", 3)


def test_correction_errors_name_the_fields_and_lines(officer, shipment):
    bm, stove = lines_of(shipment)
    receipt = record(officer, shipment)
    url = f"{receipts_url(shipment)}{receipt.pk}/"
    body = {
        "version": 1,
        "reason": "Recount",
        "received_on": "2020-11-01",  # before the dispatch
        "lines": [line(stove, 1, "0.1"), line(bm, 1, 1, condition="damaged")],
    }
    response = session_client(officer).patch(url, body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "received_on": ["The receipt date cannot be before the dispatch date."],
        "lines": {"1": {"damage_reason": ["Say what is damaged."]}},
    }
    receipt.refresh_from_db()
    assert receipt.version == 1


def test_a_correction_that_makes_a_closed_shipment_short_needs_a_reason(officer, shipment):
    bm, stove = lines_of(shipment)
    receipt = record(
        officer,
        shipment,
        close=True,
        lines=[
            services.ReceiptInput(bm.pk, Decimal(12), Decimal(12)),
            services.ReceiptInput(stove.pk, Decimal(200), Decimal("4.5")),
        ],
    )
    url = f"{receipts_url(shipment)}{receipt.pk}/"
    client = session_client(officer)
    body = {"version": 1, "reason": "Recount", "lines": [line(bm, 12, 12), line(stove, 190, "4.275")]}
    response = client.patch(url, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"lines": {"1": {"loss_reason": ["Less arrived than was sent: give the reason."]}}}
    body["lines"][1]["loss_reason"] = "damaged"
    assert client.patch(url, body, format="json").status_code == 200
    assert lines_of(shipment)[1].loss_reason == "damaged"


def test_who_may_correct_a_receipt(officer, other_officer, coordinator, administrator, partner_org, shipment):
    receipt = record(officer, shipment)
    url = f"{receipts_url(shipment)}{receipt.pk}/"
    body = {"version": 1, "reason": "Recount", "note": "x"}
    assert session_client(coordinator).patch(url, body, format="json").status_code == 403
    assert session_client(other_officer).patch(url, body, format="json").status_code == 403
    assert key_client(issue_key(partner_org)).patch(url, body, format="json").status_code == 403
    assert key_client(issue_key(partner_org)).get(url).status_code == 403
    receipt.refresh_from_db()
    assert receipt.version == 1
    assert session_client(administrator).patch(url, body, format="json").status_code == 200
    other = make_shipment(by=officer, status="in_transit")
    assert session_client(officer).patch(f"{receipts_url(other)}{receipt.pk}/", body, format="json").status_code == 404


# --- Close --------------------------------------------------------------------------------------


def close_url(shipment) -> str:
    return f"{URL}{shipment.reference}/close/"


def test_closing_without_a_receipt_counts_the_rest_lost(officer, shipment):
    bm, stove = lines_of(shipment)
    record(officer, shipment)  # 6 t of the 12 t of building material
    client = session_client(officer)
    body = {"closed_on": "2020-11-19", "shortfalls": [{"line": bm.pk, "loss_reason": "stolen", "loss_note": "Seal"}]}
    response = client.post(close_url(shipment), body, format="json")
    assert response.status_code == 400  # the stoves never arrived: their reason is missing too
    assert response.json() == {
        "non_field_errors": [f"Cargo line {stove.pk} (not in the body): Less arrived than was sent: give the reason."]
    }
    body["shortfalls"].append({"line": stove.pk, "loss_reason": "short_shipped"})
    response = client.post(close_url(shipment), body, format="json", HTTP_IF_MATCH=f'"{shipment.version + 1}"')
    assert response.status_code == 200, response.data
    answer = response.json()
    assert answer["status"] == "delivered" and answer["delivered_on"] == "2020-11-19"
    assert [(li["loss_reason"], li["loss_note"]) for li in answer["lines"]] == [
        ("stolen", "Seal"),
        ("short_shipped", ""),
    ]
    assert response["ETag"] == f'"{shipment.version + 2}"'
    assert client.post(close_url(shipment), body, format="json").status_code == 400  # closed already


def test_close_errors(officer, coordinator, shipment):
    bm, stove = lines_of(shipment)
    client = session_client(officer)
    body = {"closed_on": "2020-11-01", "shortfalls": [{"line": stove.pk, "loss_reason": "overage"}, {"line": 0}]}
    response = client.post(close_url(shipment), body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "shortfalls": {
            "1": {"line": ["This line does not belong to the shipment."], "loss_reason": ["This field is required."]}
        }
    }
    body["shortfalls"].pop()
    response = client.post(close_url(shipment), body, format="json")
    assert response.json() == {
        "closed_on": ["The closing date cannot be before the dispatch date."],
        "shortfalls": {"0": {"loss_reason": ["Less arrived than was sent: give the reason."]}},
        "non_field_errors": [f"Cargo line {bm.pk} (not in the body): Less arrived than was sent: give the reason."],
    }
    assert client.post(close_url(shipment), {**body, "version": 99}, format="json").status_code == 409
    assert session_client(coordinator).post(close_url(shipment), body, format="json").status_code == 403
    assert Shipment.objects.get().status == "in_transit"
