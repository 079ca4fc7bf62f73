"""The totals benchmark (`make bench`): builds its own data with set-based SQL and measures ratios.

It runs in a database of its own (<DATABASE_URL name>_bench), which it creates, migrates and
empties; your data is never touched. PostgreSQL only: the production stack is what is measured.
"""

import datetime
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from django.db import connection, transaction
from django.test import Client

from aidtrack.models import Location, Organisation, OrganisationAPIKey
from shipments import services, totals
from shipments.models import CargoType, Receipt, Shipment
from shipments.totals import sql as totals_sql
from shipments.totals.tasks import deferred_refresh

START = datetime.date(2024, 1, 1)
DAYS = 730
MODES = ["road", "rail", "air"]
N_CARGO = 30
LINES_PER_SHIPMENT = 4
REGIONS, DISTRICTS, SETTLEMENTS = 4, 5, 10  # 4 x 5 x 10 = 200 destinations


def timed(fn: Callable, repeat: int = 1) -> float:
    """Median wall time of `fn` in seconds."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def settle() -> None:
    """Vacuum and analyse after bulk writes, so autovacuum does not run during a measurement."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def reset_data() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """TRUNCATE shipments_receiptline, shipments_historicalreceiptline, shipments_receipt,
               shipments_historicalreceipt, shipments_cargoline, shipments_historicalcargoline, shipments_shipment,
               shipments_historicalshipment, shipments_deliverytotal, shipments_deliverydaytotal,
               shipments_deliveryareamonthtotal, shipments_deliverycargomonthtotal, shipments_intransittotal,
               shipments_stalecell, shipments_staletransitcell, shipments_totalsstate,
               shipments_referencecounter CASCADE"""
        )


def empty_totals() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """TRUNCATE shipments_deliverytotal, shipments_deliverydaytotal, shipments_deliveryareamonthtotal,
               shipments_deliverycargomonthtotal, shipments_intransittotal"""
        )


def reference_data() -> dict:
    """Organisations, 200 destinations under 4 regions, 30 cargo types (idempotent)."""
    org, _ = Organisation.objects.get_or_create(code="bench-ministry", defaults={"name": "Bench ministry"})
    partner, _ = Organisation.objects.get_or_create(code="bench-partner", defaults={"name": "Bench partner"})
    origin, _ = Location.objects.get_or_create(code="BO", defaults={"name": "Bench origin", "level": "settlement"})
    if not Location.objects.filter(code="BR1").exists():
        for r in range(1, REGIONS + 1):
            region = Location.objects.create(code=f"BR{r}", name=f"Region {r}", level="region")
            for d in range(1, DISTRICTS + 1):
                district = Location.objects.create(
                    code=f"BR{r}-D{d}", name=f"District {r}.{d}", level="district", parent=region
                )
                Location.objects.bulk_create(
                    Location(
                        code=f"BR{r}-D{d}-S{s}", name=f"Settlement {r}.{d}.{s}", level="settlement", parent=district
                    )
                    for s in range(1, SETTLEMENTS + 1)
                )
    CargoType.objects.bulk_create(
        [
            CargoType(code=f"bench-{i:02d}", name=f"Bench cargo {i}", category="other", unit="pcs")
            for i in range(N_CARGO)
        ],
        ignore_conflicts=True,
    )
    return {"org": org, "partner": partner, "origin": origin}


def generate(lines: int, ref: dict) -> None:
    """`lines` cargo lines on lines/4 shipments over two years, set-based: 1 in 100 still in transit,
    1 in 100 partly received (half its lines), the rest received in one receipt and closed; 1 line
    in 50 arrived half short (lost, damaged), 1 in 37 arrived damaged."""
    n = max(1, lines // LINES_PER_SHIPMENT)
    dest_ids = list(
        Location.objects.filter(code__startswith="BR", level="settlement").order_by("id").values_list("id", flat=True)
    )
    cargo_ids = list(CargoType.objects.filter(code__startswith="bench-").order_by("id").values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO shipments_shipment (reference, mode, consignor_id, consignee_id, origin_id, destination_id,
                   transport_reference, dispatched_on, expected_on, delivered_on, status, notes, version,
                   created_at, updated_at)
               SELECT 'BENCH-' || i, (%(modes)s::text[])[1 + i %% 3], %(org)s, %(partner)s, %(origin)s,
                      (%(dests)s::bigint[])[1 + (abs(hashtext(i::text)) %% %(ndest)s)], '',
                      %(start)s::date + (i * 37) %% %(days)s, NULL,
                      CASE WHEN i %% 50 = 0 THEN NULL ELSE %(start)s::date + (i * 37) %% %(days)s + 2 END,
                      CASE WHEN i %% 100 = 0 THEN 'in_transit' WHEN i %% 100 = 50 THEN 'partly_received'
                           ELSE 'delivered' END, '', 1, now(), now()
               FROM generate_series(1, %(n)s) AS i""",
            {"modes": MODES, "org": ref["org"].pk, "partner": ref["partner"].pk, "origin": ref["origin"].pk,
             "dests": dest_ids, "ndest": len(dest_ids), "start": START, "days": DAYS - 3, "n": n},
        )  # fmt: skip
        # What arrived of each line: nothing in transit, half the lines of a partly received shipment.
        received = """CASE WHEN s.status = 'in_transit' OR (s.status = 'partly_received' AND k >= 2) THEN NULL
                           ELSE {0} END"""
        short = "CASE WHEN (s.id + k) %% 50 = 0 THEN (1 + (s.id * 7 + k) %% 200) / 20.0 ELSE {0} END"
        sent = "(1 + (s.id * 7 + k) %% 200) / 10.0"
        cursor.execute(
            f"""INSERT INTO shipments_cargoline (shipment_id, cargo_type_id, quantity, tonnes, received_quantity,
                   received_tonnes, loss_reason, loss_note)
               SELECT s.id, (%(cargo)s::bigint[])[1 + (s.id * 4 + k) %% %(ncargo)s], 10 + k, {sent},
                      {received.format("10 + k")}, {received.format(short.format(sent))},
                      CASE WHEN s.status = 'delivered' AND (s.id + k) %% 50 = 0 THEN 'damaged' ELSE '' END, ''
               FROM shipments_shipment s CROSS JOIN generate_series(0, %(per)s - 1) AS k
               WHERE s.reference LIKE 'BENCH-%%'""",
            {"cargo": cargo_ids, "ncargo": len(cargo_ids), "per": LINES_PER_SHIPMENT},
        )  # fmt: skip
        cursor.execute(
            """INSERT INTO shipments_receipt (shipment_id, received_on, mode, destination_id, note, correction_reason,
                   version, created_at)
               SELECT id, dispatched_on + 2, mode, destination_id, '', '', 1, now() FROM shipments_shipment
               WHERE reference LIKE 'BENCH-%' AND status IN ('delivered', 'partly_received')"""
        )
        cursor.execute(
            """INSERT INTO shipments_receiptline (receipt_id, line_id, quantity, tonnes, condition, damage_reason)
               SELECT r.id, l.id, l.received_quantity, l.received_tonnes,
                      CASE WHEN l.id % 37 = 0 THEN 'damaged' ELSE 'good' END,
                      CASE WHEN l.id % 37 = 0 THEN 'wet' ELSE '' END
               FROM shipments_receipt r JOIN shipments_cargoline l ON l.shipment_id = r.shipment_id
               JOIN shipments_shipment s ON s.id = r.shipment_id
               WHERE s.reference LIKE 'BENCH-%' AND l.received_tonnes IS NOT NULL"""
        )
    services.shipments_figures_recount()  # the figures the services would have stored
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# Every record as the totals count it: what each receipt line brought on its receipt's day, and
# what each line of a closed shipment lost on its closing day (the definitions in shipments.totals).
RAW_RECORDS = """
    SELECT r.received_on AS day, r.mode AS mode, l.cargo_type_id AS cargo_type_id, r.destination_id AS destination_id,
           rl.tonnes AS delivered, rl.quantity AS quantity,
           CASE WHEN rl.condition = 'damaged' THEN rl.tonnes ELSE 0 END AS damaged, 0 AS lost,
           r.shipment_id AS shipment_id
    FROM shipments_receiptline rl JOIN shipments_receipt r ON r.id = rl.receipt_id
    JOIN shipments_cargoline l ON l.id = rl.line_id
    UNION ALL
    SELECT s.delivered_on, s.mode, l.cargo_type_id, s.destination_id, 0, 0, 0,
           l.tonnes - COALESCE(l.received_tonnes, 0), NULL
    FROM shipments_cargoline l JOIN shipments_shipment s ON s.id = l.shipment_id
    WHERE s.status = 'delivered' AND l.tonnes > COALESCE(l.received_tonnes, 0)"""

