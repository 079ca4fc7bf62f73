"""`load_demo` adds the coordination groups, meetings, assessments and needs of the response."""

from collections import Counter

import pytest
from django.core.management import call_command

from needs.coverage import coverage_rows
from needs.models import ActionItem, Assessment, Meeting, Membership, Need, WorkingGroup
from shipments import totals

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("load_demo", verbosity=0)


def counts() -> dict[str, int]:
    models = [WorkingGroup, Membership, Meeting, ActionItem, Assessment, Need]
    counted = {model.__name__: model.objects.count() for model in models}
    counted.update({f"{model.__name__} history": model.history.count() for model in models})
    return counted


def test_coordination_groups_with_their_members(demo):
    infra = WorkingGroup.objects.get(code="nk-infrastructure")
    roles = Counter(infra.memberships.values_list("role", flat=True))
    assert roles["chair"] == 1 and roles["observer"] >= 1 and roles["member"] >= 3
    member_orgs = set(infra.memberships.values_list("organisation__code", flat=True))
    assert "ru-emercom" in member_orgs and member_orgs & {"unhcr", "arcs", "am-mes"}

    centre = WorkingGroup.objects.get(code="ihrc")
    assert str(centre.established_on) == "2020-11-13"
    bodies = set(centre.memberships.values_list("organisation__code", flat=True))
    assert {"ru-emercom", "ru-mfa", "ru-fsb"} <= bodies
    assert len(bodies - {"ru-emercom", "ru-mfa", "ru-fsb", "ru-ihrc"}) >= 2  # other federal bodies


def test_meetings_record_the_heads_of_government_by_position(demo):
    visits = Meeting.objects.filter(kind="official_visit")
    for position in [
        "Prime Minister of Armenia",
        "President of Azerbaijan",
        "Minister of Emergency Situations of Armenia",
        "Minister of Emergency Situations of Azerbaijan",
    ]:
        meeting = visits.get(attendees__contains=position)
        assert "Head of the Ministry of Emergency Situations" in meeting.attendees
    assert Meeting.objects.filter(kind="field_visit").exists()
    assert Meeting.objects.exclude(decisions="").count() == Meeting.objects.count()

    items = list(ActionItem.objects.all())
    assert {item.status for item in items} >= {"open", "done"}
    assert any(item.is_overdue for item in items)


def test_assessments_of_power_water_heating_and_housing_in_several_settlements(demo):
    assessments = Assessment.objects.filter(working_group__code="nk-infrastructure")
    assert {"energy", "water", "heating", "housing"} <= set(assessments.values_list("sector", flat=True))
    assert assessments.filter(location__level="settlement").values("location").distinct().count() >= 5
    assert not assessments.filter(summary="").exists()
    assert assessments.exclude(people_affected=None).count() >= 10
    assert set(assessments.values_list("severity", flat=True)) >= {3, 4, 5}

    codes = set(Need.objects.filter(status="open").values_list("cargo_type__code", flat=True))
    assert {"diesel-generator", "stove", "building-materials", "household-kit"} <= codes
    assert Need.objects.filter(status="cancelled").exists()


def test_the_demo_deliveries_cover_the_needs_in_part(demo):
    totals.refresh()  # load_demo refreshed them already: this changes nothing
    rows = coverage_rows()
    states = Counter(row.state for row in rows)
    assert states["met"] >= 1 and states["partial"] >= 1 and states["none"] >= 1
    by_pair = {(row.location_code, row.cargo_type_code): row for row in rows}
    # Stoves for Stepanakert: the trains from 26 November count, the truck of 19 November came before.
    assert by_pair["NK-ST-01", "stove"].delivered == 2000
    # Generators delivered to the Stepanakert hub count for the town it is in.
    assert by_pair["NK-ST-01", "diesel-generator"].state == "met"
    # A cancelled need is not counted.
    assert ("NK-ST-01", "window-glass") not in by_pair


def test_load_demo_twice_leaves_the_counts_unchanged(demo):
    first = counts()
    assert first["WorkingGroup"] == 2 and first["Assessment"] > 10 and first["Need"] > 15
    call_command("load_demo", verbosity=0)
    assert counts() == first


def test_records_are_written_with_history_by_the_demo_loader(demo):
    assessment = Assessment.objects.first()
    assert assessment.history.get().history_user.username == "demo-loader"
    assert Meeting.objects.filter(created_by__username="demo-loader").count() == Meeting.objects.count()
