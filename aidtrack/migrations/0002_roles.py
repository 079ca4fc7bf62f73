"""Create the role groups with the model permissions each needs. Later issues add to them."""

from django.db import migrations

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


def ensure_permissions(apps):
    """Permissions are normally created after all migrations; a fresh database needs them now."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None


def grant(apps, role_permissions):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ensure_permissions(apps)
    for role, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


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
