"""What the overview dashboard shows, read from the delivery totals: the same selector as /api/v1/totals/.

The page renders these figures and tables on the server; its charts fetch the same questions from
the API (`api_params` gives their query strings), so the page and the API cannot disagree.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from aidtrack.forms import FilterForm
from aidtrack.models import Location

from .models import Shipment
from .selectors import shipments_to
from .totals.selectors import TotalsAnswer, TotalsQuery, delivery_totals, totals_results

# The groupings the charts and CSV links ask /api/v1/totals/ for, by the name the page uses.
API_QUESTIONS = {"mode_week": "mode,week", "cargo_type": "cargo_type", "destination": "destination"}
TOP_DESTINATIONS = 10
LATEST_DELIVERIES = 10


class OverviewFilterForm(FilterForm):
    date_from = forms.DateField(label=_("Delivered from"), required=False)
    date_to = forms.DateField(label=_("Delivered to"), required=False)
    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=Location.objects.filter(level=Location.Level.REGION).order_by("name"),
        to_field_name="code",
        required=False,
        empty_label=_("All regions"),
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data


@dataclass(frozen=True)
class OverviewFilters:
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    region: Location | None = None

    def totals_query(self, *group_by: str) -> TotalsQuery:
        return TotalsQuery(group_by=group_by, destination=self.region, date_from=self.date_from, date_to=self.date_to)

    def api_params(self, group_by: str) -> str:
        """The /api/v1/totals/ query string asking the same question (for the charts and CSV links)."""
        params = {"group_by": group_by}
        if self.region:
            params["destination"] = self.region.code
        if self.date_from:
            params["date_from"] = self.date_from.isoformat()
        if self.date_to:
            params["date_to"] = self.date_to.isoformat()
        return urlencode(params)


@dataclass
class Overview:
    filters: OverviewFilters
    by_mode: TotalsAnswer
    by_cargo: list[dict]
    top_destinations: list[dict]
    cumulative_rows: list[dict]  # see cumulative_by_mode
    modes: list[tuple[str, str]]  # (mode, label) of the modes that delivered, in the catalogue's order
    latest: list[Shipment]

    @property
    def api(self) -> dict[str, str]:
        """The /api/v1/totals/ query strings of the charts and CSV links."""
        return {name: self.filters.api_params(group_by) for name, group_by in API_QUESTIONS.items()}

    def mode_tonnes(self, mode: str) -> Decimal:
        return next((Decimal(r["tonnes_delivered"]) for r in self.by_mode.results if r["mode"] == mode), Decimal(0))

    @property
    def road(self) -> Decimal:
        return self.mode_tonnes(Shipment.Mode.ROAD)

    @property
    def rail(self) -> Decimal:
        return self.mode_tonnes(Shipment.Mode.RAIL)


def _by_tonnes(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: Decimal(r["tonnes_delivered"]), reverse=True)


def cumulative_by_mode(rows: list[dict], modes: list[str]) -> list[dict]:
    """Running totals over the weeks of `rows` (results grouped by mode and week).

    One dict per week: `week` (its Monday), `values` (the running tonnes of each of `modes`, in that
    order) and `total`.
    """
    weeks = sorted({r["week"] for r in rows})
    per_week = {(r["week"], r["mode"]): Decimal(r["tonnes_delivered"]) for r in rows}
    running = [Decimal(0)] * len(modes)
    out = []
    for week in weeks:
        running = [value + per_week.get((week, mode), Decimal(0)) for value, mode in zip(running, modes, strict=True)]
        out.append({"week": datetime.date.fromisoformat(week), "values": running, "total": sum(running, Decimal(0))})
    return out


def latest_deliveries(filters: OverviewFilters, limit: int = LATEST_DELIVERIES) -> list[Shipment]:
    """The newest closed shipments with the tonnes each stores: read backwards along the (delivered on,
    id) index and cut at `limit` before anything else is read; nothing is summed."""
    # Always true of a delivered shipment; said so that the backward index scan starts past the
    # shipments not delivered yet (no date: first in a descending order) instead of reading through them.
    shipments = Shipment.objects.filter(status=Shipment.Status.DELIVERED, delivered_on__isnull=False)
    if filters.region:
        shipments = shipments_to(shipments, filters.region)
    if filters.date_from:
        shipments = shipments.filter(delivered_on__gte=filters.date_from)
    if filters.date_to:
        shipments = shipments.filter(delivered_on__lte=filters.date_to)
    shipments = shipments.select_related("destination", "consignor")
    return list(shipments.order_by(F("delivered_on").desc(), "-id")[:limit])


def overview(filters: OverviewFilters) -> Overview:
    """Everything the overview shows; a fixed number of queries whatever the number of shipments."""
    by_mode = delivery_totals(filters.totals_query("mode"))  # with the overall total, in transit, freshness
    weekly = totals_results(filters.totals_query("mode", "week"))
    order = list(Shipment.Mode.values)
    modes = sorted({r["mode"] for r in weekly}, key=order.index)
    labels = dict(Shipment.Mode.choices)
    return Overview(
        filters=filters,
        by_mode=by_mode,
        by_cargo=_by_tonnes(totals_results(filters.totals_query("cargo_type"))),
        top_destinations=_by_tonnes(totals_results(filters.totals_query("destination")))[:TOP_DESTINATIONS],
        cumulative_rows=cumulative_by_mode(weekly, modes),
        modes=[(mode, labels[mode]) for mode in modes],
        latest=latest_deliveries(filters),
    )
