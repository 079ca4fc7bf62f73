"""The covering index by cargo type, mode and day (migration 0008, PostgreSQL only) carries the
damaged tonnes too, so a refresh still sums its cargo × month rows from the index alone; the plain
(cargo type, day) index goes: the covering one starts with the same column and serves those reads."""

from django.db import migrations

INDEX = "deliverytotal_cargo_mode_day_idx"
COLUMNS = "tonnes_delivered, quantity_delivered, tonnes_lost, shipments"


def covering(included: str):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
            schema_editor.execute(
                f"CREATE INDEX {INDEX} ON shipments_deliverytotal (cargo_type_id, mode, day) INCLUDE ({included})"
            )

    return apply


class Migration(migrations.Migration):
    dependencies = [("shipments", "0011_totals_references_unchecked")]

    operations = [
        migrations.RemoveIndex(model_name="deliverytotal", name="shipments_d_cargo_t_35590b_idx"),
        migrations.RunPython(covering(f"{COLUMNS}, tonnes_damaged"), covering(COLUMNS)),
    ]
