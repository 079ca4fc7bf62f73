"""The REST API's plumbing: partner keys, permissions, the rate limit, pagination, errors, idempotency.

REST_FRAMEWORK settings name the classes here, and DRF imports them while it defines `APIView`, so this
module must never import `rest_framework.views` or `rest_framework.generics` at the top (a circular
import). The API views of the core reference data live in `aidtrack.api_views`.
"""

import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, pagination, permissions, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from . import roles
from .models import IdempotencyKey, Organisation, OrganisationAPIKey

KEYWORD = "Api-Key"
# --- Partner keys ------------------------------------------------------------------------------


class PartnerClient:
    """The caller of a request made with a partner API key: an organisation, not a person.

    It stands in for `request.user`; it has no roles (`roles.user_roles` is empty) and no database row.
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_partner = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, organisation: Organisation, api_key: OrganisationAPIKey):
        self.organisation = organisation
        self.organisation_id = organisation.pk
        self.api_key = api_key
        self.username = f"partner:{organisation.code}"

    def __str__(self) -> str:
        return f"{self.organisation} ({self.api_key.name})"

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def has_perms(self, perm_list, obj=None) -> bool:
        return False

    def has_module_perms(self, app_label) -> bool:
        return False


def is_partner(user) -> bool:
    return getattr(user, "is_partner", False)


class PartnerKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>`: a partner organisation's key (see `OrganisationAPIKey`)."""

    def authenticate(self, request):
        keyword, _space, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None  # no key: let the next authentication (the staff session) try
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed(_("Give the API key after 'Api-Key '."))
        prefix = key.partition(".")[0]
        api_key = OrganisationAPIKey.objects.select_related("organisation").filter(prefix=prefix).first()
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed(_("Unknown API key."))
        if api_key.revoked:
            raise exceptions.AuthenticationFailed(_("This API key has been revoked."))
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed(_("This API key has expired."))
        return PartnerClient(api_key.organisation, api_key), api_key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return KEYWORD


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    """Declares the Api-Key scheme in the OpenAPI schema."""

    target_class = "aidtrack.api.PartnerKeyAuthentication"
    name = "partnerKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A partner organisation's key, sent as `Api-Key <key>`.",
        }

    def get_security_requirement(self, auto_schema):
        # Offer the key only where it is accepted: views whose permissions admit partners, when reading.
        view = auto_schema.view
        admits = any(getattr(permission, "admits_partners", False) for permission in view.get_permissions())
        return {self.name: []} if admits and auto_schema.method in permissions.SAFE_METHODS else None


# --- Permissions -------------------------------------------------------------------------------


is_staff_member = roles.is_staff_member


class IsStaff(permissions.BasePermission):
    """Logistics officers, coordinators and administrators (browser session); never a partner key."""

    def has_permission(self, request, view) -> bool:
        return is_staff_member(request.user)


class IsStaffOrPartnerReadOnly(permissions.BasePermission):
    """Staff; or a partner key reading (GET, HEAD, OPTIONS)."""

    admits_partners = True  # the schema offers the Api-Key scheme on these views (PartnerKeyScheme)

    def has_permission(self, request, view) -> bool:
        if is_partner(request.user):
            return request.method in permissions.SAFE_METHODS
        return is_staff_member(request.user)


# --- Rate limit --------------------------------------------------------------------------------


class PartnerKeyRateThrottle(SimpleRateThrottle):
    """`PARTNER_API_RATE` requests per partner key; staff are not limited. Counted in the cache."""

    scope = "partner"

    def get_rate(self) -> str:
        # Read at each request (not once at import) so the setting can be changed in tests.
        return settings.PARTNER_API_RATE

    def get_cache_key(self, request, view) -> str | None:
        if not is_partner(request.user):
            return None
        return self.cache_key_for(request.auth)

    @classmethod
    def cache_key_for(cls, api_key: OrganisationAPIKey) -> str:
        # The prefix identifies the key as well as its id does, without putting the key's hash in the cache.
        return cls.cache_format % {"scope": cls.scope, "ident": api_key.prefix}


