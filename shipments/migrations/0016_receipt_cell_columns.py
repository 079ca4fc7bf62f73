"""Receipts carry copies of their shipment's mode and destination (a shipment's route cannot change
once cargo has arrived), with an index on (received_on, destination, mode): a refresh finds the
receipts of one totals cell by index instead of reading every receipt of that day."""

import django.db.models.deletion
from django.db import migrations, models

FILL = """
UPDATE shipments_receipt SET
    mode = (SELECT s.mode FROM shipments_shipment s WHERE s.id = shipments_receipt.shipment_id),
    destination_id = (SELECT s.destination_id FROM shipments_shipment s WHERE s.id = shipments_receipt.shipment_id)
"""
FILL_HISTORY = """
UPDATE shipments_historicalreceipt SET
    mode = COALESCE((SELECT s.mode FROM shipments_shipment s WHERE s.id = shipments_historicalreceipt.shipment_id), ''),
    destination_id = (SELECT s.destination_id FROM shipments_shipment s
                      WHERE s.id = shipments_historicalreceipt.shipment_id)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("aidtrack", "0004_location_loop_guard"),
        ("shipments", "0015_shipment_figures_db_default"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="receipt", name="shipments_r_receive_830452_idx"),
        migrations.AddField(
            model_name="historicalreceipt",
            name="destination",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="aidtrack.location",
                verbose_name="destination",
            ),
        ),
        migrations.AddField(
            model_name="historicalreceipt",
            name="mode",
            field=models.CharField(default="", editable=False, max_length=10, verbose_name="transport mode"),
        ),
        migrations.AddField(
            model_name="receipt",
            name="destination",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="aidtrack.location",
                verbose_name="destination",
            ),
        ),
        migrations.AddField(
            model_name="receipt",
            name="mode",
            field=models.CharField(default="", editable=False, max_length=10, verbose_name="transport mode"),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.RunSQL(FILL_HISTORY, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="receipt",
            name="destination",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="aidtrack.location",
                verbose_name="destination",
            ),
        ),
        migrations.AddIndex(
            model_name="receipt",
            index=models.Index(fields=["received_on", "destination", "mode"], name="receipt_day_cell_idx"),
        ),
    ]
