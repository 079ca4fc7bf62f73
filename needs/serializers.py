"""Output (and query) serializers of the needs API: what each endpoint answers, field by field.

Quantities are decimal strings with 3 places and percentages with 1 place (DRF renders Decimals as
strings); dates are ISO. A need's `coverage` is its row's state in `needs.coverage`, read from the
serializer context (`coverage`: the rows keyed by (location id, cargo type id)), so a list costs one
coverage query, not one per need.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aidtrack.api import CodeField
from aidtrack.models import Location
from shipments.models import CargoType

from . import coverage
from .coverage import STATES
from .models import ActionItem, Assessment, Meeting, Membership, Need, Sector, WorkingGroup


def quantity(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=None, decimal_places=3, read_only=True, **kwargs)


def percent(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=None, decimal_places=1, read_only=True, **kwargs)


STATE = serializers.ChoiceField(choices=STATES, read_only=True)


# --- Coverage -------------------------------------------------------------------------------------


class CoverageParams(serializers.Serializer):
    """The query parameters of /coverage/; each is optional, a bad one is a 400 naming it."""

    location = CodeField(
        queryset=Location.objects.all(),
        required=False,
        help_text=_("Location code: the rows of that place and of the places under it."),
    )
    sector = serializers.ChoiceField(
        choices=Sector.choices, required=False, help_text=_("Rows with an open need of that sector.")
    )
    cargo_type = CodeField(queryset=CargoType.objects.all(), required=False, help_text=_("Cargo type code."))
    priority = serializers.ChoiceField(
        choices=Need.Priority.choices, required=False, help_text=_("Rows with an open need of that priority.")
    )
    state = serializers.ChoiceField(
        choices=STATES,
        required=False,
        help_text=_("met: delivered ≥ needed; partial: some delivered; none: nothing delivered."),
    )

    def to_query(self) -> coverage.CoverageQuery:
        return coverage.CoverageQuery(**self.validated_data)


class CoverageRowSerializer(serializers.Serializer):
    """One assessed location × cargo type (a `needs.coverage.CoverageRow`)."""

    location = serializers.CharField(source="location_code", help_text=_("Location code"))
    location_name = serializers.CharField()
    region = serializers.CharField(source="region_code", allow_null=True, help_text=_("Region code"))
    region_name = serializers.CharField(allow_null=True)
    cargo_type = serializers.CharField(source="cargo_type_code", help_text=_("Cargo type code"))
    cargo_type_name = serializers.CharField()
    unit = serializers.CharField()
    needed = quantity(help_text=_("Open needs, in the cargo type's unit"))
    delivered = quantity(help_text=_("Delivered to the place or under it since `assessed_since`"))
    covered_pct = percent(help_text=_("delivered ÷ needed × 100 (above 100 when more arrived)"))
    gap = quantity(help_text=_("needed − delivered, never below 0"))
    state = STATE
    assessed_since = serializers.DateField(source="since", help_text=_("Earliest assessment of the open needs"))
    needs = serializers.IntegerField(help_text=_("Open needs in the row"))
    # The values of Need.Priority; labelled apart so the schema names this enum on its own (TopPriorityEnum).
    top_priority = serializers.ChoiceField(choices=[(value, value) for value in Need.Priority.values])


class RollupSerializer(serializers.Serializer):
    """Needed and covered quantity of one cargo type in a region or sector (a `needs.coverage.Rollup`)."""

    key_name = ""  # the subclass's field for `Rollup.key`, shown first

    def get_fields(self):
        fields = super().get_fields()
        return {self.key_name: fields.pop(self.key_name), **fields}

    label = serializers.CharField(allow_null=True)
    cargo_type = serializers.CharField(source="cargo_type_code")
    cargo_type_name = serializers.CharField()
    unit = serializers.CharField()
    needed = quantity()
    covered = quantity(help_text=_("The part of `needed` that deliveries cover (a surplus elsewhere never counts)"))
    covered_pct = percent()
    gap = quantity()


class RegionRollupSerializer(RollupSerializer):
    key_name = "region"
    region = serializers.CharField(source="key", allow_null=True, help_text=_("Region code; null outside any region"))


class SectorRollupSerializer(RollupSerializer):
    key_name = "sector"
    sector = serializers.ChoiceField(source="key", choices=Sector.choices)


class CoverageSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(allow_null=True, help_text=_("Time of the last refresh of the totals"))
    pending_changes = serializers.IntegerField(help_text=_("Days with changes not yet counted (as in /totals/)"))
    results = CoverageRowSerializer(many=True)
    by_region = RegionRollupSerializer(many=True)
    by_sector = SectorRollupSerializer(many=True)


# --- Needs and assessments ------------------------------------------------------------------------


class NeedCoverageSerializer(serializers.Serializer):
    """The coverage of a need: its row's (every open need of a location × cargo type shares it)."""

    state = STATE
    covered_pct = percent()


