"""GET /api/v1/totals/: JSON, CSV and HXL agree; the demo tells its story; real workers and outages."""

import csv
import io
import os
import subprocess
import sys
import time
from decimal import Decimal

import hxl
import pytest
from django.core.management import call_command

from aidtrack.models import Location
from shipments import totals
from shipments.models import Shipment, StaleCell, StaleTransitCell
from tests.services import ROOT, celery_worker, closed_port, require_postgres_and_redis, wait_for, worker_database_url

from . import issue_key, key_client, session_client, shipment_body


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True  # demo users too
    call_command("load_demo", verbosity=0)


@pytest.fixture
def partner(demo):
    from aidtrack.models import Organisation

    return key_client(issue_key(Organisation.objects.get(code="icrc")))


def test_after_load_demo_road_and_rail_tell_the_story(partner):
    body = partner.get("/api/v1/totals/?group_by=mode").json()
    by_mode = {row["mode"]: Decimal(row["tonnes_delivered"]) for row in body["results"]}
    assert Decimal("295") <= by_mode["road"] <= Decimal("305")
    assert Decimal("1150") <= by_mode["rail"] <= Decimal("1199.999")
    assert body["unit"] == "t" and body["pending_changes"] == 0 and body["as_of"]
    assert body["total"]["tonnes_delivered"] == f"{sum(by_mode.values()):.3f}"
    assert Decimal(body["total"]["tonnes_lost"]) > 0
    assert body["in_transit"]["shipments"] >= 2 and Decimal(body["in_transit"]["tonnes"]) > 0


def test_tonnes_are_strings_with_three_places(partner):
    body = partner.get("/api/v1/totals/?group_by=cargo_type,month").json()
    row = body["results"][0]
    assert set(row) == {
        "cargo_type", "cargo_type_name", "unit", "quantity_delivered", "month",
        "tonnes_delivered", "tonnes_damaged", "tonnes_lost", "shipments",
    }  # fmt: skip
    for value in (row["tonnes_delivered"], row["tonnes_damaged"], row["tonnes_lost"], body["total"]["tonnes_damaged"]):
        assert isinstance(value, str) and len(value.split(".")[1]) == 3
    assert row["month"].endswith("-01")


