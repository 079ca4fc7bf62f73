"""Delivery totals equal a direct aggregate of the records, whatever sequence of writes made them."""

import datetime
import random
import threading
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from aidtrack.models import Location
from shipments import services, totals
from shipments.models import (
    CargoLine,
    DeliveryAreaMonthTotal,
    DeliveryCargoMonthTotal,
    DeliveryDayTotal,
    DeliveryTotal,
    InTransitTotal,
    Receipt,
    ReceiptLine,
    Shipment,
    StaleCell,
    StaleTransitCell,
)
from shipments.totals import rebuild_split
from shipments.totals.selectors import delivery_totals, parse_totals_query
from shipments.totals.tasks import deferred_refresh
from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory, UserFactory
from tests.services import require_postgres

Q3 = Decimal("0.001")


def q(value) -> Decimal:
    return Decimal(value).quantize(Q3)


@dataclass(frozen=True)
class Record:
    """One record row as the totals count it: a receipt line, or the loss of a closed shipment's line."""

    day: datetime.date
    shipment: Shipment
    line: CargoLine
    tonnes: Decimal = Decimal(0)
    quantity: Decimal = Decimal(0)
    damaged: Decimal = Decimal(0)
    lost: Decimal = Decimal(0)
    received: bool = True  # counts its shipment among those received in a cell


def records():
    """Straight from receipts and lines (not from the received sums the services keep on the lines):
    what each receipt line brought on its receipt's day, and sent - received (when above 0) of each
    line of a closed shipment on its closing day."""
    received = defaultdict(Decimal)
    rows = []
    for rl in ReceiptLine.objects.select_related("receipt__shipment", "line__cargo_type"):
        received[rl.line_id] += rl.tonnes
        damaged = rl.tonnes if rl.condition == "damaged" else Decimal(0)
        rows.append(Record(rl.receipt.received_on, rl.receipt.shipment, rl.line, rl.tonnes, rl.quantity, damaged))
    for line in CargoLine.objects.filter(shipment__status="delivered").select_related("shipment", "cargo_type"):
        if line.tonnes > received[line.pk]:
            rows.append(
                Record(line.shipment.delivered_on, line.shipment, line, lost=line.tonnes - received[line.pk],
                       received=False)
            )  # fmt: skip
    return rows


def delivered_sums(keys_of, quantity: bool):
    """Delivered tonnes (and quantity), damaged and lost tonnes and shipments received (once per day
    they received cargo) per key, straight from the records; `keys_of(record)` gives its keys."""
    cells = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0), Decimal(0), set()])
    for record in records():
        for key in keys_of(record):
            cell = cells[key]
            cell[0] += record.tonnes
            cell[1] += record.quantity
            cell[2] += record.damaged
            cell[3] += record.lost
            if record.received:  # a shipment counts once on each day it received cargo
                cell[4].add((record.shipment.pk, record.day))
    return {
        k: (q(t), q(qty), q(damaged), q(lost), len(ids)) if quantity else (q(t), q(damaged), q(lost), len(ids))
        for k, (t, qty, damaged, lost, ids) in cells.items()
    }


def direct_cells():
    """day × mode × cargo × destination, straight from the records."""
    return delivered_sums(lambda r: [(r.day, r.shipment.mode, r.line.cargo_type_id, r.shipment.destination_id)], True)


def stored_cells():
    return {
        (r.day, r.mode, r.cargo_type_id, r.destination_id): (
            q(r.tonnes_delivered), q(r.quantity_delivered), q(r.tonnes_damaged), q(r.tonnes_lost), r.shipments)
        for r in DeliveryTotal.objects.all()
    }  # fmt: skip


def direct_day_cells():
    return delivered_sums(lambda r: [(r.day, r.shipment.mode, r.shipment.destination_id)], False)


def stored_day_cells():
    return {
        (r.day, r.mode, r.destination_id): (q(r.tonnes_delivered), q(r.tonnes_damaged), q(r.tonnes_lost), r.shipments)
        for r in DeliveryDayTotal.objects.all()
    }


def ancestors(location_id, parents):
    chain = [location_id]
    while parents[chain[-1]] is not None:
        chain.append(parents[chain[-1]])
    return chain