class NeedSerializer(serializers.ModelSerializer):
    """A need with what a list shows of its assessment; the same shape inside an assessment."""

    location = serializers.CharField(source="assessment.location.code", read_only=True)
    location_name = serializers.CharField(source="assessment.location.name", read_only=True)
    sector = serializers.ChoiceField(source="assessment.sector", choices=Sector.choices, read_only=True)
    assessed_on = serializers.DateField(source="assessment.assessed_on", read_only=True)
    cargo_type = CodeField(read_only=True)
    cargo_type_name = serializers.CharField(source="cargo_type.name", read_only=True)
    unit = serializers.CharField(source="cargo_type.unit", read_only=True)
    coverage = serializers.SerializerMethodField(help_text=_("Coverage of the need's row; null for a cancelled need"))

    class Meta:
        model = Need
        fields = [
            "id",
            "assessment",
            "location",
            "location_name",
            "sector",
            "assessed_on",
            "cargo_type",
            "cargo_type_name",
            "unit",
            "quantity",
            "priority",
            "needed_by",
            "status",
            "coverage",
        ]

    @extend_schema_field(NeedCoverageSerializer(allow_null=True))
    def get_coverage(self, need: Need) -> dict | None:
        row = coverage.row_of(need, self.context["coverage"])
        return NeedCoverageSerializer(row).data if row is not None else None


class AssessmentSerializer(serializers.ModelSerializer):
    location = CodeField(read_only=True)
    location_name = serializers.CharField(source="location.name", read_only=True)
    working_group = CodeField(read_only=True, allow_null=True)
    open_needs = serializers.IntegerField(read_only=True)
    needs = NeedSerializer(many=True, read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "location",
            "location_name",
            "facility",
            "sector",
            "working_group",
            "assessed_on",
            "condition",
            "severity",
            "people_affected",
            "summary",
            "open_needs",
            "needs",
        ]


# --- Working groups and meetings ------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    organisation = CodeField(read_only=True)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["organisation", "organisation_name", "person", "position", "role", "from_on", "to_on"]


class WorkingGroupSerializer(serializers.ModelSerializer):
    area = CodeField(read_only=True, allow_null=True)
    area_name = serializers.CharField(source="area.name", read_only=True, allow_null=True)
    lead_organisation = CodeField(read_only=True)
    lead_organisation_name = serializers.CharField(source="lead_organisation.name", read_only=True)
    member_count = serializers.IntegerField(read_only=True)
    meeting_count = serializers.IntegerField(read_only=True)
    open_action_items = serializers.IntegerField(source="open_items", read_only=True)
    overdue_action_items = serializers.IntegerField(source="overdue_items", read_only=True)

    class Meta:
        model = WorkingGroup
        fields = [
            "code",
            "name",
            "mandate",
            "sector",
            "area",
            "area_name",
            "lead_organisation",
            "lead_organisation_name",
            "established_on",
            "closed_on",
            "member_count",
            "meeting_count",
            "open_action_items",
            "overdue_action_items",
        ]


class WorkingGroupDetailSerializer(WorkingGroupSerializer):
    memberships = MembershipSerializer(many=True, read_only=True)

    class Meta(WorkingGroupSerializer.Meta):
        fields = [*WorkingGroupSerializer.Meta.fields, "memberships"]


class OrganisationRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ActionItemSerializer(serializers.ModelSerializer):
    owner = CodeField(read_only=True)
    owner_name = serializers.CharField(source="owner.name", read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True, help_text=_("Open and past its due date"))

    class Meta:
        model = ActionItem
        fields = ["id", "description", "owner", "owner_name", "due_on", "status", "closed_on", "overdue"]


class MeetingSerializer(serializers.ModelSerializer):
    working_group = CodeField(read_only=True)
    working_group_name = serializers.CharField(source="working_group.name", read_only=True)
    organisations = OrganisationRefSerializer(many=True, read_only=True)
    attendees = serializers.ListField(
        source="attendee_list", child=serializers.CharField(), read_only=True, help_text=_("Named attendees")
    )
    decisions = serializers.ListField(source="decision_list", child=serializers.CharField(), read_only=True)
    action_items = ActionItemSerializer(source="actions", many=True, read_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id",
            "working_group",
            "working_group_name",
            "held_on",
            "place",
            "kind",
            "title",
            "organisations",
            "attendees",
            "minutes",
            "decisions",
            "action_items",
        ]
