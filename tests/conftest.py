"""Shared fixtures: named users per role, reference data, and the services switch."""

import pytest

from aidtrack import roles

from .factories import CargoTypeFactory, LocationFactory, OrganisationFactory, UserFactory

FAST_PASSWORD_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hash the passwords tests set with MD5: PBKDF2 (Django's default) takes about 0.2 s each.

    Only this process's settings change: a subprocess (manage.py, a Celery worker) keeps the project's
    hashers, and since they stay listed after MD5, the hashes such a process makes still check here.
    """
    settings.PASSWORD_HASHERS = [FAST_PASSWORD_HASHER, *settings.PASSWORD_HASHERS]


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
