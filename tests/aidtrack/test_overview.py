"""The overview dashboard: its figures are the API's, and its cost does not grow with the data."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from aidtrack import roles
from aidtrack.selectors import filter_by_location_subtree, location_get_by_code
from shipments import services, totals
from shipments.models import CargoLine, ReceiptLine, Shipment
from tests.factories import UserFactory, bulk_delivered, make_shipment


def figures(response) -> dict:
    data = response.context["data"]
    return {
        "road": data.road,
        "rail": data.rail,
        "total": Decimal(data.by_mode.total["tonnes_delivered"]),
        "damaged": Decimal(data.by_mode.total["tonnes_damaged"]),
        "lost": Decimal(data.by_mode.total["tonnes_lost"]),
        "transit": Decimal(data.by_mode.in_transit["tonnes"]),
    }


def api_figures(client, query: str) -> dict:
    body = client.get(f"/api/v1/totals/?group_by=mode&{query}").json()
    by_mode = {row["mode"]: Decimal(row["tonnes_delivered"]) for row in body["results"]}
    return {
        "road": by_mode.get("road", Decimal(0)),
        "rail": by_mode.get("rail", Decimal(0)),
        "total": Decimal(body["total"]["tonnes_delivered"]),
        "damaged": Decimal(body["total"]["tonnes_damaged"]),
        "lost": Decimal(body["total"]["tonnes_lost"]),
        "transit": Decimal(body["in_transit"]["tonnes"]),
    }


def receive_part_damaged(shipment, by, received_on=datetime.date(2020, 11, 25)):
    """A receipt of part of the first line of `shipment`, 1.5 t of it damaged."""
    line = shipment.lines.order_by("id").first()
    services.receipt_create(
        by=by,
        shipment_id=shipment.pk,
        received_on=received_on,
        lines=[services.ReceiptInput(line.pk, Decimal("10"), Decimal("1.5"), condition="damaged", damage_reason="wet")],
    )


@pytest.mark.parametrize(
    "page_query, api_query",
    [
        ("", ""),
        ("region=N", "destination=N"),
        ("date_from=2020-11-20&date_to=2020-12-05", "date_from=2020-11-20&date_to=2020-12-05"),
        ("region=S&date_from=2020-12-01", "destination=S&date_from=2020-12-01"),
    ],
)
def test_headline_figures_equal_the_totals_api(client, coordinator, two_regions, page_query, api_query):
    bulk_delivered(60, coordinator.organisation, two_regions)
    administrator = UserFactory(role=roles.ADMINISTRATOR)
    moving = make_shipment(by=administrator, destination=two_regions["n1"], status="in_transit")
    receive_part_damaged(moving, administrator)
    totals.refresh()
    client.force_login(coordinator)
    page = figures(client.get(f"/?{page_query}"))
    assert page == api_figures(client, api_query)
    assert page == direct_figures(QueryDict(api_query))  # and both equal the records themselves
    assert page["total"] > 0
    if not page_query:
        assert page["damaged"] == Decimal("1.5")


def direct_figures(params) -> dict:
    """The headline figures summed straight from receipts and cargo lines (not from the totals):
    delivered (and damaged) by receipt date, lost on closed shipments by closing date, in transit =
    what remains of open shipments."""
    receipt_lines = ReceiptLine.objects.all()
    lines = CargoLine.objects.all()
    if params.get("destination"):
        area = location_get_by_code(params["destination"])
        receipt_lines = filter_by_location_subtree(receipt_lines, "receipt__shipment__destination", area)
        lines = filter_by_location_subtree(lines, "shipment__destination", area)
    moving = lines.filter(shipment__status__in=["in_transit", "partly_received"])
    closed = lines.filter(shipment__status="delivered")
    if params.get("date_from"):
        receipt_lines = receipt_lines.filter(receipt__received_on__gte=params["date_from"])
        closed = closed.filter(shipment__delivered_on__gte=params["date_from"])
    if params.get("date_to"):
        receipt_lines = receipt_lines.filter(receipt__received_on__lte=params["date_to"])
        closed = closed.filter(shipment__delivered_on__lte=params["date_to"])

    def received(rows):
        return rows.aggregate(t=Sum("tonnes"))["t"] or Decimal(0)

    return {
        "road": received(receipt_lines.filter(receipt__shipment__mode="road")),
        "rail": received(receipt_lines.filter(receipt__shipment__mode="rail")),
        "total": received(receipt_lines),
        "damaged": received(receipt_lines.filter(condition="damaged")),
        "lost": sum((line.remaining_tonnes for line in closed), Decimal(0)),
        "transit": sum((line.remaining_tonnes for line in moving), Decimal(0)),
    }


def test_headline_figures_are_rendered_in_the_page(client, coordinator, two_regions):
    bulk_delivered(30, coordinator.organisation, two_regions)
    client.force_login(coordinator)
    html = client.get("/").content.decode()
    api = api_figures(client, "")
    assert f'data-testid="road-tonnes" data-value="{api["road"]}"' in html
    assert f'data-testid="total-tonnes" data-value="{api["total"]:.3f}"' in html


def test_damaged_tonnes_are_a_headline_figure_of_their_own(client, coordinator, officer, two_regions):
    bulk_delivered(6, coordinator.organisation, two_regions)
    moving = make_shipment(by=officer, destination=two_regions["s1"], status="in_transit")
    receive_part_damaged(moving, officer)
    totals.refresh()
    client.force_login(coordinator)
    html = client.get("/").content.decode()
    api = api_figures(client, "")
    assert api["damaged"] == Decimal("1.5")
    assert 'data-testid="damaged-tonnes" data-value="1.500">1.500<' in html
    order = re.findall(r'data-testid="([a-z]+)-tonnes"', html)  # next to delivered and lost
    assert order.index("damaged") == order.index("total") + 1 and order.index("lost") == order.index("damaged") + 1


def test_cumulative_table_ends_at_the_delivered_totals(client, coordinator, two_regions):
    bulk_delivered(45, coordinator.organisation, two_regions)
    client.force_login(coordinator)
    data = client.get("/").context["data"]
    last = data.cumulative_rows[-1]
    modes = [mode for mode, _ in data.modes]
    assert dict(zip(modes, last["values"], strict=True))["road"] == data.road
    assert last["total"] == Decimal(data.by_mode.total["tonnes_delivered"])
    assert [row["week"].weekday() for row in data.cumulative_rows] == [0] * len(data.cumulative_rows)


def test_charts_are_fed_by_the_api_with_the_page_filters(client, coordinator, two_regions):
    bulk_delivered(9, coordinator.organisation, two_regions)
    client.force_login(coordinator)
    html = client.get("/?region=N&date_from=2020-11-01").content.decode()
    assert 'data-source="/api/v1/totals/?group_by=mode%2Cweek&amp;destination=N&amp;date_from=2020-11-01"' in html
    assert "/api/v1/totals/?group_by=cargo_type&amp;destination=N&amp;date_from=2020-11-01&amp;format=csv" in html


def test_bad_filters_are_shown_not_applied(client, coordinator, two_regions):
    client.force_login(coordinator)
    response = client.get("/?region=NOPE&date_from=2020-12-01&date_to=2020-11-01")
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"region", "date_to"}
    filters = response.context["data"].filters  # the bad ones left out, the good one applied
    assert (filters.region, filters.date_from, filters.date_to) == (None, datetime.date(2020, 12, 1), None)


@pytest.mark.parametrize("role", [roles.LOGISTICS_OFFICER, roles.COORDINATOR, roles.ADMINISTRATOR])
def test_every_staff_role_sees_the_overview(client, role, two_regions):
    client.force_login(UserFactory(role=role))
    assert client.get("/").status_code == 200


def test_anonymous_is_sent_to_log_in(client):
    assert client.get("/").status_code == 302


def test_a_user_without_a_role_sees_no_figures(client, two_regions, coordinator):
    bulk_delivered(3, coordinator.organisation, two_regions)
    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 403
    assert b'data-testid="no-role"' in response.content and b"road-tonnes" not in response.content


def test_query_count_is_the_same_with_10_and_1000_shipments(
    client, coordinator, two_regions, django_assert_num_queries
):
    client.force_login(coordinator)
    # Session, user, roles; the totals (by mode with their freshness, by week, cargo type, destination,
    # and the names); the latest deliveries. With a region: the filter's region and its places too.
    expected = {"/": 17, "/?region=N&date_from=2020-11-15": 19}
    for n in (10, 990):
        bulk_delivered(n, coordinator.organisation, two_regions)
        for path, count in expected.items():
            with django_assert_num_queries(count):
                assert client.get(path).status_code == 200
    assert Shipment.objects.count() == 1000


def test_no_query_of_the_overview_reads_cargo_lines_or_receipts(client, coordinator, two_regions):
    """It shows the summary tables and the newest shipments with the figures they store: nothing it
    reads grows with the cargo lines or receipt lines."""
    bulk_delivered(20, coordinator.organisation, two_regions)
    client.force_login(coordinator)
    for path in ("/", "/?region=N&date_from=2020-11-15"):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        statements = [query["sql"] for query in ctx.captured_queries]
        assert not [sql for sql in statements if re.search(r"shipments_(cargoline|receiptline|receipt)\b", sql)]
        [latest] = [sql for sql in statements if 'FROM "shipments_shipment"' in sql]
        assert "LIMIT 10" in latest and "SUM(" not in latest.upper() and "GROUP BY" not in latest.upper()


def test_latest_deliveries_are_the_newest_closed_shipments_with_their_received_tonnes(client, coordinator, two_regions):
    officer = UserFactory(role=roles.LOGISTICS_OFFICER, organisation=coordinator.organisation)
    delivered = []
    for day in range(12):
        shipment = make_shipment(by=officer, destination=two_regions["n1"], status="in_transit",
                                 dispatched_on=datetime.date(2020, 11, 1 + day))  # fmt: skip
        receive_part_damaged(shipment, officer, received_on=datetime.date(2020, 11, 2 + day))
        line = shipment.lines.order_by("id").first()
        services.shipment_close(by=officer, shipment_id=shipment.pk, closed_on=datetime.date(2020, 11, 3 + day),
                                shortfalls=[services.Shortfall(line.pk, "lost")])  # fmt: skip
        delivered.append(shipment.pk)
    make_shipment(by=officer, destination=two_regions["s1"], status="in_transit")  # not delivered: not listed
    client.force_login(coordinator)
    response = client.get("/")
    latest = response.context["data"].latest
    assert [s.pk for s in latest] == delivered[::-1][:10]
    assert {(s.tonnes_received, s.tonnes_damaged, s.tonnes_lost) for s in latest} == {
        (Decimal("1.5"), Decimal("1.5"), Decimal("8.5"))
    }
    assert '<td class="num">1.500</td>' in response.content.decode()
    assert [s.pk for s in client.get("/?region=S").context["data"].latest] == []
    assert len(client.get("/?region=N&date_to=2020-11-05").context["data"].latest) == 3


def test_the_overview_shows_deliveries_of_a_deleted_user(client, coordinator, two_regions):
    clerk = UserFactory(username="clerk", role=roles.ADMINISTRATOR)
    shipment = make_shipment(by=clerk, destination=two_regions["n1"], status="delivered")
    receive_part_damaged(make_shipment(by=clerk, status="in_transit"), clerk)
    clerk.delete()
    totals.refresh()
    client.force_login(coordinator)
    response = client.get("/")
    assert response.status_code == 200 and shipment.reference in response.content.decode()
