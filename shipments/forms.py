"""Forms parse and display; the rules live in shipments.services."""

import uuid
from decimal import Decimal

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidtrack.forms import DATE_WIDGET, BootstrapMixin
from aidtrack.models import Location, Organisation

from . import access, services
from .models import CargoLine, CargoType, Receipt, ReceiptLine, Shipment

NOTES_ONLY_FIELDS = ("notes", "transport_reference")


class ShipmentForm(BootstrapMixin, forms.Form):
    reference = forms.CharField(
        label=_("Waybill reference"),
        max_length=40,
        required=False,
        help_text=_("Left blank: generated (WB-year-number)."),
    )
    mode = forms.ChoiceField(label=_("Transport mode"), choices=Shipment.Mode.choices)
    consignor = forms.ModelChoiceField(label=_("Consignor"), queryset=Organisation.objects.all())
    consignee = forms.ModelChoiceField(label=_("Consignee"), queryset=Organisation.objects.all())
    origin = forms.ModelChoiceField(label=_("Origin"), queryset=Location.objects.all())
    destination = forms.ModelChoiceField(label=_("Destination"), queryset=Location.objects.all())
    transport_reference = forms.CharField(
        label=_("Transport reference"),
        max_length=200,
        required=False,
        help_text=_("Truck plates, wagon or flight numbers"),
    )
    dispatched_on = forms.DateField(
        label=_("Dispatched"), required=False, widget=DATE_WIDGET, help_text=_("Leave blank while still planned.")
    )
    expected_on = forms.DateField(label=_("Expected"), required=False, widget=DATE_WIDGET)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, instance: Shipment | None = None, **kwargs):
        if instance is not None:
            kwargs.setdefault("initial", {})
            kwargs["initial"] = {
                **{name: getattr(instance, name) for name in self.base_fields if hasattr(instance, name)},
                "consignor": instance.consignor_id,
                "consignee": instance.consignee_id,
                "origin": instance.origin_id,
                "destination": instance.destination_id,
                "version": instance.version,
            }
        else:
            kwargs.setdefault("initial", {}).setdefault("submission_key", uuid.uuid4())
            if user.organisation_id:
                kwargs["initial"].setdefault("consignor", user.organisation_id)
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["consignor"].queryset = access.consignors_for(user)
        if instance is not None:
            self.fields["reference"].disabled = True
            del self.fields["submission_key"]
        else:
            del self.fields["version"]
        # Once cargo has arrived only the notes and the transport reference may change (shipment_update).
        self.notes_only = instance is not None and not instance.is_editable
        if self.notes_only:
            for name, form_field in self.fields.items():
                if name not in NOTES_ONLY_FIELDS and not form_field.widget.is_hidden:
                    form_field.disabled = True

    def to_input(self, lines: list[services.LineInput]) -> services.ShipmentInput:
        data = self.cleaned_data
        return services.ShipmentInput(
            mode=data["mode"],
            consignor=data["consignor"],
            consignee=data["consignee"],
            origin=data["origin"],
            destination=data["destination"],
            transport_reference=data["transport_reference"],
            dispatched_on=data["dispatched_on"],
            expected_on=data["expected_on"],
            notes=data["notes"],
            reference=data.get("reference") or "",
            lines=lines,
        )


class CargoLineForm(BootstrapMixin, forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    cargo_type = forms.ModelChoiceField(label=_("Cargo type"), queryset=CargoType.objects.all())
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3)
    tonnes = forms.DecimalField(label=_("Weight (t)"), max_digits=12, decimal_places=3)

    def to_input(self) -> services.LineInput:
        data = self.cleaned_data
        return services.LineInput(
            cargo_type=data["cargo_type"], quantity=data["quantity"], tonnes=data["tonnes"], id=data.get("id")
        )


CargoLineFormSet = formset_factory(CargoLineForm, extra=0, can_delete=True)
LINES_PREFIX = "lines"


def existing_lines(shipment: Shipment) -> list[services.LineInput]:
    """The shipment's lines as they are: what an edit of its notes only sends with them."""
    return [
        services.LineInput(cargo_type=line.cargo_type, quantity=line.quantity, tonnes=line.tonnes, id=line.pk)
        for line in shipment.lines.select_related("cargo_type").order_by("id")
    ]


def line_initial(shipment: Shipment) -> list[dict]:
    return [
        {"id": line.pk, "cargo_type": line.cargo_type_id, "quantity": line.quantity, "tonnes": line.tonnes}
        for line in shipment.lines.order_by("id")
    ]


