"""The totals tables and their columns, read from their models: a figure added to a model is
written, summed and compared everywhere without another list to update."""

from dataclasses import dataclass

from django.db import models

from aidtrack.models import Location

from ..models import (
    DeliveryAreaMonthTotal,
    DeliveryCargoMonthTotal,
    DeliveryDayTotal,
    DeliveryTotal,
    InTransitTotal,
    StaleCell,
    StaleTransitCell,
)


@dataclass(frozen=True)
class Table:
    name: str
    keys: tuple[str, ...]  # the columns of its unique key, in the order of that index
    values: tuple[str, ...]  # its figures: tonnes and quantities, then the shipment count
    extra: tuple[str, ...] = ()  # columns that are neither (area_depth)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.keys + self.extra + self.values

    @property
    def column_list(self) -> str:
        return ", ".join(self.columns)

    @classmethod
    def of(cls, model, extra: tuple[str, ...] = ()) -> "Table":
        unique = next(c for c in model._meta.constraints if isinstance(c, models.UniqueConstraint))
        figures = [
            f.column for f in model._meta.concrete_fields if isinstance(f, models.DecimalField) or f.name == "shipments"
        ]
        keys = tuple(model._meta.get_field(name).column for name in unique.fields)
        return cls(model._meta.db_table, keys, tuple(figures), extra)


L0 = Table.of(DeliveryTotal)  # day × mode × destination × cargo type
DAY = Table.of(DeliveryDayTotal)  # day × mode × destination, all cargo
AREA = Table.of(DeliveryAreaMonthTotal, extra=("area_depth",))  # month × mode × area, all cargo
CARGO_MONTH = Table.of(DeliveryCargoMonthTotal)  # month × mode × cargo type, all destinations
# In transit has two partial unique keys (per cargo type, and all cargo with cargo_type NULL).
TRANSIT = Table(InTransitTotal._meta.db_table, ("mode", "destination_id", "cargo_type_id"), ("tonnes", "shipments"))

STALE = StaleCell._meta.db_table
STALE_TRANSIT = StaleTransitCell._meta.db_table
LOC = Location._meta.db_table