def direct_area_months():
    parents = dict(Location.objects.values_list("id", "parent_id"))

    def areas(r):
        return [(r.day.replace(day=1), r.shipment.mode, a) for a in ancestors(r.shipment.destination_id, parents)]

    return delivered_sums(areas, False)


def stored_area_months():
    return {
        (r.month, r.mode, r.area_id): (q(r.tonnes_delivered), q(r.tonnes_damaged), q(r.tonnes_lost), r.shipments)
        for r in DeliveryAreaMonthTotal.objects.all()
    }


def direct_cargo_months():
    return delivered_sums(lambda r: [(r.day.replace(day=1), r.shipment.mode, r.line.cargo_type_id)], True)


def stored_cargo_months():
    return {
        (r.month, r.mode, r.cargo_type_id): (
            q(r.tonnes_delivered), q(r.quantity_delivered), q(r.tonnes_damaged), q(r.tonnes_lost), r.shipments)
        for r in DeliveryCargoMonthTotal.objects.all()
    }  # fmt: skip


def direct_in_transit():
    """Sent - received (never below 0) on each line of an open shipment, from its receipt lines."""
    received = defaultdict(Decimal)
    for rl in ReceiptLine.objects.all():
        received[rl.line_id] += rl.tonnes
    cells = defaultdict(lambda: [Decimal(0), set()])
    open_lines = CargoLine.objects.filter(shipment__status__in=["in_transit", "partly_received"])
    for line in open_lines.select_related("shipment"):
        s = line.shipment
        for cargo in (line.cargo_type_id, None):
            cell = cells[(s.mode, s.destination_id, cargo)]
            cell[0] += max(line.tonnes - received[line.pk], Decimal(0))
            cell[1].add(s.pk)
    return {k: (q(t), len(ids)) for k, (t, ids) in cells.items()}


def stored_in_transit():
    return {
        (r.mode, r.destination_id, r.cargo_type_id): (q(r.tonnes), r.shipments) for r in InTransitTotal.objects.all()
    }


def assert_received_sums_match_receipts():
    sums = defaultdict(lambda: (None, None))
    for rl in ReceiptLine.objects.all():
        quantity, tonnes = sums[rl.line_id]
        sums[rl.line_id] = ((quantity or 0) + rl.quantity, (tonnes or 0) + rl.tonnes)
    for line in CargoLine.objects.all():
        assert (line.received_quantity, line.received_tonnes) == sums[line.pk], line


def assert_totals_match_records():
    assert_received_sums_match_receipts()
    # The cell columns a receipt copies from its shipment (fixed once cargo has arrived) stay its shipment's.
    for receipt in Receipt.objects.select_related("shipment"):
        assert (receipt.mode, receipt.destination_id) == (receipt.shipment.mode, receipt.shipment.destination_id)
    assert stored_in_transit() == direct_in_transit()
    assert stored_cells() == direct_cells()
    assert stored_day_cells() == direct_day_cells()
    assert stored_area_months() == direct_area_months()
    assert stored_cargo_months() == direct_cargo_months()


def direct_answer(group_by, region=None, date_from=None, date_to=None, cargo=None):
    """The API's question answered in Python from the records."""
    subtree = None
    if region is not None:
        parents = dict(Location.objects.values_list("id", "parent_id"))
        subtree = {loc for loc in parents if region.pk in ancestors(loc, parents)}
    groups = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0), set()])
    for r in records():
        s, day = r.shipment, r.day
        if subtree is not None and s.destination_id not in subtree:
            continue
        if (date_from and day < date_from) or (date_to and day > date_to):
            continue
        if cargo is not None and r.line.cargo_type.code != cargo:
            continue
        key = []
        for g in group_by:
            key.append({
                "mode": s.mode,
                "cargo_type": r.line.cargo_type.code if g == "cargo_type" else None,
                "destination": s.destination.code if g == "destination" else None,
                "week": (day - datetime.timedelta(days=day.weekday())).isoformat(),
                "month": day.replace(day=1).isoformat(),
                "day": day.isoformat(),
            }[g])  # fmt: skip
        group = groups[tuple(key)]
        group[0] += r.tonnes
        group[1] += r.damaged
        group[2] += r.lost
        if r.received:
            group[3].add((s.pk, day))
    return {k: (str(q(t)), str(q(dmg)), str(q(lost)), len(ids)) for k, (t, dmg, lost, ids) in groups.items()}


