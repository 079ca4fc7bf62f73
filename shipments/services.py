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
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidtrack import history, roles
from aidtrack.models import Location, Organisation

from .access import can_change_shipment, can_create_shipment_for, can_reopen_shipment
from .models import FIGURE_FIELDS, CargoLine, CargoType, Receipt, ReceiptLine, ReferenceCounter, Shipment
from .selectors import Figures, fresh_figures_sql, shipment_fresh_figures
from .totals import cells, tasks

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
    """One cargo line in a receipt: what arrived of it now, in what condition, and, when the receipt
    closes the shipment short of what was sent, why the rest is lost."""

    line_id: int
    received_quantity: Decimal
    received_tonnes: Decimal
    loss_reason: str = ""
    loss_note: str = ""
    condition: str = ReceiptLine.Condition.GOOD
    damage_reason: str = ""


@dataclass(frozen=True)
class Shortfall:
    """Why less arrived of a line than was sent, given when the shipment is closed."""

    line_id: int
    reason: str
    note: str = ""


def _mark_stale(touched: list[cells.Cell]) -> None:
    """Mark the totals cells a change touched, in its transaction, and refresh them once it commits."""
    cells.mark_stale(touched)
    tasks.refresh_after_commit()


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


def _recount_figures(shipment: Shipment) -> None:
    """Store the figures the lists read (lines, tonnes sent, received, lost, damaged) as the shipment's
    lines and receipt lines give them now: one aggregate query over this shipment's records, and an
    update of those columns only when they changed. Called last by every write to lines, receipts or
    status, after the shipment is saved (lost counts once it is closed). No history record: the
    figures follow from the records, whose history is kept."""
    fresh = shipment_fresh_figures(shipment.pk)
    if fresh != Figures.of(shipment):
        for name in FIGURE_FIELDS:
            setattr(shipment, name, getattr(fresh, name))
        shipment.save_without_historical_record(update_fields=FIGURE_FIELDS)


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
                lines = _receipts_given(shipment, data.lines)
                _receipt_create(by, shipment.pk, data.delivered_on, lines, "", True, None, None, new=True)
                shipment.refresh_from_db()
            _recount_figures(shipment)
            _mark_stale(cells.cells_of(shipment))
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
    """One receipt line per new line: what arrived where given, else all that was sent."""
    return [
        ReceiptInput(
            saved.pk,
            saved.quantity if given.received_quantity is None else given.received_quantity,
            saved.tonnes if given.received_tonnes is None else given.received_tonnes,
            given.loss_reason,
            given.loss_note,
        )
        for saved, given in zip(shipment.lines.order_by("id"), lines, strict=True)
    ]


@transaction.atomic
def shipment_update(*, by, shipment_id: int, data: ShipmentInput, expected_version: int | None) -> Shipment:
    """Change a planned or in-transit shipment and its lines (lines not listed are removed).

    Once cargo has arrived only the notes and the transport reference may change.
    """
    shipment = _lock(shipment_id)
    before = cells.cells_of(shipment)
    if not can_change_shipment(by, shipment) or not can_create_shipment_for(by, data.consignor.pk):
        raise PermissionDenied(
            _("Only the consignor's logistics officers or an administrator may change this shipment.")
        )
    _check_version(shipment, expected_version)
    if shipment.status == Shipment.Status.CANCELLED:
        raise ValidationError({NON_FIELD: [_("A cancelled shipment cannot be edited.")]})
    existing = {line.pk: line for line in shipment.lines.all()}
    if not shipment.is_editable:
        return _annotate(shipment, by, data, existing)
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
    _recount_figures(shipment)
    _mark_stale(before + cells.cells_of(shipment))
    return shipment


def _annotate(shipment: Shipment, by, data: ShipmentInput, existing: dict[int, CargoLine]) -> Shipment:
    """The edit of a shipment whose cargo has arrived: its notes and transport reference only."""
    route = (data.mode, data.consignor, data.consignee, data.origin, data.destination)
    dates = (data.dispatched_on, data.expected_on)
    lines = {(line.id, line.cargo_type.pk, line.quantity, line.tonnes) for line in data.lines}
    if (
        route != (shipment.mode, shipment.consignor, shipment.consignee, shipment.origin, shipment.destination)
        or dates != (shipment.dispatched_on, shipment.expected_on)
        or lines != {(line.pk, line.cargo_type_id, line.quantity, line.tonnes) for line in existing.values()}
    ):
        raise ValidationError(
            {NON_FIELD: [_("Once cargo has been received only the notes and the transport reference can change.")]}
        )
    shipment.notes = data.notes
    shipment.transport_reference = data.transport_reference.strip()
    shipment.version += 1
    _save(shipment, by, _("Notes edited"))
    return shipment


