"""Every JSON answer of the API has exactly the properties its OpenAPI schema describes.

The operations come from the generated schema itself: every GET that answers JSON is tested, so a new
endpoint is tested as soon as it is routed (and fails here until this module knows how to name its records
in the path, `PATH_PARAMETERS`, and, if it groups, which groups it has, `GROUP_BY`).

For each operation the test makes real requests (the demo data, plus receipts: partly received with damage,
corrected) and walks each answer against the schema, recursively through nested objects and list items:
- an answer's object has no property the schema does not describe, and every property it marks required;
- each value is of the described type (string, date, integer, ..., one of the enum), null only if nullable;
- every object is described by its properties (a free-form `{}` documents nothing);
- across the requests of an operation, every described property is answered at least once, and every
  described list and object at least once not empty (or null): the answers really exercise all of the schema.
Schemathesis (test_schemathesis.py) checks answers against the schema too, but allows undescribed properties.
"""

import datetime
import io
import re
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from needs.models import Assessment, Meeting, Need, WorkingGroup
from needs.summaries import SUMMARIES
from shipments import services, totals
from shipments.models import Receipt, Shipment
from shipments.totals.selectors import DIMENSIONS, PERIODS
from shipments.totals.selectors import GROUPS as TOTALS_GROUPS
from tests.factories import UserFactory

from . import session_client

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
COMPONENTS = SCHEMA["components"]["schemas"]
JSON = "application/json"
READ_OPERATIONS = sorted(
    path
    for path, operations in SCHEMA["paths"].items()
    if JSON in operations.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
)


# --- How to call each operation ----------------------------------------------------------------


def _receipt() -> Receipt:
    """A corrected receipt with a damaged line (made by `data`)."""
    return Receipt.objects.exclude(correction_reason="").filter(lines__condition="damaged").order_by("pk").first()


def _rich_meeting() -> Meeting:
    return Meeting.objects.filter(actions__isnull=False, organisations__isnull=False).order_by("pk").first()


# The path parameters of each operation that has some: records with everything their answer can show.
PATH_PARAMETERS: dict[str, Callable[[], dict]] = {
    "/api/v1/shipments/{reference}/": lambda: {"reference": _receipt().shipment.reference},
    "/api/v1/shipments/{reference}/receipts/{id}/": lambda: {
        "reference": _receipt().shipment.reference,
        "id": _receipt().pk,
    },
    "/api/v1/needs/{id}/": lambda: {"id": Need.objects.filter(status="open").order_by("pk").first().pk},
    "/api/v1/assessments/{id}/": lambda: {
        "id": Assessment.objects.filter(needs__status="open").order_by("pk").first().pk
    },
    "/api/v1/working-groups/{code}/": lambda: {
        "code": WorkingGroup.objects.filter(memberships__isnull=False).order_by("pk").first().code
    },
    "/api/v1/meetings/{id}/": lambda: {"id": _rich_meeting().pk},
}


def _variants(groups) -> list[str]:
    """Each group alone, and all of them together: every key of a result row shows up."""
    return [*groups, ",".join(groups)]


# The groups of each operation that takes `group_by`, read from the code that groups (never copied here).
GROUP_BY: dict[str, list[str]] = {
    # One period at most per request: each group alone, and all dimensions with each period.
    "/api/v1/totals/": [*TOTALS_GROUPS, *(",".join([*DIMENSIONS, period]) for period in PERIODS)],
    **{f"/api/v1/{name}/summary/": _variants(list(summary.groups)) for name, summary in SUMMARIES.items()},
}


def requests_for(path: str) -> list[str]:
    operation = SCHEMA["paths"][path]["get"]
    in_path = re.findall(r"\{(\w+)\}", path)
    url = path
    if in_path:
        assert path in PATH_PARAMETERS, f"{path}: add the records to name in its path to PATH_PARAMETERS"
        values = PATH_PARAMETERS[path]()
        assert set(values) == set(in_path), (path, values)
        url = path.format(**values)
    queries = [""]
    if any(parameter["name"] == "group_by" for parameter in operation.get("parameters", [])):
        assert path in GROUP_BY, f"{path} groups: list its groups in GROUP_BY"
        queries = [f"?group_by={groups}" for groups in GROUP_BY[path]]
    return [url + query for query in queries]


