"""Reads of shipments shared by the pages and the API."""

import datetime
import itertools
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, connections
from django.db.models import F, QuerySet
from django.template.defaultfilters import floatformat
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from aidtrack import history
from aidtrack.models import Location
from aidtrack.selectors import location_subtree_ids

from .models import FIGURE_FIELDS, CargoLine, CargoType, Receipt, ReceiptLine, Shipment

Q3 = Decimal("0.001")


def shipment_list(queryset: QuerySet[Shipment]) -> QuerySet[Shipment]:
    """Shipments newest dispatch first (planned ones, with no date, on top), with the figures each
    shipment stores (tonnes sent, received, lost, damaged, line count): nothing is summed, so a page
    costs the same with 100 or 250,000 shipments (the order is an index, read backwards)."""
    return queryset.select_related("consignor", "consignee", "origin", "destination").order_by(
        F("dispatched_on").desc(nulls_first=True), "-id"
    )


def shipments_to(queryset: QuerySet[Shipment], location: Location) -> QuerySet[Shipment]:
    """The shipments of `queryset` to `location` or a place under it. The places are read first (one
    small query) and given as a list: PostgreSQL then estimates the shipments from the destination's
    statistics and reads few by the destination index, where a subquery left it walking the whole
    list order to find that a place had none (0.4 s at 250,000 shipments)."""
    places = list(Location.objects.filter(pk__in=location_subtree_ids(location)).values_list("pk", flat=True))
    return queryset.filter(destination_id__in=places)


def estimated_count(queryset: QuerySet) -> int | None:
    """The planner's estimate of how many rows `queryset` has (PostgreSQL's EXPLAIN: no row is read,
    from the table's statistics); None on other databases."""
    db = connections[queryset.db]
    if db.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with db.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


# --- Stored figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What a shipment stores of its lines and receipt lines (Shipment.line_count, tonnes_*)."""

    line_count: int = 0
    tonnes_sent: Decimal = Decimal("0")
    tonnes_received: Decimal = Decimal("0")
    tonnes_lost: Decimal = Decimal("0")
    tonnes_damaged: Decimal = Decimal("0")

    @classmethod
    def of(cls, shipment: Shipment) -> "Figures":
        return cls(*(getattr(shipment, name) for name in FIGURE_FIELDS))

    @classmethod
    def from_row(cls, row) -> "Figures":
        # SQLite sums decimals as floats: round them back to the columns' 3 places.
        return cls(int(row[0]), *(Decimal(str(value)).quantize(Q3) for value in row[1:]))


@dataclass(frozen=True)
class WrongFigures:
    shipment_id: int
    stored: Figures
    fresh: Figures


def fresh_figures_sql(one_shipment: bool) -> str:
    """One row per shipment: its id, then the figures (named and ordered as FIGURE_FIELDS) summed from
    the records.

    Per line first (what arrived of it, damaged or not), then per shipment, so that lost is
    sent - received of each line, never below 0; lost counts only once the shipment is closed.
    With `one_shipment` both levels are limited to the shipment given as the two parameters.
    """
    shipment, line, receipt_line = (m._meta.db_table for m in (Shipment, CargoLine, ReceiptLine))
    return f"""
        SELECT s.id,
               COUNT(pl.id) AS line_count,
               COALESCE(SUM(pl.tonnes), 0) AS tonnes_sent,
               COALESCE(SUM(pl.received), 0) AS tonnes_received,
               CASE WHEN s.status = '{Shipment.Status.DELIVERED}' THEN
                   COALESCE(SUM(CASE WHEN pl.tonnes > pl.received THEN pl.tonnes - pl.received ELSE 0 END), 0)
               ELSE 0 END AS tonnes_lost,
               COALESCE(SUM(pl.damaged), 0) AS tonnes_damaged
        FROM {shipment} s
        LEFT JOIN (
            SELECT l.id, l.shipment_id, l.tonnes,
                   COALESCE(SUM(rl.tonnes), 0) AS received,
                   COALESCE(SUM(CASE WHEN rl.condition = '{ReceiptLine.Condition.DAMAGED}' THEN rl.tonnes END), 0)
                       AS damaged
            FROM {line} l LEFT JOIN {receipt_line} rl ON rl.line_id = l.id
            {"WHERE l.shipment_id = %s" if one_shipment else ""}
            GROUP BY l.id, l.shipment_id, l.tonnes
        ) pl ON pl.shipment_id = s.id
        {"WHERE s.id = %s" if one_shipment else ""}
        GROUP BY s.id, s.status"""


