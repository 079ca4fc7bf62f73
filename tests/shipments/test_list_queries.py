"""The shipment list (page and API) and the overview show a few rows without summing the lines of every
shipment: their SQL reads the figures each shipment stores, their order is an index read with a
LIMIT (PostgreSQL's EXPLAIN), and the list counts its rows exactly only while they are few."""

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shipments import selectors, services, views
from shipments.models import Shipment
from tests.factories import CargoTypeFactory, LocationFactory, OrganisationFactory, make_shipment
from tests.services import require_postgres

pytestmark = pytest.mark.django_db

RECORD_TABLES = ("shipments_cargoline", "shipments_receiptline", "shipments_receipt")
LIST_PATHS = [
    "/shipments/",
    "/shipments/?sort=-tonnes",
    "/shipments/?sort=tonnes",
    "/shipments/?sort=-delivered",
    "/shipments/?destination=REG",
    "/shipments/?status=delivered",
    "/shipments/?cargo_type=stove",
    "/shipments/?q=WB&sort=-tonnes&page=2",
]


@pytest.fixture
def shipments(officer):
    """Shipments in every state to a town of a region, received in part, damaged, closed short."""
    region = LocationFactory(code="REG", level="region")
    town = LocationFactory(code="REG-T", parent=region)
    stove = CargoTypeFactory(code="stove")
    made = []
    for i, status in enumerate(["planned", "in_transit", "delivered"] * 3):
        made.append(make_shipment(by=officer, destination=town, status=status,
                                  lines=[(stove, "10", str(1 + i)), (CargoTypeFactory(), "5", "0.5")]))  # fmt: skip
    moving = made[1]
    first = moving.lines.order_by("id").first()
    services.receipt_create(
        by=officer, shipment_id=moving.pk, received_on=datetime.date(2020, 11, 18),
        lines=[services.ReceiptInput(first.pk, Decimal(4), Decimal("1.25"), condition="damaged", damage_reason="wet")],
    )  # fmt: skip
    return made


def captured(client, path) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
        assert response.status_code == 200, path
    return [query["sql"] for query in ctx.captured_queries]


def sums_records(sql: str) -> bool:
    """Whether a statement aggregates cargo lines or receipts (a SUM or a GROUP BY over them)."""
    upper = sql.upper()
    return any(table.upper() in upper for table in RECORD_TABLES) and ("SUM(" in upper or "GROUP BY" in upper)


@pytest.mark.parametrize("path", LIST_PATHS)
def test_the_list_page_sums_nothing(client, coordinator, shipments, path):
    client.force_login(coordinator)
    statements = captured(client, path)
    assert not [sql for sql in statements if sums_records(sql) or "SUM(" in sql.upper()]
    # Cargo lines are read only to filter by cargo type (EXISTS of one line), never joined to the rows.
    for sql in statements:
        if "shipments_cargoline" in sql:
            assert "cargo_type" in path and "EXISTS" in sql.upper(), sql


def test_the_list_page_shows_the_stored_figures(client, coordinator, shipments):
    client.force_login(coordinator)
    page = client.get("/shipments/?sort=-tonnes").context["page"]
    assert [s.tonnes_sent for s in page] == sorted((s.tonnes_sent for s in page), reverse=True)
    moving = next(s for s in page if s.pk == shipments[1].pk)
    assert (moving.line_count, moving.tonnes_sent, moving.tonnes_received, moving.tonnes_damaged) == (
        2, Decimal("2.5"), Decimal("1.25"), Decimal("1.25"),
    )  # fmt: skip
    html = client.get("/shipments/?status=partly_received").content.decode()
    assert re.search(r'<td class="num">2</td>\s*<td class="num">2\.500</td>\s*<td class="num">1\.250</td>', html)


def test_the_list_queryset_joins_no_lines():
    sql = str(selectors.shipment_list(Shipment.objects.all()).query)
    assert "cargoline" not in sql and "GROUP BY" not in sql.upper()