# The baseline: the day x mode x cargo x destination aggregate, materialised in the database. (A
# `SELECT count(*) FROM (...)` wrapper would let PostgreSQL skip computing the aggregates; fetching
# the rows into Python would add client costs that have nothing to do with the aggregate.)
RAW_L0 = f"""CREATE TEMP TABLE bench_raw AS
    SELECT day, mode, cargo_type_id, destination_id, SUM(delivered) AS tonnes_delivered,
           SUM(quantity) AS quantity_delivered, SUM(damaged) AS tonnes_damaged, SUM(lost) AS tonnes_lost,
           COUNT(DISTINCT shipment_id) AS shipments
    FROM ({RAW_RECORDS}) AS x
    GROUP BY day, mode, cargo_type_id, destination_id"""

RAW_ANSWERS = {
    "group_by=mode": f"""SELECT mode, SUM(delivered), SUM(damaged), SUM(lost), COUNT(DISTINCT shipment_id)
        FROM ({RAW_RECORDS}) AS x GROUP BY mode""",
    "group_by=cargo_type,month": f"""SELECT cargo_type_id, date_trunc('month', day), SUM(delivered), SUM(quantity),
        SUM(damaged), SUM(lost), COUNT(DISTINCT shipment_id)
        FROM ({RAW_RECORDS}) AS x GROUP BY 1, 2""",
    "group_by=mode&destination=BR1": f"""WITH RECURSIVE sub(id) AS (
            SELECT id FROM aidtrack_location WHERE code = 'BR1'
            UNION SELECT l.id FROM aidtrack_location l JOIN sub ON l.parent_id = sub.id)
        SELECT mode, SUM(delivered), SUM(damaged), SUM(lost), COUNT(DISTINCT shipment_id)
        FROM ({RAW_RECORDS}) AS x WHERE destination_id IN (SELECT id FROM sub) GROUP BY mode""",
}