def api_answer(group_by, **params):
    answer = delivery_totals(parse_totals_query({"group_by": ",".join(group_by), **params}))
    return {
        tuple(r[g] for g in group_by): (r["tonnes_delivered"], r["tonnes_damaged"], r["tonnes_lost"], r["shipments"])
        for r in answer.results
    }


@pytest.fixture
def world(db):
    region = LocationFactory(code="R", level="region")
    districts = [LocationFactory(code=f"R-D{i}", level="district", parent=region) for i in (1, 2)]
    towns = [LocationFactory(code=f"R-D{i}-T{j}", parent=d) for i, d in enumerate(districts) for j in (1, 2)]
    site = LocationFactory(code="R-D0-T1-S", level="site", parent=towns[0])
    other_region = LocationFactory(code="X", level="region")
    origin = LocationFactory(code="ORIGIN", level="settlement")
    org = OrganisationFactory(code="em")
    return {
        "by": UserFactory(username="admin-t", organisation=org, role="administrator"),
        "org": org,
        "consignee": OrganisationFactory(code="ihrc"),
        "origin": origin,
        "region": region,
        "destinations": [region, *districts, *towns, site, other_region],
        "cargo": [CargoTypeFactory(code=f"c{i}") for i in range(4)],
    }


def random_lines(rng, world):
    cargo = rng.sample(world["cargo"], rng.randint(1, 3))
    return [
        services.LineInput(
            cargo_type=c, quantity=Decimal(rng.randint(1, 500)), tonnes=Decimal(rng.randint(1, 40000)) / 1000
        )
        for c in cargo
    ]


def random_date(rng):
    return datetime.date(2020, 11, 1) + datetime.timedelta(days=rng.randint(0, 75))


def random_received(rng, line) -> services.ReceiptInput:
    """Part of what remains of a line, all of it, or more (overage); good or damaged."""
    share = Decimal(rng.choice([0, 30, 50, 100, 100, 120])) / 100
    damaged = rng.random() < 0.25
    return services.ReceiptInput(
        line.pk, (line.quantity * share).quantize(Q3), (line.tonnes * share).quantize(Q3) or Decimal("0.001"),
        loss_reason="damaged", condition="damaged" if damaged else "good", damage_reason="wet" if damaged else "",
    )  # fmt: skip


def random_day_after(rng, day):
    return min(day + datetime.timedelta(days=rng.randint(0, 9)), datetime.date(2021, 3, 1))


