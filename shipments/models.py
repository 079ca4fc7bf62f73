"""Cargo catalogue, shipments (waybills) and their cargo lines."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from aidtrack.models import Location, Organisation


class CargoType(models.Model):
    class Category(models.TextChoices):
        SHELTER = "shelter", _("Shelter and building materials")
        ENERGY = "energy", _("Energy and fuel")
        VEHICLES = "vehicles", _("Vehicles and equipment")
        HOUSEHOLD = "household", _("Household items")
        FOOD = "food", _("Food")
        HEALTH = "health", _("Health and medical")
        WASH = "wash", _("Water, sanitation and hygiene")
        OTHER = "other", _("Other")

    class Unit(models.TextChoices):
        TONNES = "t", _("tonnes")
        PIECES = "pcs", _("pieces")
        SETS = "sets", _("sets")
        VEHICLES = "vehicles", _("vehicles")
        LITRES = "litres", _("litres")
        CUBIC_METRES = "m3", _("cubic metres")

    # How a quantity's unit is written after a number in tables ("12 pcs", "1 180,5 т").
    UNIT_SYMBOLS = {
        Unit.TONNES: pgettext_lazy("unit symbol", "t"),
        Unit.PIECES: pgettext_lazy("unit symbol", "pcs"),
        Unit.SETS: pgettext_lazy("unit symbol", "sets"),
        Unit.VEHICLES: pgettext_lazy("unit symbol", "veh."),
        Unit.LITRES: pgettext_lazy("unit symbol", "l"),
        Unit.CUBIC_METRES: pgettext_lazy("unit symbol", "m³"),
    }

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    unit = models.CharField(_("counting unit"), max_length=10, choices=Unit.choices)
    active = models.BooleanField(_("active"), default=True, help_text=_("Inactive types cannot be put on new lines."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("cargo type")
        verbose_name_plural = _("cargo types")

    def __str__(self) -> str:
        return self.name


# The figures each shipment stores of its lines (see Shipment.line_count and below).
FIGURE_FIELDS = ("line_count", "tonnes_sent", "tonnes_received", "tonnes_lost", "tonnes_damaged")
FIGURE_TONNES = {"max_digits": 14, "decimal_places": 3, "default": 0, "db_default": 0, "editable": False}


class Shipment(models.Model):
    """A waybill: one consignment from an origin to a destination by one transport mode."""

    class Mode(models.TextChoices):
        ROAD = "road", _("Road")
        RAIL = "rail", _("Rail")
        AIR = "air", _("Air")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_TRANSIT = "in_transit", _("In transit")
        # Some cargo has arrived (one receipt or more) and the receipt is not complete yet.
        PARTLY_RECEIVED = "partly_received", _("Partly received")
        # Receipt complete (closed): what did not arrive by then is lost.
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    reference = models.CharField(_("waybill reference"), max_length=40, unique=True)
    mode = models.CharField(_("transport mode"), max_length=10, choices=Mode.choices)
    consignor = models.ForeignKey(
        Organisation, verbose_name=_("consignor"), on_delete=models.PROTECT, related_name="shipments_sent"
    )
    consignee = models.ForeignKey(
        Organisation, verbose_name=_("consignee"), on_delete=models.PROTECT, related_name="shipments_received"
    )
    origin = models.ForeignKey(Location, verbose_name=_("origin"), on_delete=models.PROTECT, related_name="+")
    destination = models.ForeignKey(
        Location, verbose_name=_("destination"), on_delete=models.PROTECT, related_name="shipments_in"
    )
    transport_reference = models.CharField(
        _("transport reference"), max_length=200, blank=True, help_text=_("Truck plates, wagon or flight numbers")
    )
    dispatched_on = models.DateField(_("dispatched"), null=True, blank=True)
    expected_on = models.DateField(_("expected"), null=True, blank=True)
    # The day the receipt was completed (closed); each receipt has its own date.
    delivered_on = models.DateField(_("delivered"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED)
    notes = models.TextField(_("notes"), blank=True)
    # Incremented by every service write: an edit form posted against an older version is refused.
    version = models.PositiveIntegerField(default=1)
    # The hidden key of the "new shipment" form: posting the same form twice creates one shipment.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Figures of the lines and receipt lines, stored so that lists show and sort by them without
    # summing the lines of every shipment. Written only by `services._recount_figures`, in the
    # transaction of each write; `selectors.shipments_with_wrong_figures` checks them against the records.
    # 0 in the database too (db_default), so a bulk load by SQL that leaves them out still inserts rows.
    line_count = models.PositiveIntegerField(_("lines"), default=0, db_default=0, editable=False)
    tonnes_sent = models.DecimalField(_("sent (t)"), **FIGURE_TONNES)
    tonnes_received = models.DecimalField(_("received (t)"), **FIGURE_TONNES)
    # Sent - received per line, never below 0, once closed (delivered); 0 before.
    tonnes_lost = models.DecimalField(_("lost (t)"), **FIGURE_TONNES)
    # Received in damaged condition (part of tonnes_received).
    tonnes_damaged = models.DecimalField(_("damaged (t)"), **FIGURE_TONNES)
    # The figures are derived from the lines' own history: recording them again would only add noise.
    history = HistoricalRecords(excluded_fields=["submission_key", "updated_at", *FIGURE_FIELDS])

    class Meta:
        ordering = ["-dispatched_on", "-id"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        constraints = [
            models.CheckConstraint(
                condition=Q(delivered_on__isnull=True)
                | Q(dispatched_on__isnull=True)
                | Q(delivered_on__gte=F("dispatched_on")),
                name="shipment_delivered_after_dispatch",
            ),
            models.CheckConstraint(
                condition=Q(expected_on__isnull=True)
                | Q(dispatched_on__isnull=True)
                | Q(expected_on__gte=F("dispatched_on")),
                name="shipment_expected_after_dispatch",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["in_transit", "partly_received", "delivered"])
                | Q(dispatched_on__isnull=False),
                name="shipment_moving_has_dispatch_date",
            ),
            models.CheckConstraint(
                condition=Q(status="delivered", delivered_on__isnull=False)
                | (~Q(status="delivered") & Q(delivered_on__isnull=True)),
                name="shipment_delivered_iff_delivery_date",
            ),
            models.CheckConstraint(condition=~Q(origin=F("destination")), name="shipment_origin_is_not_destination"),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "in_transit", "partly_received", "delivered", "cancelled"]),
                name="shipment_status_valid",
            ),
            models.CheckConstraint(condition=Q(mode__in=["road", "rail", "air", "other"]), name="shipment_mode_valid"),
        ]
        indexes = [
            models.Index(fields=["status", "delivered_on"]),
            models.Index(fields=["destination", "dispatched_on"]),
            models.Index(fields=["destination", "delivered_on"]),
            # Read backwards, these serve the list's orders with a LIMIT and no sort: the default
            # `dispatched_on DESC NULLS FIRST, id DESC`, `tonnes_sent DESC, id DESC`, `delivered_on DESC
            # NULLS FIRST, id DESC` (and forwards, the ascending ones).
            models.Index(fields=["dispatched_on", "id"], name="shipment_dispatched_id_idx"),
            models.Index(fields=["tonnes_sent", "id"], name="shipment_tonnes_sent_id_idx"),
            models.Index(fields=["delivered_on", "id"], name="shipment_delivered_id_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_editable(self) -> bool:
        """Whether its cargo and route may change: only before anything has been received."""
        return self.status in (self.Status.PLANNED, self.Status.IN_TRANSIT)

    @property
    def is_open_for_receipt(self) -> bool:
        return self.status in (self.Status.IN_TRANSIT, self.Status.PARTLY_RECEIVED)

    @property
    def has_arrived(self) -> bool:
        """Cargo has been received (partly or completely): only notes and transport reference may change."""
        return self.status in (self.Status.PARTLY_RECEIVED, self.Status.DELIVERED)


class CargoLine(models.Model):
    """What one shipment carries of one cargo type, and what of it arrived.

    `received_quantity` and `received_tonnes` are the sums of the line's receipt lines (None before
    the first receipt), kept by the receipt services in the same transaction. `loss_reason` is set
    when the shipment is closed: why less arrived than was sent, or `overage` when more did.
    """

    class LossReason(models.TextChoices):
        DAMAGED = "damaged", _("Damaged")
        LOST = "lost", _("Lost")
        STOLEN = "stolen", _("Stolen")
        SHORT_SHIPPED = "short_shipped", _("Short-shipped")
        OTHER = "other", _("Other")
        OVERAGE = "overage", _("Overage")

    # The reasons a shortfall can be given (overage is set by the service, never chosen for a shortfall).
    SHORTFALL_REASONS = LossReason.choices[:-1]

    shipment = models.ForeignKey(Shipment, verbose_name=_("shipment"), on_delete=models.CASCADE, related_name="lines")
    cargo_type = models.ForeignKey(
        CargoType, verbose_name=_("cargo type"), on_delete=models.PROTECT, related_name="lines"
    )
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=3, help_text=_("In the cargo type's unit")
    )
    tonnes = models.DecimalField(_("weight (t)"), max_digits=12, decimal_places=3)
    received_quantity = models.DecimalField(
        _("received quantity"), max_digits=14, decimal_places=3, null=True, blank=True
    )
    received_tonnes = models.DecimalField(_("received (t)"), max_digits=12, decimal_places=3, null=True, blank=True)
    loss_reason = models.CharField(_("loss reason"), max_length=20, choices=LossReason.choices, blank=True)
    loss_note = models.CharField(_("loss note"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("cargo line")
        verbose_name_plural = _("cargo lines")
        constraints = [
            models.CheckConstraint(condition=Q(tonnes__gt=0), name="cargoline_tonnes_positive"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cargoline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(received_tonnes__isnull=True) | Q(received_tonnes__gte=0),
                name="cargoline_received_tonnes_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(received_quantity__isnull=True) | Q(received_quantity__gte=0),
                name="cargoline_received_quantity_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(received_tonnes__isnull=True, received_quantity__isnull=True)
                | Q(received_tonnes__isnull=False, received_quantity__isnull=False),
                name="cargoline_received_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cargo_type}: {self.quantity}"

    @property
    def lost_tonnes(self) -> Decimal | None:
        """Sent - received, never below 0, once it counts as lost: closing gives every short line its
        loss reason. 0 for a line that arrived in full (or over); None while the rest may still come."""
        if self.loss_reason and self.loss_reason != self.LossReason.OVERAGE:
            return self.remaining_tonnes
        if self.received_tonnes is not None and not self.is_short:
            return Decimal("0")
        return None

    @property
    def received_or_zero(self) -> Decimal:
        return self.received_tonnes or Decimal("0")

    @property
    def remaining_tonnes(self) -> Decimal:
        """Sent and not (yet) received; never below 0 (more arriving is overage)."""
        return max(self.tonnes - self.received_or_zero, Decimal("0"))

    @property
    def remaining_quantity(self) -> Decimal:
        return max(self.quantity - (self.received_quantity or Decimal("0")), Decimal("0"))

    @property
    def overage_tonnes(self) -> Decimal:
        return max(self.received_or_zero - self.tonnes, Decimal("0"))

    @property
    def is_short(self) -> bool:
        received_quantity = self.received_quantity or Decimal("0")
        return self.received_or_zero < self.tonnes or received_quantity < self.quantity

    @property
    def is_over(self) -> bool:
        received_quantity = self.received_quantity or Decimal("0")
        return not self.is_short and (self.received_or_zero > self.tonnes or received_quantity > self.quantity)


class Receipt(models.Model):
    """Cargo of one shipment that arrived on one day (a wagon, a truck, a part of the consignment).

    A correction changes a receipt in place with a reason; its history keeps every earlier version
    (who, when, what, why). `version` guards corrections against stale forms.
    """

    shipment = models.ForeignKey(
        Shipment, verbose_name=_("shipment"), on_delete=models.CASCADE, related_name="receipts"
    )
    received_on = models.DateField(_("received"))
    # Copies of the shipment's mode and destination, which cannot change once cargo has arrived: a
    # refresh finds the receipts of one day, mode and destination by index, however many the day has.
    mode = models.CharField(_("transport mode"), max_length=10, default="", editable=False)
    destination = models.ForeignKey(
        Location, verbose_name=_("destination"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+", editable=False,
    )  # fmt: skip
    note = models.CharField(_("note"), max_length=500, blank=True)
    # Why the last correction was made (blank until corrected); each history record keeps its own.
    correction_reason = models.CharField(_("reason for the correction"), max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1)
    # The hidden key of the receive form (or the API's Idempotency-Key): posting it twice records once.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["submission_key"])

    class Meta:
        ordering = ["received_on", "id"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        indexes = [models.Index(fields=["received_on", "destination", "mode"], name="receipt_day_cell_idx")]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.received_on}"


class ReceiptLine(models.Model):
    """What arrived of one cargo line in one receipt, and in what condition."""

    class Condition(models.TextChoices):
        GOOD = "good", _("Good")
        DAMAGED = "damaged", _("Damaged")

    receipt = models.ForeignKey(Receipt, verbose_name=_("receipt"), on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(
        CargoLine, verbose_name=_("cargo line"), on_delete=models.CASCADE, related_name="receipt_lines"
    )
    quantity = models.DecimalField(_("quantity received"), max_digits=14, decimal_places=3)
    tonnes = models.DecimalField(_("received (t)"), max_digits=12, decimal_places=3)
    condition = models.CharField(_("condition"), max_length=10, choices=Condition.choices, default=Condition.GOOD)
    damage_reason = models.CharField(_("damage"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="receiptline_quantity_not_negative"),
            models.CheckConstraint(condition=Q(tonnes__gte=0), name="receiptline_tonnes_not_negative"),
            models.CheckConstraint(condition=Q(condition__in=["good", "damaged"]), name="receiptline_condition_valid"),
            models.CheckConstraint(
                condition=Q(condition="good") | ~Q(damage_reason=""), name="receiptline_damage_has_reason"
            ),
            models.UniqueConstraint(fields=["receipt", "line"], name="receiptline_once_per_receipt"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id}: {self.tonnes} t"


class ReferenceCounter(models.Model):
    """The last waybill number handed out per year (row-locked while a reference is generated)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


