"""Receipts as they happen: in parts, with overage, damage, closing, corrections and reopening.

Each rule through the services, with the totals it moves checked against the records.
"""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from shipments import services, totals
from shipments.models import CargoLine, DeliveryDayTotal, DeliveryTotal, InTransitTotal, Receipt, ReceiptLine, Shipment
from shipments.services import ReceiptConflict, ReceiptInput, Shortfall

from ..factories import CargoTypeFactory, UserFactory, make_shipment
from .test_totals import assert_totals_match_records

pytestmark = pytest.mark.django_db


def nov(day: int) -> datetime.date:
    return datetime.date(2020, 11, day)


@pytest.fixture
def wagons(officer):
    """60 t of cement (600 bags) and 20 t of stoves (200 pcs) by rail, dispatched on 10 November."""
    cement = CargoTypeFactory(code="cement", name="Cement", unit="pcs")
    stoves = CargoTypeFactory(code="stove", name="Stoves", unit="pcs")
    shipment = make_shipment(
        by=officer, mode="rail", lines=[(cement, "600", "60"), (stoves, "200", "20")], dispatched_on=nov(10)
    )
    return shipment


def lines_of(shipment) -> tuple[CargoLine, CargoLine]:
    first, second = CargoLine.objects.filter(shipment=shipment).order_by("id")
    return first, second


def receive(by, shipment, day, *lines, close=False, **kwargs) -> Receipt:
    shipment = Shipment.objects.get(pk=shipment.pk)
    return services.receipt_create(
        by=by, shipment_id=shipment.pk, received_on=day, lines=list(lines), close=close, **kwargs
    )


def got(line, quantity, tonnes, **kwargs) -> ReceiptInput:
    return ReceiptInput(line.pk, Decimal(quantity), Decimal(tonnes), **kwargs)


def day_total(day) -> tuple:
    row = DeliveryDayTotal.objects.filter(day=day).first()
    return (row.tonnes_delivered, row.tonnes_damaged, row.tonnes_lost, row.shipments) if row else None


# --- receipts in parts -------------------------------------------------------------------------


def test_wagons_arriving_on_different_days_are_separate_receipts(officer, wagons):
    cement, stoves = lines_of(wagons)
    receive(officer, wagons, nov(12), got(cement, 200, 20))
    stored = Shipment.objects.get(pk=wagons.pk)
    assert stored.status == Shipment.Status.PARTLY_RECEIVED and stored.delivered_on is None
    receive(officer, wagons, nov(14), got(cement, 400, 40), got(stoves, 100, 10))

    assert Receipt.objects.filter(shipment=wagons).count() == 2
    cement, stoves = lines_of(wagons)
    assert (cement.received_quantity, cement.received_tonnes) == (Decimal(600), Decimal(40 + 20))
    assert (stoves.received_tonnes, stoves.remaining_tonnes) == (Decimal(10), Decimal(10))
    assert Shipment.objects.get(pk=wagons.pk).status == Shipment.Status.PARTLY_RECEIVED
    totals.refresh()
    # Delivered on each receipt's day; what has not arrived yet is in transit, not lost.
    assert day_total(nov(12)) == (Decimal(20), Decimal(0), Decimal(0), 1)
    assert day_total(nov(14)) == (Decimal(50), Decimal(0), Decimal(0), 1)
    in_transit = InTransitTotal.objects.get(cargo_type__isnull=True)
    assert (in_transit.tonnes, in_transit.shipments) == (Decimal(10), 1)
    assert_totals_match_records()


def test_a_receipt_needs_something_that_arrived(officer, wagons):
    cement, _ = lines_of(wagons)
    with pytest.raises(ValidationError) as error:
        receive(officer, wagons, nov(12), got(cement, 0, 0))
    assert set(error.value.message_dict) == {"__all__"}
    assert not Receipt.objects.exists()


@pytest.mark.parametrize(
    ("day", "key"), [(nov(9), "received_on"), (datetime.date.today() + datetime.timedelta(days=1), "received_on")]
)
def test_a_receipt_date_before_dispatch_or_in_the_future_is_refused(officer, wagons, day, key):
    cement, _ = lines_of(wagons)
    with pytest.raises(ValidationError) as error:
        receive(officer, wagons, day, got(cement, 1, 1))
    assert set(error.value.message_dict) == {key}
    assert not Receipt.objects.exists()