class DispatchForm(BootstrapMixin, forms.Form):
    dispatched_on = forms.DateField(label=_("Dispatched"), widget=DATE_WIDGET, initial=timezone.localdate)
    expected_on = forms.DateField(label=_("Expected"), widget=DATE_WIDGET, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class CancelForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


# --- Receipts -------------------------------------------------------------------------------------

RECEIVED_WIDGET = {"placeholder": "0", "inputmode": "decimal"}


class ReceiveForm(BootstrapMixin, forms.Form):
    """One receipt: cargo that arrived on one day (its lines are a ReceiptLineFormSet)."""

    received_on = forms.DateField(label=_("Received on"), widget=DATE_WIDGET, initial=timezone.localdate)
    note = forms.CharField(
        label=_("Note"),
        max_length=500,
        required=False,
        help_text=_("For example the wagon or truck numbers of this receipt."),
    )
    close = forms.BooleanField(
        label=_("Receipt complete — close the shipment"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        help_text=_("What has not arrived by now is then lost: give the reason for each line still short."),
    )
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("submission_key", uuid.uuid4())
        super().__init__(*args, **kwargs)


class ReceiptLineForm(BootstrapMixin, forms.Form):
    """What arrived of one cargo line now (blank: nothing), its condition and, when closing short, why.

    `with_loss=False` leaves out the loss reason (a correction of a receipt of an open shipment).
    """

    line_id = forms.IntegerField(widget=forms.HiddenInput)
    received_quantity = forms.DecimalField(
        label=_("Quantity received now"),
        max_digits=14,
        decimal_places=3,
        required=False,
        widget=forms.NumberInput(attrs=RECEIVED_WIDGET),
    )
    received_tonnes = forms.DecimalField(
        label=_("Tonnes received now"),
        max_digits=12,
        decimal_places=3,
        required=False,
        widget=forms.NumberInput(attrs=RECEIVED_WIDGET),
    )
    condition = forms.ChoiceField(
        label=_("Condition"), choices=ReceiptLine.Condition.choices, initial=ReceiptLine.Condition.GOOD
    )
    damage_reason = forms.CharField(label=_("What is damaged"), max_length=300, required=False)
    loss_reason = forms.ChoiceField(
        label=_("Loss reason (when closing short)"), choices=[("", "—"), *CargoLine.SHORTFALL_REASONS], required=False
    )
    loss_note = forms.CharField(label=_("Loss note"), max_length=300, required=False)

    def __init__(self, *args, with_loss: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.with_loss = with_loss
        if not with_loss:
            del self.fields["loss_reason"], self.fields["loss_note"]

    def to_input(self) -> services.ReceiptInput:
        data = self.cleaned_data
        return services.ReceiptInput(
            line_id=data["line_id"],
            received_quantity=data["received_quantity"] or Decimal("0"),
            received_tonnes=data["received_tonnes"] or Decimal("0"),
            loss_reason=data.get("loss_reason", ""),
            loss_note=data.get("loss_note", ""),
            condition=data["condition"],
            damage_reason=data["damage_reason"],
        )


ReceiptLineFormSet = formset_factory(ReceiptLineForm, extra=0)


def receipt_formset(data, lines: list[CargoLine], receipt: Receipt | None = None, with_loss: bool = True):
    """A line form per cargo line: blank for a new receipt; the receipt's values for a correction."""
    given = {item.line_id: item for item in receipt.lines.all()} if receipt is not None else {}
    initial = []
    for line in lines:
        row = {"line_id": line.pk, "condition": ReceiptLine.Condition.GOOD}
        item = given.get(line.pk)
        if item is not None:
            row.update(
                received_quantity=item.quantity,
                received_tonnes=item.tonnes,
                condition=item.condition,
                damage_reason=item.damage_reason,
            )
        if line.loss_reason in dict(CargoLine.SHORTFALL_REASONS):
            row.update(loss_reason=line.loss_reason, loss_note=line.loss_note)
        initial.append(row)
    return ReceiptLineFormSet(data, initial=initial, prefix=LINES_PREFIX, form_kwargs={"with_loss": with_loss})


class CloseForm(BootstrapMixin, forms.Form):
    closed_on = forms.DateField(label=_("Receipt completed on"), widget=DATE_WIDGET, initial=timezone.localdate)
    version = forms.IntegerField(widget=forms.HiddenInput)


class ShortfallForm(BootstrapMixin, forms.Form):
    """Why less arrived of one line than was sent (named as the services name it: loss_reason)."""

    line_id = forms.IntegerField(widget=forms.HiddenInput)
    loss_reason = forms.ChoiceField(
        label=_("Loss reason"), choices=[("", "—"), *CargoLine.SHORTFALL_REASONS], required=False
    )
    loss_note = forms.CharField(label=_("Loss note"), max_length=300, required=False)

    def to_shortfall(self) -> services.Shortfall:
        data = self.cleaned_data
        return services.Shortfall(line_id=data["line_id"], reason=data["loss_reason"], note=data["loss_note"])


ShortfallFormSet = formset_factory(ShortfallForm, extra=0)


def shortfall_formset(data, short_lines: list[CargoLine]):
    initial = [
        {"line_id": line.pk, "loss_reason": line.loss_reason, "loss_note": line.loss_note}
        if line.loss_reason in dict(CargoLine.SHORTFALL_REASONS)
        else {"line_id": line.pk}
        for line in short_lines
    ]
    return ShortfallFormSet(data, initial=initial, prefix=LINES_PREFIX)


def forms_by_line(line_forms, lines: list[CargoLine], fallback: forms.Form) -> list[forms.Form]:
    """The line form of each cargo line, in the order of the shipment's lines (which is how the
    services number them: `lines-<i>-<field>`); `fallback` (the page's form) for a line without one."""
    by_id = {str(form["line_id"].value()): form for form in line_forms}
    return [by_id.get(str(line.pk), fallback) for line in lines]


def line_rows(lines: list[CargoLine], line_forms) -> list[tuple[CargoLine, forms.Form | None]]:
    """(cargo line, its form) for the page's rows, paired by line id whatever order the forms came in."""
    by_id = {str(form["line_id"].value()): form for form in line_forms}
    return [(line, by_id.get(str(line.pk))) for line in lines]


class ReopenForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Why is it reopened?"), max_length=500, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class CorrectReceiptForm(BootstrapMixin, forms.Form):
    received_on = forms.DateField(label=_("Received on"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    # Required by the service (its message is the one shown).
    reason = forms.CharField(label=_("Why is the receipt corrected?"), max_length=500, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
