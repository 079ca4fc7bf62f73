"""The figures each shipment stores (lines, tonnes sent, received, lost, damaged) equal a direct sum of
its records after any sequence of service writes; the check finds a shipment whose figures were
changed behind the services' back, and none otherwise."""

import datetime
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from shipments import services
from shipments.models import FIGURE_FIELDS, CargoLine, ReceiptLine, Shipment
from shipments.selectors import Figures, shipment_fresh_figures, shipments_with_wrong_figures
from tests.factories import CargoTypeFactory, UserFactory, make_shipment
from tests.shipments.test_totals import random_operation, world  # noqa: F401 (world: a fixture)

pytestmark = pytest.mark.django_db


def direct_figures() -> dict[int, Figures]:
    """Each shipment's figures summed in Python from its cargo lines and receipt lines (not from the
    received sums the services keep on the lines, nor from the SQL the services run)."""
    received, damaged = defaultdict(Decimal), defaultdict(Decimal)
    for item in ReceiptLine.objects.all():
        received[item.line_id] += item.tonnes
        if item.condition == ReceiptLine.Condition.DAMAGED:
            damaged[item.line_id] += item.tonnes
    lines = defaultdict(list)
    for line in CargoLine.objects.all():
        lines[line.shipment_id].append(line)
    out = {}
    for shipment in Shipment.objects.all():
        mine = lines[shipment.pk]
        closed = shipment.status == Shipment.Status.DELIVERED
        out[shipment.pk] = Figures(
            line_count=len(mine),
            tonnes_sent=sum((line.tonnes for line in mine), Decimal(0)),
            tonnes_received=sum((received[line.pk] for line in mine), Decimal(0)),
            tonnes_lost=sum((max(line.tonnes - received[line.pk], Decimal(0)) for line in mine), Decimal(0))
            if closed
            else Decimal(0),
            tonnes_damaged=sum((damaged[line.pk] for line in mine), Decimal(0)),
        )
    return out


def stored_figures() -> dict[int, Figures]:
    return {s.pk: Figures.of(s) for s in Shipment.objects.all()}


def set_figure(shipment_id: int, column: str, value) -> None:
    """Change a stored figure the way no service does: plain SQL."""
    assert column in FIGURE_FIELDS
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE shipments_shipment SET {column} = %s WHERE id = %s", [value, shipment_id])


@pytest.fixture
def moving(officer):
    """In transit: stoves (200 pcs, 4.5 t) and generators (4 pcs, 5 t)."""
    stoves, generators = CargoTypeFactory(code="stove"), CargoTypeFactory(code="gen")
    return make_shipment(by=officer, lines=[(stoves, "200", "4.5"), (generators, "4", "5")], status="in_transit")


def figures_of(shipment) -> Figures:
    shipment.refresh_from_db()
    return Figures.of(shipment)


def test_each_write_keeps_the_figures(officer, administrator, moving):
    stoves, generators = moving.lines.order_by("id")
    assert figures_of(moving) == Figures(2, Decimal("9.5"))
    receipt = services.receipt_create(
        by=officer, shipment_id=moving.pk, received_on=datetime.date(2020, 11, 18),
        lines=[services.ReceiptInput(stoves.pk, Decimal(100), Decimal("2.5"), condition="damaged",
                                     damage_reason="wet")],
    )  # fmt: skip
    assert figures_of(moving) == Figures(2, Decimal("9.5"), Decimal("2.5"), Decimal(0), Decimal("2.5"))
    # More generators than were sent (overage): lost never goes below 0 on a line.
    services.receipt_create(
        by=officer, shipment_id=moving.pk, received_on=datetime.date(2020, 11, 19),
        lines=[services.ReceiptInput(generators.pk, Decimal(5), Decimal(6))],
    )  # fmt: skip
    assert figures_of(moving) == Figures(2, Decimal("9.5"), Decimal("8.5"), Decimal(0), Decimal("2.5"))
    services.shipment_close(
        by=officer, shipment_id=moving.pk, closed_on=datetime.date(2020, 11, 20),
        shortfalls=[services.Shortfall(stoves.pk, "stolen")],
    )  # fmt: skip
    assert figures_of(moving) == Figures(2, Decimal("9.5"), Decimal("8.5"), Decimal(2), Decimal("2.5"))
    services.receipt_correct(
        by=officer, receipt_id=receipt.pk, received_on=receipt.received_on, reason="recount",
        lines=[services.ReceiptInput(stoves.pk, Decimal(150), Decimal("3.5"), loss_reason="stolen")],
    )  # fmt: skip
    assert figures_of(moving) == Figures(2, Decimal("9.5"), Decimal("9.5"), Decimal(1), Decimal(0))
    services.shipment_reopen(by=administrator, shipment_id=moving.pk, reason="one more truck")
    assert figures_of(moving) == Figures(2, Decimal("9.5"), Decimal("9.5"), Decimal(0), Decimal(0))
    assert shipments_with_wrong_figures() == []


