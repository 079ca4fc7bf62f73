"""A nested set of places, relief cargo, and the helpers the coverage tests (of the selector and of the
API) build their scenarios with: assessments, deliveries, and coverage computed straight from the
records. The fixtures `places` and `cargo` are offered to every test by tests/conftest.py."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest

from needs.models import Need
from needs.services import AssessmentInput, NeedInput, assessment_create
from shipments import services as shipment_services
from shipments.models import CargoLine, Shipment
from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory


@pytest.fixture
def places(db):
    country = LocationFactory(code="C", name="Country", level="country")
    north = LocationFactory(code="N", name="North", level="region", parent=country)
    district = LocationFactory(code="N-D", name="North district", level="district", parent=north)
    s1 = LocationFactory(code="N-D-1", name="Settlement one", level="settlement", parent=district)
    s2 = LocationFactory(code="N-D-2", name="Settlement two", level="settlement", parent=district)
    school = LocationFactory(code="N-D-1-S", name="School", level="site", parent=s1)
    south = LocationFactory(code="S", name="South", level="region", parent=country)
    s3 = LocationFactory(code="S-1", name="Settlement three", level="settlement", parent=south)
    depot = LocationFactory(code="DEPOT", name="Depot", level="site")
    return {"C": country, "N": north, "D": district, "S1": s1, "S2": s2, "SCHOOL": school, "S": south, "S3": s3,
            "DEPOT": depot}  # fmt: skip


@pytest.fixture
def cargo(db):
    return {
        "gen": CargoTypeFactory(code="generator", name="Generators", unit="pcs"),
        "stove": CargoTypeFactory(code="stove", name="Stoves", unit="pcs"),
        "timber": CargoTypeFactory(code="timber", name="Timber", unit="t"),
    }


def assess(by, location, on, sector, needs, **extra):
    return assessment_create(
        by=by,
        data=AssessmentInput(
            location=location, sector=sector, assessed_on=on, condition="severely_damaged", severity=4,
            needs=[NeedInput(cargo_type=c, quantity=Decimal(q), priority=p, status=st) for c, q, p, st in needs],
            **extra,
        ),
    )  # fmt: skip


def deliver(by, places, destination, on, lines, status="delivered"):
    """A shipment from the depot; `lines`: (cargo type, sent quantity, received quantity)."""
    data = shipment_services.ShipmentInput(
        mode="road", consignor=by.organisation, consignee=OrganisationFactory(), origin=places["DEPOT"],
        destination=destination, dispatched_on=on - datetime.timedelta(days=1),
        delivered_on=on if status == "delivered" else None,
        lines=[
            shipment_services.LineInput(
                cargo_type=c, quantity=Decimal(sent), tonnes=Decimal("1.5"),
                received_quantity=Decimal(got) if status == "delivered" else None,
                received_tonnes=Decimal("1.5") if status == "delivered" else None,
                loss_reason="damaged" if status == "delivered" and got != sent else "",
            )
            for c, sent, got in lines
        ],
    )  # fmt: skip
    return shipment_services.shipment_create(by=by, data=data)


def direct_coverage():
    """Coverage straight from the records: needs, shipments and cargo lines (not the totals)."""
    rows = defaultdict(lambda: {"needed": Decimal(0), "since": None})
    for need in Need.objects.filter(status="open").select_related("assessment"):
        row = rows[(need.assessment.location_id, need.cargo_type_id)]
        row["needed"] += need.quantity
        on = need.assessment.assessed_on
        row["since"] = on if row["since"] is None else min(row["since"], on)
    lines = CargoLine.objects.filter(shipment__status=Shipment.Status.DELIVERED).select_related(
        "shipment__destination__parent__parent__parent"
    )
    for (location_id, cargo_type_id), row in rows.items():
        row["delivered"] = Decimal(0)
        for line in lines:
            place, under = line.shipment.destination, False
            while place is not None:
                under = under or place.pk == location_id
                place = place.parent
            if under and line.cargo_type_id == cargo_type_id and line.shipment.delivered_on >= row["since"]:
                row["delivered"] += line.received_quantity
    return rows
