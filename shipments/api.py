"""Shipments, their receipts and the cargo catalogue over the API: input serializer, service, output serializer.

Shipments are for ministry staff only (partner keys get 403); the writes call the same services as the
pages, so every rule (who may log for which consignor, line checks, receipts, versions) is the same.
"""

from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response

from aidtrack import history
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
from .models import CargoLine, CargoType, Receipt, ReceiptLine, Shipment

# --- Cargo catalogue ---------------------------------------------------------------------------


class CargoTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CargoType
        fields = ["code", "name", "category", "unit", "active"]
        read_only_fields = fields


class CargoTypeList(generics.ListAPIView):
    """The cargo catalogue: what shipments carry, with its counting unit."""

    permission_classes = [IsStaffOrPartnerReadOnly]
    serializer_class = CargoTypeSerializer
    queryset = CargoType.objects.order_by("code")


# --- Shipments: output -------------------------------------------------------------------------


class CargoLineSerializer(serializers.ModelSerializer):
    cargo_type = CodeField(read_only=True)
    # Declared: a read-only field of the model would lose allow_blank, and the schema the blank value.
    loss_reason = serializers.ChoiceField(choices=CargoLine.LossReason.choices, allow_blank=True, read_only=True)

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
        read_only_fields = fields


class ReceiptLineSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="line_id", read_only=True, help_text=_("The cargo line (its `id`)."))
    cargo_type = serializers.CharField(source="line.cargo_type.code", read_only=True, help_text=_("Cargo type code"))

    class Meta:
        model = ReceiptLine
        fields = ["line", "cargo_type", "quantity", "tonnes", "condition", "damage_reason"]
        read_only_fields = fields


class ReceiptSerializer(serializers.ModelSerializer):
    """Cargo of a shipment that arrived on one day; `version` is what a correction sends back."""

    recorded_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text=_("Username; null if the user is gone.")
    )
    lines = ReceiptLineSerializer(many=True, read_only=True)

    class Meta:
        model = Receipt
        fields = ["id", "received_on", "recorded_by", "note", "correction_reason", "version", "created_at", "lines"]
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer):
    consignor = CodeField(read_only=True)
    consignee = CodeField(read_only=True)
    origin = CodeField(read_only=True)
    destination = CodeField(read_only=True)
    lines = CargoLineSerializer(many=True, read_only=True)
    receipts = ReceiptSerializer(many=True, read_only=True, help_text=_("In the order they were received."))

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
            "receipts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReceiptDetailSerializer(ReceiptSerializer):
    """A receipt on its own: with its shipment, whose version a receipt or a correction changes."""

    shipment = serializers.CharField(source="shipment.reference", read_only=True, help_text=_("Waybill reference"))
    shipment_version = serializers.IntegerField(
        source="shipment.version", read_only=True, help_text=_("The shipment's version after this receipt.")
    )

    class Meta(ReceiptSerializer.Meta):
        fields = [*ReceiptSerializer.Meta.fields, "shipment", "shipment_version"]
        read_only_fields = fields


# The filter finds shipments by their lines' cargo type, which the model lacks: tell the schema its type.
extend_schema_field(OpenApiTypes.STR)(ShipmentFilter.base_filters["cargo_type"])

LINES = Prefetch("lines", queryset=CargoLine.objects.select_related("cargo_type").order_by("id"))
RECEIPT_LINES = Prefetch("lines", queryset=ReceiptLine.objects.select_related("line__cargo_type").order_by("line_id"))
RECEIPTS = Prefetch(
    "receipts",
    queryset=Receipt.objects.select_related("recorded_by")
    .prefetch_related(RECEIPT_LINES)
    .order_by("received_on", "id"),
)


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


class ShipmentLineInput(serializers.Serializer):
    """`line` names a cargo line of the shipment by id (the view gives the serializer `line_ids`)."""

    line = serializers.IntegerField(help_text=_("The id of a cargo line of the shipment."))

    def validate_line(self, value: int) -> int:
        if value not in self.context["line_ids"]:
            raise serializers.ValidationError(_("This line does not belong to the shipment."))
        return value


