from django.db import migrations

from aidtrack.role_permissions import grant, model_perms, revoke

RECORDS = ["workinggroup", "membership", "meeting", "actionitem", "assessment", "need"]
HISTORIES = [f"historical{model}" for model in RECORDS] + ["historicalmeeting_organisations"]

# Coordinators create and change all of it, logistics officers read it, administrators everything.
ROLE_PERMISSIONS = {
    "logistics_officer": [perm for model in RECORDS for perm in model_perms("needs", model, ("view",))],
    "coordinator": [perm for model in RECORDS for perm in model_perms("needs", model)],
    "administrator": [perm for model in RECORDS for perm in model_perms("needs", model)]
    + [perm for model in HISTORIES for perm in model_perms("needs", model, ("view",))],
}


class Migration(migrations.Migration):
    dependencies = [
        ("needs", "0001_needs_and_working_groups"),
        ("aidtrack", "0002_roles"),
    ]

    operations = [
        migrations.RunPython(
            lambda apps, _: grant(apps, ROLE_PERMISSIONS), lambda apps, _: revoke(apps, ROLE_PERMISSIONS)
        )
    ]
