"""Delivery totals equal a direct aggregate of the records, whatever sequence of writes made them."""

import datetime
import random
import threading
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection, transaction
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
    Shipment,
    StaleCell,
    StaleTransitCell,
)
from shipments.totals_selectors import delivery_totals, parse_totals_query
from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory, UserFactory
from tests.services import require_postgres

Q3 = Decimal("0.001")


def q(value) -> Decimal:
    return Decimal(value).quantize(Q3)


def delivered_lines():
    return CargoLine.objects.filter(shipment__status="delivered").select_related("shipment")


def delivered_sums(keys_of, quantity: bool):
    """Delivered tonnes (and quantity), lost tonnes and distinct shipments per key, straight from the
    records; `keys_of(shipment, line)` gives the keys a line counts under."""
    cells = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0), set()])
    for line in delivered_lines():
        for key in keys_of(line.shipment, line):
            cell = cells[key]
            cell[0] += line.received_tonnes
            cell[1] += line.received_quantity
            cell[2] += line.tonnes - line.received_tonnes
            cell[3].add(line.shipment_id)
    return {
        k: (q(t), q(qty), q(lost), len(ids)) if quantity else (q(t), q(lost), len(ids))
        for k, (t, qty, lost, ids) in cells.items()
    }


def direct_cells():
    """day × mode × cargo × destination, straight from the records."""
    return delivered_sums(lambda s, line: [(s.delivered_on, s.mode, line.cargo_type_id, s.destination_id)], True)


def stored_cells():
    return {
        (r.day, r.mode, r.cargo_type_id, r.destination_id): (
            q(r.tonnes_delivered), q(r.quantity_delivered), q(r.tonnes_lost), r.shipments)
        for r in DeliveryTotal.objects.all()
    }  # fmt: skip


def direct_day_cells():
    return delivered_sums(lambda s, line: [(s.delivered_on, s.mode, s.destination_id)], False)


def stored_day_cells():
    return {
        (r.day, r.mode, r.destination_id): (q(r.tonnes_delivered), q(r.tonnes_lost), r.shipments)
        for r in DeliveryDayTotal.objects.all()
    }


def ancestors(location_id, parents):
    chain = [location_id]
    while parents[chain[-1]] is not None:
        chain.append(parents[chain[-1]])
    return chain


def direct_area_months():
    parents = dict(Location.objects.values_list("id", "parent_id"))

    def areas(s, line):
        return [(s.delivered_on.replace(day=1), s.mode, area) for area in ancestors(s.destination_id, parents)]

    return delivered_sums(areas, False)


def stored_area_months():
    return {
        (r.month, r.mode, r.area_id): (q(r.tonnes_delivered), q(r.tonnes_lost), r.shipments)
        for r in DeliveryAreaMonthTotal.objects.all()
    }


def direct_cargo_months():
    return delivered_sums(lambda s, line: [(s.delivered_on.replace(day=1), s.mode, line.cargo_type_id)], True)


def stored_cargo_months():
    return {
        (r.month, r.mode, r.cargo_type_id): (
            q(r.tonnes_delivered), q(r.quantity_delivered), q(r.tonnes_lost), r.shipments)
        for r in DeliveryCargoMonthTotal.objects.all()
    }  # fmt: skip


def direct_in_transit():
    cells = defaultdict(lambda: [Decimal(0), set()])
    for line in CargoLine.objects.filter(shipment__status="in_transit").select_related("shipment"):
        s = line.shipment
        for cargo in (line.cargo_type_id, None):
            cell = cells[(s.mode, s.destination_id, cargo)]
            cell[0] += line.tonnes
            cell[1].add(s.pk)
    return {k: (q(t), len(ids)) for k, (t, ids) in cells.items()}


def stored_in_transit():
    return {
        (r.mode, r.destination_id, r.cargo_type_id): (q(r.tonnes), r.shipments) for r in InTransitTotal.objects.all()
    }


