"""Shipments and the cargo catalogue over the API: input serializer, service, output serializer.

Shipments are for ministry staff only (partner keys get 403); the writes call the same services as the
pages, so every rule (who may log for which consignor, line checks, versions) is the same.
"""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response

from aidtrack.api import (
    IDEMPOTENCY_HEADER,
    CodeField,
    Conflict,
    IsStaff,
    IsStaffOrPartnerReadOnly,
    idempotent,
    positive_int,
    validation_detail,
)
from aidtrack.models import Location, Organisation

from . import access, selectors, services
from .filters import ShipmentFilter
from .models import CargoLine, CargoType, Shipment

# --- Cargo catalogue ---------------------------------------------------------------------------


class CargoTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CargoType
        fields = ["code", "name", "category", "unit", "active"]


class CargoTypeList(generics.ListAPIView):
    """The cargo catalogue: what shipments carry, with its counting unit."""

    permission_classes = [IsStaffOrPartnerReadOnly]
    serializer_class = CargoTypeSerializer
    queryset = CargoType.objects.order_by("code")


# --- Shipments: output -------------------------------------------------------------------------


class CargoLineSerializer(serializers.ModelSerializer):
    cargo_type = CodeField(read_only=True)

    class Meta:
        model = CargoLine
        fields = [
            "id",
            "cargo_type",
            "quantity",
            "tonnes",
            "received_quantity",
            "received_tonnes",
            "loss_reason",
            "loss_note",
        ]


class ShipmentSerializer(serializers.ModelSerializer):
    consignor = CodeField(read_only=True)
    consignee = CodeField(read_only=True)
    origin = CodeField(read_only=True)
    destination = CodeField(read_only=True)
    lines = CargoLineSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = [
            "reference",
            "mode",
            "status",
            "consignor",
            "consignee",
            "origin",
            "destination",
            "transport_reference",
            "dispatched_on",
            "expected_on",
            "delivered_on",
            "notes",
            "version",
            "lines",
            "created_at",
            "updated_at",
        ]


# The filter finds shipments by their lines' cargo type, which the model lacks: tell the schema its type.
extend_schema_field(OpenApiTypes.STR)(ShipmentFilter.base_filters["cargo_type"])

LINES = Prefetch("lines", queryset=CargoLine.objects.select_related("cargo_type").order_by("id"))


# --- Shipments: input --------------------------------------------------------------------------


class LineInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("An existing line of the shipment (when changing it).")
    )
    cargo_type = CodeField(queryset=CargoType.objects.all())
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, help_text=_("In the cargo type's unit"))
    tonnes = serializers.DecimalField(max_digits=12, decimal_places=3)
    # Only when logging a shipment that has arrived already (with `delivered_on`); default: all arrived.
    received_quantity = serializers.DecimalField(max_digits=14, decimal_places=3, required=False, allow_null=True)
    received_tonnes = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    loss_reason = serializers.ChoiceField(choices=CargoLine.LossReason.choices, required=False, allow_blank=True)
    loss_note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ShipmentCreateSerializer(serializers.Serializer):
    """Types and codes only: the rules are checked by the service."""

    reference = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text=_("Left out: generated (WB-year-number).")
    )
    mode = serializers.ChoiceField(choices=Shipment.Mode.choices)
    consignor = CodeField(queryset=Organisation.objects.all())
    consignee = CodeField(queryset=Organisation.objects.all())
    origin = CodeField(queryset=Location.objects.all())
    destination = CodeField(queryset=Location.objects.all())
    transport_reference = serializers.CharField(max_length=200, required=False, allow_blank=True)
    dispatched_on = serializers.DateField(required=False, allow_null=True)
    expected_on = serializers.DateField(required=False, allow_null=True)
    delivered_on = serializers.DateField(
        required=False, allow_null=True, help_text=_("Log a delivery that has happened (needs dispatched_on).")
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    lines = LineInputSerializer(many=True)

    def to_input(self, current: Shipment | None = None) -> services.ShipmentInput:
        """The service's input: what was sent, and for the rest the current shipment (PATCH) or blanks."""
        data = self.validated_data

        def value(name, blank):
            if name in data:
                return data[name]
            return getattr(current, name) if current is not None else blank

        if "lines" in data:
            lines = [
                services.LineInput(
                    cargo_type=line["cargo_type"],
                    quantity=line["quantity"],
                    tonnes=line["tonnes"],
                    id=line.get("id"),
                    received_quantity=line.get("received_quantity"),
                    received_tonnes=line.get("received_tonnes"),
                    loss_reason=line.get("loss_reason", ""),
                    loss_note=line.get("loss_note", ""),
                )
                for line in data["lines"]
            ]
        else:
            lines = [
                services.LineInput(cargo_type=line.cargo_type, quantity=line.quantity, tonnes=line.tonnes, id=line.pk)
                for line in (current.lines.all() if current is not None else ())
            ]
        return services.ShipmentInput(
            mode=value("mode", ""),
            consignor=value("consignor", None),
            consignee=value("consignee", None),
            origin=value("origin", None),
            destination=value("destination", None),
            transport_reference=value("transport_reference", ""),
            dispatched_on=value("dispatched_on", None),
            expected_on=value("expected_on", None),
            notes=value("notes", ""),
            reference=data.get("reference", ""),
            delivered_on=data.get("delivered_on") if current is None else None,
            lines=lines,
        )


class ShipmentUpdateSerializer(ShipmentCreateSerializer):
    """Fields left out keep their value; `lines`, when given, is the whole new list (lines left out go)."""

    reference = None  # fixed once the shipment exists
    delivered_on = None  # receipt is its own action
    version = serializers.IntegerField(
        required=False, min_value=1, help_text=_("The version you read; refused with 409 if it changed since.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


def service_error_detail(error: DjangoValidationError) -> dict:
    """`lines-2-tonnes` keys of a service error become {"lines": {"2": {"tonnes": [...]}}}."""
    detail: dict = {}
    for key, messages in validation_detail(error).items():
        if key.startswith("lines-"):
            _prefix, index, field = key.split("-", 2)
            detail.setdefault("lines", {}).setdefault(index, {}).setdefault(field, []).extend(messages)
        else:
            detail.setdefault(key, []).extend(messages)
    return detail


@contextmanager
def service_errors():
    """A service's refusals as API errors: 400 with the fields named, 403, 409."""
    try:
        yield
    except DjangoValidationError as error:
        raise exceptions.ValidationError(service_error_detail(error)) from None
    except DjangoPermissionDenied as error:
        raise exceptions.PermissionDenied(str(error) or None) from None
    except services.EditConflict as conflict:
        raise Conflict(conflict.message) from None


def _expected_version(request, data) -> int | None:
    """`version` from the body, else the `If-Match` header (the ETag of the GET: "3")."""
    if data.get("version") is not None:
        return data["version"]
    header = request.headers.get("If-Match")
    if header is None:
        return None
    version = positive_int(header.strip().removeprefix("W/").strip('"'))
    if version is None:
        raise exceptions.ValidationError({"If-Match": [_('Give the version you read, e.g. "3" (the ETag).')]})
    return version


# --- Shipments: views --------------------------------------------------------------------------

ERRORS = {
    400: OpenApiResponse(description=_("Invalid: the body names each field (and line) in error.")),
    401: OpenApiResponse(description=_("Not logged in.")),
    403: OpenApiResponse(description=_("Not allowed (partner keys never see shipments).")),
}


class ShipmentList(generics.ListAPIView):
    """Shipments (waybills) with their cargo lines: ministry staff only."""

    permission_classes = [IsStaff]
    serializer_class = ShipmentSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ShipmentFilter

    def get_queryset(self):
        return selectors.shipment_list(access.shipments_visible_to(self.request.user)).prefetch_related(LINES)

    @extend_schema(
        summary=_("List shipments"),
        responses={200: ShipmentSerializer(many=True), **ERRORS},
        parameters=[
            OpenApiParameter("cargo_type", OpenApiTypes.STR, description=_("Cargo type code: shipments carrying it.")),
            OpenApiParameter(
                "destination", OpenApiTypes.STR, description=_("Location code: shipments to it or to places under it.")
            ),
            OpenApiParameter("q", OpenApiTypes.STR, description=_("Part of the waybill or transport reference.")),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary=_("Log a shipment"),
        request=ShipmentCreateSerializer,
        responses={201: ShipmentSerializer, **ERRORS, 422: OpenApiResponse(description=_("Idempotency-Key reused."))},
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=_(
                    "Any unique string. Sending the same request again with it returns the first response and "
                    "creates nothing; the same key with a different body is refused (422)."
                ),
            )
        ],
    )
    def post(self, request, *args, **kwargs):
        if not access.can_log_shipments(request.user):
            raise exceptions.PermissionDenied(_("Only logistics officers and administrators log shipments."))
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        serializer = ShipmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)  # DRF keys line errors by position too: {"lines": {"2": ...}}
        with service_errors():
            shipment = services.shipment_create(by=request.user, data=serializer.to_input())
        return _shipment_response(request, shipment.reference, status.HTTP_201_CREATED)


REFERENCE = OpenApiParameter(
    "reference", OpenApiTypes.STR, OpenApiParameter.PATH, description=_("The waybill reference, e.g. WB-2020-00001.")
)


class ShipmentDetail(generics.GenericAPIView):
    """One shipment, by its waybill reference."""

    permission_classes = [IsStaff]
    serializer_class = ShipmentSerializer
    lookup_field = "reference"

    def get_queryset(self):
        return access.shipments_visible_to(self.request.user)

    @extend_schema(
        summary=_("Read a shipment"), parameters=[REFERENCE], responses={200: ShipmentSerializer, 404: None, **ERRORS}
    )
    def get(self, request, reference: str):
        return _shipment_response(request, reference)

    @extend_schema(
        summary=_("Change a planned or in-transit shipment"),
        request=ShipmentUpdateSerializer,
        responses={
            200: ShipmentSerializer,
            **ERRORS,
            404: None,
            409: OpenApiResponse(description=_("Changed by someone else since the version you sent.")),
        },
        parameters=[
            REFERENCE,
            OpenApiParameter(
                "If-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=_('The version you read (the ETag, e.g. "3"), when the body has no `version`.'),
            ),
        ],
    )
    def patch(self, request, reference: str):
        shipment = _get(request, reference, for_change=True)
        serializer = ShipmentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Fields left out are filled from the shipment as read here; without a version from the client
        # the version read here guards them, so a concurrent change is refused (409), never overwritten.
        expected_version = _expected_version(request, serializer.validated_data) or shipment.version
        with service_errors():
            services.shipment_update(
                by=request.user,
                shipment_id=shipment.pk,
                data=serializer.to_input(shipment),
                expected_version=expected_version,
            )
        return _shipment_response(request, reference)


def _get(request, reference: str, *, for_change: bool = False) -> Shipment:
    if "\x00" in reference:  # PostgreSQL refuses NUL in a query: no shipment has it
        raise Http404
    shipment = access.shipment_get_by_reference_for_user(user=request.user, reference=reference, for_change=for_change)
    prefetch_related_objects([shipment], LINES)
    return shipment


def _shipment_response(request, reference: str, status_code: int = status.HTTP_200_OK) -> Response:
    shipment = _get(request, reference)
    return Response(ShipmentSerializer(shipment).data, status=status_code, headers={"ETag": f'"{shipment.version}"'})
