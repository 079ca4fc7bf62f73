"""Reads of shipments shared by the pages and the API."""

from decimal import Decimal

from django.db.models import Count, DecimalField, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

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
    entries = []
    records = list(shipment.history.select_related("history_user").order_by("history_date", "history_id"))
    for previous, record in zip([None, *records], records, strict=False):
        changes = []
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous, excluded_fields=["version", "created_at"])
            changes = [((Shipment, c.field), c.old, c.new) for c in delta.changes]
        entries.append(_entry(record, _("Shipment"), changes))

    line_records = list(
        CargoLine.history.filter(shipment_id=shipment.pk)
        .select_related("history_user", "cargo_type")
        .order_by("id", "history_date", "history_id")
    )
    last_of_line: dict[int, object] = {}
    for record in line_records:
        previous = last_of_line.get(record.id)
        changes = []
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous, excluded_fields=["shipment"])
            changes = [((CargoLine, c.field), c.old, c.new) for c in delta.changes]
        last_of_line[record.id] = record
        entries.append(_entry(record, _("Line: %(cargo)s") % {"cargo": record.cargo_type}, changes))
    entries.sort(key=lambda e: e["when"], reverse=True)
    _label_values(entries)
    return entries


def _label_values(entries: list[dict]) -> None:
    """Show changed values as people read them: choice labels, names of related rows (one query a model)."""
    wanted: dict = {}
    for entry in entries:
        for (model, name), old, new in entry["changes"]:
            field = model._meta.get_field(name)
            if field.is_relation:
                wanted.setdefault(field.related_model, set()).update(v for v in (old, new) if v is not None)
    names = {
        related: {obj.pk: str(obj) for obj in related._default_manager.filter(pk__in=ids)}
        for related, ids in wanted.items()
    }
    for entry in entries:
        labelled = []
        for (model, name), old, new in entry["changes"]:
            field = model._meta.get_field(name)
            if field.is_relation:
                old, new = (names[field.related_model].get(v, v) if v is not None else None for v in (old, new))
            elif field.choices:
                choices = dict(field.choices)
                old, new = (choices.get(v, v) for v in (old, new))
            labelled.append((str(field.verbose_name), old, new))
        entry["changes"] = labelled


def _entry(record, subject: str, changes: list) -> dict:
    user = record.history_user
    return {
        "when": record.history_date,
        "who": (user.get_full_name() or user.username) if user else _("system"),
        "subject": subject,
        "action": {"+": _("created"), "~": _("changed"), "-": _("removed")}[record.history_type],
        "reason": record.history_change_reason or "",
        "changes": changes,
    }
