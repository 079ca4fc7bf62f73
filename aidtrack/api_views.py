"""API of the core reference data: organisations and locations (staff and partner keys, read-only).

Kept apart from `aidtrack.api`, which DRF imports while it defines its views (see that module).
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, serializers

from .api import CodeField, IsStaffOrPartnerReadOnly
from .models import Location, Organisation


class OrganisationSerializer(serializers.ModelSerializer):
    parent = CodeField(read_only=True, allow_null=True)

    class Meta:
        model = Organisation
        fields = ["code", "name", "short_name", "kind", "country", "parent"]


class LocationSerializer(serializers.ModelSerializer):
    parent = CodeField(read_only=True, allow_null=True)

    class Meta:
        model = Location
        fields = ["code", "name", "alt_names", "level", "parent", "latitude", "longitude"]


class LocationFilter(django_filters.FilterSet):
    parent = django_filters.ModelChoiceFilter(
        label=_("Code of the parent location (its direct children are listed)"),
        queryset=Location.objects.all(),
        to_field_name="code",
    )
    level = django_filters.ChoiceFilter(label=_("Level"), choices=Location.Level.choices)

    class Meta:
        model = Location
        fields = ["parent", "level"]


class OrganisationList(generics.ListAPIView):
    """Organisations: consignors, consignees, partner agencies."""

    permission_classes = [IsStaffOrPartnerReadOnly]
    serializer_class = OrganisationSerializer
    queryset = Organisation.objects.select_related("parent").order_by("code")


class LocationList(generics.ListAPIView):
    """Locations (P-codes) from country to site; filter by `parent` code and `level`."""

    permission_classes = [IsStaffOrPartnerReadOnly]
    serializer_class = LocationSerializer
    queryset = Location.objects.select_related("parent").order_by("code")
    filter_backends = [DjangoFilterBackend]
    filterset_class = LocationFilter