# Named as the output's component (ReceiptLine, this one ReceiptLineRequest) so that the schema's enum of
# `condition` belongs to one component and is named apart from the assessments' (no naming collision).
@extend_schema_serializer(component_name="ReceiptLine")
class ReceiptLineInputSerializer(ShipmentLineInput):
    """What arrived of one cargo line; `loss_reason` only when the receipt closes the shipment short."""

    received_quantity = serializers.DecimalField(
        max_digits=14, decimal_places=3, help_text=_("Arrived in this receipt, in the cargo type's unit")
    )
    received_tonnes = serializers.DecimalField(max_digits=12, decimal_places=3, help_text=_("Arrived in this receipt"))
    condition = serializers.ChoiceField(choices=ReceiptLine.Condition.choices, default=ReceiptLine.Condition.GOOD)
    damage_reason = serializers.CharField(
        max_length=300, allow_blank=True, default="", help_text=_("What is damaged (needed when damaged).")
    )
    # All the reasons (the schema names one enum for every loss_reason); the service refuses `overage` here.
    loss_reason = serializers.ChoiceField(
        choices=CargoLine.LossReason.choices,
        allow_blank=True,
        default="",
        help_text=_("When the shipment is closed short of what was sent: why the rest is lost (not overage)."),
    )
    loss_note = serializers.CharField(max_length=300, allow_blank=True, default="")

    @staticmethod
    def to_input(line: dict) -> services.ReceiptInput:
        return services.ReceiptInput(
            line_id=line["line"],
            received_quantity=line["received_quantity"],
            received_tonnes=line["received_tonnes"],
            loss_reason=line["loss_reason"],
            loss_note=line["loss_note"],
            condition=line["condition"],
            damage_reason=line["damage_reason"],
        )


class ReceiptCreateSerializer(serializers.Serializer):
    """Types and cargo lines only: the rules are checked by the service. Lines left out received nothing."""

    received_on = serializers.DateField()
    note = serializers.CharField(max_length=500, allow_blank=True, default="")
    close = serializers.BooleanField(
        default=False,
        help_text=_("The receipt completes the shipment: what has not arrived is lost (each short line needs its "
                    "loss_reason, lines left out of the body keep the one they have)."),
    )  # fmt: skip
    lines = ReceiptLineInputSerializer(many=True)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("The shipment's version you read; refused with 409 if it changed since. Optional."),
    )


class ShortfallInputSerializer(ShipmentLineInput):
    loss_reason = serializers.ChoiceField(
        choices=CargoLine.LossReason.choices, help_text=_("Why less arrived than was sent (not overage).")
    )
    loss_note = serializers.CharField(max_length=300, allow_blank=True, default="")


class ShipmentCloseSerializer(serializers.Serializer):
    """Receipt complete: what has not arrived by `closed_on` is lost."""

    closed_on = serializers.DateField()
    shortfalls = ShortfallInputSerializer(
        many=True,
        default=list,
        help_text=_("Each line short of what was sent needs its loss_reason (lines left out keep the one they have)."),
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("The shipment's version you read; refused with 409 if it changed since. Optional."),
    )


class ReceiptUpdateSerializer(serializers.Serializer):
    """A correction: fields left out keep their value; `lines`, when given, replace the receipt's lines."""

    received_on = serializers.DateField(required=False)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=500, help_text=_("Why the receipt is corrected (kept in its history)."))
    lines = ReceiptLineInputSerializer(many=True, required=False)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("The receipt's version you read (or send it as If-Match); refused with 409 if it changed since."),
    )

    # Never partial, though sent by PATCH: the schema then keeps `reason` required (as the view does).
    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value: bool) -> None:
        pass


@dataclass(frozen=True)
class BodyLines:
    """How a body lists cargo lines by id (a receipt's lines, shortfalls): in any order, some left out."""

    of_shipment: list[int]  # the shipment's cargo line ids ordered by id: how the services number them
    in_body: list[int]  # the cargo line ids the body lists, in its order
    key: str = "lines"  # the body's list


