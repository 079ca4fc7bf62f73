"""Create the role groups with the model permissions each needs. Later issues add to them."""

from django.db import migrations

from aidtrack.role_permissions import grant

ROLE_PERMISSIONS = {
    "logistics_officer": [
        "aidtrack.view_organisation",
        "aidtrack.view_location",
        "shipments.view_cargotype",
    ],
    "coordinator": [
        "aidtrack.view_organisation",
        "aidtrack.view_location",
        "shipments.view_cargotype",
    ],
    "administrator": [
        f"{app}.{action}_{model}"
        for app, model in [
            ("aidtrack", "organisation"),
            ("aidtrack", "location"),
            ("aidtrack", "user"),
            ("shipments", "cargotype"),
        ]
        for action in ("add", "change", "delete", "view")
    ]
    + ["auth.view_group", "aidtrack.view_workerheartbeat"],
}


def create_roles(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("aidtrack", "0001_initial"),
        ("shipments", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
