"""Every write to shipments and cargo lines. Pages and the API call these, nothing else writes.

Each service checks permission, validates, and saves in one transaction with its history. Errors
come back as ValidationError with keys naming the field (`destination`) or the cargo line
(`lines-2-tonnes`: the position in the list given to create/update; for a receipt, the line's
position on the shipment, ordered by id), so a form or the API can show them in place.
"""

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidtrack import history, roles
from aidtrack.models import Location, Organisation

from . import totals
from .access import can_change_shipment, can_create_shipment_for
from .models import CargoLine, CargoType, ReferenceCounter, Shipment

NON_FIELD = "__all__"


class EditConflict(history.EditConflict):
    """The shipment changed since the caller read it (its lines included); nothing was written."""

    text = gettext_lazy("%(who)s changed this shipment at %(when)s, after you opened it. Reload to see the changes.")

    def __init__(self, shipment: Shipment):
        super().__init__(shipment, [(CargoLine, "shipment")])


@dataclass(frozen=True)
class LineInput:
    cargo_type: CargoType
    quantity: Decimal
    tonnes: Decimal
    id: int | None = None  # an existing line of the shipment (updates); None for a new line
    # Only when a shipment is logged as delivered already: what arrived (default: all that was sent).
    received_quantity: Decimal | None = None
    received_tonnes: Decimal | None = None
    loss_reason: str = ""
    loss_note: str = ""


@dataclass(frozen=True)
class ShipmentInput:
    mode: str
    consignor: Organisation
    consignee: Organisation
    origin: Location
    destination: Location
    transport_reference: str = ""
    dispatched_on: datetime.date | None = None
    expected_on: datetime.date | None = None
    notes: str = ""
    reference: str = ""  # generated when blank (on create); fixed after
    delivered_on: datetime.date | None = None  # on create only: log a delivery that has happened
    lines: Sequence[LineInput] = field(default_factory=tuple)


@dataclass(frozen=True)
class ReceiptInput:
    line_id: int
    received_quantity: Decimal
    received_tonnes: Decimal
    loss_reason: str = ""
    loss_note: str = ""


