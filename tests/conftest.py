"""Shared fixtures: named users per role, reference data, and the services switch."""

import os
import tempfile

import pytest
from django.utils import translation

from aidtrack import roles

from .factories import CargoTypeFactory, LocationFactory, OrganisationFactory, UserFactory
from .needs.scenario import cargo, places  # noqa: F401 (fixtures of the coverage scenarios; a module's own win)

FAST_PASSWORD_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On SQLite, test in a file rather than in memory. The browser tests' live server answers in
    several threads (a dashboard fetches its charts at once), and threads sharing the one in-memory
    connection can hang each other; with a file each thread has its own connection."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        name = os.path.join(tempfile.gettempdir(), f"aidtrack-test-{os.getpid()}.sqlite3")
        database.setdefault("TEST", {})["NAME"] = name


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


@pytest.fixture
def two_regions(db):
    """Two regions with a settlement each, and a depot outside them (the origin of bulk_delivered)."""
    north = LocationFactory(code="N", name="North", level="region")
    south = LocationFactory(code="S", name="South", level="region")
    return {
        "north": north,
        "south": south,
        "n1": LocationFactory(code="N-1", name="Northtown", level="settlement", parent=north),
        "s1": LocationFactory(code="S-1", name="Southtown", level="settlement", parent=south),
        "depot": LocationFactory(code="DEPOT", name="Depot", level="site"),
    }


@pytest.fixture(autouse=True)
def english_unless_asked(settings):
    """Each test starts in the default language: a request in Russian leaves Russian active in the
    thread (LocaleMiddleware activates it, nothing deactivates it), and messages built later follow."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()
