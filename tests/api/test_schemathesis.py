"""Schemathesis against the app's own OpenAPI schema: with a partner key, and with staff sessions.

The schema is read from /api/v1/schema/, and every request goes through the project's WSGI app in the
test thread (no server, no network) and inside the test's transaction, so what a POST or PATCH writes
is rolled back after each test. The demo response is loaded once for the module: lists return rows, and
the generated path parameters, filters and bodies name existing shipments, records, codes and places part
of the time.

Callers: a partner key (every GET operation), an administrator's and an officer's session (every
operation). Checks: no server error, and status code, content type and body as documented.
"""

import datetime
import io

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.test import Client, override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from aidtrack.models import Location, Organisation, User
from aidtrack.wsgi import application
from needs.models import Assessment, Meeting, Need, WorkingGroup
from shipments.models import CargoLine, CargoType, Receipt, Shipment

from . import issue_key

# Deterministic for CI, and few enough examples for the module to stay fast on 2 cores.
EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    # The data and the credentials are set up once per test (per operation), not per example: intended.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
CONFORMS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


def _codes(queryset) -> list[str]:
    return list(queryset.order_by("code").values_list("code", flat=True))


def _existing_path_values(path: str, name: str) -> list[list]:
    """Lists of values of the path parameter `name` that name existing records (each tried part of the time)."""
    if name == "reference":  # a shipment still open to changes, or any
        shipments = Shipment.objects.order_by("reference")
        return [
            list(shipments.filter(status__in=["planned", "in_transit"]).values_list("reference", flat=True)),
            list(shipments.values_list("reference", flat=True)),
        ]
    by_id = {"needs": Need, "assessments": Assessment, "meetings": Meeting, "receipts": Receipt}
    collection = path.strip("/").split("/")[-2]
    if name == "id" and collection in by_id:
        return [list(by_id[collection].objects.order_by("pk").values_list("pk", flat=True))]
    if name == "code" and collection == "working-groups":
        return [_codes(WorkingGroup.objects)]
    return []


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Each path parameter: as generated, or an existing record's (shipment reference, record id or code)."""
    strategy = st.just(path_parameters)
    for name in path_parameters or {}:
        existing = [values for values in _existing_path_values(context.operation.path, name) if values]
        strategy = strategy.flatmap(
            lambda params, name=name, existing=existing: st.one_of(
                st.just(params),
                *(st.sampled_from(values).map(lambda value, name=name: {**params, name: value}) for values in existing),
            )
        )
    return strategy


# Query parameters that name a record by its code, and where to find existing codes.
QUERY_CODES = {
    "location": lambda: _codes(Location.objects),
    "destination": lambda: _codes(Location.objects),
    "cargo_type": lambda: _codes(CargoType.objects),
    "working_group": lambda: _codes(WorkingGroup.objects),
}


@schema.hook
def flatmap_query(context, query):
    """Query codes (location, cargo type, working group): as generated, or existing ones, so filters find rows."""
    names = sorted(QUERY_CODES.keys() & (query or {}).keys())
    if not names:
        return st.just(query)
    real = st.fixed_dictionaries({name: st.sampled_from(QUERY_CODES[name]()) for name in names})
    return st.one_of(st.just(query), real.map(lambda codes: {**query, **codes}))


CODE_FIELDS = {"consignor", "consignee", "origin", "destination"}
DATE_FIELDS = ["dispatched_on", "expected_on", "delivered_on"]
AMOUNT = st.decimals(min_value="0.001", max_value="99999", places=3).map(str)


def _receipt_body(body: dict):
    """A receipt body: as generated, or made plausible (lines of open shipments, amounts above 0, recent dates)."""
    open_lines = CargoLine.objects.filter(shipment__status__in=["in_transit", "partly_received"]).order_by("pk")
    fields = {
        "received_on": st.dates(datetime.date(2020, 1, 1), datetime.date(2024, 12, 31)).map(str),
        "lines": st.lists(
            st.fixed_dictionaries(
                {
                    "line": st.sampled_from(list(open_lines.values_list("pk", flat=True))),
                    "received_quantity": AMOUNT,
                    "received_tonnes": AMOUNT,
                }
            ),
            min_size=1,
            max_size=3,
        ),
    }
    plausible = st.fixed_dictionaries({name: fields[name] for name in sorted(body.keys() & fields.keys())})
    return st.one_of(st.just(body), plausible.map(lambda real: {**body, **real}))


