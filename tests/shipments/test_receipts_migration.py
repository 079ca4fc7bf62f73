"""Migration 0010: each delivered shipment becomes one receipt dated on its delivered date, and the
totals (the demo's road and rail figures among them) are exactly what they were."""

import pytest
from django.core.management import call_command
from django.db import connection

from shipments import totals
from shipments.models import CargoLine, Receipt, ReceiptLine, Shipment
from shipments.totals.selectors import delivery_totals, parse_totals_query
from tests.factories import role_group


def by_mode() -> dict[str, tuple[str, str, str, int]]:
    answer = delivery_totals(parse_totals_query({"group_by": "mode"}))
    return {
        r["mode"]: (r["tonnes_delivered"], r["tonnes_damaged"], r["tonnes_lost"], r["shipments"])
        for r in answer.results
    }


@pytest.mark.django_db(transaction=True)
def test_delivered_shipments_become_one_receipt_each_and_the_figures_stay(settings):
    settings.DEBUG = True
    role_group("logistics_officer")  # an earlier transactional test may have flushed the role groups
    call_command("load_demo", verbosity=0)
    totals.refresh()
    before = by_mode()
    assert 295 <= float(before["road"][0]) <= 305 and 1150 <= float(before["rail"][0]) < 1200

    # Back to before receipts existed: the shipments keep what was received on their lines.
    call_command("migrate", "shipments", "0008", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM shipments_cargoline WHERE received_tonnes IS NOT NULL")
        assert cursor.fetchone()[0] > 0
    call_command("migrate", "shipments", verbosity=0)

    delivered = Shipment.objects.filter(status="delivered")
    assert Receipt.objects.count() == delivered.count() > 0
    for shipment in delivered:
        receipt = Receipt.objects.get(shipment=shipment)
        assert receipt.received_on == shipment.delivered_on
        assert receipt.history.count() == 1  # the migrated values, for a later correction to show as old
        for line in CargoLine.objects.filter(shipment=shipment):
            received = ReceiptLine.objects.get(receipt=receipt, line=line)
            assert (received.quantity, received.tonnes, received.condition) == (
                line.received_quantity,
                line.received_tonnes,
                "good",
            )
    # The totals were right before and nothing in them changes.
    assert totals.rebuild().changed == 0
    assert by_mode() == before