def shipment_fresh_figures(shipment_id: int) -> Figures:
    """The figures of one shipment as its records give them now (one query; the services store them)."""
    with connection.cursor() as cursor:
        cursor.execute(fresh_figures_sql(one_shipment=True), [shipment_id, shipment_id])
        row = cursor.fetchone()
    return Figures() if row is None else Figures.from_row(row[1:])


def shipments_with_wrong_figures(limit: int = 100) -> list[WrongFigures]:
    """Shipments whose stored figures differ from a fresh sum of their lines and receipt lines (the
    first `limit` by id), in one set-based statement over every shipment; none when all is well."""
    stored = ", ".join(f"s.{name}" for name in FIGURE_FIELDS)
    fresh = ", ".join(f"f.{name}" for name in FIGURE_FIELDS)
    # ROUND: SQLite sums decimals as floats (0.1 + 0.2); on PostgreSQL both sides have 3 places already.
    differs = " OR ".join(
        f"ROUND(s.{name}, 3) <> ROUND(f.{name}, 3)" if name.startswith("tonnes") else f"s.{name} <> f.{name}"
        for name in FIGURE_FIELDS
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT s.id, {stored}, {fresh}
                FROM {Shipment._meta.db_table} s
                JOIN ({fresh_figures_sql(one_shipment=False)}) f ON f.id = s.id
                WHERE {differs}
                ORDER BY s.id
                LIMIT %s""",
            [limit],
        )
        rows = cursor.fetchall()
    size = len(FIGURE_FIELDS)
    return [
        WrongFigures(row[0], Figures.from_row(row[1 : 1 + size]), Figures.from_row(row[1 + size :])) for row in rows
    ]


def shipment_lines(shipment: Shipment) -> list[CargoLine]:
    return list(shipment.lines.select_related("cargo_type").order_by("id"))


def shipment_history(shipment: Shipment) -> list[dict]:
    """Every recorded change of the shipment and its lines, newest first, with what changed."""
    records = shipment.history.select_related("history_user").order_by("history_date", "history_id")
    line_records = (
        CargoLine.history.filter(shipment_id=shipment.pk)
        .select_related("history_user", "cargo_type")
        .order_by("id", "history_date", "history_id")
    )
    return history.merged(
        history.changes(records, Shipment, lambda r: _("Shipment"), excluded_fields=["version", "created_at"]),
        history.changes(
            line_records,
            CargoLine,
            lambda r: _("Line: %(cargo)s") % {"cargo": r.cargo_type},
            excluded_fields=["shipment"],
        ),
    )


# --- Receipts -------------------------------------------------------------------------------------


def shipment_receipts(shipment: Shipment, lines: list[CargoLine]) -> list[Receipt]:
    """The shipment's receipts in date order, each with `items` (its lines, with the cargo line and the
    line's running received tonnes and quantity after this receipt) and `corrections` (see
    `_corrections`). Sets `tonnes_damaged` on each of `lines`. Four queries whatever the number of
    receipts."""
    receipts = list(shipment.receipts.select_related("recorded_by").order_by("received_on", "id"))
    by_line = {line.pk: line for line in lines}
    receipt_lines: dict[int, list[ReceiptLine]] = {}
    for item in ReceiptLine.objects.filter(receipt__shipment=shipment).order_by("id"):
        receipt_lines.setdefault(item.receipt_id, []).append(item)
    running: dict[int, tuple[Decimal, Decimal]] = {}
    for line in lines:
        line.tonnes_damaged = Decimal("0")
    for receipt in receipts:
        receipt.items = []
        for item in sorted(receipt_lines.get(receipt.pk, []), key=lambda i: i.line_id):
            line = by_line[item.line_id]
            quantity, tonnes = running.get(line.pk, (Decimal("0"), Decimal("0")))
            running[line.pk] = quantity + item.quantity, tonnes + item.tonnes
            if item.condition == ReceiptLine.Condition.DAMAGED:
                line.tonnes_damaged += item.tonnes
            receipt.items.append({"item": item, "line": line, "quantity_so_far": running[line.pk][0],
                                  "tonnes_so_far": running[line.pk][1]})  # fmt: skip
    _attach_corrections(receipts, by_line)
    return receipts


def _attach_corrections(receipts: list[Receipt], lines: dict[int, CargoLine]) -> None:
    """Set `corrections` on each receipt: newest last, each a dict of `when`, `who` (None: a deleted
    user), `reason` and `changes` ((what, old, new) as text), from the history of the receipt and of
    its lines. A line record belongs to the correction of its receipt saved last before it (the
    service saves the receipt first, then its lines, in one transaction)."""
    ids = [receipt.pk for receipt in receipts]
    receipt_records: dict[int, list] = {}
    records = Receipt.history.filter(id__in=ids).select_related("history_user").order_by("history_date", "history_id")
    for record in records:
        receipt_records.setdefault(record.id, []).append(record)
    line_records: dict[int, list] = {}
    for record in ReceiptLine.history.filter(receipt_id__in=ids).order_by("history_date", "history_id"):
        line_records.setdefault(record.receipt_id, []).append(record)
    for receipt in receipts:
        records = receipt_records.get(receipt.pk, [])
        corrections = []
        for previous, record in itertools.pairwise(records):
            changes = [
                (label, _show(getattr(previous, name)), _show(getattr(record, name)))
                for name, label in ((("received_on", _("Received on")), ("note", _("Note"))))
                if getattr(previous, name) != getattr(record, name)
            ]
            corrections.append({"record": record, "when": record.history_date, "who": record.history_user,
                                "reason": record.correction_reason, "changes": changes})  # fmt: skip
        last_of: dict[int, object] = {}
        for record in line_records.get(receipt.pk, []):
            previous = last_of.get(record.id)
            last_of[record.id] = record
            owner = next((c for c in reversed(corrections) if c["record"].history_date <= record.history_date), None)
            if owner is not None:
                owner["changes"].extend(_line_changes(previous, record, lines.get(record.line_id)))
        receipt.corrections = corrections


def _line_changes(previous, record, line: CargoLine | None) -> list[tuple[str, str, str]]:
    cargo = line.cargo_type.name if line is not None else "?"
    if record.history_type == "+" or previous is None:
        return [(cargo, "—", _receipt_line_text(record, line))]
    if record.history_type == "-":
        return [(cargo, _receipt_line_text(previous, line), "—")]
    fields = {
        "quantity": _("quantity"),
        "tonnes": _("tonnes"),
        "condition": _("condition"),
        "damage_reason": _("damage"),
    }
    return [
        (f"{cargo}: {label}", _show(getattr(previous, name), name), _show(getattr(record, name), name))
        for name, label in fields.items()
        if getattr(previous, name) != getattr(record, name)
    ]


def _receipt_line_text(record, line: CargoLine | None) -> str:
    unit = CargoType.UNIT_SYMBOLS.get(line.cargo_type.unit, line.cargo_type.unit) if line is not None else ""
    text = (
        f"{_show(record.quantity, 'quantity')} {unit} · {_show(record.tonnes, 'tonnes')} {CargoType.UNIT_SYMBOLS['t']}"
    )
    if record.condition == ReceiptLine.Condition.DAMAGED:
        text += f" · {_show(record.condition, 'condition')} ({record.damage_reason})"
    return text


def _show(value, name: str = "") -> str:
    """A value of a receipt or receipt line as the page shows it."""
    if value is None or value == "":
        return "—"
    if name == "condition":
        return str(dict(ReceiptLine.Condition.choices).get(value, value))
    if isinstance(value, Decimal):
        return floatformat(value, "3g" if name == "tonnes" else "-3g")
    if isinstance(value, datetime.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def shipment_figures(shipment: Shipment, lines: list[CargoLine]) -> dict[str, Decimal | None]:
    """The detail page's totals: sent, received (None before any receipt), damaged, overage, and the
    rest: `remaining` while the shipment is open, `lost` once it is closed (None otherwise).
    `lines` must have `tonnes_damaged` (set by `shipment_receipts`)."""
    closed = shipment.status == Shipment.Status.DELIVERED
    rest = sum((line.remaining_tonnes for line in lines), Decimal("0"))
    received = [line.received_tonnes for line in lines if line.received_tonnes is not None]
    return {
        "sent": sum((line.tonnes for line in lines), Decimal("0")),
        "received": sum(received, Decimal("0")) if received else None,
        "damaged": sum((line.tonnes_damaged for line in lines), Decimal("0")),
        "overage": sum((line.overage_tonnes for line in lines), Decimal("0")),
        "remaining": None if closed else rest,
        "lost": rest if closed else None,
    }