def service_error_detail(error: DjangoValidationError, lines: BodyLines | None = None) -> dict:
    """`lines-2-tonnes` keys of a service error become {"lines": {"2": {"tonnes": [...]}}}.

    The receipt services number the shipment's lines; a receipt's body lists lines by id, in any order,
    some left out: `lines` turns the number into the line's place in the body, and names a line the
    body left out in `non_field_errors`.
    """
    detail: dict = {}
    for key, messages in validation_detail(error).items():
        if not key.startswith("lines-"):
            detail.setdefault(key, []).extend(messages)
            continue
        _prefix, index, field = key.split("-", 2)
        in_body = "lines"
        if lines is not None:
            in_body = lines.key
            line_id = lines.of_shipment[int(index)]
            if line_id not in lines.in_body:
                detail.setdefault("non_field_errors", []).extend(
                    _("Cargo line %(line)s (not in the body): %(message)s") % {"line": line_id, "message": message}
                    for message in messages
                )
                continue
            index = str(lines.in_body.index(line_id))
        detail.setdefault(in_body, {}).setdefault(index, {}).setdefault(field, []).extend(messages)
    return detail


@contextmanager
def service_errors(lines: BodyLines | None = None):
    """A service's refusals as API errors: 400 with the fields (and lines) named, 403, 409."""
    try:
        yield
    except DjangoValidationError as error:
        raise exceptions.ValidationError(service_error_detail(error, lines)) from None
    except DjangoPermissionDenied as error:
        raise exceptions.PermissionDenied(str(error) or None) from None
    except history.EditConflict as conflict:  # of a shipment or of a receipt
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
        shipments = selectors.shipment_list(access.shipments_visible_to(self.request.user))
        return shipments.prefetch_related(LINES, RECEIPTS)

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
    prefetch_related_objects([shipment], RECEIPTS)
    return Response(ShipmentSerializer(shipment).data, status=status_code, headers={"ETag": f'"{shipment.version}"'})


# --- Receipts: views ---------------------------------------------------------------------------

RECEIPT_ID = OpenApiParameter(
    "id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description=_("Receipt id")
)
CONFLICT = OpenApiResponse(description=_("Changed by someone else since the version you sent."))


def _body_lines(shipment: Shipment, given: list[dict] | None, key: str = "lines") -> BodyLines:
    return BodyLines(
        of_shipment=[line.pk for line in shipment.lines.all()],  # prefetched by _get, ordered by id
        in_body=[line["line"] for line in given or ()],
        key=key,
    )


def _line_ids(shipment: Shipment) -> dict:
    return {"line_ids": {line.pk for line in shipment.lines.all()}}


class ShipmentReceiptList(generics.GenericAPIView):
    """Record a receipt of a shipment (its receipts are listed in the shipment's answer)."""

    permission_classes = [IsStaff]
    serializer_class = ReceiptDetailSerializer

    def get_queryset(self):
        return Receipt.objects.filter(shipment__in=access.shipments_visible_to(self.request.user))

    @extend_schema(
        summary=_("Record a receipt"),
        description=_(
            "Cargo of an in-transit or partly received shipment that arrived on one day. Lines left out received "
            "nothing now; more than was sent is accepted (overage). With `close` the receipt completes the "
            "shipment. Answers the receipt, with its shipment's new status and version."
        ),
        request=ReceiptCreateSerializer,
        responses={
            201: ReceiptDetailSerializer,
            **ERRORS,
            404: None,
            409: CONFLICT,
            422: OpenApiResponse(description=_("Idempotency-Key reused.")),
        },
        parameters=[
            REFERENCE,
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=_(
                    "Any unique string. Sending the same request again with it returns the first response and "
                    "records nothing; the same key with a different body is refused (422)."
                ),
            ),
            OpenApiParameter(
                "If-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=_("The shipment's version you read (its ETag), when the body has no `version`."),
            ),
        ],
    )
    def post(self, request, reference: str):
        shipment = _get(request, reference, for_change=True)
        return idempotent(request, lambda: self._create(request, shipment))

    def _create(self, request, shipment: Shipment) -> Response:
        serializer = ReceiptCreateSerializer(data=request.data, context=_line_ids(shipment))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors(_body_lines(shipment, data["lines"])):
            receipt = services.receipt_create(
                by=request.user,
                shipment_id=shipment.pk,
                received_on=data["received_on"],
                lines=[ReceiptLineInputSerializer.to_input(line) for line in data["lines"]],
                note=data["note"],
                close=data["close"],
                expected_version=_expected_version(request, data),
            )
        return _receipt_response(receipt.pk, status.HTTP_201_CREATED)