@pytest.mark.parametrize("group_by", ["mode", "cargo_type,month", "destination,week", "mode,day"])
def test_csv_and_hxl_carry_the_same_numbers_as_json(partner, group_by):
    body = partner.get(f"/api/v1/totals/?group_by={group_by}").json()
    response = partner.get(f"/api/v1/totals/?group_by={group_by}&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == len(body["results"])
    for row, result in zip(rows, body["results"], strict=True):
        assert Decimal(row["Tonnes delivered"]) == Decimal(result["tonnes_delivered"])
        assert Decimal(row["Tonnes lost"]) == Decimal(result["tonnes_lost"])
        assert int(row["Shipments"]) == result["shipments"]

    hxl_text = partner.get(f"/api/v1/totals/?group_by={group_by}&format=hxl").content.decode()
    dataset = hxl.data(io.BytesIO(hxl_text.encode()), hxl.InputOptions(allow_local=True))
    tagged = list(dataset)
    assert "#x_tonnes+num+delivered" in [str(c) for c in dataset.columns]
    assert len(tagged) == len(body["results"])
    for row, result in zip(tagged, body["results"], strict=True):
        assert Decimal(row.get("#x_tonnes+delivered")) == Decimal(result["tonnes_delivered"])
        assert int(row.get("#x_shipments")) == result["shipments"]
    if "month" in group_by or "day" in group_by or "week" in group_by:
        assert all(len(row.get("#date")) == 10 for row in tagged)  # ISO dates, not locale-formatted


def test_hxl_cargo_columns(partner):
    text = partner.get("/api/v1/totals/?group_by=cargo_type&format=hxl").content.decode()
    dataset = hxl.data(io.BytesIO(text.encode()), hxl.InputOptions(allow_local=True))
    codes = {row.get("#item+code") for row in dataset}
    assert {"building-materials", "diesel-generator", "stove"} <= codes


def test_filters_and_region_rollup(partner):
    region = partner.get("/api/v1/totals/?group_by=mode&destination=NK").json()
    district = partner.get("/api/v1/totals/?group_by=mode&destination=NK-MA").json()
    assert Decimal(district["total"]["tonnes_delivered"]) < Decimal(region["total"]["tonnes_delivered"])
    rail = partner.get("/api/v1/totals/?mode=rail&date_from=2020-12-01&date_to=2020-12-31").json()
    assert [r["mode"] for r in rail["results"]] == ["rail"]
    expected = sum(
        line.received_tonnes
        for s in Shipment.objects.filter(mode="rail", status="delivered", delivered_on__month=12)
        for line in s.lines.all()
    )
    assert Decimal(rail["total"]["tonnes_delivered"]) == expected


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("group_by=colour", "group_by"),
        ("destination=ATLANTIS", "destination"),
        ("cargo_type=gold", "cargo_type"),
        ("date_from=yesterday", "date_from"),
        ("mode=boat", "mode"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_bad_parameters_get_400_naming_them(partner, query, param, fmt):
    response = partner.get(f"/api/v1/totals/?{query}&format={fmt}")
    assert response.status_code == 400
    assert param in response.content.decode()


def test_staff_session_reads_totals(demo, django_user_model):
    coordinator = django_user_model.objects.get(username="coordinator")
    assert session_client(coordinator).get("/api/v1/totals/").status_code == 200


# --- Real services --------------------------------------------------------------------------------


@pytest.fixture
def api_world(db):
    from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory, UserFactory

    ministry = OrganisationFactory(code="ministry")
    OrganisationFactory(code="partner")
    LocationFactory(code="ORIG")
    LocationFactory(code="DEST")
    CargoTypeFactory(code="stove")
    return UserFactory(username="officer-w", organisation=ministry, role="logistics_officer")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_shipment_saved_through_the_api_shows_in_totals_with_a_real_worker(api_world):
    from aidtrack.celery import app

    staff = session_client(api_world)
    with celery_worker() as queue:
        app.conf.task_default_queue = queue  # the refresh queued on commit goes to this worker
        try:
            body = shipment_body(dispatched_on="2020-11-20", delivered_on="2020-11-21")
            assert staff.post("/api/v1/shipments/", body, format="json").status_code == 201
            started = time.monotonic()
            seen = wait_for(
                lambda: staff.get("/api/v1/totals/").json()["total"]["tonnes_delivered"] == "4.500", timeout=10
            )
            elapsed = time.monotonic() - started
        finally:
            app.conf.task_default_queue = "celery"
    assert seen, getattr(celery_worker, "last_output", "")
    assert elapsed < 10
    assert not StaleCell.objects.exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_write_succeeds_and_a_later_refresh_counts_it(api_world):
    """A separate process saves a delivery with REDIS_URL pointing at a port where nothing listens."""
    require_postgres_and_redis()
    dead_port = closed_port()
    script = (
        "import django, datetime; django.setup();"
        "from decimal import Decimal;"
        "from shipments import services; from shipments.models import CargoType;"
        "from aidtrack.models import Organisation, Location, User;"
        "o = Organisation.objects.get(code='ministry');"
        "services.shipment_create(by=User.objects.get(username='officer-w'), data=services.ShipmentInput("
        " mode='rail', consignor=o, consignee=Organisation.objects.get(code='partner'),"
        " origin=Location.objects.get(code='ORIG'), destination=Location.objects.get(code='DEST'),"
        " dispatched_on=datetime.date(2020, 11, 20), delivered_on=datetime.date(2020, 11, 22),"
        " lines=[services.LineInput(CargoType.objects.get(code='stove'), Decimal(10), Decimal('7.25'))]));"
        "print('saved')"
    )
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": f"redis://127.0.0.1:{dead_port}/0",
        "DJANGO_SETTINGS_MODULE": "aidtrack.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "saved" in result.stdout, result.stderr
    assert "Could not queue refresh_totals" in result.stderr  # the outage was real, and logged
    assert Shipment.objects.filter(status="delivered").count() == 1
    # The mark waits in the outbox: the day it was received (logged as delivered, it was never in transit).
    assert StaleCell.objects.count() == 1 and StaleTransitCell.objects.count() == 0
    assert totals.refresh().cells == 1  # what beat's periodic run does once Redis is back
    body = session_client(api_world).get("/api/v1/totals/?group_by=mode").json()
    assert body["results"] == [
        {"mode": "rail", "tonnes_delivered": "7.250", "tonnes_damaged": "0.000", "tonnes_lost": "0.000", "shipments": 1}
    ]
    assert Location.objects.filter(code="DEST").exists()