def run_sql(sql: str) -> Callable[[], None]:
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql)
            cursor.fetchall()

    return run


def run_raw_l0() -> None:
    """The baseline, in a transaction with the rebuild's session settings: the same rules for both."""
    with transaction.atomic(), connection.cursor() as cursor:
        totals_sql.rebuild_settings(cursor)
        cursor.execute("DROP TABLE IF EXISTS bench_raw")
        cursor.execute(RAW_L0)
        cursor.execute("DROP TABLE bench_raw")


def api_client(ref: dict) -> Client:
    _, key = OrganisationAPIKey.objects.create_key(name="bench", organisation=ref["partner"])
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


def api_latency(client: Client, query: str, repeat: int = 60) -> float:
    def get():
        response = client.get(f"/api/v1/totals/?{query}")
        assert response.status_code == 200, response.content

    get()  # warm up
    return timed(get, repeat)


def change_one_shipment(ref: dict, by, i: int) -> None:
    """A new delivered shipment of four lines, through the service, on a busy day."""
    cargo = list(CargoType.objects.filter(code__startswith="bench-")[:LINES_PER_SHIPMENT])
    day = START + datetime.timedelta(days=100 + i)
    services.shipment_create(
        by=by,
        data=services.ShipmentInput(
            mode="road", consignor=ref["org"], consignee=ref["partner"], origin=ref["origin"],
            destination=Location.objects.get(code="BR1-D1-S1"), dispatched_on=day, delivered_on=day,
            lines=[services.LineInput(c, Decimal(5), Decimal("2.5")) for c in cargo],
        ),
    )  # fmt: skip


def refresh_after_change(ref: dict, by, repeat: int = 7) -> float:
    runs = []
    for i in range(repeat):
        with deferred_refresh(), transaction.atomic():
            change_one_shipment(ref, by, i)
        runs.append(timed(totals.refresh))
    return statistics.median(runs)


def correct_one_receipt(by, i: int) -> None:
    """A receipt of a closed shipment on a busy day corrected: a line's tonnes and the date both change."""
    receipt = (
        Receipt.objects.filter(shipment__reference__startswith="BENCH-", shipment__status="delivered")
        .select_related("shipment")
        .order_by("id")[100 + i * 50]
    )
    lines = list(receipt.lines.order_by("line_id"))
    services.receipt_correct(
        by=by, receipt_id=receipt.pk, reason="bench", expected_version=receipt.version,
        received_on=max(receipt.received_on - datetime.timedelta(days=1), receipt.shipment.dispatched_on),
        lines=[
            services.ReceiptInput(rl.line_id, rl.quantity, rl.tonnes * Decimal("0.9") if k == 0 else rl.tonnes,
                                  loss_reason="other", condition=rl.condition, damage_reason=rl.damage_reason)
            for k, rl in enumerate(lines)
        ],
    )  # fmt: skip


def refresh_after_correction(by, repeat: int = 7) -> float:
    runs = []
    for i in range(repeat):
        with deferred_refresh(), transaction.atomic():
            correct_one_receipt(by, i)
        runs.append(timed(totals.refresh))
    return statistics.median(runs)


def in_transit_count() -> int:
    return Shipment.objects.filter(status="in_transit").count()
