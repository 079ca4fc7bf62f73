"""Reading the delivery totals: the query behind /api/v1/totals/ and the dashboards.

Each question is answered from the smallest table that can answer it exactly:
- month rows when the question has no destination, day or week grouping and its dates are whole
  months (a few rows, whatever the size of the data): month × mode × area for all cargo, month ×
  mode × cargo type when it asks by cargo type and for no destination;
- otherwise the day × mode × destination rows (all cargo) or day × mode × cargo × destination rows.
Shipment counts are only summed over rows that count each shipment once.
"""

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils.translation import gettext as _

from aidtrack.models import Location
from aidtrack.selectors import filter_by_location_subtree, location_get_by_code

from ..models import (
    CargoType,
    DeliveryAreaMonthTotal,
    DeliveryCargoMonthTotal,
    DeliveryDayTotal,
    DeliveryTotal,
    InTransitTotal,
    Shipment,
    StaleCell,
    StaleTransitCell,
    TotalsState,
)

DIMENSIONS = ("mode", "cargo_type", "destination")
PERIODS = ("day", "week", "month")
GROUPS = DIMENSIONS + PERIODS
THOUSANDTH = Decimal("0.001")


class TotalsQueryError(ValueError):
    """A bad parameter; `param` names it."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param, self.message = param, message


@dataclass(frozen=True)
class TotalsQuery:
    group_by: tuple[str, ...] = ("mode",)
    mode: str | None = None
    cargo_type: CargoType | None = None
    destination: Location | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None

    @property
    def period(self) -> str | None:
        return next((g for g in self.group_by if g in PERIODS), None)


@dataclass
class TotalsAnswer:
    query: TotalsQuery
    as_of: datetime.datetime | None
    pending_changes: int
    total: dict
    in_transit: dict
    results: list[dict] = field(default_factory=list)


def parse_totals_query(params) -> TotalsQuery:
    """Build a TotalsQuery from request parameters; raises TotalsQueryError naming a bad one."""
    raw_groups = [g.strip() for g in (params.get("group_by") or "mode").split(",") if g.strip()]
    unknown = [g for g in raw_groups if g not in GROUPS]
    if unknown or not raw_groups:
        raise TotalsQueryError(
            "group_by",
            _("Unknown group_by value %(value)s; use a comma list of %(allowed)s.")
            % {"value": ", ".join(unknown) or "''", "allowed": ", ".join(GROUPS)},
        )
    if sum(g in PERIODS for g in raw_groups) > 1:
        raise TotalsQueryError("group_by", _("Group by one period at most (day, week or month)."))
    group_by = tuple(dict.fromkeys(raw_groups))

    mode = params.get("mode") or None
    if mode is not None and mode not in Shipment.Mode.values:
        raise TotalsQueryError("mode", _("Unknown mode %(value)s; use one of %(allowed)s.") % {
            "value": mode, "allowed": ", ".join(Shipment.Mode.values)})  # fmt: skip
    cargo_type = _by_code(CargoType, params.get("cargo_type"), "cargo_type")
    destination = None
    if params.get("destination"):
        destination = location_get_by_code(params["destination"])
        if destination is None:
            raise TotalsQueryError(
                "destination", _("Unknown destination code %(code)s.") % {"code": params["destination"]}
            )
    date_from = _date(params.get("date_from"), "date_from")
    date_to = _date(params.get("date_to"), "date_to")
    if date_from and date_to and date_from > date_to:
        raise TotalsQueryError("date_to", _("date_to is before date_from."))
    return TotalsQuery(group_by, mode, cargo_type, destination, date_from, date_to)


def _by_code(model, code: str | None, param: str):
    if not code:
        return None
    obj = model.objects.filter(code=code).first()
    if obj is None:
        raise TotalsQueryError(param, _("Unknown %(param)s code %(code)s.") % {"param": param, "code": code})
    return obj


def _date(value: str | None, param: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise TotalsQueryError(param, _("%(param)s must be a date like 2020-11-20.") % {"param": param}) from None


def _whole_months(query: TotalsQuery) -> bool:
    start_ok = query.date_from is None or query.date_from.day == 1
    end = query.date_to
    end_ok = end is None or end.day == calendar.monthrange(end.year, end.month)[1]
    return start_ok and end_ok


def _rows(query: TotalsQuery, by_cargo: bool) -> QuerySet:
    """The totals rows answering `query`, with columns named as in the results (before grouping)."""
    monthly = not ({"destination", "day", "week"} & set(query.group_by)) and _whole_months(query)
    # By cargo type the month rows cover all destinations, so a destination needs the day rows.
    if monthly and not (by_cargo and query.destination):
        if by_cargo:
            qs = DeliveryCargoMonthTotal.objects.all()
        else:
            qs = DeliveryAreaMonthTotal.objects.all()
            qs = qs.filter(area=query.destination) if query.destination else qs.filter(area_depth=0)
        if query.date_from:
            qs = qs.filter(month__gte=query.date_from)
        if query.date_to:
            qs = qs.filter(month__lte=query.date_to)
        period_expr = {"month": F("month")}
    else:
        qs = DeliveryTotal.objects.all() if by_cargo else DeliveryDayTotal.objects.all()
        if query.destination:
            qs = filter_by_location_subtree(qs, "destination", query.destination)
        if query.date_from:
            qs = qs.filter(day__gte=query.date_from)
        if query.date_to:
            qs = qs.filter(day__lte=query.date_to)
        period_expr = {"day": F("day"), "week": TruncWeek("day"), "month": TruncMonth("day")}
    if query.mode:
        qs = qs.filter(mode=query.mode)
    if query.cargo_type:
        qs = qs.filter(cargo_type=query.cargo_type)
    if query.period:
        qs = qs.annotate(period=period_expr[query.period])
    return qs


# The figures every totals row has; summed over the rows of a group or of the whole answer.
VALUE_SUMS = {
    "tonnes_delivered": Sum("tonnes_delivered"),
    "tonnes_damaged": Sum("tonnes_damaged"),
    "tonnes_lost": Sum("tonnes_lost"),
    "shipments": Sum("shipments"),
}

# Grouped by ids in SQL (no joins in the GROUP BY); codes and names are looked up once afterwards.
GROUP_FIELDS = {"mode": "mode", "cargo_type": "cargo_type_id", "destination": "destination_id"}


def totals_freshness() -> tuple[datetime.datetime | None, int]:
    """(as_of, pending_changes): when the totals were last refreshed, and how many changes wait: days
    with delivered tonnes to recount plus in-transit cells to recount (they have no day)."""
    state = TotalsState.objects.filter(id=1).first()
    pending = StaleCell.objects.values("day").distinct().count() + StaleTransitCell.objects.count()
    return (state.refreshed_at if state else None), pending


def delivery_totals(query: TotalsQuery) -> TotalsAnswer:
    """The whole answer of /api/v1/totals/: results, overall total, in transit and freshness."""
    # The overall total counts each shipment once, so it reads the all-cargo rows unless one cargo
    # type is asked for.
    total = _rows(query, query.cargo_type is not None).aggregate(**VALUE_SUMS)
    as_of, pending = totals_freshness()
    return TotalsAnswer(
        query=query,
        as_of=as_of,
        pending_changes=pending,
        total={
            "tonnes_delivered": tonnes(total["tonnes_delivered"]),
            "tonnes_damaged": tonnes(total["tonnes_damaged"]),
            "tonnes_lost": tonnes(total["tonnes_lost"]),
            "shipments": total["shipments"] or 0,
        },
        in_transit=in_transit(query),
        results=totals_results(query),
    )


def totals_results(query: TotalsQuery) -> list[dict]:
    """Only the grouped rows of the answer (for a page that needs several groupings, freshness once)."""
    by_cargo = "cargo_type" in query.group_by or query.cargo_type is not None
    fields = [GROUP_FIELDS.get(g, "period") for g in query.group_by]
    sums = dict(VALUE_SUMS)
    if "cargo_type" in query.group_by:
        sums["quantity_delivered"] = Sum("quantity_delivered")
    grouped = list(_rows(query, by_cargo).values(*fields).annotate(**sums).order_by())
    cargo = {c.pk: c for c in CargoType.objects.filter(pk__in={r["cargo_type_id"] for r in grouped})} if (
        "cargo_type" in query.group_by) else {}  # fmt: skip
    places = Location.objects.filter(pk__in={r["destination_id"] for r in grouped}) if (
        "destination" in query.group_by) else []  # fmt: skip
    names = {"cargo": cargo, "places": {p.pk: p for p in places}}
    results = [_result(row, query, names) for row in grouped]
    results.sort(key=lambda r: [str(r[g]) for g in query.group_by])
    return results


def tonnes(value) -> str:
    """Tonnes as a decimal string with 3 places (never locale-formatted)."""
    return str(Decimal(value or 0).quantize(THOUSANDTH))


def _result(row: dict, query: TotalsQuery, names: dict) -> dict:
    out: dict = {}
    for group in query.group_by:
        if group == "mode":
            out["mode"] = row["mode"]
        elif group == "cargo_type":
            cargo = names["cargo"][row["cargo_type_id"]]
            out["cargo_type"] = cargo.code
            out["cargo_type_name"] = cargo.name
            out["unit"] = cargo.unit
            out["quantity_delivered"] = tonnes(row["quantity_delivered"])
        elif group == "destination":
            place = names["places"][row["destination_id"]]
            out["destination"] = place.code
            out["destination_name"] = place.name
        else:
            value = row["period"]
            out[group] = (value.date() if isinstance(value, datetime.datetime) else value).isoformat()
    out["tonnes_delivered"] = tonnes(row["tonnes_delivered"])
    out["tonnes_damaged"] = tonnes(row["tonnes_damaged"])
    out["tonnes_lost"] = tonnes(row["tonnes_lost"])
    out["shipments"] = row["shipments"] or 0
    return out


def in_transit(query: TotalsQuery) -> dict:
    """Tonnes sent on shipments now in transit, for the query's filters (dates do not apply)."""
    rows = InTransitTotal.objects.filter(cargo_type=query.cargo_type) if query.cargo_type else (
        InTransitTotal.objects.filter(cargo_type__isnull=True))  # fmt: skip
    if query.mode:
        rows = rows.filter(mode=query.mode)
    if query.destination:
        rows = filter_by_location_subtree(rows, "destination", query.destination)
    agg = rows.aggregate(tonnes=Sum("tonnes"), shipments=Sum("shipments"))
    return {"tonnes": tonnes(agg["tonnes"]), "shipments": agg["shipments"] or 0}
