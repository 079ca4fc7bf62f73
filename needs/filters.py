"""Filters of the assessment and need lists (pages and API share them)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from aidtrack.forms import FilterForm
from aidtrack.models import Location
from aidtrack.selectors import filter_by_location_subtree
from shipments.models import CargoType

from . import coverage
from .models import Assessment, Meeting, Need, Sector, WorkingGroup


class AssessmentFilter(django_filters.FilterSet):
    location = django_filters.ModelChoiceFilter(
        label=_("Location (and places under it)"),
        queryset=Location.objects.all(),
        to_field_name="code",
        method="in_location",
    )
    sector = django_filters.ChoiceFilter(label=_("Sector"), choices=Sector.choices)
    condition = django_filters.ChoiceFilter(label=_("Condition"), choices=Assessment.Condition.choices)
    working_group = django_filters.ModelChoiceFilter(
        label=_("Working group"), queryset=WorkingGroup.objects.all(), to_field_name="code"
    )
    date_from = django_filters.DateFilter(label=_("Assessed from"), field_name="assessed_on", lookup_expr="gte")
    date_to = django_filters.DateFilter(label=_("Assessed to"), field_name="assessed_on", lookup_expr="lte")

    class Meta:
        model = Assessment
        form = FilterForm
        fields = ["location", "sector", "condition", "working_group", "date_from", "date_to"]

    def in_location(self, queryset, name, value):
        return filter_by_location_subtree(queryset, "location", value)


class NeedFilter(django_filters.FilterSet):
    location = django_filters.ModelChoiceFilter(
        label=_("Location (and places under it)"),
        queryset=Location.objects.all(),
        to_field_name="code",
        method="in_location",
    )
    sector = django_filters.ChoiceFilter(label=_("Sector"), choices=Sector.choices, field_name="assessment__sector")
    cargo_type = django_filters.ModelChoiceFilter(
        label=_("Cargo type"), queryset=CargoType.objects.all(), to_field_name="code"
    )
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=Need.Priority.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Need.Status.choices)
    coverage = django_filters.ChoiceFilter(
        label=_("Coverage"),
        choices=[(coverage.MET, _("Met")), (coverage.PARTIAL, _("Partly covered")), (coverage.NONE, _("Not covered"))],
        method="in_coverage_state",
    )

    class Meta:
        model = Need
        form = FilterForm
        fields = ["location", "sector", "cargo_type", "priority", "status", "coverage"]

    def in_location(self, queryset, name, value):
        return filter_by_location_subtree(queryset, "assessment__location", value)

    def in_coverage_state(self, queryset, name, value):
        return queryset.filter(id__in=coverage.needs_in_state(value))


class MeetingFilter(django_filters.FilterSet):
    working_group = django_filters.ModelChoiceFilter(
        label=_("Working group code"), queryset=WorkingGroup.objects.all(), to_field_name="code"
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Meeting.Kind.choices)
    date_from = django_filters.DateFilter(label=_("Held on or after"), field_name="held_on", lookup_expr="gte")
    date_to = django_filters.DateFilter(label=_("Held on or before"), field_name="held_on", lookup_expr="lte")

    class Meta:
        model = Meeting
        form = FilterForm
        fields = ["working_group", "kind", "date_from", "date_to"]
