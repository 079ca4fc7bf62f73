"""Needs, coverage and working-group records over the API (read-only).

Who reads what (the partner rule lives here, the staff rules in `needs.access`):
- coverage and needs: every staff role, and partner keys;
- assessments, working groups and meetings (with their minutes): every staff role; partner keys 403.

`/coverage/` returns all its rows at once, not paged: there is one row per assessed location × cargo
type, the rollups add up all of them, and a CSV/HXL export is the whole table. The other lists are
paged like every list of the API (`page`, `page_size`).
"""

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, permissions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from aidtrack.api import is_partner
from aidtrack.exports import CSVRenderer, HXLRenderer
from shipments.totals.selectors import totals_freshness

from . import access, coverage, selectors
from .filters import AssessmentFilter, MeetingFilter, NeedFilter
from .models import Membership, Need
from .serializers import (
    AssessmentSerializer,
    CoverageParams,
    CoverageSerializer,
    MeetingSerializer,
    NeedSerializer,
    WorkingGroupDetailSerializer,
    WorkingGroupSerializer,
)

# NeedFilter finds needs by their assessment's location, which Need lacks: tell the schema its type.
extend_schema_field(OpenApiTypes.STR)(NeedFilter.base_filters["location"])

# --- Permissions ----------------------------------------------------------------------------------


class ReadsNeeds(permissions.BasePermission):
    """Assessments: staff who may view needs (`access.can_view_needs`); never a partner key."""

    admits_partners = False

    def has_permission(self, request, view) -> bool:
        if is_partner(request.user):
            return self.admits_partners and request.method in permissions.SAFE_METHODS
        return access.can_view_needs(request.user)


class ReadsNeedsOrPartner(ReadsNeeds):
    """Needs and coverage: staff as above, and partner keys reading."""

    admits_partners = True  # the schema offers the Api-Key scheme here (aidtrack.api.PartnerKeyScheme)


class ReadsRecords(permissions.BasePermission):
    """Working groups, meetings, minutes: staff who may view records (`access.can_view_records`); no partner."""

    def has_permission(self, request, view) -> bool:
        return not is_partner(request.user) and access.can_view_records(request.user)


ERRORS = {
    401: OpenApiResponse(description=_("No login or key, or a revoked or expired key.")),
    403: OpenApiResponse(description=_("Not allowed.")),
}
NOT_FOUND = {404: OpenApiResponse(description=_("No such record."))}
ID = OpenApiParameter("id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH)


# --- Coverage -------------------------------------------------------------------------------------

COVERAGE_COLUMNS = [
    ("location", "Location code", "#loc+code"),
    ("location_name", "Location", "#loc+name"),
    ("region", "Region code", "#adm1+code"),
    ("region_name", "Region", "#adm1+name"),
    ("cargo_type", "Cargo type code", "#item+code"),
    ("cargo_type_name", "Cargo type", "#item+name"),
    ("unit", "Unit", "#item+unit"),
    ("needed", "Needed", "#x_needed+num"),
    ("delivered", "Delivered", "#output+num"),
    ("covered_pct", "Covered %", "#x_coverage+pct"),
    ("gap", "Gap", "#x_gap+num"),
    ("state", "State", "#status+coverage"),
    ("assessed_since", "Assessed since", "#date+start"),
    ("needs", "Open needs", "#x_needs+num"),
    ("top_priority", "Top priority", "#x_priority+top"),
]


class CoverageView(APIView):
    permission_classes = [ReadsNeedsOrPartner]
    renderer_classes = [JSONRenderer, CSVRenderer, HXLRenderer]

    @extend_schema(
        summary=_("Coverage of the needs by deliveries"),
        description=_(
            "One row per assessed location × cargo type: the open needs, what was delivered to the place or "
            "under it since they were assessed (from the delivery totals), covered % and gap; with rollups by "
            "region and by sector. All rows at once (not paged). `?format=csv` or `?format=hxl` give the rows "
            "as (HXL-tagged) CSV."
        ),
        parameters=[CoverageParams, OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "hxl"])],
        responses={(200, "application/json"): CoverageSerializer, (200, "text/csv"): OpenApiTypes.STR, **ERRORS},
    )
    def get(self, request):
        params = CoverageParams(data={k: v for k, v in request.query_params.items() if v != "" and k != "format"})
        params.is_valid(raise_exception=True)
        query = params.to_query()
        rows = coverage.coverage_rows(query)
        cover = coverage.allocated_cover(rows)  # both rollups count each delivery once, the same way
        as_of, pending = totals_freshness()
        body = CoverageSerializer(
            {
                "as_of": as_of,
                "pending_changes": pending,
                "results": rows,
                "by_region": coverage.coverage_by_region(rows, cover),
                "by_sector": coverage.coverage_by_sector(query, rows, cover),
            }
        ).data
        response = Response(body)
        response.export_columns = COVERAGE_COLUMNS
        return response


