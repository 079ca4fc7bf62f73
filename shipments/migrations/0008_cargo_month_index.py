"""PostgreSQL only: an index on the day totals by cargo type, mode and day that carries the totals.

A refresh recounts the month × mode × cargo rows its cells touch by summing every day row of that
cargo type, mode and month; with this index it reads them from the index alone, without visiting
the table. SQLite has no covering indexes and does not need the speed, so the model does not
declare it (Django would warn on SQLite).
"""

from django.db import migrations

INDEX = "deliverytotal_cargo_mode_day_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"""CREATE INDEX IF NOT EXISTS {INDEX} ON shipments_deliverytotal (cargo_type_id, mode, day)
                INCLUDE (tonnes_delivered, quantity_delivered, tonnes_lost, shipments)"""
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("shipments", "0007_cargo_month_totals")]

    operations = [migrations.RunPython(create, drop)]
