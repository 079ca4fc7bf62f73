"""GET /api/v1/<needs|assessments|meetings|action-items>/summary/: counts grouped by a few fields.

The needs and working-group dashboards draw their charts from these (session auth), and partners
may pull the needs summary with their key, as JSON, CSV or HXL. Who reads what follows the lists
they summarise (see needs.api).
"""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from aidtrack.exports import CSVRenderer, HXLRenderer
from aidtrack.models import Organisation

from .api import ERRORS, ReadsNeeds, ReadsNeedsOrPartner, ReadsRecords
from .filters import AssessmentFilter, MeetingFilter, NeedFilter
from .models import ActionItem, WorkingGroup
from .summaries import SUMMARIES, SummaryQueryError, export_columns, parse_group_by, summarise


class ActionItemSummaryFilter(django_filters.FilterSet):
    working_group = django_filters.ModelChoiceFilter(
        queryset=WorkingGroup.objects.all(), to_field_name="code", field_name="meeting__working_group"
    )
    owner = django_filters.ModelChoiceFilter(queryset=Organisation.objects.all(), to_field_name="code")

    class Meta:
        model = ActionItem
        fields = ["working_group", "owner"]


# Group keys whose values are not strings (codes or choice values).
GROUP_KEY_FIELDS = {
    "severity": lambda: serializers.IntegerField(required=False, help_text="1 (least) to 5"),
    "month": lambda: serializers.DateField(required=False, help_text="The first day of the month"),
}


def summary_response(name: str) -> serializers.Serializer:
    """The answer of one summary: its group keys (only those of group_by are sent, each with `<key>_name`
    for choices and related rows), then its counts."""
    summary = SUMMARIES[name]
    row = {}
    for key, group in summary.groups.items():
        row[key] = GROUP_KEY_FIELDS.get(key, lambda: serializers.CharField(required=False))()
        if group.choices is not None or group.name_expression is not None:
            row[f"{key}_name"] = serializers.CharField(required=False, help_text=f"With {key}: its name")
    for key, header, _tag in summary.value_columns:
        row[key] = serializers.IntegerField(help_text=header)
    component = name.title().replace("-", "")
    return inline_serializer(
        f"{component}Summary",
        {
            "group_by": serializers.ListField(child=serializers.ChoiceField(choices=list(summary.groups))),
            "results": inline_serializer(
                f"{component}SummaryRow",
                row,
                many=True,
                help_text="One row per group: each group_by key (and its name), then the counts.",
            ),
        },
    )


class SummaryView(APIView):
    """Counts of one kind of record grouped by `group_by`, filtered like its list."""

    summary_name = ""
    filterset_class: type[django_filters.FilterSet]
    renderer_classes = [JSONRenderer, CSVRenderer, HXLRenderer]

    def get(self, request):
        summary = SUMMARIES[self.summary_name]
        try:
            group_by = parse_group_by(summary, request.query_params.get("group_by"))
        except SummaryQueryError as error:
            raise ValidationError({error.param: [error.message]}) from None
        params = request.query_params.copy()
        params.pop("group_by", None)
        params.pop("format", None)
        filterset = self.filterset_class(params, queryset=summary.base(), request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        response = Response({"group_by": list(group_by), "results": summarise(summary, filterset.qs, group_by)})
        response.export_columns = export_columns(summary, group_by)
        return response


def _schema(name: str, filters: list[OpenApiParameter], description: str):
    summary = SUMMARIES[name]
    return extend_schema(
        summary=f"{name.replace('-', ' ').capitalize()} summary",
        description=description,
        parameters=[
            OpenApiParameter(
                "group_by",
                OpenApiTypes.STR,
                description=f"Comma list of {', '.join(summary.groups)} (default {','.join(summary.default_group_by)})",
            ),
            *filters,
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "hxl"]),
        ],
        responses={
            (200, "application/json"): summary_response(name),
            (200, "text/csv"): OpenApiTypes.STR,
            **ERRORS,
        },
    )


CODE = OpenApiTypes.STR


class NeedSummary(SummaryView):
    summary_name = "needs"
    filterset_class = NeedFilter
    permission_classes = [ReadsNeedsOrPartner]

    @_schema(
        "needs",
        [OpenApiParameter(p, CODE) for p in ("location", "sector", "cargo_type", "priority")],
        "Open needs counted by sector, priority, cargo type or assessed location.",
    )
    def get(self, request):
        return super().get(request)


class AssessmentSummary(SummaryView):
    summary_name = "assessments"
    filterset_class = AssessmentFilter
    permission_classes = [ReadsNeeds]

    @_schema(
        "assessments",
        [OpenApiParameter(p, CODE) for p in ("location", "sector", "condition", "working_group")]
        + [OpenApiParameter(p, OpenApiTypes.DATE) for p in ("date_from", "date_to")],
        "Assessments (and the people affected) by sector, condition, severity or location.",
    )
    def get(self, request):
        return super().get(request)


class MeetingSummary(SummaryView):
    summary_name = "meetings"
    filterset_class = MeetingFilter
    permission_classes = [ReadsRecords]

    @_schema(
        "meetings",
        [OpenApiParameter(p, CODE) for p in ("working_group", "kind")]
        + [OpenApiParameter(p, OpenApiTypes.DATE) for p in ("date_from", "date_to")],
        "Meetings by month (its first day), working group or kind.",
    )
    def get(self, request):
        return super().get(request)


class ActionItemSummary(SummaryView):
    summary_name = "action-items"
    filterset_class = ActionItemSummaryFilter
    permission_classes = [ReadsRecords]

    @_schema(
        "action-items",
        [OpenApiParameter(p, CODE) for p in ("working_group", "owner")],
        "Action items (all, open, and open past their due date) by working group, owner organisation or status.",
    )
    def get(self, request):
        return super().get(request)