def random_operation(rng, world):
    by = world["by"]
    # Each kind of write on a shipment in a state that allows it.
    editable = ["planned", "in_transit"]
    receivable = ["in_transit", "partly_received"]
    candidates = {
        "dispatch": list(Shipment.objects.filter(status="planned")),
        "receive": list(Shipment.objects.filter(status__in=receivable)),
        "receive_part": list(Shipment.objects.filter(status__in=receivable)),
        "close": list(Shipment.objects.filter(status__in=receivable)),
        "correct": list(Shipment.objects.filter(receipts__isnull=False).distinct()),
        "reopen": list(Shipment.objects.filter(status="delivered")),
        "edit": list(Shipment.objects.filter(status__in=editable)),
        "cancel": list(Shipment.objects.filter(status__in=editable)),
        "delete": list(Shipment.objects.all()),
    }
    kind = rng.choice(["create", "create_delivered", *(k for k, found in candidates.items() if found)])
    if kind.startswith("create"):
        dispatched = random_date(rng) if kind == "create_delivered" or rng.random() < 0.5 else None
        data = services.ShipmentInput(
            mode=rng.choice(["road", "rail", "air"]),
            consignor=world["org"], consignee=world["consignee"], origin=world["origin"],
            destination=rng.choice(world["destinations"]),
            dispatched_on=dispatched,
            delivered_on=dispatched + datetime.timedelta(days=rng.randint(0, 5))
            if kind == "create_delivered" else None,
            lines=random_lines(rng, world),
        )  # fmt: skip
        services.shipment_create(by=by, data=data)
        return kind
    shipment = rng.choice(candidates[kind])
    lines = list(shipment.lines.order_by("id"))
    last_day = max([shipment.dispatched_on, *shipment.receipts.values_list("received_on", flat=True)], default=None)
    if kind == "dispatch":
        services.shipment_dispatch(by=by, shipment_id=shipment.pk, dispatched_on=random_date(rng))
    elif kind == "receive":  # the rest arrives, some lines short or damaged, and the shipment closes
        services.shipment_receive(
            by=by, shipment_id=shipment.pk, delivered_on=random_day_after(rng, last_day),
            receipts=[random_received(rng, line) for line in lines if rng.random() < 0.3],
        )  # fmt: skip
    elif kind == "receive_part":
        services.receipt_create(
            by=by, shipment_id=shipment.pk, received_on=random_day_after(rng, shipment.dispatched_on),
            lines=[random_received(rng, line) for line in lines[: rng.randint(1, len(lines))]],
        )  # fmt: skip
    elif kind == "close":
        services.shipment_close(
            by=by, shipment_id=shipment.pk, closed_on=random_day_after(rng, last_day),
            shortfalls=[services.Shortfall(line.pk, "lost") for line in lines],
        )  # fmt: skip
    elif kind == "correct":
        receipt = rng.choice(list(shipment.receipts.all()))
        latest = shipment.delivered_on or datetime.date(2021, 3, 1)
        kept = rng.randint(1, len(lines))  # the other lines leave the receipt: on a closed shipment, lost
        services.receipt_correct(
            by=by, receipt_id=receipt.pk, reason="typo", expected_version=receipt.version,
            received_on=min(random_day_after(rng, shipment.dispatched_on), latest),
            lines=[random_received(rng, line) for line in lines[:kept]]
            + [services.ReceiptInput(line.pk, Decimal(0), Decimal(0), loss_reason="lost") for line in lines[kept:]],
        )  # fmt: skip
    elif kind == "reopen":
        services.shipment_reopen(by=by, shipment_id=shipment.pk, reason="more wagons")
    elif kind == "edit":
        lines = [services.LineInput(line.cargo_type, line.quantity, line.tonnes + 1, id=line.pk) for line in lines]
        data = services.ShipmentInput(
            mode=rng.choice(["road", "rail"]), consignor=shipment.consignor, consignee=shipment.consignee,
            origin=shipment.origin, destination=rng.choice(world["destinations"]),
            dispatched_on=shipment.dispatched_on, lines=lines[1:] + random_lines(rng, world)[:1],
        )  # fmt: skip
        services.shipment_update(by=by, shipment_id=shipment.pk, data=data, expected_version=shipment.version)
    elif kind == "cancel":
        services.shipment_cancel(by=by, shipment_id=shipment.pk, reason="random")
    elif kind == "delete":
        services.shipment_delete(by=by, shipment_id=shipment.pk)
    return kind


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_random_writes_keep_every_total_equal_to_the_records(world, seed):
    rng = random.Random(seed)
    done = defaultdict(int)
    for _ in range(90):
        done[random_operation(rng, world)] += 1
        totals.refresh()
        assert not StaleCell.objects.exists() and not StaleTransitCell.objects.exists()
        assert_totals_match_records()
        done["overage"] += CargoLine.objects.filter(loss_reason="overage").exists()
        done["damaged"] += DeliveryTotal.objects.filter(tonnes_damaged__gt=0).exists()
    # Every kind of write really happened.
    kinds = ["create", "create_delivered", "dispatch", "receive", "receive_part", "close", "correct", "reopen"]
    assert all(done[kind] for kind in [*kinds, "edit", "cancel", "delete"]), done
    # Overage and damage happened too, and were counted.
    assert done["overage"] and done["damaged"], done
    assert DeliveryTotal.objects.exists()

    # The API's answers equal the records too, through each table the planner picks.
    region = world["region"]
    for group_by, params, direct in [
        (["mode"], {}, direct_answer(["mode"])),
        (["cargo_type", "month"], {}, direct_answer(["cargo_type", "month"])),
        (["mode"], {"destination": "R"}, direct_answer(["mode"], region=region)),
        (["mode", "destination"], {}, direct_answer(["mode", "destination"])),
        (["week"], {"destination": "R-D1"}, direct_answer(["week"], region=Location.objects.get(code="R-D1"))),
        (["mode", "day"], {"date_from": "2020-11-10", "date_to": "2020-12-05"},
         direct_answer(["mode", "day"], date_from=datetime.date(2020, 11, 10), date_to=datetime.date(2020, 12, 5))),
        (["month"], {"date_from": "2020-12-01", "date_to": "2020-12-31"},
         direct_answer(["month"], date_from=datetime.date(2020, 12, 1), date_to=datetime.date(2020, 12, 31))),
        (["month"], {"cargo_type": "c0"}, direct_answer(["month"], cargo="c0")),
        (["cargo_type", "month"], {"destination": "R"}, direct_answer(["cargo_type", "month"], region=region)),
        (["mode"], {"cargo_type": "c1", "destination": "R-D1"},
         direct_answer(["mode"], region=Location.objects.get(code="R-D1"), cargo="c1")),
    ]:  # fmt: skip
        assert api_answer(group_by, **params) == direct, (group_by, params)

    # With everything right, the nightly rebuild finds nothing to change.
    assert totals.rebuild().changed == 0


