"""Coverage: how far deliveries meet the open needs. Computed from the records, never typed in.

One row per assessed location × cargo type:
- needed: the quantity of the open needs for that cargo type in assessments of that location;
- since: the earliest assessment date among those needs;
- delivered: the quantity of that cargo type delivered to the location or any place under it on or
  after `since`, read from the delivery totals (so it follows them as soon as they refresh);
- covered % = delivered ÷ needed × 100 (above 100 when more arrived than was asked for), gap =
  needed − delivered (never below 0); the row is met at 100 %, partial above 0, none at 0.

A need's coverage is its row's: every open need of a row is met when the row is. Rollups add rows
up per cargo type (quantities in different units are never added): per region, the needed and the
part of it covered; per sector, each need counts with its row's covered part. In rollups no delivery
counts twice and a surplus in one place does not hide a gap in another (`allocated_cover`): where a
place and a place under it are both assessed, a delivery to the lower one covers it first, and only
what is left over counts for the place above.

Filters select rows: `location` keeps the rows of that place and the places under it; `sector` and
`priority` keep the rows that include an open need of that sector or priority (the row's figures
still count all its open needs, because the deliveries cannot be split between them).

Each function runs a fixed number of queries, whatever the number of rows.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_date

from aidtrack.models import Location
from aidtrack.selectors import location_ancestor_chains, location_subtree_ids
from shipments.models import CargoType

from .models import Need, Sector

MET, PARTIAL, NONE = "met", "partial", "none"
STATES = (MET, PARTIAL, NONE)
_Q = Decimal("0.001")
_PRIORITY_RANK = "CASE n.priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END"
_PRIORITIES = ["critical", "high", "medium", "low"]


@dataclass(frozen=True)
class CoverageQuery:
    location: Location | None = None
    sector: str = ""
    cargo_type: CargoType | None = None
    priority: str = ""
    state: str = ""  # met, partial or none; empty for all


def _state_sql(state: str) -> str:
    return {
        MET: "cov.delivered >= cov.needed",
        PARTIAL: "cov.delivered > 0 AND cov.delivered < cov.needed",
        NONE: "cov.delivered = 0",
    }[state]


def _coverage_sql(query: CoverageQuery) -> tuple[str, list]:
    """SQL for (location_id, cargo_type_id, needed, since, needs, top_priority, delivered) rows."""
    where, having, params = ["n.status = 'open'"], [], []
    if query.location is not None:
        subtree = location_subtree_ids(query.location)
        where.append(f"a.location_id IN ({subtree.sql})")
        params.extend(subtree.params)
    if query.cargo_type is not None:
        where.append("n.cargo_type_id = %s")
        params.append(query.cargo_type.pk)
    if query.sector:
        having.append("SUM(CASE WHEN a.sector = %s THEN 1 ELSE 0 END) > 0")
        params.append(query.sector)
    if query.priority:
        having.append("SUM(CASE WHEN n.priority = %s THEN 1 ELSE 0 END) > 0")
        params.append(query.priority)
    sql = f"""
        WITH RECURSIVE open_rows AS (
            SELECT a.location_id, n.cargo_type_id, SUM(n.quantity) AS needed, MIN(a.assessed_on) AS since,
                   COUNT(*) AS needs, MIN({_PRIORITY_RANK}) AS top_priority
            FROM needs_need AS n JOIN needs_assessment AS a ON a.id = n.assessment_id
            WHERE {" AND ".join(where)}
            GROUP BY a.location_id, n.cargo_type_id
            {"HAVING " + " AND ".join(having) if having else ""}
        ),
        subtree(root_id, id) AS (
            SELECT DISTINCT location_id, location_id FROM open_rows
            UNION
            SELECT subtree.root_id, child.id
            FROM aidtrack_location AS child JOIN subtree ON child.parent_id = subtree.id
        ),
        delivered AS (
            SELECT r.location_id, r.cargo_type_id, SUM(t.quantity_delivered) AS delivered
            FROM open_rows AS r
            JOIN subtree AS s ON s.root_id = r.location_id
            JOIN shipments_deliverytotal AS t
              ON t.destination_id = s.id AND t.cargo_type_id = r.cargo_type_id AND t.day >= r.since
            GROUP BY r.location_id, r.cargo_type_id
        )
        SELECT r.location_id, r.cargo_type_id, r.needed, r.since, r.needs, r.top_priority,
               COALESCE(d.delivered, 0) AS delivered
        FROM open_rows AS r
        LEFT JOIN delivered AS d ON d.location_id = r.location_id AND d.cargo_type_id = r.cargo_type_id
    """
    return sql, params


def _decimal(value) -> Decimal:
    """SQLite hands sums back as floats; PostgreSQL as Decimals. Both become 3-place Decimals."""
    return Decimal(str(value or 0)).quantize(_Q)


def _date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else parse_date(str(value))


@dataclass(frozen=True)
class CoverageRow:
    location_id: int
    location_code: str
    location_name: str
    region_code: str | None
    region_name: str | None
    cargo_type_id: int
    cargo_type_code: str
    cargo_type_name: str
    unit: str
    needed: Decimal
    delivered: Decimal
    since: datetime.date
    needs: int
    top_priority: str

    @property
    def covered_pct(self) -> Decimal:
        return (self.delivered * 100 / self.needed).quantize(Decimal("0.1"))

    @property
    def covered_share(self) -> Decimal:
        """The part of the need that deliveries cover, 0 to 1."""
        return min(Decimal(1), self.delivered / self.needed)

    @property
    def gap(self) -> Decimal:
        return max(self.needed - self.delivered, Decimal(0)).quantize(_Q)

    @property
    def state(self) -> str:
        return MET if self.delivered >= self.needed else PARTIAL if self.delivered > 0 else NONE

    @property
    def progress(self) -> int:
        """Covered % capped at 100, for progress bars."""
        return int(min(self.covered_pct, 100))


def coverage_rows(query: CoverageQuery = CoverageQuery()) -> list[CoverageRow]:
    """The coverage rows matching `query`, largest uncovered share first (one query)."""
    base, params = _coverage_sql(query)
    state = f"WHERE {_state_sql(query.state)}" if query.state else ""
    sql = f"""
        WITH RECURSIVE up(start_id, id, parent_id, level, n) AS (
            SELECT id, id, parent_id, level, 0 FROM aidtrack_location
            WHERE id IN (SELECT DISTINCT a.location_id FROM needs_assessment AS a)
            UNION ALL
            SELECT up.start_id, p.id, p.parent_id, p.level, up.n + 1
            FROM aidtrack_location AS p JOIN up ON p.id = up.parent_id
            WHERE up.n < {Location.MAX_DEPTH}  -- a loop in the parents cannot hang the walk
        ),
        region AS (SELECT start_id, MIN(id) AS region_id FROM up WHERE level = 'region' GROUP BY start_id)
        SELECT cov.location_id, l.code, l.name, rg.code, rg.name, cov.cargo_type_id, c.code, c.name, c.unit,
               cov.needed, cov.delivered, cov.since, cov.needs, cov.top_priority
        FROM ({base}) AS cov
        JOIN aidtrack_location AS l ON l.id = cov.location_id
        JOIN shipments_cargotype AS c ON c.id = cov.cargo_type_id
        LEFT JOIN region AS g ON g.start_id = cov.location_id
        LEFT JOIN aidtrack_location AS rg ON rg.id = g.region_id
        {state}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [
            CoverageRow(
                location_id=r[0],
                location_code=r[1],
                location_name=r[2],
                region_code=r[3],
                region_name=r[4],
                cargo_type_id=r[5],
                cargo_type_code=r[6],
                cargo_type_name=r[7],
                unit=r[8],
                needed=_decimal(r[9]),
                delivered=_decimal(r[10]),
                since=_date(r[11]),
                needs=r[12],
                top_priority=_PRIORITIES[int(r[13])],
            )
            for r in cursor.fetchall()
        ]
    rows.sort(key=lambda row: (row.covered_share, -row.needed, row.location_code, row.cargo_type_code))
    return rows