# --- Delivery totals ------------------------------------------------------------------------------
# Written only by the totals tasks (shipments.totals).
# - delivered: what receipts recorded, dated by the receipt date (partly received shipments too);
#   damaged is the part of it received in damaged condition;
# - lost: sent - received per line, never below 0, on closed (delivered) shipments, dated by the
#   closing date;
# - shipments: the shipments with a receipt in the row (a shipment received over three days counts
#   on each of them);
# - in transit: sent - received per line, never below 0, on open (in transit, partly received) ones.


class StaleCell(models.Model):
    """The outbox: a day × mode × destination whose totals must be recomputed.

    Services add marks in the same transaction as the change; `refresh_totals` recomputes the marked
    cells and deletes the marks. A mark finer than a day keeps the cost of a change independent of
    how many shipments the day has.
    """

    day = models.DateField()
    mode = models.CharField(max_length=10)
    destination = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "mode", "destination"], name="stalecell_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.mode} {self.destination_id}"


# The totals rows' references: no foreign key constraint and no index of their own. The rows are
# derived from records whose references the database checks already, and are rewritten by the
# hundred thousand in a rebuild, where a deferred check per row and per reference would cost more
# than the rebuild's own work; every table has a composite index that starts with the reference.
DERIVED_FK = {"on_delete": models.CASCADE, "related_name": "+", "db_constraint": False, "db_index": False}


