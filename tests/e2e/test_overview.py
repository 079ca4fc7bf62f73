"""The overview in a real browser: a delivery logged through the forms moves its figure and chart."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from shipments import totals
from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory, make_shipment

ROAD_LINE = """() => {
    const chart = Chart.getChart(document.querySelector('[data-testid=cumulative-chart]'));
    const road = chart.data.datasets.find(d => d.label === 'Road');
    return road ? road.data[road.data.length - 1] : 0;
}"""


def road_figures(page) -> tuple[Decimal, Decimal]:
    page.wait_for_selector("[data-testid=cumulative-chart][data-chart-ready=true]")
    figure = Decimal(page.get_by_test_id("road-tonnes").get_attribute("data-value"))
    return figure, Decimal(str(page.evaluate(ROAD_LINE))).quantize(Decimal("0.001"))


@pytest.mark.django_db(transaction=True)
def test_a_delivery_logged_in_the_browser_moves_the_road_figure_and_chart(
    page, live_server, officer, login, outside_requests, console_errors, screenshot
):
    consignee = OrganisationFactory(code="ihrc", name="Response centre")
    origin = LocationFactory(code="ORIG", name="Noginsk")
    region = LocationFactory(code="R", name="Region", level="region")
    destination = LocationFactory(code="DEST", name="Stepanakert", parent=region)
    stoves = CargoTypeFactory(code="stove", name="Stoves")
    make_shipment(by=officer, origin=origin, destination=destination, status="delivered",
                  lines=[(stoves, "100", "12.5")])  # fmt: skip
    totals.refresh()

    login("officer")
    page.set_viewport_size({"width": 1280, "height": 900})
    before = road_figures(page)
    assert before == (Decimal("12.500"), Decimal("12.500"))

    page.goto(f"{live_server.url}/shipments/new/")
    page.select_option("#id_mode", "road")
    page.select_option("#id_consignee", str(consignee.pk))
    page.select_option("#id_origin", label="Noginsk (ORIG)")
    page.select_option("#id_destination", label="Stepanakert (DEST)")
    page.select_option("#id_lines-0-cargo_type", label="Stoves")
    page.fill("#id_lines-0-quantity", "40")
    page.fill("#id_lines-0-tonnes", "7.25")
    page.get_by_test_id("save").click()
    page.wait_for_url("**/shipments/*/")
    page.get_by_role("link", name="Dispatch").click()
    page.fill("#id_dispatched_on", "2020-11-20")
    page.get_by_role("button", name="Dispatch").click()
    page.get_by_role("link", name="Record receipt").click()
    page.fill("#id_received_on", "2020-11-23")
    page.fill("#id_lines-0-received_quantity", "40")
    page.fill("#id_lines-0-received_tonnes", "7.25")
    page.get_by_label("Receipt complete — close the shipment").check()
    page.get_by_role("button", name="Record receipt").click()
    expect(page.get_by_test_id("status")).to_have_text("Delivered")

    totals.refresh()  # what the worker does on commit (or beat within a minute)
    page.goto(f"{live_server.url}/")
    after = road_figures(page)
    assert after == (before[0] + Decimal("7.25"), before[1] + Decimal("7.25"))
    screenshot("overview-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("[data-testid=cumulative-chart][data-chart-ready=true]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
    screenshot("overview-390")
    assert outside_requests == []
    assert console_errors == []


@pytest.mark.django_db(transaction=True)
def test_overview_filters_by_region_in_the_url(page, live_server, officer, coordinator, login, console_errors):
    north = LocationFactory(code="N", name="North", level="region")
    south = LocationFactory(code="S", name="South", level="region")
    depot = LocationFactory(code="DEPOT", name="Depot")
    make_shipment(by=officer, origin=depot, destination=LocationFactory(parent=north), status="delivered",
                  lines=[(CargoTypeFactory(), "1", "3")])  # fmt: skip
    make_shipment(by=officer, origin=depot, destination=LocationFactory(parent=south), status="delivered",
                  lines=[(CargoTypeFactory(), "1", "5")])  # fmt: skip
    totals.refresh()
    login("coordinator")
    assert page.get_by_test_id("total-tonnes").get_attribute("data-value") == "8.000"
    page.select_option("#id_region", label="South (S)")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/?*region=S*")
    assert page.get_by_test_id("total-tonnes").get_attribute("data-value") == "5.000"
    page.wait_for_selector("[data-testid=cargo-chart][data-chart-ready=true]")
    assert page.evaluate(
        "Chart.getChart(document.querySelector('[data-testid=cargo-chart]')).data.datasets[0].data"
    ) == [5]
    page.goto(page.url)  # the URL alone reproduces the view
    assert page.get_by_test_id("total-tonnes").get_attribute("data-value") == "5.000"
    assert console_errors == []
