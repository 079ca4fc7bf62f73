"""Reads of shipments shared by the pages and the API."""

from decimal import Decimal

from django.db.models import Count, DecimalField, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from aidtrack import history

from .models import CargoLine, Shipment

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=3))


def with_line_totals(queryset: QuerySet[Shipment]) -> QuerySet[Shipment]:
    """Annotate tonnes sent and received and the number of lines, in the same query."""
    return queryset.annotate(
        tonnes_sent=Coalesce(Sum("lines__tonnes"), ZERO),
        tonnes_received=Coalesce(Sum("lines__received_tonnes"), ZERO),
        line_count=Count("lines"),
    )


def shipment_list(queryset: QuerySet[Shipment]) -> QuerySet[Shipment]:
    """Shipments with their line totals, newest dispatch first (planned ones, with no date, on top)."""
    return with_line_totals(queryset.select_related("consignor", "consignee", "origin", "destination")).order_by(
        F("dispatched_on").desc(nulls_first=True), "-id"
    )


def shipment_lines(shipment: Shipment) -> list[CargoLine]:
    return list(shipment.lines.select_related("cargo_type").order_by("id"))


def shipment_totals(lines: list[CargoLine]) -> dict[str, Decimal | None]:
    """Tonnes sent, received and lost on a shipment's lines (received/lost are None before receipt)."""
    sent = sum((line.tonnes for line in lines), Decimal("0"))
    received_lines = [line for line in lines if line.received_tonnes is not None]
    if not received_lines:
        return {"sent": sent, "received": None, "lost": None}
    received = sum((line.received_tonnes for line in received_lines), Decimal("0"))
    return {"sent": sent, "received": received, "lost": sent - received}


def shipment_history(shipment: Shipment) -> list[dict]:
    """Every recorded change of the shipment and its lines, newest first, with what changed."""
    records = shipment.history.select_related("history_user").order_by("history_date", "history_id")
    line_records = (
        CargoLine.history.filter(shipment_id=shipment.pk)
        .select_related("history_user", "cargo_type")
        .order_by("id", "history_date", "history_id")
    )
    return history.merged(
        history.changes(records, Shipment, lambda r: _("Shipment"), excluded_fields=["version", "created_at"]),
        history.changes(
            line_records,
            CargoLine,
            lambda r: _("Line: %(cargo)s") % {"cargo": r.cargo_type},
            excluded_fields=["shipment"],
        ),
    )
