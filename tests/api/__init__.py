"""Tests of the REST API (/api/v1/). Helpers shared by the modules here."""

import datetime

from django.utils import timezone
from rest_framework.test import APIClient

from aidtrack.models import OrganisationAPIKey


def issue_key(organisation, *, revoked: bool = False, expired: bool = False, name: str = "test key") -> str:
    """A partner key of `organisation` (the plain key, as the partner holds it)."""
    expiry = timezone.now() - datetime.timedelta(days=1) if expired else None
    api_key, key = OrganisationAPIKey.objects.create_key(organisation=organisation, name=name, expiry_date=expiry)
    if revoked:
        api_key.revoked = True
        api_key.save()
    return key


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def session_client(user) -> APIClient:
    """A staff member's browser session (through SessionAuthentication, not force_authenticate)."""
    client = APIClient()
    client.force_login(user)
    return client


def shipment_body(*, consignor="ministry", consignee="partner", origin="ORIG", destination="DEST", lines=None, **extra):
    """A POST /api/v1/shipments/ body; the codes are those of the modules' fixtures."""
    return {
        "mode": "road",
        "consignor": consignor,
        "consignee": consignee,
        "origin": origin,
        "destination": destination,
        "transport_reference": "AB 123",
        "lines": lines if lines is not None else [{"cargo_type": "stove", "quantity": "200", "tonnes": "4.5"}],
        **extra,
    }