# --- The walk of an answer against its schema --------------------------------------------------


def resolve(schema: dict) -> dict:
    """The schema with its $ref followed and its allOf merged (outer keywords win)."""
    while "$ref" in schema:
        target = COMPONENTS[schema["$ref"].removeprefix("#/components/schemas/")]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    if "allOf" in schema:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in map(resolve, schema["allOf"]):
            for key, value in part.items():
                if key == "properties":
                    merged["properties"] = {**value, **merged.get("properties", {})}
                elif key == "required":
                    merged["required"] = [*merged.get("required", []), *value]
                else:
                    merged.setdefault(key, value)
        schema = merged
    return schema


def _is_date(value: str) -> bool:
    try:
        return len(value) == 10 and bool(datetime.date.fromisoformat(value))
    except ValueError:
        return False


def _is_datetime(value: str) -> bool:
    try:
        return "T" in value and bool(datetime.datetime.fromisoformat(value))
    except ValueError:
        return False


PRIMITIVES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}
FORMATS = {"date": _is_date, "date-time": _is_datetime, "decimal": lambda v: Decimal(v).is_finite()}


class Walk:
    """The mismatches of the answers of one operation, and what of its schema they showed."""

    def __init__(self):
        self.errors: list[str] = []
        self.described: dict[str, set[str]] = defaultdict(set)  # where -> properties of the object there
        self.answered: set[tuple[str, str]] = set()  # (where, property) answered at least once
        self.containers: set[str] = set()  # where a list or an object is described
        self.filled: set[str] = set()  # ... and answered not empty (nor null) at least once

    def check(self, value, schema: dict, where: str) -> None:
        schema = resolve(schema)
        for keyword in ("oneOf", "anyOf"):
            if keyword in schema:
                return self._one_of(value, schema, keyword, where)
        if value is None:
            if not schema.get("nullable") and None not in schema.get("enum", []):
                self.errors.append(f"{where}: null, but the schema does not allow null")
            if schema.get("type") in ("object", "array") or "properties" in schema:
                self.containers.add(where)
            return
        if "enum" in schema and value not in schema["enum"]:
            self.errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
        kind = schema.get("type", "object" if "properties" in schema else None)
        if kind is None and "enum" in schema:
            return  # an enum without a type (BlankEnum, NullEnum): its values are its type
        if kind == "object":
            return self._object(value, schema, where)
        if kind == "array":
            return self._array(value, schema, where)
        if kind not in PRIMITIVES:
            self.errors.append(f"{where}: the schema gives no type ({schema})")
        elif not PRIMITIVES[kind](value):
            self.errors.append(f"{where}: {value!r} is not of type {kind}")
        elif kind == "string" and schema.get("format") in FORMATS and not FORMATS[schema["format"]](value):
            self.errors.append(f"{where}: {value!r} is not a {schema['format']}")
        elif kind == "string" and "pattern" in schema and not re.search(schema["pattern"], value):
            self.errors.append(f"{where}: {value!r} does not match {schema['pattern']}")

    def _object(self, value, schema: dict, where: str) -> None:
        self.containers.add(where)
        if not isinstance(value, dict):
            self.errors.append(f"{where}: {value!r} is not an object")
            return
        properties = schema.get("properties")
        if not properties:
            self.errors.append(f"{where}: a free-form object in the schema; describe its properties {sorted(value)}")
            return
        self.described[where] |= set(properties)
        if value:
            self.filled.add(where)
        for name in sorted(value.keys() - properties.keys()):
            self.errors.append(f"{where}.{name}: answered, but not in the schema")
        for name in sorted(set(schema.get("required", [])) - value.keys()):
            self.errors.append(f"{where}.{name}: required by the schema, but not answered")
        for name in sorted(value.keys() & properties.keys()):
            self.answered.add((where, name))
            self.check(value[name], properties[name], f"{where}.{name}")

    def _array(self, value, schema: dict, where: str) -> None:
        self.containers.add(where)
        if not isinstance(value, list):
            self.errors.append(f"{where}: {value!r} is not a list")
            return
        if value:
            self.filled.add(where)
        for item in value:
            self.check(item, schema.get("items", {}), f"{where}[]")

    def _one_of(self, value, schema: dict, keyword: str, where: str) -> None:
        """The value matches one of the options (enum or blank or null, mostly): the first that fits counts."""
        outer = {k: v for k, v in schema.items() if k != keyword}
        tries = []
        for option in schema[keyword]:
            walk = Walk()
            walk.check(value, {**outer, **resolve(option)}, where)
            if not walk.errors:
                self.described.update({k: self.described[k] | v for k, v in walk.described.items()})
                self.answered |= walk.answered
                self.containers |= walk.containers
                self.filled |= walk.filled
                return
            tries.append(walk.errors)
        self.errors.append(f"{where}: {value!r} matches none of the {keyword} options: {min(tries, key=len)}")

    def unexercised(self) -> list[str]:
        never = [
            f"{where}.{name}: described, but never answered"
            for where, names in self.described.items()
            for name in sorted(names)
            if (where, name) not in self.answered
        ]
        return never + sorted(
            f"{where}: always empty or null; add data so its contents are checked"
            for where in self.containers - self.filled
        )


