"""Forms parse and display; the rules live in shipments.services."""

import uuid

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidtrack.forms import DATE_WIDGET, BootstrapMixin
from aidtrack.models import Location, Organisation

from . import access, services
from .models import CargoLine, CargoType, Shipment


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


class ReceiveForm(BootstrapMixin, forms.Form):
    delivered_on = forms.DateField(label=_("Delivered"), widget=DATE_WIDGET, initial=timezone.localdate)
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReceiptLineForm(BootstrapMixin, forms.Form):
    line_id = forms.IntegerField(widget=forms.HiddenInput)
    received_quantity = forms.DecimalField(label=_("Received quantity"), max_digits=14, decimal_places=3)
    received_tonnes = forms.DecimalField(label=_("Received (t)"), max_digits=12, decimal_places=3)
    loss_reason = forms.ChoiceField(
        label=_("Loss reason"), choices=[("", "—"), *CargoLine.LossReason.choices], required=False
    )
    loss_note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def to_input(self) -> services.ReceiptInput:
        data = self.cleaned_data
        return services.ReceiptInput(
            line_id=data["line_id"],
            received_quantity=data["received_quantity"],
            received_tonnes=data["received_tonnes"],
            loss_reason=data["loss_reason"],
            loss_note=data["loss_note"],
        )


ReceiptLineFormSet = formset_factory(ReceiptLineForm, extra=0)


def receipt_initial(lines: list[CargoLine]) -> list[dict]:
    """What was sent, as the default of what arrived."""
    return [{"line_id": line.pk, "received_quantity": line.quantity, "received_tonnes": line.tonnes} for line in lines]