def test_edit_and_cancel_keep_the_figures(officer):
    shipment = make_shipment(by=officer, lines=[(CargoTypeFactory(), "10", "2.25")])
    first = shipment.lines.get()
    data = services.ShipmentInput(
        mode="road", consignor=shipment.consignor, consignee=shipment.consignee, origin=shipment.origin,
        destination=shipment.destination,
        lines=[services.LineInput(first.cargo_type, Decimal(10), Decimal("3"), id=first.pk),
               services.LineInput(CargoTypeFactory(), Decimal(1), Decimal("0.125"))],
    )  # fmt: skip
    services.shipment_update(by=officer, shipment_id=shipment.pk, data=data, expected_version=shipment.version)
    assert figures_of(shipment) == Figures(2, Decimal("3.125"))
    services.shipment_cancel(by=officer, shipment_id=shipment.pk, reason="duplicate")
    assert figures_of(shipment) == Figures(2, Decimal("3.125"))


def test_a_shipment_logged_as_delivered_stores_its_figures(officer):
    shipment = make_shipment(by=officer, lines=[(CargoTypeFactory(), "10", "2.5")], status="delivered")
    assert shipment.status == "delivered"
    assert figures_of(shipment) == Figures(1, Decimal("2.5"), Decimal("2.5"))


def test_the_figures_stay_out_of_the_shipments_history(officer, moving):
    history_fields = {f.name for f in Shipment.history.model._meta.fields}
    assert history_fields.isdisjoint(FIGURE_FIELDS)
    records = moving.history.count()
    line = moving.lines.order_by("id").first()
    services.receipt_create(
        by=officer, shipment_id=moving.pk, received_on=datetime.date(2020, 11, 18),
        lines=[services.ReceiptInput(line.pk, Decimal(10), Decimal("0.5"))],
    )  # fmt: skip
    assert figures_of(moving).tonnes_received == Decimal("0.5")
    # The receipt's own save of the shipment is its one history record; storing the figures adds none.
    assert moving.history.count() == records + 1
    assert moving.history.first().history_change_reason == "Received in part"


@pytest.mark.parametrize("seed", [1, 2])
def test_random_writes_keep_the_stored_figures_equal_to_the_records(world, seed):  # noqa: F811
    rng = random.Random(seed)
    done = defaultdict(int)
    for _ in range(90):
        done[random_operation(rng, world)] += 1
        assert stored_figures() == direct_figures()
        done["overage"] += CargoLine.objects.filter(loss_reason="overage").exists()
        done["damaged"] += ReceiptLine.objects.filter(condition="damaged").exists()
        done["lost"] += Shipment.objects.filter(tonnes_lost__gt=0).exists()
    kinds = ["create", "create_delivered", "dispatch", "receive", "receive_part", "close", "correct", "reopen"]
    assert all(done[kind] for kind in [*kinds, "edit", "cancel", "delete", "overage", "damaged", "lost"]), done
    assert shipments_with_wrong_figures() == []


