"""Delivery totals: summary tables written only by the totals tasks, read by the API and dashboards.

- `cells`: the outbox: the cells a change touches, marked stale in the writer's transaction;
- `refresh`: recompute the marked cells, set-based; `rebuild`: recompute everything, rewriting only
  rows that differ (`rebuild_split`: its check on several connections; `bulk`: into empty tables);
- `columns` and `sql`: the tables, their figures (read from the models) and the shared SQL;
- `tasks`: the Celery entry points and the refresh queued after a write's commit;
- `selectors` and `api`: the reads behind /api/v1/totals/ and the dashboards, and that endpoint.

Every statement is set-based SQL: GROUP BY runs in the database, never a loop over records.
"""

from .rebuild import RebuildResult, rebuild
from .refresh import RefreshResult, refresh

__all__ = ["RebuildResult", "RefreshResult", "rebuild", "refresh"]
