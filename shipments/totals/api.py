"""GET /api/v1/totals/: delivered tonnage for partners and staff, as JSON, CSV or HXL."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from aidtrack.api import IsStaffOrPartnerReadOnly
from aidtrack.exports import CSVRenderer, HXLRenderer

from ..models import Shipment
from .selectors import GROUPS, TotalsQueryError, delivery_totals, parse_totals_query

COLUMNS = {
    "mode": [("mode", "Mode", "#x_mode")],
    "cargo_type": [
        ("cargo_type", "Cargo type code", "#item+code"),
        ("cargo_type_name", "Cargo type", "#item+name"),
        ("unit", "Unit", "#item+unit"),
        ("quantity_delivered", "Quantity delivered", "#output+num"),
    ],
    "destination": [("destination", "Destination code", "#loc+code"), ("destination_name", "Destination", "#loc+name")],
    "day": [("day", "Day", "#date")],
    "week": [("week", "Week starting", "#date+week_start")],
    "month": [("month", "Month", "#date+month_start")],
}
VALUE_COLUMNS = [
    ("tonnes_delivered", "Tonnes delivered", "#x_tonnes+num+delivered"),
    ("tonnes_damaged", "Tonnes damaged", "#x_tonnes+num+damaged"),
    ("tonnes_lost", "Tonnes lost", "#x_tonnes+num+lost"),
    ("shipments", "Shipments", "#x_shipments+num"),
]
THREE_PLACES = r"^[0-9]+\.[0-9]{3}$"


def tonnes_field(what: str, **kwargs) -> serializers.RegexField:
    # A new field object per name: one object under two names is described under only one of them.
    return serializers.RegexField(
        THREE_PLACES, help_text=f"{what}: a decimal string with 3 places, e.g. 1180.500", **kwargs
    )


TOTALS_RESPONSE = inline_serializer(
    "DeliveryTotals",
    {
        "as_of": serializers.DateTimeField(allow_null=True, help_text="Time of the last refresh"),
        "pending_changes": serializers.IntegerField(help_text="Days with changes not yet counted"),
        "unit": serializers.CharField(),
        "total": inline_serializer(
            "DeliveryTotalsTotal",
            {
                "tonnes_delivered": tonnes_field("Tonnes received"),
                "tonnes_damaged": tonnes_field("Of the tonnes received, those received damaged"),
                "tonnes_lost": tonnes_field("Sent - received on closed shipments, never below 0"),
                "shipments": serializers.IntegerField(help_text="Shipments received, once per day they received"),
            },
        ),
        "in_transit": inline_serializer(
            "DeliveryTotalsInTransit",
            {
                "tonnes": tonnes_field("Sent - received on open shipments, never below 0"),
                "shipments": serializers.IntegerField(help_text="Open shipments"),
            },
        ),
        "results": inline_serializer(
            "DeliveryTotalsResult",
            {
                # The group keys: only those of group_by are sent.
                "mode": serializers.ChoiceField(choices=Shipment.Mode.choices, required=False),
                "cargo_type": serializers.CharField(required=False, help_text="Cargo type code"),
                "cargo_type_name": serializers.CharField(required=False, help_text="With cargo_type"),
                "unit": serializers.CharField(required=False, help_text="With cargo_type: its counting unit"),
                "quantity_delivered": tonnes_field("With cargo_type: received, in its unit", required=False),
                "destination": serializers.CharField(required=False, help_text="Location code"),
                "destination_name": serializers.CharField(required=False, help_text="With destination"),
                "day": serializers.DateField(required=False),
                "week": serializers.DateField(required=False, help_text="The Monday the week starts"),
                "month": serializers.DateField(required=False, help_text="The first day of the month"),
                # The values: always sent.
                "tonnes_delivered": tonnes_field("Tonnes received"),
                "tonnes_damaged": tonnes_field("Of the tonnes received, those received damaged"),
                "tonnes_lost": tonnes_field("Sent - received on closed shipments, never below 0"),
                "shipments": serializers.IntegerField(help_text="Shipments received, once per day they received"),
            },
            many=True,
            help_text="One row per group: the group_by keys (in the order given), then the values.",
        ),
    },
)


class DeliveryTotalsView(APIView):
    permission_classes = [IsStaffOrPartnerReadOnly]
    renderer_classes = [JSONRenderer, CSVRenderer, HXLRenderer]

    @extend_schema(
        summary="Delivered tonnage",
        description="Delivered = what receipts recorded (partly received shipments too), dated by the receipt "
        "date; damaged = the part of it received damaged; lost = sent - received per line, never below 0, on "
        "closed shipments, dated by the closing date; in transit = sent - received on open shipments. "
        "`?format=csv` or `?format=hxl` give the results as (HXL-tagged) CSV.",
        parameters=[
            OpenApiParameter("group_by", OpenApiTypes.STR, description=f"Comma list of {', '.join(GROUPS)}"),
            OpenApiParameter("mode", OpenApiTypes.STR, enum=["road", "rail", "air", "other"]),
            OpenApiParameter("cargo_type", OpenApiTypes.STR, description="Cargo type code"),
            OpenApiParameter("destination", OpenApiTypes.STR, description="Location code; includes places under it"),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="Received (or closed) on or after"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Received (or closed) on or before"),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "hxl"]),
        ],
        responses={(200, "application/json"): TOTALS_RESPONSE, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        try:
            query = parse_totals_query(request.query_params)
        except TotalsQueryError as error:
            raise ValidationError({error.param: [error.message]}) from None
        answer = delivery_totals(query)
        response = Response(
            {
                "as_of": answer.as_of,
                "pending_changes": answer.pending_changes,
                "unit": "t",
                "total": answer.total,
                "in_transit": answer.in_transit,
                "results": answer.results,
            }
        )
        response.export_columns = [col for group in query.group_by for col in COLUMNS[group]] + VALUE_COLUMNS
        return response