def test_the_shipments_api_list_sums_nothing(client, coordinator, shipments):
    client.force_login(coordinator)
    for path in ["/api/v1/shipments/?page_size=20", "/api/v1/shipments/?destination=REG&page_size=5"]:
        statements = captured(client, path)
        assert not [sql for sql in statements if sums_records(sql)], path
        assert any("FROM" in sql and "shipments_cargoline" in sql for sql in statements)  # its lines, prefetched


def test_the_overview_reads_summary_tables_and_the_newest_shipments_only(client, coordinator, shipments):
    client.force_login(coordinator)
    for path in ["/", "/?region=REG&date_from=2020-11-01"]:
        statements = captured(client, path)
        assert not [sql for sql in statements if any(table in sql for table in RECORD_TABLES)], path
        [latest] = [sql for sql in statements if re.search(r'FROM "shipments_shipment"', sql)]
        assert re.search(r"LIMIT 10\b", latest) and "SUM(" not in latest.upper()


def test_the_overview_lists_the_newest_deliveries_with_their_received_tonnes(client, coordinator, shipments):
    client.force_login(coordinator)
    latest = client.get("/").context["data"].latest
    delivered = Shipment.objects.filter(status="delivered").order_by("-delivered_on", "-id")
    assert [s.pk for s in latest] == [s.pk for s in delivered]
    assert all(s.tonnes_received == s.tonnes_sent > 0 for s in latest)


# --- Counting -----------------------------------------------------------------------------------------


def test_few_rows_are_counted_exactly(client, coordinator, shipments):
    client.force_login(coordinator)
    response = client.get("/shipments/")
    assert (response.context["page"].paginator.count, response.context["page"].paginator.approximate) == (9, False)
    assert "9 shipments" in response.content.decode()


@pytest.fixture
def estimate(monkeypatch):
    """Make the database's estimate say `value` (PostgreSQL's planner cannot be told, SQLite has none)."""

    def set_estimate(value):
        monkeypatch.setattr(selectors, "estimated_count", lambda queryset: value)

    return set_estimate


def test_many_rows_are_estimated_not_counted(client, coordinator, shipments, estimate, settings):
    settings.LIST_EXACT_COUNT_LIMIT = 5
    estimate(12_345)
    client.force_login(coordinator)
    assert not [sql for sql in captured(client, "/shipments/") if "COUNT(" in sql.upper()]
    # The estimate was far off: the first page, read one row ahead, is the last and gives the count.
    page = client.get("/shipments/").context["page"]
    assert (page.paginator.count, page.paginator.approximate, len(page), page.has_next()) == (9, False, 9, False)


def test_estimated_pages_read_one_row_ahead_and_the_last_page_counts_exactly(
    client, coordinator, shipments, estimate, settings, monkeypatch
):
    settings.LIST_EXACT_COUNT_LIMIT = 5
    monkeypatch.setattr(views, "PAGE_SIZE", 4)
    estimate(250_012)
    client.force_login(coordinator)
    first = client.get("/shipments/")
    page = first.context["page"]
    assert (page.paginator.approximate, len(page), page.has_next(), page.has_previous()) == (True, 4, True, False)
    html = first.content.decode()
    assert "about 250,000 shipments" in html and "Page 1 of about 62,500" in html and "page=2" in html
    second = client.get("/shipments/?page=2").context["page"]
    assert (len(second), second.has_next(), second.paginator.approximate) == (4, True, True)
    last = client.get("/shipments/?page=3")
    page = last.context["page"]
    assert (len(page), page.has_next(), page.paginator.approximate, page.paginator.count) == (1, False, False, 9)
    assert "9 shipments" in last.content.decode()
    listed = [s.pk for number in (1, 2, 3) for s in client.get(f"/shipments/?page={number}").context["page"]]
    assert sorted(listed) == sorted(s.pk for s in shipments)
    assert client.get("/shipments/?page=zzz").context["page"].number == 1


def test_an_estimate_below_the_limit_is_counted_exactly(client, coordinator, shipments, estimate, settings):
    settings.LIST_EXACT_COUNT_LIMIT = 10_000
    estimate(3)
    client.force_login(coordinator)
    page = client.get("/shipments/").context["page"]
    assert (page.paginator.count, page.paginator.approximate) == (9, False)