def test_damaged_cargo_counts_as_delivered_and_as_damaged_and_needs_a_reason(officer, wagons):
    cement, stoves = lines_of(wagons)
    with pytest.raises(ValidationError) as error:
        receive(officer, wagons, nov(12), got(cement, 100, 10, condition="damaged"))
    assert set(error.value.message_dict) == {"lines-0-damage_reason"}

    receive(officer, wagons, nov(12), got(cement, 100, 10, condition="damaged", damage_reason="Bags torn"),
            got(stoves, 200, 20))  # fmt: skip
    totals.refresh()
    assert day_total(nov(12)) == (Decimal(30), Decimal(10), Decimal(0), 1)
    assert ReceiptLine.objects.get(line=cement).damage_reason == "Bags torn"
    assert DeliveryTotal.objects.get(cargo_type=cement.cargo_type).tonnes_damaged == Decimal(10)
    assert_totals_match_records()


def test_the_same_submission_key_records_one_receipt(officer, wagons):
    cement, _ = lines_of(wagons)
    key = uuid.uuid4()
    first = receive(officer, wagons, nov(12), got(cement, 100, 10), submission_key=key)
    again = receive(officer, wagons, nov(12), got(cement, 100, 10), submission_key=key)
    assert first.pk == again.pk
    assert Receipt.objects.count() == 1
    assert lines_of(wagons)[0].received_tonnes == Decimal(10)


@pytest.mark.parametrize("who", ["other_officer", "coordinator"])
def test_only_the_consignors_officers_and_administrators_receive(request, wagons, who):
    cement, _ = lines_of(wagons)
    with pytest.raises(PermissionDenied):
        receive(request.getfixturevalue(who), wagons, nov(12), got(cement, 1, 1))
    assert not Receipt.objects.exists()
    receive(request.getfixturevalue("administrator"), wagons, nov(12), got(cement, 1, 1))
    assert Receipt.objects.count() == 1


def test_a_stale_version_is_refused(officer, wagons):
    cement, _ = lines_of(wagons)
    receive(officer, wagons, nov(12), got(cement, 1, 1))
    with pytest.raises(services.EditConflict):
        receive(officer, wagons, nov(13), got(cement, 1, 1), expected_version=wagons.version)
    assert Receipt.objects.count() == 1


# --- overage and closing -----------------------------------------------------------------------


def test_more_than_was_sent_is_accepted_as_overage_and_lost_is_never_below_zero(officer, wagons):
    cement, stoves = lines_of(wagons)
    receive(officer, wagons, nov(12), got(cement, 610, 61), got(stoves, 150, 15, loss_reason="stolen"), close=True)

    cement, stoves = lines_of(wagons)
    assert (cement.loss_reason, cement.overage_tonnes, cement.lost_tonnes) == ("overage", Decimal(1), Decimal(0))
    assert (stoves.loss_reason, stoves.lost_tonnes) == ("stolen", Decimal(5))
    stored = Shipment.objects.get(pk=wagons.pk)
    assert (stored.status, stored.delivered_on) == (Shipment.Status.DELIVERED, nov(12))
    totals.refresh()
    # 61 + 15 delivered; only the stoves' 5 t lost: the cement's extra tonne does not offset it.
    assert day_total(nov(12)) == (Decimal(76), Decimal(0), Decimal(5), 1)
    assert not InTransitTotal.objects.filter(tonnes__gt=0).exists()
    assert_totals_match_records()


def test_closing_short_needs_a_reason_per_short_line(officer, wagons):
    cement, stoves = lines_of(wagons)
    receive(officer, wagons, nov(12), got(cement, 600, 60))
    with pytest.raises(ValidationError) as error:
        services.shipment_close(by=officer, shipment_id=wagons.pk, closed_on=nov(15))
    assert set(error.value.message_dict) == {"lines-1-loss_reason"}
    assert Shipment.objects.get(pk=wagons.pk).status == Shipment.Status.PARTLY_RECEIVED

    services.shipment_close(
        by=officer, shipment_id=wagons.pk, closed_on=nov(15), shortfalls=[Shortfall(stoves.pk, "lost", "Wagon 3")]
    )
    stoves = CargoLine.objects.get(pk=stoves.pk)
    assert (stoves.loss_reason, stoves.loss_note, stoves.lost_tonnes) == ("lost", "Wagon 3", Decimal(20))
    totals.refresh()
    # The loss is dated by the closing, the delivery by its receipt.
    assert day_total(nov(12)) == (Decimal(60), Decimal(0), Decimal(0), 1)
    assert day_total(nov(15)) == (Decimal(0), Decimal(0), Decimal(20), 0)
    assert_totals_match_records()