class ShipmentReceiptDetail(generics.GenericAPIView):
    """One receipt of a shipment; a PATCH corrects it (with a reason, kept in its history)."""

    permission_classes = [IsStaff]
    serializer_class = ReceiptDetailSerializer

    def get_queryset(self):
        return Receipt.objects.filter(shipment__in=access.shipments_visible_to(self.request.user))

    @extend_schema(
        summary=_("Read a receipt"),
        parameters=[REFERENCE, RECEIPT_ID],
        responses={200: ReceiptDetailSerializer, 404: None, **ERRORS},
    )
    def get(self, request, reference: str, pk: int):
        shipment = _get(request, reference)
        return _receipt_response(_receipt_get(shipment, pk).pk)

    @extend_schema(
        summary=_("Correct a receipt"),
        description=_(
            "Its date, note and lines (the lines given replace the receipt's lines), with the reason. Needs the "
            "receipt's `version` (or If-Match). On a closed shipment a line that becomes short needs its "
            "loss_reason."
        ),
        request=ReceiptUpdateSerializer,
        responses={200: ReceiptDetailSerializer, **ERRORS, 404: None, 409: CONFLICT},
        parameters=[
            REFERENCE,
            RECEIPT_ID,
            OpenApiParameter(
                "If-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=_('The receipt\'s version you read (its ETag, e.g. "2"), when the body has no `version`.'),
            ),
        ],
    )
    def patch(self, request, reference: str, pk: int):
        shipment = _get(request, reference, for_change=True)
        receipt = _receipt_get(shipment, pk)
        serializer = ReceiptUpdateSerializer(data=request.data, context=_line_ids(shipment))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        expected_version = _expected_version(request, data)
        if expected_version is None:
            raise exceptions.ValidationError(
                {"version": [_("Give the version of the receipt you read (or send it as If-Match).")]}
            )
        lines = [ReceiptLineInputSerializer.to_input(line) for line in data["lines"]] if "lines" in data else None
        with service_errors(_body_lines(shipment, data.get("lines"))):
            services.receipt_correct(
                by=request.user,
                receipt_id=receipt.pk,
                received_on=data.get("received_on"),  # left out: kept, as the service reads it under its lock
                lines=lines,
                reason=data["reason"],
                note=data.get("note"),
                expected_version=expected_version,
            )
        return _receipt_response(receipt.pk)


class ShipmentClose(generics.GenericAPIView):
    """Close a shipment without a new receipt (the last receipt can close it too: `close`)."""

    permission_classes = [IsStaff]
    serializer_class = ShipmentSerializer

    def get_queryset(self):
        return access.shipments_visible_to(self.request.user)

    @extend_schema(
        summary=_("Close a shipment: receipt complete"),
        description=_(
            "For an in-transit or partly received shipment: what has not arrived by `closed_on` is lost, with a "
            "reason per short line. Answers the shipment."
        ),
        request=ShipmentCloseSerializer,
        responses={200: ShipmentSerializer, **ERRORS, 404: None, 409: CONFLICT},
        parameters=[
            REFERENCE,
            OpenApiParameter(
                "If-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=_("The shipment's version you read (its ETag), when the body has no `version`."),
            ),
        ],
    )
    def post(self, request, reference: str):
        shipment = _get(request, reference, for_change=True)
        serializer = ShipmentCloseSerializer(data=request.data, context=_line_ids(shipment))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors(_body_lines(shipment, data["shortfalls"], "shortfalls")):
            services.shipment_close(
                by=request.user,
                shipment_id=shipment.pk,
                closed_on=data["closed_on"],
                shortfalls=[
                    services.Shortfall(line["line"], line["loss_reason"], line["loss_note"])
                    for line in data["shortfalls"]
                ],
                expected_version=_expected_version(request, data),
            )
        return _shipment_response(request, reference)


def _receipt_get(shipment: Shipment, pk: int) -> Receipt:
    receipt = shipment.receipts.filter(pk=pk).first()
    if receipt is None:
        raise Http404(_("No such receipt of this shipment."))
    return receipt


def _receipt_response(pk: int, status_code: int = status.HTTP_200_OK) -> Response:
    receipt = Receipt.objects.select_related("recorded_by", "shipment").prefetch_related(RECEIPT_LINES).get(pk=pk)
    return Response(ReceiptDetailSerializer(receipt).data, status=status_code, headers={"ETag": f'"{receipt.version}"'})
