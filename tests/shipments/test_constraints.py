"""The database itself refuses shipment and cargo line rows that break the rules.

Rows are written with the ORM directly, past the services, as a script or a bad migration would.
Each refusal is matched to the constraint's name, so a test fails if that constraint is dropped
even when another one happens to catch the row.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from shipments.models import CargoLine, Receipt, ReceiptLine, Shipment

from ..factories import CargoTypeFactory, LocationFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def nov(day: int) -> datetime.date:
    return datetime.date(2020, 11, day)


def shipment_fields(**overrides) -> dict:
    fields = {
        "reference": "WB-2020-99999",
        "mode": Shipment.Mode.ROAD,
        "consignor": OrganisationFactory(),
        "consignee": OrganisationFactory(),
        "origin": LocationFactory(),
        "destination": LocationFactory(),
        "status": Shipment.Status.PLANNED,
    }
    return {**fields, **overrides}


@pytest.fixture
def shipment(db):
    return Shipment.objects.create(
        **shipment_fields(reference="WB-2020-00001", status="in_transit", dispatched_on=nov(10))
    )


def line_fields(shipment, **overrides) -> dict:
    fields = {
        "shipment": shipment,
        "cargo_type": CargoTypeFactory(),
        "quantity": Decimal("100"),
        "tonnes": Decimal("10"),
    }
    return {**fields, **overrides}


def assert_refused(model, constraint: str, **fields) -> None:
    before = model.objects.count()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        model.objects.create(**fields)
    assert model.objects.count() == before


# --- rows the database accepts (so the refusals below are about the one broken rule) -----------


def test_valid_rows_are_accepted(shipment):
    CargoLine.objects.create(**line_fields(shipment))
    CargoLine.objects.create(
        **line_fields(
            shipment,
            received_quantity=Decimal("100"),
            received_tonnes=Decimal("10"),  # all arrived: no reason needed
        )
    )
    CargoLine.objects.create(
        **line_fields(
            shipment,
            received_quantity=Decimal("0"),
            received_tonnes=Decimal("0"),  # nothing arrived, with a reason
            loss_reason=CargoLine.LossReason.STOLEN,
        )
    )
    Shipment.objects.create(
        **shipment_fields(
            reference="WB-2020-00002",
            status="delivered",
            dispatched_on=nov(10),
            expected_on=nov(10),
            delivered_on=nov(10),  # same day is fine
        )
    )
    Shipment.objects.create(**shipment_fields(reference="WB-2020-00003", status="cancelled"))
    assert CargoLine.objects.count() == 3
    assert Shipment.objects.count() == 3


# --- cargo lines -------------------------------------------------------------------------------


@pytest.mark.parametrize("tonnes", ["0", "-0.001", "-5"])
def test_tonnes_must_be_positive(shipment, tonnes):
    assert_refused(CargoLine, "cargoline_tonnes_positive", **line_fields(shipment, tonnes=Decimal(tonnes)))


@pytest.mark.parametrize("quantity", ["0", "-1"])
def test_quantity_must_be_positive(shipment, quantity):
    assert_refused(CargoLine, "cargoline_quantity_positive", **line_fields(shipment, quantity=Decimal(quantity)))


@pytest.mark.parametrize("field", ["received_tonnes", "received_quantity"])
def test_received_sums_cannot_be_negative(shipment, field):
    fields = line_fields(shipment, received_quantity=Decimal("0"), received_tonnes=Decimal("0"))
    fields[field] = Decimal("-1")
    assert_refused(CargoLine, f"cargoline_{field}_not_negative", **fields)


def test_more_received_than_sent_is_allowed_overage(shipment):
    CargoLine.objects.create(
        **line_fields(
            shipment, received_quantity=Decimal("101"), received_tonnes=Decimal("10.5"), loss_reason="overage"
        )
    )


@pytest.mark.parametrize(
    "received", [{"received_tonnes": Decimal("10")}, {"received_quantity": Decimal("100")}], ids=["tonnes", "quantity"]
)
def test_received_tonnes_and_quantity_come_together(shipment, received):
    assert_refused(CargoLine, "cargoline_received_both_or_neither", **line_fields(shipment, **received))


# --- receipt lines -----------------------------------------------------------------------------


def receipt_line_fields(shipment, **overrides):
    receipt = Receipt.objects.create(
        shipment=shipment, received_on=nov(12), mode=shipment.mode, destination=shipment.destination
    )
    line = shipment.lines.first() or CargoLine.objects.create(**line_fields(shipment))
    return {"receipt": receipt, "line": line, "quantity": Decimal("1"), "tonnes": Decimal("1"), **overrides}


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"quantity": Decimal("-1")}, "receiptline_quantity_not_negative"),
        ({"tonnes": Decimal("-0.001")}, "receiptline_tonnes_not_negative"),
        ({"condition": "wet"}, "receiptline_condition_valid"),
        ({"condition": "damaged", "damage_reason": ""}, "receiptline_damage_has_reason"),
    ],
)
def test_receipt_line_rules(shipment, overrides, constraint):
    assert_refused(ReceiptLine, constraint, **receipt_line_fields(shipment, **overrides))


def test_a_line_appears_once_per_receipt(shipment):
    fields = receipt_line_fields(shipment)
    ReceiptLine.objects.create(**fields)
    # SQLite names the columns, PostgreSQL the constraint.
    assert_refused(ReceiptLine, "receiptline_once_per_receipt|receipt_id, shipments_receiptline.line_id", **fields)


# --- shipments ---------------------------------------------------------------------------------


def test_delivered_on_cannot_be_before_dispatched_on():
    fields = shipment_fields(status="delivered", dispatched_on=nov(10), delivered_on=nov(9))
    assert_refused(Shipment, "shipment_delivered_after_dispatch", **fields)


def test_expected_on_cannot_be_before_dispatched_on():
    fields = shipment_fields(status="in_transit", dispatched_on=nov(10), expected_on=nov(9))
    assert_refused(Shipment, "shipment_expected_after_dispatch", **fields)


def test_duplicate_reference_is_refused(shipment):
    # SQLite names the column (shipments_shipment.reference), PostgreSQL the index (..._reference_key).
    assert_refused(Shipment, "reference", **shipment_fields(reference=shipment.reference))


def test_delivered_needs_a_delivery_date():
    fields = shipment_fields(status="delivered", dispatched_on=nov(10), delivered_on=None)
    assert_refused(Shipment, "shipment_delivered_iff_delivery_date", **fields)


@pytest.mark.parametrize("status", ["planned", "in_transit", "cancelled"])
def test_only_delivered_has_a_delivery_date(status):
    fields = shipment_fields(status=status, dispatched_on=nov(10), delivered_on=nov(12))
    assert_refused(Shipment, "shipment_delivered_iff_delivery_date", **fields)


@pytest.mark.parametrize("status", ["in_transit", "delivered"])
def test_moving_shipments_have_a_dispatch_date(status):
    delivered_on = nov(12) if status == "delivered" else None
    fields = shipment_fields(status=status, dispatched_on=None, delivered_on=delivered_on)
    assert_refused(Shipment, "shipment_moving_has_dispatch_date", **fields)


def test_origin_cannot_be_destination():
    place = LocationFactory()
    assert_refused(Shipment, "shipment_origin_is_not_destination", **shipment_fields(origin=place, destination=place))


def test_status_must_be_a_known_one():
    assert_refused(Shipment, "shipment_status_valid", **shipment_fields(status="lost"))


def test_mode_must_be_a_known_one():
    assert_refused(Shipment, "shipment_mode_valid", **shipment_fields(mode="sea"))