@transaction.atomic
def shipment_dispatch(
    *, by, shipment_id: int, dispatched_on: datetime.date, expected_on: datetime.date | None = None,
    expected_version: int | None = None,
) -> Shipment:  # fmt: skip
    shipment = _lock(shipment_id)
    before = cells.cells_of(shipment)
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
    _recount_figures(shipment)
    _mark_stale(before + cells.cells_of(shipment))
    return shipment


# --- Receipts ---------------------------------------------------------------------------------------


class ReceiptConflict(history.EditConflict):
    """The receipt was corrected since the caller read it; nothing was written."""

    text = gettext_lazy("%(who)s changed this receipt at %(when)s, after you opened it. Reload to see the changes.")

    def __init__(self, receipt: Receipt):
        super().__init__(receipt, [(ReceiptLine, "receipt")])


def _check_can_receive(by, shipment: Shipment) -> None:
    if not can_change_shipment(by, shipment):
        raise PermissionDenied(_("Only the consignor's logistics officers or an administrator may record receipt."))


def _validate_received_on(shipment: Shipment, received_on: datetime.date | None, errors) -> None:
    if received_on is None:
        _add(errors, "received_on", _("Enter the date the cargo arrived."))
        return
    if received_on > _today():
        _add(errors, "received_on", _("The receipt date cannot be in the future."))
    if shipment.dispatched_on and received_on < shipment.dispatched_on:
        _add(errors, "received_on", _("The receipt date cannot be before the dispatch date."))


def _arrived_lines(lines: list[CargoLine], given: Sequence[ReceiptInput], errors) -> list[ReceiptInput]:
    """The given lines that arrived now (more than 0), checked; errors keyed by the line's position."""
    position = {line.pk: i for i, line in enumerate(lines)}
    seen: set[int] = set()
    arrived = []
    for item in given:
        if item.line_id not in position:
            _add(errors, NON_FIELD, _("Receipt names lines that are not on this shipment."))
            continue
        if item.line_id in seen:
            _add(errors, NON_FIELD, _("The receipt lists a line twice."))
            continue
        seen.add(item.line_id)
        key = f"lines-{position[item.line_id]}-"
        valid = True
        if item.received_tonnes is None or item.received_tonnes < 0:
            _add(errors, key + "received_tonnes", _("Enter the tonnes received (0 or more)."))
            valid = False
        if item.received_quantity is None or item.received_quantity < 0:
            _add(errors, key + "received_quantity", _("Enter the quantity received (0 or more)."))
            valid = False
        if not valid or not (item.received_tonnes or item.received_quantity):
            continue  # nothing of this line in this receipt
        if item.condition not in ReceiptLine.Condition.values:
            _add(errors, key + "condition", _("Choose good or damaged."))
        elif item.condition == ReceiptLine.Condition.DAMAGED and not item.damage_reason.strip():
            _add(errors, key + "damage_reason", _("Say what is damaged."))
        arrived.append(item)
    if not arrived and not errors:
        _add(errors, NON_FIELD, _("Enter what arrived of at least one line."))
    return arrived


def _recount_received(lines: list[CargoLine], by) -> None:
    """Set each line's received sums to the sums of its receipt lines (None when it has none)."""
    sums = {
        row["line_id"]: (row["quantity"], row["tonnes"])
        for row in ReceiptLine.objects.filter(line__in=lines)
        .values("line_id")
        .annotate(quantity=Sum("quantity"), tonnes=Sum("tonnes"))
        .order_by()
    }
    for line in lines:
        received = sums.get(line.pk, (None, None))
        if (line.received_quantity, line.received_tonnes) != received:
            line.received_quantity, line.received_tonnes = received
            _save(line, by)


def _set_loss_reasons(lines: list[CargoLine], by, reasons: dict[int, tuple[str, str]], errors) -> None:
    """At closing: a reason for each line short of what was sent, `overage` on each line over it."""
    for i, line in enumerate(lines):
        reason, note = reasons.get(line.pk, (line.loss_reason, line.loss_note))
        if line.is_short:
            if reason not in dict(CargoLine.SHORTFALL_REASONS):
                _add(errors, f"lines-{i}-loss_reason", _("Less arrived than was sent: give the reason."))
        elif line.is_over:
            reason = CargoLine.LossReason.OVERAGE
        else:
            reason, note = "", ""
        if (line.loss_reason, line.loss_note) != (reason, note.strip()):
            line.loss_reason, line.loss_note = reason, note.strip()
            _save(line, by)


