"""The OpenAPI schema validates without warnings, and its docs page loads nothing from another host."""

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders

from tests.aidtrack.test_project import manage


def test_the_schema_validates_without_warnings(tmp_path: Path):
    target = tmp_path / "schema.yaml"
    result = manage("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    schema = yaml.safe_load(target.read_text())
    assert schema["components"]["securitySchemes"]["partnerKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "A partner organisation's key, sent as `Api-Key <key>`.",
    }
    # The key is offered where partners are let in (reading reference data), not on shipments.
    assert {"partnerKey": []} in schema["paths"]["/api/v1/locations/"]["get"]["security"]
    assert {"partnerKey": []} not in schema["paths"]["/api/v1/shipments/"]["get"]["security"]


@pytest.mark.django_db
def test_the_schema_is_served_to_anyone(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert "/api/v1/shipments/{reference}/" in yaml.safe_load(response.content)["paths"]


@pytest.mark.django_db
def test_the_docs_page_loads_only_local_files(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert any(url.endswith("swagger-ui-bundle.js") for url in urls), urls
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert not re.search(r"https?://", page), "the page names another host"
    for url in urls:  # each one a file the project serves (vendored by drf-spectacular-sidecar)
        assert url.startswith(settings.STATIC_URL) or url.startswith("/" + settings.STATIC_URL), url
        assert finders.find(url.split(settings.STATIC_URL, 1)[1]), url