def positive_int(value: str) -> int | None:
    """`value` as a whole number from 1 (ASCII digits only: "²".isdigit() is true, int("²") fails)."""
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        return None
    return int(value)


class CodeField(serializers.SlugRelatedField):
    """A related object named by its `code` (the API never shows ids)."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:  # PostgreSQL refuses NUL in a query: no code has it
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


# --- Pagination --------------------------------------------------------------------------------


class PageNumberPagination(pagination.PageNumberPagination):
    """`page` (from 1) and `page_size` (default 100, at most 1000); a bad value is a 400 naming it."""

    page_size = 100
    page_size_query_param = "page_size"
    page_query_description = _("A page number (from 1).")
    page_size_query_description = _("Results per page: 100 unless given, at most 1000.")
    max_page_size = 1000

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        size = positive_int(raw)
        if size is None:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("Give a whole number, 1 or more (at most 1000 are returned).")]}
            )
        return min(size, self.max_page_size)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        answer = super().get_paginated_response_schema(schema)
        answer["required"] = ["count", "next", "previous", "results"]  # next and previous: null, never left out
        return answer

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw not in (None, "", *self.last_page_strings) and positive_int(raw) is None:
            raise exceptions.ValidationError({self.page_query_param: [_("Give a page number (1, 2, ...).")]})
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound:
            raise exceptions.ValidationError({self.page_query_param: [_("There is no such page.")]}) from None


# --- Errors ------------------------------------------------------------------------------------


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The object changed since you read it.")
    default_code = "conflict"


class UnprocessableEntity(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("The request cannot be processed.")
    default_code = "unprocessable"


def validation_detail(error: DjangoValidationError) -> dict:
    """A Django ValidationError as a DRF error body (`__all__` becomes `non_field_errors`)."""
    if not hasattr(error, "error_dict"):
        return {"non_field_errors": error.messages}
    return {("non_field_errors" if key == "__all__" else key): messages for key, messages in error.message_dict.items()}


def exception_handler(exc, context):
    """DRF's handler, plus: a Django ValidationError (a bad value reaching a query or service) is a 400."""
    from rest_framework.views import exception_handler as drf_exception_handler  # see the module docstring

    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_detail(exc))
    return drf_exception_handler(exc, context)


# --- Idempotent POST ---------------------------------------------------------------------------

IDEMPOTENCY_HEADER = "Idempotency-Key"


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotencyKey, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise UnprocessableEntity(_("This Idempotency-Key was already used with a different request."))
    return Response(record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"})


def idempotent(request, create: Callable[[], Response]) -> Response:
    """Run `create` once per `Idempotency-Key` of the user; a repeat gets the first (successful) response.

    The key is stored in the transaction that creates the object: a concurrent repeat waits on the unique
    constraint and then replays. A failed attempt stores nothing, so it can be corrected and retried.
    """
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return create()
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise exceptions.ValidationError({IDEMPOTENCY_HEADER: [_("Give 1 to 255 printable ASCII characters.")]})
    fingerprint = _fingerprint(request)
    record = IdempotencyKey.objects.filter(user=request.user, key=key).first()
    if record is not None:
        return _replay(record, fingerprint)
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(
                user=request.user, key=key, fingerprint=fingerprint, response_status=0, response_body={}
            )
            response = create()
            if not status.is_success(response.status_code):
                transaction.set_rollback(True)
                return response
            record.response_status, record.response_body = response.status_code, response.data
            record.save(update_fields=["response_status", "response_body"])
    except IntegrityError:
        # The same key, sent at the same moment, won the race: answer as it did.
        record = IdempotencyKey.objects.filter(user=request.user, key=key).first()
        if record is None:
            raise
        return _replay(record, fingerprint)
    return response
