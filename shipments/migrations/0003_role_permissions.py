from django.db import migrations

from aidtrack.role_permissions import grant, model_perms, revoke

ROLE_PERMISSIONS = {
    "logistics_officer": model_perms("shipments", "shipment", ("add", "change", "view"))
    + model_perms("shipments", "cargoline", ("add", "change", "delete", "view")),
    "coordinator": model_perms("shipments", "shipment", ("view",)) + model_perms("shipments", "cargoline", ("view",)),
    "administrator": model_perms("shipments", "shipment")
    + model_perms("shipments", "cargoline")
    + model_perms("shipments", "historicalshipment", ("view",))
    + model_perms("shipments", "historicalcargoline", ("view",)),
}


class Migration(migrations.Migration):
    dependencies = [
        ("shipments", "0002_shipments_and_lines"),
        ("aidtrack", "0002_roles"),
    ]

    operations = [
        migrations.RunPython(
            lambda apps, _: grant(apps, ROLE_PERMISSIONS), lambda apps, _: revoke(apps, ROLE_PERMISSIONS)
        )
    ]
