"""Receipts in a real browser on a phone: a wagon at a time, then the rest with "receipt complete"."""

import pytest
from playwright.sync_api import expect

from tests.factories import CargoTypeFactory, make_shipment

PHONE = {"width": 375, "height": 800}


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.django_db(transaction=True)
def test_officer_receives_a_shipment_in_two_wagons_on_a_phone(
    page, live_server, officer, login, outside_requests, console_errors, screenshot
):
    stoves = CargoTypeFactory(code="stove", name="Stoves", unit="pcs")
    generators = CargoTypeFactory(code="gen", name="Diesel generators", unit="pcs")
    shipment = make_shipment(
        by=officer, mode="rail", lines=[(stoves, "200", "4.5"), (generators, "4", "5")], status="in_transit"
    )
    page.set_viewport_size(PHONE)
    login("officer")

    page.goto(f"{live_server.url}/shipments/{shipment.pk}/receive/")
    assert scroll_width(page) <= PHONE["width"]
    lines = page.get_by_test_id("receipt-line")
    assert lines.count() == 2
    # Stacked cards: each line's inputs are labelled on the card itself.
    assert lines.nth(0).get_by_text("Tonnes received now").is_visible()
    assert lines.nth(0).get_by_label("Tonnes received now").input_value() == ""  # not "everything"
    assert not page.get_by_label("Loss reason (when closing short)").first.is_visible()  # only when closing
    screenshot("receive-phone")

    # The first wagon: all the stoves, in good condition.
    page.get_by_label("Received on").fill("2020-11-20")
    page.get_by_label("Note", exact=True).fill("Wagon 1")
    lines.nth(0).get_by_label("Quantity received now").fill("200")
    lines.nth(0).get_by_label("Tonnes received now").fill("4.5")
    page.get_by_role("button", name="Record receipt").click()
    page.wait_for_url(f"**/shipments/{shipment.pk}/")
    assert page.get_by_test_id("status").inner_text() == "Partly received"
    remaining = page.get_by_test_id("lines").get_by_test_id("line-remaining")
    assert [remaining.nth(i).inner_text() for i in range(2)] == ["0.000", "5.000"]
    assert page.get_by_test_id("tonnes-remaining").inner_text() == "5.000"
    assert scroll_width(page) <= PHONE["width"]

    # The second wagon: three generators, one of them damaged; the fourth never came: receipt complete.
    page.get_by_role("link", name="Record receipt").click()
    page.wait_for_url(f"**/shipments/{shipment.pk}/receive/")
    assert scroll_width(page) <= PHONE["width"]
    lines = page.get_by_test_id("receipt-line")
    assert "0 pcs · 0.000 t" in lines.nth(0).inner_text() and "4 pcs · 5.000 t" in lines.nth(1).inner_text()
    page.get_by_label("Received on").fill("2020-11-23")
    lines.nth(1).get_by_label("Quantity received now").fill("3")
    lines.nth(1).get_by_label("Tonnes received now").fill("3.75")
    lines.nth(1).get_by_label("Condition").select_option("damaged")
    page.get_by_label("Receipt complete — close the shipment").check()
    loss = lines.nth(1).get_by_label("Loss reason (when closing short)")
    assert loss.is_visible()
    page.get_by_role("button", name="Record receipt").click()
    # Refused in place: the damage needs saying, then the missing generator needs its reason.
    expect(lines.nth(1).locator(".invalid-feedback", has_text="Say what is damaged.")).to_be_visible()
    assert page.get_by_label("Receipt complete — close the shipment").is_checked()  # what was entered is kept
    assert scroll_width(page) <= PHONE["width"]
    screenshot("receive-phone-errors")
    lines.nth(1).get_by_label("What is damaged").fill("One casing cracked")
    page.get_by_role("button", name="Record receipt").click()
    expect(lines.nth(1).locator(".invalid-feedback", has_text="give the reason")).to_be_visible()
    lines.nth(1).get_by_label("Loss reason (when closing short)").select_option("lost")
    page.get_by_role("button", name="Record receipt").click()
    page.wait_for_url(f"**/shipments/{shipment.pk}/")

    assert page.get_by_test_id("status").inner_text() == "Delivered"
    assert page.get_by_test_id("tonnes-lost").inner_text() == "1.250"
    assert page.get_by_test_id("tonnes-damaged").inner_text() == "3.750"
    assert page.get_by_test_id("receipt").count() == 2
    assert scroll_width(page) <= PHONE["width"]
    screenshot("detail-phone")
    assert outside_requests == []
    assert console_errors == []
