"""Each delivered shipment becomes one receipt dated on its delivered date, with a receipt line per
cargo line holding what the line recorded as received (condition good). Totals do not change:
delivered was dated by the delivered date and is now dated by this receipt's date, the same day.

Set-based statements (portable between PostgreSQL and SQLite), and a first history record for each
receipt and receipt line, so that a later correction has the migrated values to show as the old ones.
"""

from django.db import migrations

REASON = "Migrated from the delivery recorded on the shipment"


def forwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO shipments_receipt (shipment_id, received_on, recorded_by_id, note, correction_reason, version,
                   created_at)
               SELECT id, delivered_on, created_by_id, '', '', 1, updated_at
               FROM shipments_shipment WHERE status = 'delivered'"""
        )
        cursor.execute(
            """INSERT INTO shipments_receiptline (receipt_id, line_id, quantity, tonnes, condition, damage_reason)
               SELECT r.id, l.id, COALESCE(l.received_quantity, l.quantity), COALESCE(l.received_tonnes, l.tonnes),
                      'good', ''
               FROM shipments_receipt r JOIN shipments_cargoline l ON l.shipment_id = r.shipment_id"""
        )
        cursor.execute(
            """UPDATE shipments_cargoline SET received_quantity = quantity, received_tonnes = tonnes
               WHERE received_tonnes IS NULL
               AND shipment_id IN (SELECT id FROM shipments_shipment WHERE status = 'delivered')"""
        )
        cursor.execute(
            """INSERT INTO shipments_historicalreceipt (id, shipment_id, received_on, recorded_by_id, note,
                   correction_reason, version, created_at, history_date, history_change_reason, history_type,
                   history_user_id)
               SELECT id, shipment_id, received_on, recorded_by_id, note, '', version, created_at, created_at, %s, '+',
                      recorded_by_id
               FROM shipments_receipt""",
            [REASON],
        )
        cursor.execute(
            """INSERT INTO shipments_historicalreceiptline (id, receipt_id, line_id, quantity, tonnes, condition,
                   damage_reason, history_date, history_change_reason, history_type, history_user_id)
               SELECT rl.id, rl.receipt_id, rl.line_id, rl.quantity, rl.tonnes, rl.condition, rl.damage_reason,
                      r.created_at, %s, '+', r.recorded_by_id
               FROM shipments_receiptline rl JOIN shipments_receipt r ON r.id = rl.receipt_id""",
            [REASON],
        )


def backwards(apps, schema_editor):
    # The receipts' sums are on the cargo lines already; dating by several receipts cannot be undone.
    with schema_editor.connection.cursor() as cursor:
        for table in ("historicalreceiptline", "historicalreceipt", "receiptline", "receipt"):
            cursor.execute(f"DELETE FROM shipments_{table}")


class Migration(migrations.Migration):
    dependencies = [("shipments", "0009_receipts")]

    operations = [migrations.RunPython(forwards, backwards)]
