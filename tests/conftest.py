"""Shared fixtures: named users per role, reference data, and the services switch."""

import pytest

from aidtrack import roles

from .factories import CargoTypeFactory, LocationFactory, OrganisationFactory, UserFactory


@pytest.fixture
def ministry(db):
    return OrganisationFactory(code="ministry", name="Emergencies ministry", short_name="EM")


@pytest.fixture
def partner_org(db):
    return OrganisationFactory(code="partner", name="Partner agency", short_name="PA")


@pytest.fixture
def officer(ministry):
    return UserFactory(username="officer", organisation=ministry, role=roles.LOGISTICS_OFFICER)


@pytest.fixture
def other_officer(partner_org):
    return UserFactory(username="other_officer", organisation=partner_org, role=roles.LOGISTICS_OFFICER)


@pytest.fixture
def coordinator(ministry):
    return UserFactory(username="coordinator", organisation=ministry, role=roles.COORDINATOR)


@pytest.fixture
def administrator(ministry):
    return UserFactory(username="administrator", organisation=ministry, role=roles.ADMINISTRATOR, is_staff=True)


@pytest.fixture
def region(db):
    return LocationFactory(code="R1", name="Region One", level="region")


@pytest.fixture
def cargo_type(db):
    return CargoTypeFactory(code="stove", name="Stoves", unit="pcs")