def _close(shipment: Shipment, lines: list[CargoLine], by, closed_on, reasons, errors) -> None:
    last_receipt = shipment.receipts.order_by("-received_on").values_list("received_on", flat=True).first()
    if closed_on is None:
        _add(errors, "closed_on", _("Enter the date the receipt was completed."))
    elif closed_on > _today():
        _add(errors, "closed_on", _("The closing date cannot be in the future."))
    elif last_receipt and closed_on < last_receipt:
        _add(errors, "closed_on", _("The closing date cannot be before the last receipt (%(date)s).") % {
            "date": date_format(last_receipt, "SHORT_DATE_FORMAT")})  # fmt: skip
    elif shipment.dispatched_on and closed_on < shipment.dispatched_on:
        _add(errors, "closed_on", _("The closing date cannot be before the dispatch date."))
    _set_loss_reasons(lines, by, reasons, errors)
    _raise_if(errors)
    shipment.status = Shipment.Status.DELIVERED
    shipment.delivered_on = closed_on


def _receipt_submitted(submission_key: uuid.UUID | None) -> Receipt | None:
    return Receipt.objects.filter(submission_key=submission_key).first() if submission_key else None


def receipt_create(
    *, by, shipment_id: int, received_on: datetime.date, lines: Sequence[ReceiptInput], note: str = "",
    close: bool = False, expected_version: int | None = None, submission_key: uuid.UUID | None = None,
) -> Receipt:  # fmt: skip
    """Record cargo that arrived on one day; lines not listed received nothing now.

    More than was sent is accepted (overage). With `close` the receipt completes the shipment: each
    line still short needs its `loss_reason`. Posting the same `submission_key` again returns the
    first receipt and records nothing.
    """
    existing = _receipt_submitted(submission_key)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _receipt_create(by, shipment_id, received_on, lines, note, close, expected_version, submission_key)
    except IntegrityError:
        existing = _receipt_submitted(submission_key)  # the same form posted twice at the same moment
        if existing is None:
            raise
        return existing


def _receipt_create(
    by, shipment_id, received_on, lines, note, close, expected_version, submission_key, *, new: bool = False
) -> Receipt:
    """`new`: the shipment is being logged as delivered in this transaction; it was never in transit
    for anyone else, so its in-transit cell needs no recount."""
    shipment = _lock(shipment_id)
    _check_can_receive(by, shipment)
    _check_version(shipment, expected_version)
    if not shipment.is_open_for_receipt:
        raise ValidationError({NON_FIELD: [_("Only a shipment in transit or partly received can be received.")]})
    before = [] if new else cells.cells_of(shipment)
    cargo_lines = list(shipment.lines.order_by("id"))
    errors: dict[str, list[str]] = {}
    _validate_received_on(shipment, received_on, errors)
    arrived = _arrived_lines(cargo_lines, lines, errors)
    _raise_if(errors)
    receipt = Receipt(
        shipment=shipment, received_on=received_on, mode=shipment.mode, destination_id=shipment.destination_id,
        recorded_by=by, note=note.strip(), submission_key=submission_key,
    )  # fmt: skip
    _save(receipt, by, _("Received"))
    for item in arrived:
        _save(ReceiptLine(receipt=receipt, line_id=item.line_id, **_receipt_line_values(item)), by)
    _recount_received(cargo_lines, by)
    shipment.status = Shipment.Status.PARTLY_RECEIVED
    if close:
        reasons = {item.line_id: (item.loss_reason, item.loss_note) for item in lines}
        closed_on = max(received_on, *shipment.receipts.values_list("received_on", flat=True))
        _close(shipment, cargo_lines, by, closed_on, reasons, errors)
    shipment.version += 1
    _save(shipment, by, _("Received") if close else _("Received in part"))
    _recount_figures(shipment)
    _mark_stale(before + cells.cells_of(shipment))
    return receipt


def _receipt_line_values(item: ReceiptInput) -> dict:
    damaged = item.condition == ReceiptLine.Condition.DAMAGED
    return {
        "quantity": item.received_quantity,
        "tonnes": item.received_tonnes,
        "condition": item.condition,
        "damage_reason": item.damage_reason.strip() if damaged else "",
    }


