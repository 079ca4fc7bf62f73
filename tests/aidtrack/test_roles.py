import pytest
from django.contrib.auth.models import Group

from aidtrack import roles


@pytest.mark.django_db
def test_role_groups_exist_with_their_permissions():
    perms = {
        g.name: {f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.select_related("content_type")}
        for g in Group.objects.all()
    }
    assert {"logistics_officer", "coordinator", "administrator"} <= set(perms)
    assert "aidtrack.view_location" in perms["logistics_officer"]
    assert "aidtrack.change_location" not in perms["logistics_officer"]
    assert "aidtrack.change_location" not in perms["coordinator"]
    assert {"aidtrack.change_location", "aidtrack.change_organisation", "shipments.change_cargotype"} <= perms[
        "administrator"
    ]


@pytest.mark.django_db
def test_user_roles(officer, coordinator, administrator, django_user_model):
    assert roles.user_roles(officer) == {roles.LOGISTICS_OFFICER}
    assert roles.user_roles(coordinator) == {roles.COORDINATOR}
    assert roles.is_administrator(administrator)
    superuser = django_user_model.objects.create_superuser("root", password="x")
    assert roles.is_administrator(superuser)
    assert not roles.is_administrator(officer)
