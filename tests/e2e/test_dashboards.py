"""The dashboards in a real browser: filters without a reload, charts from the API, phone width."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from aidtrack import roles
from needs.services import AssessmentInput, NeedInput, assessment_create
from shipments import totals
from tests.factories import CargoTypeFactory, LocationFactory, make_shipment, role_group

DASHBOARDS = {"overview": "/", "needs": "/needs/", "coordination": "/needs/coordination/"}


def assess(by, location, cargo, quantity, sector="heating", priority="high"):
    assessment_create(
        by=by,
        data=AssessmentInput(
            location=location, sector=sector, assessed_on=datetime.date(2020, 11, 12), condition="destroyed",
            severity=4, needs=[NeedInput(cargo_type=cargo, quantity=Decimal(quantity), priority=priority)],
        ),
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_coordinator_filters_the_needs_dashboard_by_region_without_a_reload(
    page, live_server, coordinator, officer, login, outside_requests, console_errors
):
    north = LocationFactory(code="N", name="North", level="region")
    south = LocationFactory(code="S", name="South", level="region")
    n1 = LocationFactory(code="N-1", name="Northtown", level="settlement", parent=north)
    s1 = LocationFactory(code="S-1", name="Southtown", level="settlement", parent=south)
    stoves, generators = CargoTypeFactory(code="stove", name="Stoves"), CargoTypeFactory(code="gen", name="Generators")
    assess(coordinator, n1, stoves, 100)
    assess(coordinator, s1, stoves, 50, sector="water", priority="critical")
    assess(coordinator, s1, generators, 4, sector="energy")
    make_shipment(by=officer, destination=s1, status="delivered", lines=[(stoves, "20", "1")])
    totals.refresh()

    login("coordinator")
    page.goto(f"{live_server.url}/needs/")
    rows = page.locator("[data-testid=coverage-table] tbody tr")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.location)")) == ["N-1", "S-1", "S-1"]
    page.wait_for_selector("[data-testid=needs-chart][data-chart-ready=true]")
    page.evaluate("window.notReloaded = true")

    page.select_option("#id_location", label="South (S)")
    page.wait_for_url("**/needs/?location=S*")
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=coverage-table] tbody tr[data-region=N]').length === 0"
    )
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.region)") == ["S", "S"]
    assert page.evaluate("window.notReloaded") is True  # the page was updated in place
    assert page.get_by_test_id("open-needs").inner_text() == "2"
    page.wait_for_selector("[data-testid=needs-chart][data-chart-ready=true]")
    sectors = page.evaluate("Chart.getChart(document.querySelector('[data-testid=needs-chart]')).data.labels")
    assert sorted(sectors) == ["Energy", "Water"]  # the chart follows the filter too

    shared = page.url
    page.goto(f"{live_server.url}/needs/")
    page.goto(shared)  # the URL alone reproduces the view
    assert page.locator("#id_location").input_value() == "S"
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.location)")) == ["S-1", "S-1"]
    assert outside_requests == []
    assert console_errors == []


@pytest.mark.django_db(transaction=True)
def test_every_dashboard_at_desktop_and_phone_width(page, live_server, settings, login, outside_requests,
                                                    console_errors, screenshot):  # fmt: skip
    settings.DEBUG = True  # load_demo creates its users with the known password only in DEBUG
    role_group(roles.COORDINATOR)  # a transactional test starts without the migrations' role groups
    call_command("load_demo", verbosity=0)
    login("coordinator", "demo")
    for name, path in DASHBOARDS.items():
        for width, height in [(1280, 900), (390, 844)]:
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{live_server.url}{path}")
            page.wait_for_function(
                "[...document.querySelectorAll('canvas[data-chart]')].every(c => c.dataset.chartReady === 'true')"
            )
            assert page.locator("canvas[data-chart]").count() >= 2
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
            screenshot(f"dashboard-{name}-{width}")
    assert outside_requests == []
    assert console_errors == []
