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

from .totals_selectors import GROUPS, TotalsQueryError, delivery_totals, parse_totals_query

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
    ("tonnes_lost", "Tonnes lost", "#x_tonnes+num+lost"),
    ("shipments", "Shipments", "#x_shipments+num"),
]

TONNES = serializers.CharField(help_text="Decimal string with 3 places")
TOTALS_RESPONSE = inline_serializer(
    "DeliveryTotals",
    {
        "as_of": serializers.DateTimeField(allow_null=True, help_text="Time of the last refresh"),
        "pending_changes": serializers.IntegerField(help_text="Days with changes not yet counted"),
        "unit": serializers.CharField(),
        "total": inline_serializer(
            "DeliveryTotalsTotal",
            {"tonnes_delivered": TONNES, "tonnes_lost": TONNES, "shipments": serializers.IntegerField()},
        ),
        "in_transit": inline_serializer(
            "DeliveryTotalsInTransit", {"tonnes": TONNES, "shipments": serializers.IntegerField()}
        ),
        "results": serializers.ListField(
            child=serializers.DictField(),
            help_text="One row per group: the group_by keys (cargo_type adds cargo_type_name, unit and "
            "quantity_delivered; destination adds destination_name; periods are ISO dates), then "
            "tonnes_delivered, tonnes_lost, shipments.",
        ),
    },
)


class DeliveryTotalsView(APIView):
    permission_classes = [IsStaffOrPartnerReadOnly]
    renderer_classes = [JSONRenderer, CSVRenderer, HXLRenderer]

    @extend_schema(
        summary="Delivered tonnage",
        description="Delivered = received on delivered shipments, dated by the delivered date; lost = sent - "
        "received on those shipments. `?format=csv` or `?format=hxl` give the results as (HXL-tagged) CSV.",
        parameters=[
            OpenApiParameter("group_by", OpenApiTypes.STR, description=f"Comma list of {', '.join(GROUPS)}"),
            OpenApiParameter("mode", OpenApiTypes.STR, enum=["road", "rail", "air", "other"]),
            OpenApiParameter("cargo_type", OpenApiTypes.STR, description="Cargo type code"),
            OpenApiParameter("destination", OpenApiTypes.STR, description="Location code; includes places under it"),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="Delivered on or after"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Delivered on or before"),
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