class DeliveryTotal(models.Model):
    """Delivered tonnage per day × transport mode × cargo type × destination."""

    day = models.DateField()
    mode = models.CharField(max_length=10)
    cargo_type = models.ForeignKey(**DERIVED_FK, to=CargoType)
    destination = models.ForeignKey(**DERIVED_FK, to=Location)
    tonnes_delivered = models.DecimalField(max_digits=16, decimal_places=3)
    tonnes_damaged = models.DecimalField(max_digits=16, decimal_places=3, default=0)
    quantity_delivered = models.DecimalField(max_digits=18, decimal_places=3)
    tonnes_lost = models.DecimalField(max_digits=16, decimal_places=3)
    shipments = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "mode", "destination", "cargo_type"], name="deliverytotal_unique")
        ]
        # By cargo type: the covering index on (cargo type, mode, day) of migration 0012 (PostgreSQL).
        indexes = [models.Index(fields=["destination", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.mode} {self.cargo_type_id} {self.destination_id}: {self.tonnes_delivered} t"


class DeliveryDayTotal(models.Model):
    """The rollup over cargo types: per day × mode × destination, with distinct shipments."""

    day = models.DateField()
    mode = models.CharField(max_length=10)
    destination = models.ForeignKey(**DERIVED_FK, to=Location)
    tonnes_delivered = models.DecimalField(max_digits=16, decimal_places=3)
    tonnes_damaged = models.DecimalField(max_digits=16, decimal_places=3, default=0)
    tonnes_lost = models.DecimalField(max_digits=16, decimal_places=3)
    shipments = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "mode", "destination"], name="deliverydaytotal_unique")]
        indexes = [models.Index(fields=["destination", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.mode} {self.destination_id}: {self.tonnes_delivered} t"


class DeliveryAreaMonthTotal(models.Model):
    """All cargo per month × mode × area (a location and everything under it).

    Lets the API answer "by mode" or "in this region" by reading a few rows, however many shipments
    there are. `area_depth` 0 marks top-level areas: their rows add up to everything. Questions by
    cargo type read DeliveryCargoMonthTotal (no destination) or DeliveryTotal (with one).
    """

    month = models.DateField()
    mode = models.CharField(max_length=10)
    area = models.ForeignKey(**DERIVED_FK, to=Location)
    area_depth = models.PositiveSmallIntegerField()
    tonnes_delivered = models.DecimalField(max_digits=16, decimal_places=3)
    tonnes_damaged = models.DecimalField(max_digits=16, decimal_places=3, default=0)
    tonnes_lost = models.DecimalField(max_digits=16, decimal_places=3)
    shipments = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["area", "month", "mode"], name="areamonth_unique")]
        indexes = [models.Index(fields=["area_depth", "month"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.mode} {self.area_id}: {self.tonnes_delivered} t"


class DeliveryCargoMonthTotal(models.Model):
    """Per month × mode × cargo type, all destinations: "by cargo type and month" in a few rows."""

    month = models.DateField()
    mode = models.CharField(max_length=10)
    cargo_type = models.ForeignKey(CargoType, on_delete=models.CASCADE, related_name="+")
    tonnes_delivered = models.DecimalField(max_digits=16, decimal_places=3)
    tonnes_damaged = models.DecimalField(max_digits=16, decimal_places=3, default=0)
    quantity_delivered = models.DecimalField(max_digits=18, decimal_places=3)
    tonnes_lost = models.DecimalField(max_digits=16, decimal_places=3)
    shipments = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "mode", "cargo_type"], name="cargomonth_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.mode} {self.cargo_type_id}: {self.tonnes_delivered} t"


class StaleTransitCell(models.Model):
    """The outbox for tonnes in transit: a mode × destination whose in-transit row must be recomputed."""

    mode = models.CharField(max_length=10)
    destination = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mode", "destination"], name="staletransitcell_unique")]

    def __str__(self) -> str:
        return f"{self.mode} {self.destination_id}"


class InTransitTotal(models.Model):
    """Tonnes sent on shipments now in transit, per mode × destination × cargo type or all cargo (NULL)."""

    mode = models.CharField(max_length=10)
    destination = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    cargo_type = models.ForeignKey(CargoType, null=True, on_delete=models.CASCADE, related_name="+")
    tonnes = models.DecimalField(max_digits=16, decimal_places=3)
    shipments = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mode", "destination", "cargo_type"],
                condition=Q(cargo_type__isnull=False),
                name="intransit_cargo_unique",
            ),
            models.UniqueConstraint(
                fields=["mode", "destination"], condition=Q(cargo_type__isnull=True), name="intransit_all_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mode} {self.destination_id} {self.cargo_type_id}: {self.tonnes} t"


class TotalsState(models.Model):
    """One row: when the totals were last refreshed (the API's `as_of`)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    refreshed_at = models.DateTimeField(null=True)
    rebuilt_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"refreshed {self.refreshed_at}"
