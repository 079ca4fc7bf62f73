"""Filters of the shipment list (page and API share them)."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from aidtrack.forms import FilterForm
from aidtrack.models import Location

from .models import CargoLine, CargoType, Shipment
from .selectors import shipments_to

SORTS = {
    "reference": "reference",
    "dispatched": "dispatched_on",
    "delivered": "delivered_on",
    "destination": "destination__name",
    "tonnes": "tonnes_sent",
    "status": "status",
}


class ShipmentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    mode = django_filters.ChoiceFilter(label=_("Mode"), choices=Shipment.Mode.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Shipment.Status.choices)
    cargo_type = django_filters.ModelChoiceFilter(
        label=_("Cargo type"), queryset=CargoType.objects.all(), to_field_name="code", method="has_cargo_type"
    )
    destination = django_filters.ModelChoiceFilter(
        label=_("Destination (and places under it)"),
        queryset=Location.objects.all(),
        to_field_name="code",
        method="in_destination",
    )
    date_from = django_filters.DateFilter(label=_("Dispatched from"), field_name="dispatched_on", lookup_expr="gte")
    date_to = django_filters.DateFilter(label=_("Dispatched to"), field_name="dispatched_on", lookup_expr="lte")
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        choices=[(key, key) for key in SORTS] + [(f"-{key}", f"-{key}") for key in SORTS],
        method="sort_by",
        empty_label=None,
    )

    class Meta:
        model = Shipment
        form = FilterForm
        fields = ["q", "mode", "status", "cargo_type", "destination", "date_from", "date_to"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(reference__icontains=value) | Q(transport_reference__icontains=value))

    def has_cargo_type(self, queryset, name, value):
        return queryset.filter(Exists(CargoLine.objects.filter(shipment=OuterRef("pk"), cargo_type=value)))

    def in_destination(self, queryset, name, value):
        return shipments_to(queryset, value)

    def sort_by(self, queryset, name, value):
        field = SORTS[value.lstrip("-")]
        prefix = "-" if value.startswith("-") else ""
        return queryset.order_by(f"{prefix}{field}", f"{prefix}id")