def schema_mismatches(client, path: str) -> list[str]:
    """Every mismatch between the answers to `path`'s requests and its schema."""
    schema = SCHEMA["paths"][path]["get"]["responses"]["200"]["content"][JSON]["schema"]
    walk = Walk()
    for url in requests_for(path):
        response = client.get(url, HTTP_ACCEPT=JSON)
        assert response.status_code == 200, (url, response.content[:500])
        before = len(walk.errors)
        walk.check(response.json(), schema, "answer")
        # Once per request (each row of a list would repeat it).
        walk.errors[before:] = [f"GET {url}: {error}" for error in dict.fromkeys(walk.errors[before:])]
    return walk.errors + [f"GET {path}: {problem}" for problem in walk.unexercised()]


# --- Data and tests ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data(django_db_setup, django_db_blocker):
    """The demo, plus receipts the demo lacks (partly received, damaged, corrected); loaded once, rolled back."""
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(DEBUG=True, PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            call_command("load_demo", stdout=io.StringIO())
            shipment = Shipment.objects.filter(status="in_transit").order_by("pk").first()
            by = UserFactory(organisation=shipment.consignor, role="administrator")
            first, *others = shipment.lines.order_by("pk")
            received_on = max(shipment.dispatched_on, timezone.localdate() - datetime.timedelta(days=1))
            receipt = services.receipt_create(
                by=by,
                shipment_id=shipment.pk,
                received_on=received_on,
                lines=[services.ReceiptInput(first.pk, Decimal(1), Decimal("0.5"))],
            )
            damaged = [
                services.ReceiptInput(first.pk, Decimal(2), Decimal(1), condition="damaged", damage_reason="Wet"),
                *(services.ReceiptInput(line.pk, Decimal(1), Decimal("0.1")) for line in others),
            ]
            services.receipt_correct(
                by=by, receipt_id=receipt.pk, received_on=received_on, lines=damaged, reason="Recounted"
            )
            totals.refresh()  # the receipts' days (queued after a commit, which this transaction never makes)
        yield by
        transaction.set_rollback(True)


def test_every_json_read_of_the_api_is_tested():
    """The operations come from the schema: the list cannot miss one (and a few must be there)."""
    expected = {
        "/api/v1/totals/",
        "/api/v1/coverage/",
        "/api/v1/needs/summary/",
        "/api/v1/shipments/",
        "/api/v1/shipments/{reference}/",
        "/api/v1/shipments/{reference}/receipts/{id}/",
        "/api/v1/locations/",
        "/api/v1/working-groups/{code}/",
    }
    assert expected <= set(READ_OPERATIONS)
    assert len(READ_OPERATIONS) >= 20


@pytest.mark.parametrize("path", READ_OPERATIONS)
def test_answers_match_the_schema(path, data, db, settings):
    settings.PARTNER_API_RATE = "100000/min"
    mismatches = schema_mismatches(session_client(data), path)
    assert not mismatches, "\n".join(mismatches)