@pytest.mark.django_db
def test_rebuild_repairs_drift_and_refresh_is_idempotent(world):
    rng = random.Random(7)
    for _ in range(25):
        random_operation(rng, world)
    while Shipment.objects.filter(status="delivered").count() < 5:
        random_operation(rng, world)
    totals.refresh()
    assert totals.refresh().cells == 0  # a second run has nothing to do
    before = stored_area_months()
    # Damage every table the way a bug or a hand edit would.
    DeliveryTotal.objects.filter(pk__in=DeliveryTotal.objects.values("pk")[:2]).delete()
    DeliveryDayTotal.objects.update(shipments=99)
    InTransitTotal.objects.filter(pk__in=InTransitTotal.objects.values("pk")[:1]).delete()
    DeliveryAreaMonthTotal.objects.filter(pk=DeliveryAreaMonthTotal.objects.first().pk).update(tonnes_delivered=1)
    DeliveryCargoMonthTotal.objects.filter(pk=DeliveryCargoMonthTotal.objects.first().pk).update(shipments=7)
    result = totals.rebuild()
    assert result.changed > 0
    # Inside the test's transaction other connections could not see its rows: one connection reads them.
    assert result.parts == 1
    assert_totals_match_records()
    assert stored_area_months() == before
    assert totals.rebuild().changed == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("parts", [2, 3])
def test_a_rebuild_of_its_own_reads_the_records_on_several_connections_and_misses_nothing(world, settings, parts):
    """As the nightly task runs it (no enclosing transaction), the records are checked in ranges of
    delivered days, one connection each, in the rebuild's snapshot: each day in exactly one range, a
    month cut between two ranges counted whole."""
    require_postgres("the rebuild reads the records on several connections only on PostgreSQL")
    settings.TOTALS_REBUILD_CONNECTIONS = parts
    rng = random.Random(5)
    while Shipment.objects.filter(status="delivered").count() < 15:
        random_operation(rng, world)
    totals.refresh()
    days = sorted(set(Receipt.objects.values_list("received_on", flat=True)))
    with connection.cursor() as cursor:
        ranges = rebuild_split.day_ranges(cursor, parts)
    assert len(ranges) == parts
    for day in days:
        assert sum((start is None or start <= day) and (end is None or day < end) for start, end in ranges) == 1
    assert any(start is not None and start.day > 1 for start, _ in ranges)  # a month cut between two ranges
    assert totals.rebuild() == totals.RebuildResult(parts=parts)  # right totals: nothing changed

    # One wrong row at a time, in each range in turn (its first and its last day), so that a range
    # whose check missed it would leave it unrepaired: no other range's finding triggers the repair.
    for start, end in ranges:
        in_range = [day for day in days if (start is None or start <= day) and (end is None or day < end)]
        for table, day, change in [
            (DeliveryTotal, in_range[0], {"shipments": F("shipments") + 1}),
            (DeliveryDayTotal, in_range[-1], {"tonnes_lost": F("tonnes_lost") + 1}),
        ]:
            table.objects.filter(pk=table.objects.filter(day=day).first().pk).update(**change)
            assert totals.rebuild() == totals.RebuildResult(deleted=1, inserted=1, parts=parts), (start, table, day)
            assert_totals_match_records()
    DeliveryAreaMonthTotal.objects.filter(pk=DeliveryAreaMonthTotal.objects.first().pk).delete()
    assert totals.rebuild() == totals.RebuildResult(deleted=0, inserted=1, parts=parts)
    assert_totals_match_records()
    assert totals.rebuild().changed == 0