def test_the_closing_date_cannot_be_before_the_last_receipt(officer, wagons):
    cement, stoves = lines_of(wagons)
    receive(officer, wagons, nov(14), got(cement, 600, 60), got(stoves, 200, 20))
    with pytest.raises(ValidationError) as error:
        services.shipment_close(by=officer, shipment_id=wagons.pk, closed_on=nov(13))
    assert set(error.value.message_dict) == {"closed_on"}


def test_a_closed_shipment_takes_no_more_receipts(officer, wagons):
    cement, stoves = lines_of(wagons)
    receive(officer, wagons, nov(12), got(cement, 600, 60), got(stoves, 200, 20), close=True)
    with pytest.raises(ValidationError):
        receive(officer, wagons, nov(13), got(cement, 1, 1))
    assert Receipt.objects.count() == 1


# --- corrections -------------------------------------------------------------------------------


def test_a_correction_keeps_the_old_values_in_history_and_moves_both_days(officer, wagons):
    cement, stoves = lines_of(wagons)
    receipt = receive(officer, wagons, nov(12), got(cement, 600, 66), got(stoves, 200, 20), close=True)
    totals.refresh()
    assert day_total(nov(12)) == (Decimal(86), Decimal(0), Decimal(0), 1)

    corrector = UserFactory(username="corrector", organisation=officer.organisation, role="logistics_officer")
    services.receipt_correct(
        by=corrector, receipt_id=receipt.pk, received_on=nov(11), reason="Typo: 60 t, not 66 t",
        lines=[got(cement, 600, 60), got(stoves, 200, 20)], expected_version=1,
    )  # fmt: skip

    stored = Receipt.objects.get(pk=receipt.pk)
    assert (stored.received_on, stored.version, stored.correction_reason) == (nov(11), 2, "Typo: 60 t, not 66 t")
    old, new = stored.history.order_by("history_date", "history_id")
    assert (old.received_on, old.history_user, new.received_on, new.history_user) == (
        nov(12), officer, nov(11), corrector)  # fmt: skip
    assert new.correction_reason == "Typo: 60 t, not 66 t"
    tonnes = list(
        ReceiptLine.history.filter(line_id=cement.pk).order_by("history_date").values_list("tonnes", flat=True)
    )
    assert tonnes == [Decimal(66), Decimal(60)]
    assert lines_of(wagons)[0].received_tonnes == Decimal(60)
    totals.refresh()
    assert day_total(nov(12)) is None  # the closing day: nothing received or lost on it any more
    assert day_total(nov(11)) == (Decimal(80), Decimal(0), Decimal(0), 1)
    assert_totals_match_records()


def test_a_correction_needs_a_reason_and_the_version_read(officer, wagons):
    cement, _ = lines_of(wagons)
    receipt = receive(officer, wagons, nov(12), got(cement, 100, 10))
    with pytest.raises(ValidationError) as error:
        services.receipt_correct(
            by=officer, receipt_id=receipt.pk, received_on=nov(12), lines=[got(cement, 100, 9)], reason=" ",
            expected_version=1,
        )  # fmt: skip
    assert set(error.value.message_dict) == {"reason"}
    services.receipt_correct(
        by=officer, receipt_id=receipt.pk, received_on=nov(12), lines=[got(cement, 100, 9)], reason="scale",
        expected_version=1,
    )  # fmt: skip
    with pytest.raises(ReceiptConflict):
        services.receipt_correct(
            by=officer, receipt_id=receipt.pk, received_on=nov(12), lines=[got(cement, 100, 8)], reason="again",
            expected_version=1,
        )  # fmt: skip
    assert lines_of(wagons)[0].received_tonnes == Decimal(9)


@pytest.mark.parametrize("who", ["other_officer", "coordinator"])
def test_only_the_consignors_officers_and_administrators_correct(request, officer, wagons, who):
    cement, _ = lines_of(wagons)
    receipt = receive(officer, wagons, nov(12), got(cement, 100, 10))
    with pytest.raises(PermissionDenied):
        services.receipt_correct(
            by=request.getfixturevalue(who), receipt_id=receipt.pk, received_on=nov(12), lines=[got(cement, 1, 1)],
            reason="mine",
        )  # fmt: skip
    services.receipt_correct(
        by=request.getfixturevalue("administrator"), receipt_id=receipt.pk, received_on=nov(12),
        lines=[got(cement, 1, 1)], reason="admin",
    )  # fmt: skip
    assert lines_of(wagons)[0].received_tonnes == Decimal(1)