def coverage_by_pair(query: CoverageQuery = CoverageQuery()) -> dict[tuple[int, int], CoverageRow]:
    """Rows keyed by (location id, cargo type id): a need's row is (its assessment's location, its type)."""
    return {(row.location_id, row.cargo_type_id): row for row in coverage_rows(query)}


def attach_coverage(needs, query: CoverageQuery = CoverageQuery()) -> None:
    """Set `need.coverage` on each of `needs`: its row's (its assessment's place × its cargo type), None
    for a cancelled need (1 query). `query` may narrow the rows computed to those the needs can be in."""
    rows = coverage_by_pair(query)
    for need in needs:
        need.coverage = row_of(need, rows)


def row_of(need: Need, rows: dict[tuple[int, int], CoverageRow]) -> CoverageRow | None:
    """A need's coverage row in `rows` (from coverage_by_pair); None for a cancelled need."""
    if need.status != Need.Status.OPEN:
        return None
    return rows.get((need.assessment.location_id, need.cargo_type_id))


def needs_in_state(state: str) -> RawSQL:
    """A subquery of the ids of open needs whose coverage is `state`, for `id__in` filters."""
    base, params = _coverage_sql(CoverageQuery())
    return RawSQL(
        f"""SELECT n.id FROM needs_need AS n JOIN needs_assessment AS a ON a.id = n.assessment_id
            JOIN ({base}) AS cov ON cov.location_id = a.location_id AND cov.cargo_type_id = n.cargo_type_id
            WHERE n.status = 'open' AND {_state_sql(state)}""",
        params,
    )