# --- Needs and assessments ------------------------------------------------------------------------


class CoverageContextMixin:
    """Gives the serializers the coverage rows their needs can be in, read once per request: all rows for a
    list; for one record only the rows of its place (`coverage_place`), not the whole table."""

    def coverage_place(self):
        return None

    def get_object(self):
        if not hasattr(self, "_object"):  # asked by coverage_place and by retrieve: read once
            self._object = super().get_object()
        return self._object

    def get_serializer_context(self):
        query = coverage.CoverageQuery(location=self.coverage_place())
        return {**super().get_serializer_context(), "coverage": coverage.coverage_by_pair(query)}


@extend_schema_view(get=extend_schema(summary=_("List needs"), responses={200: NeedSerializer(many=True), **ERRORS}))
class NeedList(CoverageContextMixin, generics.ListAPIView):
    """Needs listed by assessments, newest assessment first, each with its coverage state."""

    permission_classes = [ReadsNeedsOrPartner]
    serializer_class = NeedSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = NeedFilter

    def get_queryset(self):
        return selectors.need_list()


@extend_schema_view(
    get=extend_schema(summary=_("Read a need"), parameters=[ID], responses={200: NeedSerializer, **ERRORS, **NOT_FOUND})
)
class NeedDetail(CoverageContextMixin, generics.RetrieveAPIView):
    permission_classes = [ReadsNeedsOrPartner]
    serializer_class = NeedSerializer

    def get_queryset(self):
        return selectors.need_list()

    def coverage_place(self):
        return self.get_object().assessment.location


ASSESSMENT_NEEDS = Prefetch("needs", Need.objects.select_related("cargo_type").order_by("id"))


def assessments():
    return selectors.assessment_list().prefetch_related(ASSESSMENT_NEEDS)


@extend_schema_view(
    get=extend_schema(summary=_("List assessments"), responses={200: AssessmentSerializer(many=True), **ERRORS})
)
class AssessmentList(CoverageContextMixin, generics.ListAPIView):
    """Infrastructure assessments, newest first, with their needs (staff only)."""

    permission_classes = [ReadsNeeds]
    serializer_class = AssessmentSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = AssessmentFilter

    def get_queryset(self):
        return assessments()


@extend_schema_view(
    get=extend_schema(
        summary=_("Read an assessment"), parameters=[ID], responses={200: AssessmentSerializer, **ERRORS, **NOT_FOUND}
    )
)
class AssessmentDetail(CoverageContextMixin, generics.RetrieveAPIView):
    permission_classes = [ReadsNeeds]
    serializer_class = AssessmentSerializer

    def get_queryset(self):
        return assessments()

    def coverage_place(self):
        return self.get_object().location


# --- Working groups and meetings ------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(summary=_("List working groups"), responses={200: WorkingGroupSerializer(many=True), **ERRORS})
)
class WorkingGroupList(generics.ListAPIView):
    """Coordination working groups with counts of members, meetings, open and overdue action items."""

    permission_classes = [ReadsRecords]
    serializer_class = WorkingGroupSerializer

    def get_queryset(self):
        return selectors.working_group_list()


CODE = OpenApiParameter(
    "code", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=r"^[-a-zA-Z0-9_]+$", description=_("Working group code")
)


@extend_schema_view(
    get=extend_schema(
        summary=_("Read a working group"),
        parameters=[CODE],
        responses={200: WorkingGroupDetailSerializer, **ERRORS, **NOT_FOUND},
    )
)
class WorkingGroupDetail(generics.RetrieveAPIView):
    """A working group with its memberships."""

    permission_classes = [ReadsRecords]
    serializer_class = WorkingGroupDetailSerializer
    lookup_field = "code"

    def get_queryset(self):
        members = Prefetch("memberships", Membership.objects.select_related("organisation"))
        return selectors.working_group_list().prefetch_related(members)

    def get_object(self):
        if "\x00" in self.kwargs["code"]:  # PostgreSQL refuses NUL in a query: no code has it
            raise Http404
        return super().get_object()


@extend_schema_view(
    get=extend_schema(summary=_("List meetings"), responses={200: MeetingSerializer(many=True), **ERRORS})
)
class MeetingList(generics.ListAPIView):
    """Meetings newest first, with attendees, minutes, decisions and action items (staff only)."""

    permission_classes = [ReadsRecords]
    serializer_class = MeetingSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = MeetingFilter

    def get_queryset(self):
        return selectors.meeting_list()


@extend_schema_view(
    get=extend_schema(
        summary=_("Read a meeting"), parameters=[ID], responses={200: MeetingSerializer, **ERRORS, **NOT_FOUND}
    )
)
class MeetingDetail(generics.RetrieveAPIView):
    permission_classes = [ReadsRecords]
    serializer_class = MeetingSerializer

    def get_queryset(self):
        return selectors.meeting_list()