@pytest.mark.django_db(transaction=True)
def test_the_connections_that_check_the_records_share_the_rebuilds_snapshot(world, settings, monkeypatch):
    """A delivery committed while a rebuild runs is left to the refresh its mark asks for: every part
    checks the records as the rebuild saw them when it began checking, not a later state."""
    require_postgres("the rebuild reads the records on several connections only on PostgreSQL")
    settings.TOTALS_REBUILD_CONNECTIONS = 2
    rng = random.Random(5)
    while Shipment.objects.filter(status="delivered").count() < 8:
        random_operation(rng, world)
    totals.refresh()
    check_day_range, checked, first = rebuild_split.check_day_range, [], threading.Lock()

    def deliver_then_check(snapshot, days):
        with first:  # the first part commits a delivery (on this thread's own connection) before checking
            if not checked:
                with deferred_refresh(), transaction.atomic():
                    services.shipment_create(
                        by=world["by"],
                        data=services.ShipmentInput(
                            mode="road", consignor=world["org"], consignee=world["consignee"], origin=world["origin"],
                            destination=world["destinations"][1], dispatched_on=datetime.date(2020, 11, 30),
                            delivered_on=datetime.date(2020, 12, 1), lines=random_lines(rng, world),
                        ),
                    )  # fmt: skip
                connection.close()
            checked.append(days)
        return check_day_range(snapshot, days)

    monkeypatch.setattr(rebuild_split, "check_day_range", deliver_then_check)
    result = totals.rebuild()
    assert len(checked) == result.parts == 2  # both parts ran on connections of their own
    assert result.changed == 0  # neither saw the delivery committed after the snapshot
    assert StaleCell.objects.count() == 1  # its mark waits for the refresh
    totals.refresh()
    assert_totals_match_records()


@pytest.mark.django_db
@pytest.mark.parametrize("damage", ["rows_with_nothing_behind_them", "one_value_off"])
def test_rebuild_rewrites_exactly_the_damaged_rows(world, damage):
    rng = random.Random(11)
    while Shipment.objects.filter(status="delivered").count() < 5:
        random_operation(rng, world)
    totals.refresh()
    row, day_row = DeliveryTotal.objects.first(), DeliveryDayTotal.objects.first()
    if damage == "rows_with_nothing_behind_them":
        nothing_delivered = datetime.date(1999, 1, 1)
        DeliveryTotal.objects.create(
            day=nothing_delivered, mode=row.mode, cargo_type_id=row.cargo_type_id, destination_id=row.destination_id,
            tonnes_delivered=1, quantity_delivered=1, tonnes_lost=0, shipments=1,
        )  # fmt: skip
        DeliveryDayTotal.objects.create(
            day=nothing_delivered, mode=row.mode, destination_id=row.destination_id, tonnes_delivered=1,
            tonnes_lost=0, shipments=1,
        )  # fmt: skip
        expected = (2, 0)
    else:
        DeliveryTotal.objects.filter(pk=row.pk).update(quantity_delivered=row.quantity_delivered + 1)
        DeliveryDayTotal.objects.filter(pk=day_row.pk).update(tonnes_lost=day_row.tonnes_lost + 1)
        expected = (2, 2)
    result = totals.rebuild()
    assert (result.deleted, result.inserted) == expected
    assert_totals_match_records()
    assert totals.rebuild().changed == 0


