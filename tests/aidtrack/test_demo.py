import pytest
from django.apps import apps
from django.core import serializers
from django.core.management import call_command

from aidtrack.models import Location, Organisation, User
from shipments.models import CargoType


def snapshot() -> str:
    """Every row of every project model, serialised: equal snapshots mean nothing changed."""
    models = [m for m in apps.get_models() if m._meta.app_label in {"aidtrack", "shipments", "needs", "auth"}]
    rows = [obj for model in models for obj in model._default_manager.order_by("pk")]
    return serializers.serialize("json", rows)


@pytest.mark.django_db
def test_load_demo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("load_demo", verbosity=0)
    first = snapshot()
    call_command("load_demo", verbosity=0)
    assert snapshot() == first


@pytest.mark.django_db
def test_load_demo_tells_the_response(settings):
    settings.DEBUG = True
    call_command("load_demo", verbosity=0)
    for code in ["ru-emercom", "ru-mfa", "ru-fsb", "ru-ihrc", "am-mes", "az-mes", "icrc"]:
        assert Organisation.objects.filter(code=code).exists(), code
    region = Location.objects.get(code="NK")
    assert Location.objects.filter(parent=region, level="district").count() >= 4
    assert Location.objects.filter(level="settlement", code__startswith="NK-").count() >= 12
    names = set(CargoType.objects.values_list("name", flat=True))
    assert {"Building materials", "Diesel generators", "Off-road vehicles", "Stoves", "Household items"} <= names
    officer = User.objects.get(username="officer")
    assert officer.check_password("demo")
    assert officer.groups.filter(name="logistics_officer").exists()
    assert User.objects.get(username="coordinator").groups.filter(name="coordinator").exists()
    assert User.objects.get(username="admin").is_superuser


@pytest.mark.django_db
def test_load_demo_creates_no_known_password_users_without_debug(settings):
    settings.DEBUG = False
    call_command("load_demo", verbosity=0)
    assert not [u.username for u in User.objects.all() if u.has_usable_password()]
    assert not User.objects.filter(username__in=["officer", "coordinator", "admin"]).exists()
    assert Organisation.objects.exists()


@pytest.mark.django_db
def test_demo_shipments_tell_the_story(settings):
    from decimal import Decimal

    from django.db.models import Sum

    from shipments.models import CargoLine, Shipment

    call_command("load_demo", verbosity=0)
    delivered = dict(
        CargoLine.objects.filter(shipment__status="delivered")
        .values_list("shipment__mode")
        .annotate(t=Sum("received_tonnes"))
    )
    assert Decimal("295") <= delivered["road"] <= Decimal("305")
    assert Decimal("1150") <= delivered["rail"] <= Decimal("1199.999")
    dates = Shipment.objects.exclude(dispatched_on=None).values_list("dispatched_on", flat=True)
    assert min(dates).isoformat() == "2020-11-16" and max(dates).month == 12
    assert Shipment.objects.filter(status="in_transit").count() >= 2
    lossy = CargoLine.objects.filter(shipment__status="delivered").exclude(loss_reason="")
    assert lossy.count() == 1 and lossy.get().lost_tonnes > 0
    codes = set(CargoLine.objects.values_list("cargo_type__code", flat=True))
    assert {"building-materials", "diesel-generator", "offroad-vehicle", "stove", "household-kit"} < codes