def assert_totals_match_records():
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
    groups = defaultdict(lambda: [Decimal(0), Decimal(0), set()])
    for line in delivered_lines():
        s = line.shipment
        if subtree is not None and s.destination_id not in subtree:
            continue
        if (date_from and s.delivered_on < date_from) or (date_to and s.delivered_on > date_to):
            continue
        if cargo is not None and line.cargo_type.code != cargo:
            continue
        key = []
        for g in group_by:
            key.append({
                "mode": s.mode,
                "cargo_type": line.cargo_type.code if g == "cargo_type" else None,
                "destination": s.destination.code if g == "destination" else None,
                "week": (s.delivered_on - datetime.timedelta(days=s.delivered_on.weekday())).isoformat(),
                "month": s.delivered_on.replace(day=1).isoformat(),
                "day": s.delivered_on.isoformat(),
            }[g])  # fmt: skip
        group = groups[tuple(key)]
        group[0] += line.received_tonnes
        group[1] += line.tonnes - line.received_tonnes
        group[2].add(s.pk)
    return {k: (str(q(t)), str(q(lost)), len(ids)) for k, (t, lost, ids) in groups.items()}


def api_answer(group_by, **params):
    answer = delivery_totals(parse_totals_query({"group_by": ",".join(group_by), **params}))
    return {
        tuple(r[g] for g in group_by): (r["tonnes_delivered"], r["tonnes_lost"], r["shipments"]) for r in answer.results
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


def random_operation(rng, world):
    by = world["by"]
    # Each kind of write on a shipment in a state that allows it.
    open_states = ["planned", "in_transit"]
    candidates = {
        "dispatch": list(Shipment.objects.filter(status="planned")),
        "receive": list(Shipment.objects.filter(status="in_transit")),
        "edit": list(Shipment.objects.filter(status__in=open_states)),
        "cancel": list(Shipment.objects.filter(status__in=open_states)),
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
    if kind == "dispatch" and shipment.status == "planned":
        services.shipment_dispatch(by=by, shipment_id=shipment.pk, dispatched_on=random_date(rng))
    elif kind == "receive" and shipment.status == "in_transit":
        receipts = []
        for line in shipment.lines.all():
            if rng.random() < 0.3:
                got = (line.tonnes * Decimal(rng.randint(0, 99)) / 100).quantize(Q3)
                receipts.append(services.ReceiptInput(line.pk, line.quantity - 1, got, "damaged"))
        services.shipment_receive(
            by=by, shipment_id=shipment.pk, receipts=receipts,
            delivered_on=shipment.dispatched_on + datetime.timedelta(days=rng.randint(0, 9)),
        )  # fmt: skip
    elif kind == "edit" and shipment.is_editable:
        lines = [
            services.LineInput(line.cargo_type, line.quantity, line.tonnes + 1, id=line.pk)
            for line in shipment.lines.all()
        ]
        data = services.ShipmentInput(
            mode=rng.choice(["road", "rail"]), consignor=shipment.consignor, consignee=shipment.consignee,
            origin=shipment.origin, destination=rng.choice(world["destinations"]),
            dispatched_on=shipment.dispatched_on, lines=lines[1:] + random_lines(rng, world)[:1],
        )  # fmt: skip
        services.shipment_update(by=by, shipment_id=shipment.pk, data=data, expected_version=shipment.version)
    elif kind == "cancel" and shipment.is_editable:
        services.shipment_cancel(by=by, shipment_id=shipment.pk, reason="random")
    elif kind == "delete":
        services.shipment_delete(by=by, shipment_id=shipment.pk)
    else:
        return None  # the picked shipment was in no state for it: nothing happened
    return kind


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_random_writes_keep_every_total_equal_to_the_records(world, seed):
    rng = random.Random(seed)
    done = defaultdict(int)
    for _ in range(70):
        done[random_operation(rng, world)] += 1
        totals.refresh()
        assert not StaleCell.objects.exists() and not StaleTransitCell.objects.exists()
        assert_totals_match_records()
    # Every kind of write really happened (no-ops are counted under None).
    assert all(
        done[kind] for kind in ["create", "create_delivered", "dispatch", "receive", "edit", "cancel", "delete"]
    ), done
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
    days = sorted(Shipment.objects.filter(status="delivered").values_list("delivered_on", flat=True))
    with connection.cursor() as cursor:
        ranges = totals._day_ranges(cursor, parts)
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
    check_day_range, checked, first = totals._check_day_range, [], threading.Lock()

    def deliver_then_check(snapshot, days):
        with first:  # the first part commits a delivery (on this thread's own connection) before checking
            if not checked:
                with totals.deferred_refresh(), transaction.atomic():
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

    monkeypatch.setattr(totals, "_check_day_range", deliver_then_check)
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
    assert answer.pending_changes == 1
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
    from shipments.totals_selectors import TotalsQueryError

    with pytest.raises(TotalsQueryError) as error:
        parse_totals_query(params)
    assert error.value.param == param