@pytest.mark.django_db
def test_a_refresh_costs_the_same_statements_for_few_or_many_places(world):
    """The area rows above the changed cells are recounted a tree level at a time, not one by one."""

    def deliver_to(destinations) -> int:
        for i, destination in enumerate(destinations):
            day = datetime.date(2020, 11, 2 + i)
            services.shipment_create(by=world["by"], data=services.ShipmentInput(
                mode="road", consignor=world["org"], consignee=world["consignee"], origin=world["origin"],
                destination=destination, dispatched_on=day, delivered_on=day,
                lines=[services.LineInput(world["cargo"][i % 4], Decimal(1), Decimal("1.5"))],
            ))  # fmt: skip
        with CaptureQueriesContext(connection) as ctx:
            totals.refresh()
        assert_totals_match_records()
        return len(ctx.captured_queries)

    # The deepest place (the site, four levels down) in both, so the levels are the same.
    site = world["destinations"][-2]
    deliver_to([site])  # the first refresh also creates the totals' state row
    few = deliver_to([site])
    many = deliver_to([site, *world["destinations"][1:-2], world["destinations"][-1]])  # 8 places, 8 areas more
    assert few == many


@pytest.mark.django_db
def test_a_write_marks_its_cell_stale_until_the_refresh(world):
    data = services.ShipmentInput(
        mode="road", consignor=world["org"], consignee=world["consignee"], origin=world["origin"],
        destination=world["destinations"][3], dispatched_on=datetime.date(2020, 11, 20),
        delivered_on=datetime.date(2020, 11, 22), lines=random_lines(random.Random(3), world),
    )  # fmt: skip
    shipment = services.shipment_create(by=world["by"], data=data)
    assert list(StaleCell.objects.values_list("day", "mode", "destination_id")) == [
        (datetime.date(2020, 11, 22), "road", shipment.destination_id)
    ]
    assert not DeliveryTotal.objects.exists()  # not counted until refreshed
    answer = delivery_totals(parse_totals_query({}))
    assert answer.pending_changes == 1  # its day only: logged as delivered, it was never in transit
    totals.refresh()
    assert not StaleCell.objects.exists()
    answer = delivery_totals(parse_totals_query({}))
    assert answer.pending_changes == 0 and answer.as_of is not None
    assert answer.total["tonnes_delivered"] == str(q(sum(line.received_tonnes for line in shipment.lines.all())))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"group_by": "mode,colour"}, "group_by"),
        ({"group_by": "day,month"}, "group_by"),
        ({"mode": "boat"}, "mode"),
        ({"cargo_type": "nope"}, "cargo_type"),
        ({"destination": "nowhere"}, "destination"),
        ({"date_from": "20-11-2020"}, "date_from"),
        ({"date_to": "2020-13-01"}, "date_to"),
        ({"date_from": "2020-12-01", "date_to": "2020-11-01"}, "date_to"),
    ],
)
def test_bad_parameters_are_named(params, param):
    from shipments.totals.selectors import TotalsQueryError

    with pytest.raises(TotalsQueryError) as error:
        parse_totals_query(params)
    assert error.value.param == param


def table_indexes() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT tablename, indexdef FROM pg_indexes
               WHERE tablename IN ('shipments_deliverytotal', 'shipments_deliverydaytotal')"""
        )
        return set(cursor.fetchall())


@pytest.mark.django_db
def test_a_rebuild_into_empty_tables_inserts_everything_and_keeps_every_index(world):
    """First start or disaster recovery: the bulk path fills the empty tables in one pass, and on
    PostgreSQL builds their indexes and unique constraints again after the insert."""
    rng = random.Random(13)
    while Shipment.objects.filter(status="delivered").count() < 6:
        random_operation(rng, world)
    totals.refresh()
    indexes = table_indexes() if connection.vendor == "postgresql" else None
    rows = DeliveryTotal.objects.count() + DeliveryDayTotal.objects.count()
    for table in (DeliveryTotal, DeliveryDayTotal, DeliveryAreaMonthTotal, DeliveryCargoMonthTotal, InTransitTotal):
        table.objects.all().delete()

    result = totals.rebuild()
    assert result.deleted == 0 and result.inserted >= rows > 0
    assert_totals_match_records()
    assert totals.rebuild().changed == 0
    if indexes is not None:
        assert table_indexes() == indexes
        row = DeliveryTotal.objects.first()
        with pytest.raises(IntegrityError, match="deliverytotal_unique"), transaction.atomic():
            DeliveryTotal.objects.create(
                day=row.day, mode=row.mode, cargo_type_id=row.cargo_type_id, destination_id=row.destination_id,
                tonnes_delivered=1, quantity_delivered=1, tonnes_lost=0, shipments=1,
            )  # fmt: skip
