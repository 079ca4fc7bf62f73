"""By-cargo month totals move to their own table (month × mode × cargo type, all destinations).

The area rollup keeps all-cargo rows only: the nightly rebuild no longer recomputes a month × area ×
cargo row for every place and level. The new table is filled from the top-level area rows it
replaces, so the API answers the same before and after. Going back empties the area rows: run
rebuild_totals after going back (or forward again).
"""

import django.db.models.deletion
from django.db import migrations, models

FILL_CARGO_MONTHS = """
    INSERT INTO shipments_deliverycargomonthtotal
        (month, mode, cargo_type_id, tonnes_delivered, quantity_delivered, tonnes_lost, shipments)
    SELECT month, mode, cargo_type_id, SUM(tonnes_delivered), SUM(quantity_delivered), SUM(tonnes_lost),
           SUM(shipments)
    FROM shipments_deliveryareamonthtotal
    WHERE area_depth = 0 AND cargo_type_id IS NOT NULL
    GROUP BY month, mode, cargo_type_id
"""
DROP_AREA_CARGO_ROWS = "DELETE FROM shipments_deliveryareamonthtotal WHERE cargo_type_id IS NOT NULL"
# Going back, the area table gets its cargo columns again (quantity without a default): empty it first.
EMPTY_AREA = "DELETE FROM shipments_deliveryareamonthtotal"


class Migration(migrations.Migration):
    dependencies = [
        ("aidtrack", "0003_partner_keys_and_idempotency"),
        ("shipments", "0006_area_all_cargo_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="DeliveryCargoMonthTotal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField()),
                ("mode", models.CharField(max_length=10)),
                ("tonnes_delivered", models.DecimalField(decimal_places=3, max_digits=16)),
                ("quantity_delivered", models.DecimalField(decimal_places=3, max_digits=18)),
                ("tonnes_lost", models.DecimalField(decimal_places=3, max_digits=16)),
                ("shipments", models.PositiveIntegerField()),
                (
                    "cargo_type",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="shipments.cargotype"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("month", "mode", "cargo_type"), name="cargomonth_unique")
                ],
            },
        ),
        migrations.RunSQL(FILL_CARGO_MONTHS, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(DROP_AREA_CARGO_ROWS, reverse_sql=migrations.RunSQL.noop),
        migrations.RemoveConstraint(model_name="deliveryareamonthtotal", name="areamonth_cargo_unique"),
        migrations.RemoveConstraint(model_name="deliveryareamonthtotal", name="areamonth_all_unique"),
        migrations.RemoveIndex(model_name="deliveryareamonthtotal", name="shipments_d_area_id_c7b4b3_idx"),
        migrations.RemoveIndex(model_name="deliveryareamonthtotal", name="areamonth_all_cargo_idx"),
        migrations.RemoveField(model_name="deliveryareamonthtotal", name="cargo_type"),
        migrations.RemoveField(model_name="deliveryareamonthtotal", name="quantity_delivered"),
        migrations.RunSQL(migrations.RunSQL.noop, reverse_sql=EMPTY_AREA),
        migrations.AddConstraint(
            model_name="deliveryareamonthtotal",
            constraint=models.UniqueConstraint(fields=("area", "month", "mode"), name="areamonth_unique"),
        ),
    ]
