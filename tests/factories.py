import factory
from django.contrib.auth.models import Group

from aidtrack.models import Location, Organisation, User
from shipments.models import CargoType


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.GOVERNMENT


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"L-{n:04d}")
    name = factory.Sequence(lambda n: f"Place {n}")
    level = Location.Level.SETTLEMENT


class CargoTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CargoType
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"cargo-{n}")
    name = factory.Sequence(lambda n: f"Cargo {n}")
    category = CargoType.Category.OTHER
    unit = CargoType.Unit.PIECES


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.django.Password("pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(role_group(extracted))


ROLE_MIGRATIONS = [
    "aidtrack.migrations.0002_roles",
    "shipments.migrations.0003_role_permissions",
    "needs.migrations.0002_role_permissions",
]


def role_group(name: str) -> Group:
    """The role's group; re-created from the data migrations if a transactional test flushed it."""
    group = Group.objects.filter(name=name).first()
    if group is None:
        import importlib

        from django.apps import apps

        from aidtrack.role_permissions import grant

        for module in ROLE_MIGRATIONS:
            grant(apps, importlib.import_module(module).ROLE_PERMISSIONS)
        group = Group.objects.get(name=name)
    return group


def make_shipment(*, by=None, consignor=None, lines=None, status="planned", **overrides):
    """A shipment created through the services, taken to `status` (planned, in_transit, delivered).

    `lines` is a list of (cargo_type, quantity, tonnes); by default one line of 10 t.
    """
    import datetime
    from decimal import Decimal

    from shipments import services

    consignor = consignor or (by.organisation if by else OrganisationFactory())
    if by is None:
        by = UserFactory(organisation=consignor, role="administrator")
    lines = lines or [(CargoTypeFactory(), Decimal("100"), Decimal("10"))]
    fields = {
        "mode": "road",
        "consignor": consignor,
        "consignee": OrganisationFactory(),
        "origin": LocationFactory(),
        "destination": LocationFactory(),
        **overrides,
    }
    data = services.ShipmentInput(
        **fields,
        lines=[services.LineInput(cargo_type=c, quantity=Decimal(q), tonnes=Decimal(t)) for c, q, t in lines],
    )
    shipment = services.shipment_create(by=by, data=data)
    if status in ("in_transit", "delivered") and shipment.status == "planned":
        shipment = services.shipment_dispatch(
            by=by, shipment_id=shipment.pk, dispatched_on=fields.get("dispatched_on") or datetime.date(2020, 11, 16)
        )
    if status == "delivered":
        shipment = services.shipment_receive(
            by=by, shipment_id=shipment.pk, delivered_on=shipment.dispatched_on + datetime.timedelta(days=2)
        )
    return shipment


def bulk_delivered(n, consignor, places, start=None):  # places: the two_regions fixture
    """n delivered shipments (two lines each) over modes, weeks, destinations and cargo types, written
    directly (fast) and counted by a totals rebuild. `places`: "depot" (origin), "n1", "s1", "north"."""
    import datetime
    from decimal import Decimal

    from shipments import services, totals
    from shipments.models import CargoLine, Receipt, ReceiptLine, Shipment

    start = start or datetime.date(2020, 11, 10)
    consignee = OrganisationFactory()
    cargo = [CargoTypeFactory(code=f"bulk-{i}") for i in range(3)]
    destinations = [places["n1"], places["s1"], places["north"]]
    first = Shipment.objects.count()
    shipments = Shipment.objects.bulk_create(
        Shipment(
            reference=f"BULK-{first + i}", mode=["road", "rail", "air"][i % 3], consignor=consignor,
            consignee=consignee, origin=places["depot"], destination=destinations[i % 3], status="delivered",
            dispatched_on=start + datetime.timedelta(days=i % 60),
            delivered_on=start + datetime.timedelta(days=i % 60 + 1),
        )
        for i in range(n)
    )  # fmt: skip
    lines = CargoLine.objects.bulk_create(
        CargoLine(shipment=s, cargo_type=cargo[(s.pk + k) % 3], quantity=10, tonnes=Decimal("1.5"),
                  received_quantity=10, received_tonnes=Decimal("1.25"), loss_reason="damaged")
        for s in shipments for k in range(2)
    )  # fmt: skip
    receipts = {
        r.shipment_id: r
        for r in Receipt.objects.bulk_create(
            Receipt(shipment=s, received_on=s.delivered_on, mode=s.mode, destination=s.destination) for s in shipments
        )
    }
    ReceiptLine.objects.bulk_create(
        ReceiptLine(receipt=receipts[line.shipment_id], line=line, quantity=10, tonnes=Decimal("1.25"))
        for line in lines
    )
    services.shipments_figures_recount()
    totals.rebuild()
