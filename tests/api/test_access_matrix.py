"""Who gets what from every API endpoint: one row per endpoint and method, the exact status per caller.

To add an endpoint: add its path to aidtrack/api_urls.py and a row to ACCESS_MATRIX (with one of the
expectation sets below, or a new one); `test_every_api_endpoint_is_in_the_matrix` fails until you do.
A `{shipment}` in a path is the reference of a planned shipment sent by the officer's organisation,
`{in_transit}` that of one in transit with a receipt, `{receipt}`; `{need}`, `{assessment}`, `{working_group}`
and `{meeting}` name the records of `world` below. A row's `body` is made from `world`.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.urls import URLPattern, get_resolver
from rest_framework.test import APIClient

from aidtrack import api_urls
from needs import services as needs_services
from shipments import services as shipment_services
from tests.factories import LocationFactory, make_shipment

from . import issue_key, key_client, session_client, shipment_body

pytestmark = pytest.mark.django_db

CALLERS = ["anonymous", "officer", "coordinator", "administrator", "partner", "revoked_key", "expired_key"]

# Reference data: staff and partner keys read it.
READ_BY_STAFF_AND_PARTNERS = {
    "anonymous": 401,
    "officer": 200,
    "coordinator": 200,
    "administrator": 200,
    "partner": 200,
    "revoked_key": 401,
    "expired_key": 401,
}
# Shipment records: staff only; a partner key is known but not allowed.
READ_BY_STAFF = {**READ_BY_STAFF_AND_PARTNERS, "partner": 403}
# Logging a shipment: officers (for their organisation) and administrators.
LOG_SHIPMENT = {**READ_BY_STAFF, "officer": 201, "coordinator": 403, "administrator": 201}
# Changing a shipment: the consignor's officers and administrators.
CHANGE_SHIPMENT = {**READ_BY_STAFF, "coordinator": 403}
# Recording a receipt: as changing its shipment.
RECORD_RECEIPT = {**CHANGE_SHIPMENT, "officer": 201, "administrator": 201}
# The API of needs is read-only: a write is refused (405 for staff; 403 for a partner key, which only reads).
WRITE_TO_READ_ONLY = {**READ_BY_STAFF, "officer": 405, "coordinator": 405, "administrator": 405}
# The schema and its docs describe the API, not its data: no key or login needed (and a bad key is ignored).
OPEN_TO_ALL = dict.fromkeys(CALLERS, 200)


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: dict[str, int]
    body: Callable[[dict], dict] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ACCESS_MATRIX = [
    Row("GET", "/api/v1/cargo-types/", READ_BY_STAFF_AND_PARTNERS),
    Row("GET", "/api/v1/locations/", READ_BY_STAFF_AND_PARTNERS),
    Row("GET", "/api/v1/organisations/", READ_BY_STAFF_AND_PARTNERS),
    Row("GET", "/api/v1/totals/", READ_BY_STAFF_AND_PARTNERS),
    Row("GET", "/api/v1/totals/?group_by=cargo_type,month&format=hxl", READ_BY_STAFF_AND_PARTNERS),
    Row("GET", "/api/v1/shipments/", READ_BY_STAFF),
    Row("POST", "/api/v1/shipments/", LOG_SHIPMENT, body=lambda world: shipment_body()),
    Row("GET", "/api/v1/shipments/{shipment}/", READ_BY_STAFF),
    Row("PATCH", "/api/v1/shipments/{shipment}/", CHANGE_SHIPMENT, body=lambda world: {"notes": "Checked."}),
    Row(
        "POST",
        "/api/v1/shipments/{in_transit}/receipts/",
        RECORD_RECEIPT,
        body=lambda world: {
            "received_on": "2020-11-18",
            "lines": [{"line": world["line"], "received_quantity": "1", "received_tonnes": "0.1"}],
        },
    ),
    Row("GET", "/api/v1/shipments/{in_transit}/receipts/{receipt}/", READ_BY_STAFF),
    Row(
        "POST",
        "/api/v1/shipments/{in_transit}/close/",
        CHANGE_SHIPMENT,
        body=lambda world: {"closed_on": "2020-11-18", "shortfalls": [{"line": world["line"], "loss_reason": "lost"}]},
    ),
    Row(
        "PATCH",
        "/api/v1/shipments/{in_transit}/receipts/{receipt}/",
        CHANGE_SHIPMENT,
        body=lambda world: {"version": 1, "reason": "Recount", "note": "Checked."},
    ),
    # Coverage and needs: staff and partner keys. Assessments and working-group records: staff only.
    Row("GET", "/api/v1/coverage/", READ_BY_STAFF_AND_PARTNERS),
    Row("GET", "/api/v1/coverage/?state=partial&format=hxl", READ_BY_STAFF_AND_PARTNERS),
    Row("POST", "/api/v1/coverage/", WRITE_TO_READ_ONLY, body=lambda world: {}),
    Row("GET", "/api/v1/needs/", READ_BY_STAFF_AND_PARTNERS),
    Row("GET", "/api/v1/needs/{need}/", READ_BY_STAFF_AND_PARTNERS),
    Row("POST", "/api/v1/needs/", WRITE_TO_READ_ONLY, body=lambda world: {}),
    # Counts for the dashboards: the needs summary as needs, the others as the records they count.
    Row("GET", "/api/v1/needs/summary/", READ_BY_STAFF_AND_PARTNERS),
    Row("GET", "/api/v1/needs/summary/?group_by=cargo_type&format=hxl", READ_BY_STAFF_AND_PARTNERS),
    Row("GET", "/api/v1/assessments/summary/", READ_BY_STAFF),
    Row("GET", "/api/v1/meetings/summary/", READ_BY_STAFF),
    Row("GET", "/api/v1/action-items/summary/?group_by=owner&format=csv", READ_BY_STAFF),
    Row("GET", "/api/v1/assessments/", READ_BY_STAFF),
    Row("GET", "/api/v1/assessments/{assessment}/", READ_BY_STAFF),
    Row("GET", "/api/v1/working-groups/", READ_BY_STAFF),
    Row("GET", "/api/v1/working-groups/{working_group}/", READ_BY_STAFF),
    Row("GET", "/api/v1/meetings/", READ_BY_STAFF),
    Row("GET", "/api/v1/meetings/{meeting}/", READ_BY_STAFF),
    Row("PATCH", "/api/v1/meetings/{meeting}/", WRITE_TO_READ_ONLY, body=lambda world: {"minutes": "Changed."}),
    Row("GET", "/api/v1/schema/", OPEN_TO_ALL),
    Row("GET", "/api/v1/docs/", OPEN_TO_ALL),
]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(officer, coordinator, ministry, partner_org, cargo_type):
    """What a row may need: the codes of shipment_body(), one shipment, and one record of each kind of the
    needs API (the users come per caller)."""
    LocationFactory(code="ORIG")
    destination = LocationFactory(code="DEST")
    day = datetime.date(2020, 11, 20)
    group = needs_services.working_group_create(
        by=coordinator,
        data=needs_services.WorkingGroupInput(name="Group", code="wg", lead_organisation=ministry, established_on=day),
    )
    assessment = needs_services.assessment_create(
        by=coordinator,
        data=needs_services.AssessmentInput(
            location=destination, sector="heating", assessed_on=day, condition="destroyed", severity=5,
            needs=[needs_services.NeedInput(cargo_type=cargo_type, quantity=Decimal(10))],
        ),
    )  # fmt: skip
    meeting = needs_services.meeting_create(
        by=coordinator, data=needs_services.MeetingInput(working_group=group, held_on=day, title="Meeting")
    )
    in_transit = make_shipment(by=officer, status="in_transit")
    line = in_transit.lines.get()
    receipt = shipment_services.receipt_create(
        by=officer,
        shipment_id=in_transit.pk,
        received_on=datetime.date(2020, 11, 17),
        lines=[shipment_services.ReceiptInput(line.pk, Decimal(1), Decimal("0.1"))],
    )
    return {
        "shipment": make_shipment(by=officer).reference,
        "in_transit": in_transit.reference,
        "line": line.pk,
        "receipt": receipt.pk,
        "need": assessment.needs.get().pk,
        "assessment": assessment.pk,
        "working_group": group.code,
        "meeting": meeting.pk,
    }


def client_for(caller: str, request, partner_org) -> APIClient:
    if caller == "anonymous":
        return APIClient()
    if caller == "partner":
        return key_client(issue_key(partner_org))
    if caller == "revoked_key":
        return key_client(issue_key(partner_org, revoked=True))
    if caller == "expired_key":
        return key_client(issue_key(partner_org, expired=True))
    return session_client(request.getfixturevalue(caller))


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("row", ACCESS_MATRIX, ids=str)
def test_access(row, caller, world, partner_org, request):
    client = client_for(caller, request, partner_org)
    path = row.path.format(**world)
    send = getattr(client, row.method.lower())
    response = send(path, row.body(world), format="json") if row.body else send(path)
    assert response.status_code == row.expect[caller], (caller, row, getattr(response, "data", response.content))
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == "Api-Key"


def test_every_row_names_every_caller():
    for row in ACCESS_MATRIX:
        assert set(row.expect) == set(CALLERS), row


def test_every_api_endpoint_is_in_the_matrix():
    """Each routed path (its parameters as {}) has a row, and each row's path is routed."""

    def shape(path: str) -> str:
        return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path.split("?")[0])

    in_matrix = {shape(row.path) for row in ACCESS_MATRIX}
    api_prefix = next(
        str(p.pattern) for p in get_resolver().url_patterns if getattr(p, "urlconf_name", None) is api_urls
    )
    routed = set()
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern), "list nested API urls here one by one"
        routed.add(shape("/" + api_prefix + str(pattern.pattern)))
    assert routed == in_matrix