def test_the_check_finds_figures_changed_behind_the_services_back(officer, moving):
    others = [make_shipment(by=officer, status=status) for status in ("planned", "in_transit", "delivered")]
    line = moving.lines.order_by("id").first()
    services.receipt_create(
        by=officer, shipment_id=moving.pk, received_on=datetime.date(2020, 11, 18),
        lines=[services.ReceiptInput(line.pk, Decimal(10), Decimal("0.5"), condition="damaged", damage_reason="x")],
    )  # fmt: skip
    assert shipments_with_wrong_figures() == []
    right = figures_of(moving)

    for column, value in [("tonnes_sent", "9.501"), ("tonnes_received", "0"), ("tonnes_lost", "1"),
                          ("tonnes_damaged", "0.4"), ("line_count", 3)]:  # fmt: skip
        set_figure(moving.pk, column, value)
        [wrong] = shipments_with_wrong_figures()
        assert (wrong.shipment_id, wrong.fresh) == (moving.pk, right)
        assert getattr(wrong.stored, column) == Decimal(value)
        set_figure(moving.pk, column, getattr(right, column))
        assert shipments_with_wrong_figures() == []

    # The records changed instead of the figures: a receipt line edited by SQL.
    ReceiptLine.objects.filter(line=line).update(tonnes=Decimal("0.75"))
    [wrong] = shipments_with_wrong_figures()
    assert wrong.shipment_id == moving.pk and wrong.stored == right
    assert (wrong.fresh.tonnes_received, wrong.fresh.tonnes_damaged) == (Decimal("0.75"), Decimal("0.75"))
    assert shipment_fresh_figures(moving.pk) == wrong.fresh
    # `limit` caps the answer (the first by id).
    for shipment in others:
        set_figure(shipment.pk, "tonnes_sent", "12345")
    assert [w.shipment_id for w in shipments_with_wrong_figures(limit=2)] == sorted(
        [moving.pk, *(s.pk for s in others)]
    )[:2]


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_figures_the_services_would_store(officer, moving):
    administrator = UserFactory(username="admin-m", organisation=officer.organisation, role="administrator")
    stoves, generators = moving.lines.order_by("id")
    services.receipt_create(
        by=officer, shipment_id=moving.pk, received_on=datetime.date(2020, 11, 18), close=True,
        lines=[services.ReceiptInput(stoves.pk, Decimal(100), Decimal("2.5"), condition="damaged", damage_reason="wet",
                                     loss_reason="lost"),
               services.ReceiptInput(generators.pk, Decimal(5), Decimal("5.125"))],
    )  # fmt: skip
    make_shipment(by=officer, lines=[(CargoTypeFactory(), "3", "0.1"), (CargoTypeFactory(), "3", "0.2")])
    make_shipment(by=administrator, status="delivered")
    partly = make_shipment(by=officer, status="in_transit")
    services.receipt_create(
        by=officer, shipment_id=partly.pk, received_on=datetime.date(2020, 11, 18),
        lines=[services.ReceiptInput(partly.lines.get().pk, Decimal(1), Decimal("0.3"))],
    )  # fmt: skip
    before = stored_figures()
    assert before == direct_figures() and before[moving.pk].tonnes_lost == Decimal(2)

    call_command("migrate", "shipments", "0012", verbosity=0)
    call_command("migrate", "shipments", verbosity=0)
    assert stored_figures() == before
    assert shipments_with_wrong_figures() == []


def test_a_shipment_loaded_by_sql_without_its_figures_stores_0_and_the_check_finds_it(officer):
    """A bulk load by SQL (as the benchmark's) may leave the figures out: the rows go in with 0, and the
    check names those that have lines."""
    like = make_shipment(by=officer)
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO shipments_shipment (reference, mode, consignor_id, consignee_id, origin_id, destination_id,
                   transport_reference, status, notes, version, created_at, updated_at)
               SELECT 'BULK-1', mode, consignor_id, consignee_id, origin_id, destination_id, '', 'planned', '', 1,
                      created_at, updated_at
               FROM shipments_shipment WHERE id = %s""",
            [like.pk],
        )
        bulk = Shipment.objects.get(reference="BULK-1")
        cursor.execute(
            """INSERT INTO shipments_cargoline (shipment_id, cargo_type_id, quantity, tonnes, loss_reason, loss_note)
               SELECT %s, cargo_type_id, quantity, tonnes, '', '' FROM shipments_cargoline WHERE shipment_id = %s""",
            [bulk.pk, like.pk],
        )
    assert Figures.of(bulk) == Figures()
    [wrong] = shipments_with_wrong_figures()
    assert (wrong.shipment_id, wrong.stored, wrong.fresh) == (bulk.pk, Figures(), Figures(1, Decimal(10)))


def test_the_recount_sets_every_wrong_figure_right_and_touches_nothing_else(officer, moving):
    """For rows loaded by SQL (the benchmark) and repairs: one statement, only the shipments that differ."""
    others = [make_shipment(by=officer, status=status) for status in ("planned", "delivered")]
    assert services.shipments_figures_recount() == 0
    right = figures_of(moving)
    set_figure(moving.pk, "tonnes_sent", "12345")
    set_figure(others[1].pk, "line_count", 9)
    assert services.shipments_figures_recount() == 2
    assert shipments_with_wrong_figures() == [] and figures_of(moving) == right
    assert services.shipments_figures_recount() == 0


def test_the_nightly_check_logs_and_rewrites_figures_changed_around_the_services(officer, moving, caplog):
    from shipments.tasks import check_shipment_figures

    assert check_shipment_figures() == 0 and not caplog.records
    right = figures_of(moving)
    set_figure(moving.pk, "tonnes_received", "999")
    assert check_shipment_figures() == 1
    assert figures_of(moving) == right
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert f"#{moving.pk}" in record.getMessage()