@schema.hook
def flatmap_body(context, body):
    """A shipment body: as generated, or made plausible (existing codes, amounts above 0, recent dates)."""
    if isinstance(body, dict) and "/receipts/" in context.operation.path:
        return _receipt_body(body)
    if not isinstance(body, dict) or not (CODE_FIELDS | {"lines"}) & body.keys():
        return st.just(body)
    staff_organisations = Organisation.objects.filter(users__isnull=False).distinct()
    fields = {
        # Half the time the staff's own organisation: officers log only what it sends.
        "consignor": st.one_of(
            st.sampled_from(_codes(staff_organisations)), st.sampled_from(_codes(Organisation.objects))
        ),
        "consignee": st.sampled_from(_codes(Organisation.objects)),
        "origin": st.sampled_from(_codes(Location.objects)),
        "destination": st.sampled_from(_codes(Location.objects)),
        **{
            name: st.one_of(st.none(), st.dates(datetime.date(2020, 1, 1), datetime.date(2024, 12, 31)).map(str))
            for name in DATE_FIELDS
        },
        "lines": st.lists(
            st.fixed_dictionaries(
                {"cargo_type": st.sampled_from(_codes(CargoType.objects)), "quantity": AMOUNT, "tonnes": AMOUNT}
            ),
            min_size=1,
            max_size=3,
        ),
    }
    plausible = st.fixed_dictionaries({name: fields[name] for name in sorted(body.keys() & fields.keys())})
    # A plausible change is made against the current version (a generated `version` is almost always stale).
    rest = {name: value for name, value in body.items() if name != "version"}
    return st.one_of(st.just(body), plausible.map(lambda real: {**rest, **real}))


# --- Fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_response(django_db_setup, django_db_blocker):
    """The demo response and its users, loaded once: each test runs in a savepoint inside this transaction."""
    with django_db_blocker.unblock(), transaction.atomic():
        # The demo users (officer, admin) are made with DEBUG only; MD5 as in tests/conftest.py, but for the module.
        with override_settings(DEBUG=True, PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            call_command("load_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def in_process(demo_response, db, settings):
    """Requests run in the test thread and its transaction: like Django's test client, keep the connection."""
    settings.PARTNER_API_RATE = "100000/min"  # the rate limit has tests of its own; here it would answer 429
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def session_credentials(username: str) -> dict:
    """What a logged-in browser sends: the session cookie, and the CSRF cookie and header (for writes)."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    request = HttpRequest()
    token = get_token(request)
    cookies = {
        django_settings.SESSION_COOKIE_NAME: client.cookies[django_settings.SESSION_COOKIE_NAME].value,
        django_settings.CSRF_COOKIE_NAME: request.META["CSRF_COOKIE"],
    }
    return {"cookies": cookies, "headers": {"X-CSRFToken": token}}


@pytest.fixture
def partner_key() -> dict:
    """A partner agency's key (partners only read: every GET operation is tried with it)."""
    key = issue_key(Organisation.objects.get(code="unhcr"))
    return {"headers": {"Authorization": f"Api-Key {key}"}}


@pytest.fixture
def administrator_session() -> dict:
    return session_credentials("admin")


@pytest.fixture
def officer_session() -> dict:
    """A logistics officer of ru-emercom, the consignor of the demo shipments."""
    return session_credentials("officer")


# --- Tests -------------------------------------------------------------------------------------------


def check(case, credentials: dict) -> None:
    case.validate_response(case.call(**credentials), checks=CONFORMS)


@schema.include(method="GET").parametrize()
@EXAMPLES
def test_partner_key(case, partner_key):
    check(case, partner_key)


@schema.parametrize()
@EXAMPLES
def test_administrator_session(case, administrator_session):
    check(case, administrator_session)


@schema.parametrize()
@EXAMPLES
def test_officer_session(case, officer_session):
    check(case, officer_session)