@dataclass(frozen=True)
class Rollup:
    """Needed and covered quantity of one cargo type in one region or sector."""

    key: str | None
    label: str | None
    cargo_type_code: str
    cargo_type_name: str
    unit: str
    needed: Decimal
    covered: Decimal
    rows: int

    @property
    def covered_pct(self) -> Decimal:
        return (self.covered * 100 / self.needed).quantize(Decimal("0.1"))

    @property
    def gap(self) -> Decimal:
        return (self.needed - self.covered).quantize(_Q)


def _rollup(parts) -> list[Rollup]:
    """`parts`: (key, label, row, needed, covered) tuples, added up per key × cargo type."""
    sums: dict[tuple, list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    labels = {}
    for key, label, row, needed, covered in parts:
        group = (key, row.cargo_type_code)
        labels[group] = (label, row.cargo_type_name, row.unit)
        sums[group][0] += needed
        sums[group][1] += covered
        sums[group][2] += 1
    return sorted(
        (
            Rollup(g[0], labels[g][0], g[1], labels[g][1], labels[g][2], s[0].quantize(_Q), s[1].quantize(_Q), s[2])
            for g, s in sums.items()
        ),
        key=lambda r: (r.key or "~", r.cargo_type_name),
    )


def allocated_cover(rows: list[CoverageRow]) -> dict[tuple[int, int], Decimal]:
    """The part of each row's need that deliveries cover, counting each delivery once (1 query).

    A row's delivered includes what went to assessed places under it. Rows are served from the
    deepest up: each takes what its deliveries leave after the assessed rows under it took theirs,
    up to its need. (A lower row may have counted deliveries from before the upper row's date; the
    upper row then gets less, never more, than it could.)
    """
    # Each place's ancestors, without itself (and without repeats, should parents have been edited into a loop).
    chains = {
        place: [a for a in dict.fromkeys(chain[1:]) if a != place]
        for place, chain in location_ancestor_chains(sorted({row.location_id for row in rows})).items()
    }
    pairs = {(row.location_id, row.cargo_type_id) for row in rows}
    taken_below: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    cover = {}
    for row in sorted(rows, key=lambda r: -len(chains[r.location_id])):
        pair = (row.location_id, row.cargo_type_id)
        cover[pair] = min(row.needed, max(row.delivered - taken_below[pair], Decimal(0)))
        for ancestor in chains[row.location_id]:
            if (ancestor, row.cargo_type_id) in pairs:
                taken_below[(ancestor, row.cargo_type_id)] += cover[pair]
    return cover


def coverage_by_region(rows: list[CoverageRow], cover: dict[tuple[int, int], Decimal] | None = None) -> list[Rollup]:
    """Per region (of the assessed place) × cargo type; places outside any region under key None.

    `cover`: allocated_cover(rows) if the caller has it, else computed here (1 query).
    """
    cover = allocated_cover(rows) if cover is None else cover
    return _rollup(
        (row.region_code, row.region_name, row, row.needed, cover[(row.location_id, row.cargo_type_id)]) for row in rows
    )


def coverage_by_sector(
    query: CoverageQuery = CoverageQuery(),
    rows: list[CoverageRow] | None = None,
    cover: dict[tuple[int, int], Decimal] | None = None,
) -> list[Rollup]:
    """Per sector × cargo type: each open need counts its quantity and its row's covered part (as a share).

    `rows` (the coverage rows of `query`) and `cover` (their allocated_cover) if the caller has them
    (1 query), else computed here (up to 3).
    """
    rows = coverage_rows(query) if rows is None else rows
    cover = allocated_cover(rows) if cover is None else cover
    rows = {(r.location_id, r.cargo_type_id): r for r in rows}
    needs = (
        Need.objects.filter(status=Need.Status.OPEN)
        .values("assessment__location_id", "cargo_type_id", "assessment__sector")
        .order_by()
    )
    if query.sector:
        needs = needs.filter(assessment__sector=query.sector)
    if query.priority:
        needs = needs.filter(priority=query.priority)
    labels = dict(Sector.choices)
    parts = []
    for part in needs.annotate(quantity=Sum("quantity")):
        row = rows.get((part["assessment__location_id"], part["cargo_type_id"]))
        if row is None:  # outside the query's location or cargo type
            continue
        quantity = _decimal(part["quantity"])
        sector = part["assessment__sector"]
        share = cover[(row.location_id, row.cargo_type_id)] / row.needed
        parts.append((sector, str(labels.get(sector, sector)), row, quantity, quantity * share))
    return _rollup(parts)