def _today() -> datetime.date:
    return timezone.localdate()


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _add(errors: dict[str, list[str]], key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def _validate_header(data: ShipmentInput, errors: dict[str, list[str]]) -> None:
    if data.mode not in Shipment.Mode.values:
        _add(errors, "mode", _("Choose road, rail, air or other."))
    if data.origin and data.destination and data.origin.pk == data.destination.pk:
        _add(errors, "destination", _("The destination must differ from the origin."))
    _validate_dates(data.dispatched_on, data.expected_on, errors)


def _validate_dates(dispatched_on: datetime.date | None, expected_on: datetime.date | None, errors) -> None:
    if dispatched_on and dispatched_on > _today():
        _add(errors, "dispatched_on", _("The dispatch date cannot be in the future."))
    if dispatched_on and expected_on and expected_on < dispatched_on:
        _add(errors, "expected_on", _("The expected date cannot be before the dispatch date."))


def _validate_lines(lines: Sequence[LineInput], existing: dict[int, CargoLine], errors: dict[str, list[str]]) -> None:
    if not lines:
        _add(errors, NON_FIELD, _("A shipment needs at least one cargo line."))
    seen: set[int] = set()
    for i, line in enumerate(lines):
        key = f"lines-{i}-"
        if line.id is not None and line.id not in existing:
            _add(errors, key + "cargo_type", _("This line does not belong to the shipment."))
        elif line.id is not None and line.id in seen:
            _add(errors, key + "cargo_type", _("This line is listed twice."))
        seen.add(line.id)
        if line.tonnes is None or line.tonnes <= 0:
            _add(errors, key + "tonnes", _("The weight must be more than 0 t."))
        if line.quantity is None or line.quantity <= 0:
            _add(errors, key + "quantity", _("The quantity must be more than 0."))
        kept_type = line.id in existing and existing[line.id].cargo_type_id == line.cargo_type.pk
        if not kept_type and not line.cargo_type.active:
            _add(errors, key + "cargo_type", _("%(name)s is no longer in the catalogue.") % {"name": line.cargo_type})


def _next_reference(year: int) -> str:
    """WB-<year>-<5 digits>; the counter row is locked until the transaction ends, so no two match."""
    ReferenceCounter.objects.get_or_create(year=year)
    while True:
        ReferenceCounter.objects.filter(year=year).update(last=F("last") + 1)
        number = ReferenceCounter.objects.get(year=year).last
        reference = f"WB-{year}-{number:05d}"
        if not Shipment.objects.filter(reference=reference).exists():  # skip numbers typed in by hand
            return reference


def _save(instance, by, reason: str | None = None) -> None:
    instance._history_user = by
    if reason:
        instance._change_reason = reason
    instance.save()


def _lock(shipment_id: int) -> Shipment:
    return Shipment.objects.select_for_update().get(pk=shipment_id)


def _check_version(shipment: Shipment, expected_version: int | None) -> None:
    if expected_version is not None and shipment.version != expected_version:
        raise EditConflict(shipment)


def shipment_create(*, by, data: ShipmentInput, submission_key: uuid.UUID | None = None) -> Shipment:
    """Log a new shipment. Posting the same `submission_key` again returns the first shipment."""
    if not can_create_shipment_for(by, data.consignor.pk if data.consignor else None):
        raise PermissionDenied(_("Logistics officers log shipments sent by their own organisation only."))
    if submission_key is not None:
        existing = Shipment.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return existing
    errors: dict[str, list[str]] = {}
    _validate_header(data, errors)
    _validate_lines(data.lines, {}, errors)
    if data.delivered_on and not data.dispatched_on:
        _add(errors, "dispatched_on", _("A delivered shipment needs its dispatch date."))
    reference = data.reference.strip()
    if reference and Shipment.objects.filter(reference=reference).exists():
        _add(errors, "reference", _("A shipment with this reference exists already."))
    _raise_if(errors)
    try:
        with transaction.atomic():
            shipment = Shipment(
                reference=reference or _next_reference((data.dispatched_on or _today()).year),
                mode=data.mode,
                consignor=data.consignor,
                consignee=data.consignee,
                origin=data.origin,
                destination=data.destination,
                transport_reference=data.transport_reference.strip(),
                dispatched_on=data.dispatched_on,
                expected_on=data.expected_on,
                notes=data.notes,
                status=Shipment.Status.IN_TRANSIT if data.dispatched_on else Shipment.Status.PLANNED,
                submission_key=submission_key,
                created_by=by,
            )
            _save(shipment, by, _("Created"))
            for line in data.lines:
                _save(
                    CargoLine(
                        shipment=shipment, cargo_type=line.cargo_type, quantity=line.quantity, tonnes=line.tonnes
                    ),
                    by,
                )
            if data.delivered_on:
                _receive(shipment, by, data.delivered_on, _receipts_given(shipment, data.lines))
            totals.mark_stale(totals.cells_of(shipment))
    except IntegrityError:
        # A concurrent post of the same form, or the same reference typed at the same moment; any
        # other broken constraint is a bug and is raised as it is.
        if submission_key is not None:
            existing = Shipment.objects.filter(submission_key=submission_key).first()
            if existing is not None:
                return existing
        if reference and Shipment.objects.filter(reference=reference).exists():
            raise ValidationError({"reference": [_("A shipment with this reference exists already.")]}) from None
        raise
    return shipment


def _receipts_given(shipment: Shipment, lines: Sequence[LineInput]) -> list[ReceiptInput]:
    """Receipts for the new lines that say what arrived (the others arrived in full)."""
    return [
        ReceiptInput(saved.pk, given.received_quantity, given.received_tonnes, given.loss_reason, given.loss_note)
        for saved, given in zip(shipment.lines.order_by("id"), lines, strict=True)
        if given.received_quantity is not None or given.received_tonnes is not None
    ]


@transaction.atomic
def shipment_update(*, by, shipment_id: int, data: ShipmentInput, expected_version: int | None) -> Shipment:
    """Change a planned or in-transit shipment and its lines (lines not listed are removed)."""
    shipment = _lock(shipment_id)
    before = totals.cells_of(shipment)
    if not can_change_shipment(by, shipment) or not can_create_shipment_for(by, data.consignor.pk):
        raise PermissionDenied(
            _("Only the consignor's logistics officers or an administrator may change this shipment.")
        )
    _check_version(shipment, expected_version)
    if not shipment.is_editable:
        raise ValidationError({NON_FIELD: [_("A delivered or cancelled shipment cannot be edited.")]})
    existing = {line.pk: line for line in shipment.lines.all()}
    errors: dict[str, list[str]] = {}
    _validate_header(data, errors)
    if shipment.status == Shipment.Status.IN_TRANSIT and not data.dispatched_on:
        _add(errors, "dispatched_on", _("A shipment in transit needs its dispatch date."))
    _validate_lines(data.lines, existing, errors)
    _raise_if(errors)

    for name in ("mode", "consignor", "consignee", "origin", "destination", "dispatched_on", "expected_on", "notes"):
        setattr(shipment, name, getattr(data, name))
    shipment.transport_reference = data.transport_reference.strip()
    if shipment.status == Shipment.Status.PLANNED and data.dispatched_on:
        shipment.status = Shipment.Status.IN_TRANSIT
    shipment.version += 1
    _save(shipment, by, _("Edited"))

    kept = set()
    for line in data.lines:
        if line.id is None:
            _save(
                CargoLine(shipment=shipment, cargo_type=line.cargo_type, quantity=line.quantity, tonnes=line.tonnes), by
            )
            continue
        kept.add(line.id)
        current = existing[line.id]
        if (current.cargo_type_id, current.quantity, current.tonnes) != (
            line.cargo_type.pk,
            line.quantity,
            line.tonnes,
        ):
            current.cargo_type, current.quantity, current.tonnes = line.cargo_type, line.quantity, line.tonnes
            _save(current, by)
    for line_id, line in existing.items():
        if line_id not in kept:
            line._history_user = by
            line.delete()
    totals.mark_stale(before + totals.cells_of(shipment))
    return shipment


@transaction.atomic
def shipment_dispatch(
    *, by, shipment_id: int, dispatched_on: datetime.date, expected_on: datetime.date | None = None,
    expected_version: int | None = None,
) -> Shipment:  # fmt: skip
    shipment = _lock(shipment_id)
    before = totals.cells_of(shipment)
    if not can_change_shipment(by, shipment):
        raise PermissionDenied(_("Only the consignor's logistics officers or an administrator may dispatch it."))
    _check_version(shipment, expected_version)
    if shipment.status != Shipment.Status.PLANNED:
        raise ValidationError({NON_FIELD: [_("Only a planned shipment can be dispatched.")]})
    errors: dict[str, list[str]] = {}
    _validate_dates(dispatched_on, expected_on, errors)
    _raise_if(errors)
    shipment.status = Shipment.Status.IN_TRANSIT
    shipment.dispatched_on = dispatched_on
    shipment.expected_on = expected_on or shipment.expected_on
    if shipment.expected_on and shipment.expected_on < dispatched_on:
        shipment.expected_on = None
    shipment.version += 1
    _save(shipment, by, _("Dispatched"))
    totals.mark_stale(before + totals.cells_of(shipment))
    return shipment


@transaction.atomic
def shipment_receive(
    *, by, shipment_id: int, delivered_on: datetime.date, receipts: Sequence[ReceiptInput] | None = None,
    expected_version: int | None = None,
) -> Shipment:  # fmt: skip
    """Record arrival. Lines not in `receipts` arrived in full; a shortfall needs a loss reason."""
    shipment = _lock(shipment_id)
    if not can_change_shipment(by, shipment):
        raise PermissionDenied(_("Only the consignor's logistics officers or an administrator may record receipt."))
    _check_version(shipment, expected_version)
    if shipment.status != Shipment.Status.IN_TRANSIT:
        raise ValidationError({NON_FIELD: [_("Only a shipment in transit can be received.")]})
    before = totals.cells_of(shipment)
    _receive(shipment, by, delivered_on, receipts or ())
    totals.mark_stale(before + totals.cells_of(shipment))
    return shipment


def _receive(shipment: Shipment, by, delivered_on: datetime.date, receipts: Sequence[ReceiptInput]) -> None:
    errors: dict[str, list[str]] = {}
    if delivered_on > _today():
        _add(errors, "delivered_on", _("The delivery date cannot be in the future."))
    if delivered_on < shipment.dispatched_on:
        _add(errors, "delivered_on", _("The delivery date cannot be before the dispatch date."))
    lines = list(shipment.lines.order_by("id"))
    by_id = {r.line_id: r for r in receipts}
    unknown = set(by_id) - {line.pk for line in lines}
    if unknown:
        _add(errors, NON_FIELD, _("Receipt names lines that are not on this shipment."))
    for i, line in enumerate(lines):
        receipt = by_id.get(line.pk) or ReceiptInput(line.pk, line.quantity, line.tonnes)
        key = f"lines-{i}-"
        if receipt.received_tonnes is None or receipt.received_tonnes < 0:
            _add(errors, key + "received_tonnes", _("Enter the tonnes received (0 or more)."))
        elif receipt.received_tonnes > line.tonnes:
            _add(errors, key + "received_tonnes", _("More cannot arrive than was sent (%(t)s t).") % {"t": line.tonnes})
        if receipt.received_quantity is None or receipt.received_quantity < 0:
            _add(errors, key + "received_quantity", _("Enter the quantity received (0 or more)."))
        elif receipt.received_quantity > line.quantity:
            _add(
                errors, key + "received_quantity", _("More cannot arrive than was sent (%(q)s).") % {"q": line.quantity}
            )
        short = (receipt.received_tonnes or 0) < line.tonnes or (receipt.received_quantity or 0) < line.quantity
        if short and receipt.loss_reason not in CargoLine.LossReason.values:
            _add(errors, key + "loss_reason", _("Less arrived than was sent: give the reason."))
        line.received_quantity, line.received_tonnes = receipt.received_quantity, receipt.received_tonnes
        line.loss_reason = receipt.loss_reason if short else ""
        line.loss_note = receipt.loss_note.strip() if short else ""
    _raise_if(errors)
    for line in lines:
        _save(line, by)
    shipment.status = Shipment.Status.DELIVERED
    shipment.delivered_on = delivered_on
    shipment.version += 1
    _save(shipment, by, _("Received"))


@transaction.atomic
def shipment_delete(*, by, shipment_id: int) -> None:
    """Remove a shipment logged by mistake: officers their own planned ones, administrators any."""
    shipment = _lock(shipment_id)
    if not can_change_shipment(by, shipment):
        raise PermissionDenied(_("Only the consignor's logistics officers or an administrator may delete it."))
    if shipment.status != Shipment.Status.PLANNED and not roles.is_administrator(by):
        raise ValidationError({NON_FIELD: [_("Only an administrator can delete a shipment that has left.")]})
    before = totals.cells_of(shipment)
    for line in shipment.lines.all():
        line._history_user = by
        line.delete()
    shipment._history_user = by
    shipment.delete()
    totals.mark_stale(before)


@transaction.atomic
def shipment_cancel(*, by, shipment_id: int, reason: str, expected_version: int | None = None) -> Shipment:
    shipment = _lock(shipment_id)
    before = totals.cells_of(shipment)
    if not can_change_shipment(by, shipment):
        raise PermissionDenied(_("Only the consignor's logistics officers or an administrator may cancel it."))
    _check_version(shipment, expected_version)
    if not shipment.is_editable:
        raise ValidationError({NON_FIELD: [_("A delivered or cancelled shipment cannot be cancelled.")]})
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the shipment is cancelled.")]})
    shipment.status = Shipment.Status.CANCELLED
    shipment.notes = (shipment.notes + "\n" if shipment.notes else "") + _("Cancelled: %(reason)s") % {
        "reason": reason.strip()
    }
    shipment.version += 1
    _save(shipment, by, _("Cancelled"))
    totals.mark_stale(before + totals.cells_of(shipment))
    return shipment
