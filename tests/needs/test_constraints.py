"""The database itself refuses working-group, meeting, action item, assessment and need rows that break the rules.

Rows are written with the ORM directly, past the services, as a script or a bad migration would.
Each refusal is matched to the constraint's name, so a test fails if that constraint is dropped
even when another one happens to catch the row.
"""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from needs.models import ActionItem, Assessment, Meeting, Membership, Need, WorkingGroup

from ..factories import CargoTypeFactory, LocationFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def nov(day: int) -> datetime.date:
    return datetime.date(2020, 11, day)


def group_fields(**overrides) -> dict:
    fields = {"name": "Infrastructure", "code": "infra-2", "lead_organisation": OrganisationFactory(),
              "established_on": nov(17)}  # fmt: skip
    return {**fields, **overrides}


@pytest.fixture
def group(db):
    return WorkingGroup.objects.create(**group_fields(code="infra"))


@pytest.fixture
def meeting(group):
    return Meeting.objects.create(working_group=group, held_on=nov(18), title="First meeting")


@pytest.fixture
def assessment(db):
    return Assessment.objects.create(**assessment_fields())


def membership_fields(group, **overrides) -> dict:
    fields = {"working_group": group, "organisation": OrganisationFactory(), "position": "Chair", "from_on": nov(17)}
    return {**fields, **overrides}


def action_fields(meeting, **overrides) -> dict:
    return {"meeting": meeting, "description": "Send the teams", "owner": OrganisationFactory(), **overrides}


def assessment_fields(**overrides) -> dict:
    fields = {"location": LocationFactory(), "sector": "heating", "assessed_on": nov(20),
              "condition": "severely_damaged", "severity": 4}  # fmt: skip
    return {**fields, **overrides}


def need_fields(assessment, **overrides) -> dict:
    fields = {"assessment": assessment, "cargo_type": CargoTypeFactory(), "quantity": Decimal("10")}
    return {**fields, **overrides}


def assert_refused(model, constraint: str, **fields) -> None:
    before = model.objects.count()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        model.objects.create(**fields)
    assert model.objects.count() == before


# --- rows the database accepts (so the refusals below are about the one broken rule) -----------


def test_valid_rows_are_accepted(group, meeting, assessment):
    WorkingGroup.objects.create(**group_fields(closed_on=nov(17), sector="energy"))  # closed the day it was set up
    WorkingGroup.objects.create(**group_fields(code="infra-3", sector=""))
    Membership.objects.create(**membership_fields(group, to_on=nov(17), role="observer"))
    Meeting.objects.create(working_group=group, held_on=nov(20), title="Visit", kind="official_visit")
    ActionItem.objects.create(**action_fields(meeting))
    ActionItem.objects.create(**action_fields(meeting, status="done", closed_on=nov(19)))
    ActionItem.objects.create(**action_fields(meeting, status="dropped", closed_on=nov(19)))
    for severity in (1, 5):
        Assessment.objects.create(**assessment_fields(severity=severity, condition="unknown", sector="other"))
    Need.objects.create(**need_fields(assessment, quantity=Decimal("0.001"), priority="low", status="cancelled"))
    assert (WorkingGroup.objects.count(), Membership.objects.count(), Meeting.objects.count()) == (3, 1, 2)
    assert (ActionItem.objects.count(), Assessment.objects.count(), Need.objects.count()) == (3, 3, 1)


# --- working groups and memberships ----------------------------------------------------------------


def test_group_cannot_close_before_it_was_established():
    assert_refused(WorkingGroup, "workinggroup_closed_after_established", **group_fields(closed_on=nov(16)))


def test_group_sector_must_be_a_known_one():
    assert_refused(WorkingGroup, "workinggroup_sector_valid", **group_fields(sector="space"))


def test_group_code_is_unique(group):
    # SQLite names the column (needs_workinggroup.code), PostgreSQL the index (..._code_key).
    assert_refused(WorkingGroup, "code", **group_fields(code=group.code))


def test_membership_cannot_end_before_it_starts(group):
    assert_refused(Membership, "membership_to_after_from", **membership_fields(group, to_on=nov(16)))


def test_membership_role_must_be_a_known_one(group):
    assert_refused(Membership, "membership_role_valid", **membership_fields(group, role="secretary"))


# --- meetings and action items ------------------------------------------------------------------


def test_meeting_kind_must_be_a_known_one(group):
    fields = {"working_group": group, "held_on": nov(18), "title": "Party", "kind": "party"}
    assert_refused(Meeting, "meeting_kind_valid", **fields)


@pytest.mark.parametrize(
    ("status", "closed_on"),
    [("open", nov(19)), ("done", None), ("dropped", None), ("pending", None), ("pending", nov(19))],
    ids=["open-with-date", "done-without-date", "dropped-without-date", "unknown", "unknown-with-date"],
)
def test_action_item_has_a_closing_date_exactly_when_closed(meeting, status, closed_on):
    fields = action_fields(meeting, status=status, closed_on=closed_on)
    assert_refused(ActionItem, "actionitem_closed_iff_not_open", **fields)


# --- assessments and needs ------------------------------------------------------------------------


@pytest.mark.parametrize("severity", [0, 6])
def test_severity_runs_from_1_to_5(severity):
    assert_refused(Assessment, "assessment_severity_1_to_5", **assessment_fields(severity=severity))


def test_assessment_sector_must_be_a_known_one():
    assert_refused(Assessment, "assessment_sector_valid", **assessment_fields(sector="space"))


def test_assessment_condition_must_be_a_known_one():
    assert_refused(Assessment, "assessment_condition_valid", **assessment_fields(condition="fine"))


def test_people_affected_cannot_be_negative():
    # A positive integer field: SQLite quotes the column in its message, PostgreSQL names the check.
    assert_refused(Assessment, "people_affected", **assessment_fields(people_affected=-1))


def test_submission_key_is_unique():
    key = uuid.uuid4()
    Assessment.objects.create(**assessment_fields(submission_key=key))
    assert_refused(Assessment, "submission_key", **assessment_fields(submission_key=key))


@pytest.mark.parametrize("quantity", ["0", "-0.001", "-5"])
def test_need_quantity_must_be_positive(assessment, quantity):
    assert_refused(Need, "need_quantity_positive", **need_fields(assessment, quantity=Decimal(quantity)))


def test_need_priority_must_be_a_known_one(assessment):
    assert_refused(Need, "need_priority_valid", **need_fields(assessment, priority="urgent"))


def test_need_status_must_be_a_known_one(assessment):
    assert_refused(Need, "need_status_valid", **need_fields(assessment, status="met"))
