"""An officer logs, dispatches and receives a shipment in a real browser."""

import pytest
from playwright.sync_api import expect

from shipments.models import Shipment
from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory


@pytest.mark.django_db(transaction=True)
def test_officer_logs_dispatches_and_receives_with_a_loss(
    page, live_server, officer, login, outside_requests, console_errors, screenshot
):
    consignee = OrganisationFactory(code="ihrc", name="Response centre")
    LocationFactory(code="ORIG", name="Noginsk")
    LocationFactory(code="DEST", name="Stepanakert")
    for code, name in [("bm", "Building materials"), ("stove", "Stoves"), ("gen", "Diesel generators")]:
        CargoTypeFactory(code=code, name=name)
    login("officer")

    page.goto(f"{live_server.url}/shipments/new/")
    page.select_option("#id_mode", "road")
    page.select_option("#id_consignee", str(consignee.pk))
    page.select_option("#id_origin", label="Noginsk (ORIG)")
    page.select_option("#id_destination", label="Stepanakert (DEST)")
    page.fill("#id_transport_reference", "KAMAZ A123BC")
    rows = page.locator("[data-formset-body] tr")
    assert rows.count() == 1
    add = page.get_by_role("button", name="Add a line")
    add.click()
    add.click()
    add.click()
    assert rows.count() == 4  # added in place, no reload
    rows.nth(3).get_by_role("button", name="Remove").click()
    for i, (cargo, qty, tonnes) in enumerate(
        [("Building materials", "12", "12"), ("Stoves", "200", "4.5"), ("Diesel generators", "4", "5")]
    ):
        page.select_option(f"#id_lines-{i}-cargo_type", label=cargo)
        page.fill(f"#id_lines-{i}-quantity", qty)
        page.fill(f"#id_lines-{i}-tonnes", tonnes)
    screenshot("shipment-form")
    page.get_by_test_id("save").click()
    page.wait_for_url("**/shipments/*/")
    shipment = Shipment.objects.get()
    assert shipment.lines.count() == 3
    assert page.get_by_test_id("tonnes-sent").inner_text() == "21.500"

    page.get_by_role("link", name="Dispatch").click()
    page.fill("#id_dispatched_on", "2020-11-20")
    page.get_by_role("button", name="Dispatch").click()
    assert page.get_by_test_id("status").inner_text() == "In transit"

    page.get_by_role("link", name="Record receipt").click()
    page.wait_for_url(f"**/shipments/{shipment.pk}/receive/")
    page.fill("#id_received_on", "2020-11-23")
    for i, (qty, tonnes) in enumerate([("12", "12"), ("180", "4"), ("4", "5")]):
        page.fill(f"#id_lines-{i}-received_quantity", qty)
        page.fill(f"#id_lines-{i}-received_tonnes", tonnes)
    page.get_by_label("Receipt complete — close the shipment").check()
    page.get_by_role("button", name="Record receipt").click()
    expect(page.locator(".invalid-feedback", has_text="give the reason")).to_be_visible()  # refused, by the line
    page.select_option("#id_lines-1-loss_reason", "damaged")
    page.get_by_role("button", name="Record receipt").click()
    page.wait_for_url(f"**/shipments/{shipment.pk}/")

    assert page.get_by_test_id("status").inner_text() == "Delivered"
    assert page.get_by_test_id("tonnes-lost").inner_text() == "0.500"
    history = page.get_by_test_id("history").inner_text()
    assert "Received" in history and "Dispatched" in history and "officer" in history
    screenshot("shipment-detail")
    assert outside_requests == []
    assert console_errors == []