def test_a_correction_that_makes_a_closed_line_short_needs_its_reason(officer, wagons):
    cement, stoves = lines_of(wagons)
    receipt = receive(officer, wagons, nov(12), got(cement, 600, 60), got(stoves, 200, 20), close=True)
    with pytest.raises(ValidationError) as error:
        services.receipt_correct(
            by=officer, receipt_id=receipt.pk, received_on=nov(12), reason="miscount",
            lines=[got(cement, 600, 60), got(stoves, 150, 15)],
        )  # fmt: skip
    assert set(error.value.message_dict) == {"lines-1-loss_reason"}
    services.receipt_correct(
        by=officer, receipt_id=receipt.pk, received_on=nov(12), reason="miscount",
        lines=[got(cement, 600, 60), got(stoves, 150, 15, loss_reason="stolen")],
    )  # fmt: skip
    assert lines_of(wagons)[1].loss_reason == "stolen"
    totals.refresh()
    assert day_total(nov(12)) == (Decimal(75), Decimal(0), Decimal(5), 1)
    assert_totals_match_records()


def test_a_correction_cannot_date_a_receipt_after_the_closing(officer, wagons):
    cement, stoves = lines_of(wagons)
    receipt = receive(officer, wagons, nov(12), got(cement, 600, 60), got(stoves, 200, 20), close=True)
    with pytest.raises(ValidationError) as error:
        services.receipt_correct(
            by=officer, receipt_id=receipt.pk, received_on=nov(13), reason="date",
            lines=[got(cement, 600, 60), got(stoves, 200, 20)],
        )  # fmt: skip
    assert set(error.value.message_dict) == {"received_on"}


# --- reopening ---------------------------------------------------------------------------------


def test_an_administrator_reopens_a_closed_shipment_and_its_loss_goes_back_in_transit(officer, administrator, wagons):
    cement, stoves = lines_of(wagons)
    receive(officer, wagons, nov(12), got(cement, 600, 60), got(stoves, 0, 0, loss_reason="lost"), close=True)
    totals.refresh()
    assert day_total(nov(12))[2] == Decimal(20)

    with pytest.raises(PermissionDenied):
        services.shipment_reopen(by=officer, shipment_id=wagons.pk, reason="found it")
    with pytest.raises(ValidationError) as error:
        services.shipment_reopen(by=administrator, shipment_id=wagons.pk, reason="")
    assert set(error.value.message_dict) == {"reason"}

    services.shipment_reopen(by=administrator, shipment_id=wagons.pk, reason="Wagon 3 found at the junction")
    stored = Shipment.objects.get(pk=wagons.pk)
    assert (stored.status, stored.delivered_on) == (Shipment.Status.PARTLY_RECEIVED, None)
    assert "Wagon 3 found at the junction" in stored.notes
    assert lines_of(wagons)[1].loss_reason == ""
    totals.refresh()
    assert day_total(nov(12)) == (Decimal(60), Decimal(0), Decimal(0), 1)
    assert InTransitTotal.objects.get(cargo_type__isnull=True).tonnes == Decimal(20)
    # The wagon arrives; the shipment closes complete.
    receive(officer, wagons, nov(16), got(stoves, 200, 20), close=True)
    totals.refresh()
    assert Shipment.objects.get(pk=wagons.pk).delivered_on == nov(16)
    assert_totals_match_records()


def test_only_a_closed_shipment_can_be_reopened(administrator, wagons):
    with pytest.raises(ValidationError):
        services.shipment_reopen(by=administrator, shipment_id=wagons.pk, reason="why")


def test_a_short_line_is_lost_only_once_the_shipment_is_closed(officer, wagons):
    cement, stoves = lines_of(wagons)
    receive(officer, wagons, nov(12), got(cement, 600, 60), got(stoves, 100, 10))
    cement, stoves = lines_of(wagons)
    assert (cement.lost_tonnes, stoves.lost_tonnes) == (Decimal(0), None)  # the rest of the stoves may come
    services.shipment_close(
        by=officer, shipment_id=wagons.pk, closed_on=nov(13), shortfalls=[Shortfall(stoves.pk, "stolen")]
    )
    assert lines_of(wagons)[1].lost_tonnes == Decimal(10)