@transaction.atomic
def shipment_close(
    *, by, shipment_id: int, closed_on: datetime.date, shortfalls: Sequence[Shortfall] = (),
    expected_version: int | None = None,
) -> Shipment:  # fmt: skip
    """Receipt complete: what has not arrived by now is lost, with a reason per short line."""
    shipment = _lock(shipment_id)
    _check_can_receive(by, shipment)
    _check_version(shipment, expected_version)
    if not shipment.is_open_for_receipt:
        raise ValidationError({NON_FIELD: [_("Only a shipment in transit or partly received can be closed.")]})
    before = cells.cells_of(shipment)
    cargo_lines = list(shipment.lines.order_by("id"))
    errors: dict[str, list[str]] = {}
    _close(shipment, cargo_lines, by, closed_on, {s.line_id: (s.reason, s.note) for s in shortfalls}, errors)
    shipment.version += 1
    _save(shipment, by, _("Closed"))
    _recount_figures(shipment)
    _mark_stale(before + cells.cells_of(shipment))
    return shipment


@transaction.atomic
def shipment_receive(
    *, by, shipment_id: int, delivered_on: datetime.date, receipts: Sequence[ReceiptInput] | None = None,
    expected_version: int | None = None,
) -> Shipment:  # fmt: skip
    """Record that the rest of the cargo arrived on one day and close the shipment: one receipt of
    every line, where lines not in `receipts` brought what remained of them; short lines need a reason."""
    shipment = _lock(shipment_id)  # what remained is read under the lock the receipt then takes again
    given = {r.line_id: r for r in receipts or ()}
    lines = [
        given.pop(line.pk, None) or ReceiptInput(line.pk, line.remaining_quantity, line.remaining_tonnes)
        for line in shipment.lines.order_by("id")
    ]
    if not any(line.received_tonnes or line.received_quantity for line in [*lines, *given.values()]):
        shortfalls = [Shortfall(r.line_id, r.loss_reason, r.loss_note) for r in receipts or ()]
        return shipment_close(
            by=by, shipment_id=shipment_id, closed_on=delivered_on, shortfalls=shortfalls,
            expected_version=expected_version,
        )  # fmt: skip
    receipt_create(
        by=by, shipment_id=shipment_id, received_on=delivered_on, lines=[*lines, *given.values()], close=True,
        expected_version=expected_version,
    )  # fmt: skip
    return Shipment.objects.get(pk=shipment_id)


