from django.contrib import admin
from django.urls import reverse

from .models import CargoLine, CargoType, Receipt, Shipment


@admin.register(CargoType)
class CargoTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "unit", "active"]
    list_filter = ["category", "unit", "active"]
    search_fields = ["code", "name"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        # Whoever may read the shipment reads its lines and receipts with it.
        return request.user.has_perm("shipments.view_shipment")


class CargoLineInline(ReadOnlyInline):
    model = CargoLine
    fields = readonly_fields = [
        "cargo_type", "quantity", "tonnes", "received_quantity", "received_tonnes", "loss_reason", "loss_note"
    ]  # fmt: skip


class ReceiptInline(ReadOnlyInline):
    model = Receipt
    fields = readonly_fields = ["received_on", "recorded_by", "note", "correction_reason", "version"]


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    """Shipments to find and read. Every write (receipts, corrections, reopening) goes through the
    services on the shipment's own pages, which keep history, figures and totals; "View on site" leads there."""

    list_display = ["reference", "mode", "status", "consignor", "destination", "dispatched_on", "delivered_on",
                    "tonnes_sent", "tonnes_received"]  # fmt: skip
    list_filter = ["status", "mode"]
    search_fields = ["reference", "transport_reference"]
    list_select_related = ["consignor", "destination"]
    inlines = [CargoLineInline, ReceiptInline]

    def view_on_site(self, obj) -> str:
        return reverse("shipments:detail", args=[obj.pk])

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
