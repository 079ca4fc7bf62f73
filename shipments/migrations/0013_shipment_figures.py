"""Each shipment stores the figures the lists show and sort by (lines, tonnes sent, received, lost,
damaged), so that no page sums the cargo lines of every shipment to show a few of them.

The figures of existing shipments are filled by one set-based statement (UPDATE ... FROM, portable
between PostgreSQL and SQLite 3.33+) with the same meaning as `selectors.fresh_figures_sql`:
per line first, so lost is sent - received of each line, never below 0, and only once closed. The
indexes come after the fill, so it does not update them row by row.
"""

from django.conf import settings
from django.db import migrations, models

FILL = """
UPDATE shipments_shipment
SET line_count = f.line_count, tonnes_sent = f.tonnes_sent, tonnes_received = f.tonnes_received,
    tonnes_lost = f.tonnes_lost, tonnes_damaged = f.tonnes_damaged
FROM (
    SELECT s.id,
           COUNT(pl.id) AS line_count,
           ROUND(COALESCE(SUM(pl.tonnes), 0), 3) AS tonnes_sent,
           ROUND(COALESCE(SUM(pl.received), 0), 3) AS tonnes_received,
           CASE WHEN s.status = 'delivered' THEN
               ROUND(COALESCE(SUM(CASE WHEN pl.tonnes > pl.received THEN pl.tonnes - pl.received ELSE 0 END), 0), 3)
           ELSE 0 END AS tonnes_lost,
           ROUND(COALESCE(SUM(pl.damaged), 0), 3) AS tonnes_damaged
    FROM shipments_shipment s
    JOIN (
        SELECT l.id, l.shipment_id, l.tonnes,
               COALESCE(SUM(rl.tonnes), 0) AS received,
               COALESCE(SUM(CASE WHEN rl.condition = 'damaged' THEN rl.tonnes END), 0) AS damaged
        FROM shipments_cargoline l LEFT JOIN shipments_receiptline rl ON rl.line_id = l.id
        GROUP BY l.id, l.shipment_id, l.tonnes
    ) pl ON pl.shipment_id = s.id
    GROUP BY s.id, s.status
) f
WHERE f.id = shipments_shipment.id
"""


def fill(apps, schema_editor):
    schema_editor.execute(FILL)


class Migration(migrations.Migration):
    dependencies = [
        ("aidtrack", "0004_location_loop_guard"),
        ("shipments", "0012_cargo_index_carries_damaged"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="shipment",
            name="line_count",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="lines"),
        ),
        migrations.AddField(
            model_name="shipment",
            name="tonnes_damaged",
            field=models.DecimalField(
                decimal_places=3, default=0, editable=False, max_digits=14, verbose_name="damaged (t)"
            ),
        ),
        migrations.AddField(
            model_name="shipment",
            name="tonnes_lost",
            field=models.DecimalField(
                decimal_places=3, default=0, editable=False, max_digits=14, verbose_name="lost (t)"
            ),
        ),
        migrations.AddField(
            model_name="shipment",
            name="tonnes_received",
            field=models.DecimalField(
                decimal_places=3, default=0, editable=False, max_digits=14, verbose_name="received (t)"
            ),
        ),
        migrations.AddField(
            model_name="shipment",
            name="tonnes_sent",
            field=models.DecimalField(
                decimal_places=3, default=0, editable=False, max_digits=14, verbose_name="sent (t)"
            ),
        ),
        # Nothing to undo: going back drops the columns.
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="shipment",
            index=models.Index(fields=["dispatched_on", "id"], name="shipment_dispatched_id_idx"),
        ),
        migrations.AddIndex(
            model_name="shipment",
            index=models.Index(fields=["tonnes_sent", "id"], name="shipment_tonnes_sent_id_idx"),
        ),
    ]
