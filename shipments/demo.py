"""Demo shipments: about 300 t delivered by road and almost 1,200 t by rail, from 16 November 2020.

Written through the services, so they carry history like any logged shipment. Idempotent: a
shipment whose reference exists already is left as it is.
"""

import datetime
from decimal import Decimal

from django.contrib.auth.models import Group

from aidtrack import roles
from aidtrack.models import Location, Organisation, User

from . import services, totals
from .models import CargoLine, CargoType, Shipment
from .totals.tasks import deferred_refresh

LOADER_USERNAME = "demo-loader"

# Each pattern is one truck or one train's cargo: (cargo type code, quantity, tonnes).
ROAD_PATTERNS = [  # 20 t a truck
    [("building-materials", "12", "12"), ("stove", "200", "4"), ("household-kit", "400", "4")],
    [("blanket", "4000", "8"), ("food-parcel", "600", "9"), ("medical-kit", "100", "3")],
    [("diesel-generator", "8", "10"), ("diesel-fuel", "8000", "7"), ("window-glass", "10", "3")],
]
RAIL_PATTERNS = [  # 98.5 t a train
    [("building-materials", "60", "60"), ("diesel-generator", "20", "25"), ("offroad-vehicle", "5", "13.5")],
    [("building-materials", "70", "70"), ("roofing-sheets", "5000", "18.5"), ("stove", "500", "10")],
    [("household-kit", "3000", "30"), ("bottled-water", "40000", "40"), ("offroad-vehicle", "10", "28.5")],
]
ROAD_DESTINATIONS = ["NK-ST-01", "NK-AS-01", "NK-MA-01", "NK-MT-01", "NK-SH-01", "NK-AS-02", "NK-MA-02"]
RAIL_DESTINATIONS = ["NK-ST-01-HUB", "NK-ST-01", "NK-MA-01"]
START = datetime.date(2020, 11, 16)


def _plan() -> list[dict]:
    """The demo's shipments, each a dict for `_load_one`."""
    plan = []
    for i in range(15):  # 15 trucks of 20 t delivered by road = 300 t
        dispatched = START + datetime.timedelta(days=2 * i)
        plan.append(
            {
                "reference": f"WB-2020-{i + 1:05d}",
                "mode": "road",
                "origin": "RU-MOW-NOG" if i % 2 == 0 else "RU-SE-MOZ",
                "destination": ROAD_DESTINATIONS[i % len(ROAD_DESTINATIONS)],
                "transport_reference": f"Convoy {i // 5 + 1}, truck {i % 5 + 1}",
                "lines": ROAD_PATTERNS[i % 3],
                "dispatched_on": dispatched,
                "delivered_on": dispatched + datetime.timedelta(days=3),
            }
        )
    for i in range(12):  # 12 trains of 98.5 t, one 2 t short: 1,180 t delivered by rail
        dispatched = START + datetime.timedelta(days=1 + 3 * i)
        plan.append(
            {
                "reference": f"WB-2020-{i + 101:05d}",
                "mode": "rail",
                "origin": "RU-ROS" if i % 2 == 0 else "RU-MOW",
                "destination": RAIL_DESTINATIONS[i % len(RAIL_DESTINATIONS)],
                "transport_reference": f"Train {2000 + i}, wagons {10 * i + 1}-{10 * i + 8}",
                "notes": "By rail to the Yerevan freight terminal, then by road to the destination.",
                "lines": RAIL_PATTERNS[i % 3],
                "dispatched_on": dispatched,
                "delivered_on": dispatched + datetime.timedelta(days=6),
                # Train 5: 2 t of building materials damaged in transit.
                "shortfall": {"building-materials": (Decimal("2"), CargoLine.LossReason.DAMAGED)} if i == 4 else {},
            }
        )
    plan += [
        {  # still on the road
            "reference": "WB-2020-00201",
            "mode": "road",
            "origin": "RU-MOW-NOG",
            "destination": "NK-MT-02",
            "transport_reference": "Convoy 4, truck 1",
            "lines": ROAD_PATTERNS[0],
            "dispatched_on": datetime.date(2020, 12, 20),
        },
        {
            "reference": "WB-2020-00202",
            "mode": "road",
            "origin": "RU-SE-MOZ",
            "destination": "NK-SH-02",
            "transport_reference": "Convoy 4, truck 2",
            "lines": ROAD_PATTERNS[1],
            "dispatched_on": datetime.date(2020, 12, 21),
        },
        {  # a train in transit
            "reference": "WB-2020-00203",
            "mode": "rail",
            "origin": "RU-ROS",
            "destination": "NK-ST-01-HUB",
            "transport_reference": "Train 2020",
            "lines": RAIL_PATTERNS[0],
            "dispatched_on": datetime.date(2020, 12, 22),
        },
        {  # planned, not yet dispatched
            "reference": "WB-2020-00204",
            "mode": "road",
            "origin": "RU-MOW-NOG",
            "destination": "NK-MA-03",
            "lines": ROAD_PATTERNS[2],
        },
    ]
    return plan


def demo_loader() -> User:
    """The account the demo's history is written by; it has no usable password."""
    user, created = User.objects.get_or_create(
        username=LOADER_USERNAME, defaults={"first_name": "Demo", "last_name": "loader"}
    )
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    return user


def _load_one(item: dict, by: User, consignor: Organisation, consignee: Organisation, cargo, locations) -> None:
    data = services.ShipmentInput(
        reference=item["reference"],
        mode=item["mode"],
        consignor=consignor,
        consignee=consignee,
        origin=locations[item["origin"]],
        destination=locations[item["destination"]],
        transport_reference=item.get("transport_reference", ""),
        notes=item.get("notes", ""),
        lines=[services.LineInput(cargo[c], Decimal(q), Decimal(t)) for c, q, t in item["lines"]],
    )
    shipment = services.shipment_create(by=by, data=data)
    if item.get("dispatched_on"):
        services.shipment_dispatch(by=by, shipment_id=shipment.pk, dispatched_on=item["dispatched_on"])
    if item.get("delivered_on"):
        receipts = []
        for line in shipment.lines.select_related("cargo_type"):
            short = item.get("shortfall", {}).get(line.cargo_type.code)
            if short:
                lost, reason = short
                receipts.append(services.ReceiptInput(line.pk, line.quantity - lost, line.tonnes - lost, reason))
        services.shipment_receive(by=by, shipment_id=shipment.pk, delivered_on=item["delivered_on"], receipts=receipts)


def load_demo_shipments() -> int:
    """Create the demo shipments that do not exist yet; returns how many were created."""
    plan = _plan()
    existing = set(
        Shipment.objects.filter(reference__in=[p["reference"] for p in plan]).values_list("reference", flat=True)
    )
    todo = [item for item in plan if item["reference"] not in existing]
    if not todo:
        return 0
    by = demo_loader()
    consignor = Organisation.objects.get(code="ru-emercom")
    consignee = Organisation.objects.get(code="ru-ihrc")
    cargo = {c.code: c for c in CargoType.objects.all()}
    locations = {loc.code: loc for loc in Location.objects.all()}
    with deferred_refresh():
        for item in todo:
            _load_one(item, by, consignor, consignee, cargo, locations)
    totals.refresh()
    return len(todo)