@transaction.atomic
def receipt_correct(
    *, by, receipt_id: int, reason: str, received_on: datetime.date | None = None,
    lines: Sequence[ReceiptInput] | None = None, note: str | None = None, expected_version: int | None = None,
) -> Receipt:  # fmt: skip
    """Correct a receipt: its date and what arrived of each line (the lines given replace its lines).
    What is left out (None) keeps its value, as read under the lock.

    The history keeps the old values with who, when and `reason`; the totals of the old and the new
    date are both recounted. On a closed shipment a line that becomes short needs its loss reason.
    """
    shipment_id = Receipt.objects.filter(pk=receipt_id).values_list("shipment_id", flat=True).first()
    if shipment_id is None:
        raise Receipt.DoesNotExist
    shipment = _lock(shipment_id)
    receipt = Receipt.objects.select_for_update().get(pk=receipt_id)
    if not can_change_shipment(by, shipment):
        raise PermissionDenied(_("Only the consignor's logistics officers or an administrator may correct a receipt."))
    if expected_version is not None and receipt.version != expected_version:
        raise ReceiptConflict(receipt)
    if received_on is None:
        received_on = receipt.received_on
    if lines is None:
        lines = [
            ReceiptInput(rl.line_id, rl.quantity, rl.tonnes, condition=rl.condition, damage_reason=rl.damage_reason)
            for rl in receipt.lines.all()
        ]
    before = cells.cells_of(shipment)
    cargo_lines = list(shipment.lines.order_by("id"))
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        _add(errors, "reason", _("Say why the receipt is corrected."))
    _validate_received_on(shipment, received_on, errors)
    if shipment.delivered_on and received_on and received_on > shipment.delivered_on:
        _add(errors, "received_on", _("The receipt date cannot be after the shipment was closed (%(date)s).") % {
            "date": date_format(shipment.delivered_on, "SHORT_DATE_FORMAT")})  # fmt: skip
    arrived = {item.line_id: item for item in _arrived_lines(cargo_lines, lines, errors)}
    _raise_if(errors)

    receipt.received_on = received_on
    if note is not None:
        receipt.note = note.strip()
    receipt.correction_reason = reason.strip()
    receipt.version += 1
    _save(receipt, by, _("Corrected"))
    for current in receipt.lines.all():
        item = arrived.pop(current.line_id, None)
        if item is None:
            current._history_user = by
            current.delete()
            continue
        values = _receipt_line_values(item)
        if any(getattr(current, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(current, name, value)
            _save(current, by)
    for item in arrived.values():
        _save(ReceiptLine(receipt=receipt, line_id=item.line_id, **_receipt_line_values(item)), by)
    _recount_received(cargo_lines, by)
    if shipment.status == Shipment.Status.DELIVERED:
        _set_loss_reasons(cargo_lines, by, {i.line_id: (i.loss_reason, i.loss_note) for i in lines if i.loss_reason},
                          errors)  # fmt: skip
        _raise_if(errors)
    shipment.version += 1
    _save(shipment, by, _("Receipt corrected"))
    _recount_figures(shipment)
    _mark_stale(before + cells.cells_of(shipment))
    return receipt


@transaction.atomic
def shipment_reopen(*, by, shipment_id: int, reason: str, expected_version: int | None = None) -> Shipment:
    """Undo the closing of a shipment (administrators): nothing counts as lost until it is closed again."""
    shipment = _lock(shipment_id)
    if not can_reopen_shipment(by):
        raise PermissionDenied(_("Only an administrator may reopen a closed shipment."))
    _check_version(shipment, expected_version)
    if shipment.status != Shipment.Status.DELIVERED:
        raise ValidationError({NON_FIELD: [_("Only a delivered (closed) shipment can be reopened.")]})
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the shipment is reopened.")]})
    before = cells.cells_of(shipment)
    for line in shipment.lines.all():
        if line.loss_reason or line.loss_note:
            line.loss_reason, line.loss_note = "", ""
            _save(line, by)
    has_receipts = shipment.receipts.exists()
    shipment.status = Shipment.Status.PARTLY_RECEIVED if has_receipts else Shipment.Status.IN_TRANSIT
    shipment.delivered_on = None
    shipment.notes = (shipment.notes + "\n" if shipment.notes else "") + _("Reopened: %(reason)s") % {
        "reason": reason.strip()
    }
    shipment.version += 1
    _save(shipment, by, _("Reopened"))
    _recount_figures(shipment)
    _mark_stale(before + cells.cells_of(shipment))
    return shipment


@transaction.atomic
def shipment_delete(*, by, shipment_id: int) -> None:
    """Remove a shipment logged by mistake: officers their own planned ones, administrators any."""
    shipment = _lock(shipment_id)
    if not can_change_shipment(by, shipment):
        raise PermissionDenied(_("Only the consignor's logistics officers or an administrator may delete it."))
    if shipment.status != Shipment.Status.PLANNED and not roles.is_administrator(by):
        raise ValidationError({NON_FIELD: [_("Only an administrator can delete a shipment that has left.")]})
    before = cells.cells_of(shipment)
    for receipt in shipment.receipts.all():
        for receipt_line in receipt.lines.all():
            receipt_line._history_user = by
            receipt_line.delete()
        receipt._history_user = by
        receipt.delete()
    for line in shipment.lines.all():
        line._history_user = by
        line.delete()
    shipment._history_user = by
    shipment.delete()
    _mark_stale(before)


@transaction.atomic
def shipment_cancel(*, by, shipment_id: int, reason: str, expected_version: int | None = None) -> Shipment:
    shipment = _lock(shipment_id)
    before = cells.cells_of(shipment)
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
    _recount_figures(shipment)
    _mark_stale(before + cells.cells_of(shipment))
    return shipment


def shipments_figures_recount() -> int:
    """Set every shipment's stored figures to a fresh sum of its records in one statement, rewriting
    only those that differ; returns how many did. For rows loaded by SQL (the benchmark, bulk test
    data) and for repairs; the services keep the figures of what they write."""
    names = ", ".join(f"{name} = f.{name}" for name in FIGURE_FIELDS)
    differs = " OR ".join(f"{Shipment._meta.db_table}.{name} <> f.{name}" for name in FIGURE_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Shipment._meta.db_table} SET {names}
                FROM ({fresh_figures_sql(one_shipment=False)}) f
                WHERE f.id = {Shipment._meta.db_table}.id AND ({differs})"""
        )
        return cursor.rowcount