def test_postgresql_estimates_the_rows_of_a_filtered_list(shipments):
    require_postgres("the estimate is PostgreSQL's EXPLAIN")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shipments_shipment")
    assert selectors.estimated_count(Shipment.objects.all()) == 9
    assert 1 <= selectors.estimated_count(Shipment.objects.filter(status="delivered")) <= 9


# --- Plans on PostgreSQL ------------------------------------------------------------------------------

ROWS = 20_000


@pytest.fixture
def many_shipments(db):
    """ROWS shipments with stored figures, written by SQL (fast), then analysed: enough rows that only an
    index can serve a page of 50 cheaply, as at 250,000. PostgreSQL keeps a table's analysed size
    through a rollback: they are removed and the table analysed again before it, so later tests
    do not plan for rows that are gone."""
    require_postgres("the plans are PostgreSQL's")
    org, origin, destination = OrganisationFactory(), LocationFactory(), LocationFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO shipments_shipment (reference, mode, consignor_id, consignee_id, origin_id, destination_id,
                   transport_reference, dispatched_on, delivered_on, status, notes, version, created_at, updated_at,
                   line_count, tonnes_sent, tonnes_received, tonnes_lost, tonnes_damaged)
               SELECT 'SQL-' || g, 'road', %s, %s, %s, %s, '', DATE '2020-11-01' + (g %% 90),
                      CASE WHEN g %% 10 > 0 THEN DATE '2020-11-01' + (g %% 90) + 2 END,
                      CASE WHEN g %% 10 > 0 THEN 'delivered' ELSE 'in_transit' END, '', 1, now(), now(),
                      2, (g %% 997) / 10.0, (g %% 997) / 10.0, 0, 0
               FROM generate_series(1, %s) g""",
            [org.pk, org.pk, origin.pk, destination.pk, ROWS],
        )
        cursor.execute("ANALYZE shipments_shipment")
    yield
    with connection.cursor() as cursor:
        # As pg_restore does (superuser only): no foreign key check queued per row that goes, which the
        # test's teardown would run one by one before its rollback.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM shipments_shipment WHERE reference LIKE %s", ["SQL-%"])
        cursor.execute("SET session_replication_role = origin")
        cursor.execute("ANALYZE shipments_shipment")


def plan_of(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def main_query(statements: list[str]) -> str:
    [sql] = [s for s in statements if re.search(r'FROM "shipments_shipment"', s) and re.search(r"LIMIT \d+", s)]
    return sql


@pytest.mark.parametrize(
    "path, index",
    [
        ("/shipments/", "shipment_dispatched_id_idx"),
        ("/shipments/?sort=-tonnes", "shipment_tonnes_sent_id_idx"),
        ("/shipments/?sort=tonnes", "shipment_tonnes_sent_id_idx"),
        ("/shipments/?sort=-delivered", "shipment_delivered_id_idx"),
        ("/shipments/?status=delivered&sort=-tonnes", "shipment_tonnes_sent_id_idx"),
    ],
)
def test_a_list_page_is_a_limit_over_an_index_scan(client, coordinator, many_shipments, path, index):
    client.force_login(coordinator)
    plan = plan_of(main_query(captured(client, path)))
    assert plan["Node Type"] == "Limit"
    kinds = [node["Node Type"] for node in nodes(plan)]
    assert not {"Sort", "Incremental Sort", "Aggregate", "Hash Aggregate"} & set(kinds), kinds
    scans = [node for node in nodes(plan) if node.get("Relation Name") == "shipments_shipment"]
    assert [(node["Node Type"], node.get("Index Name")) for node in scans] == [("Index Scan", index)]


def test_the_latest_deliveries_are_a_limit_over_an_index_scan(client, coordinator, many_shipments):
    client.force_login(coordinator)
    plan = plan_of(main_query(captured(client, "/")))
    assert plan["Node Type"] == "Limit"
    assert not {"Sort", "Incremental Sort", "Aggregate"} & {node["Node Type"] for node in nodes(plan)}
    [scan] = [node for node in nodes(plan) if node.get("Relation Name") == "shipments_shipment"]
    assert (scan["Node Type"], scan["Index Name"]) == ("Index Scan", "shipment_delivered_id_idx")
