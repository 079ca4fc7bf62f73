"""Celery entry points for the delivery totals. Both are idempotent: they recompute absolute values."""

from celery import shared_task

from . import totals


@shared_task(name="shipments.refresh_totals")
def refresh_totals() -> int:
    """Recompute the cells marked stale; returns how many. Queued on commit and run by beat."""
    return totals.refresh().cells


@shared_task(name="shipments.rebuild_totals", soft_time_limit=3000, time_limit=3600)
def rebuild_totals() -> dict:
    """Recompute every total from the records (nightly); changes nothing when all is well."""
    result = totals.rebuild()
    return {"deleted": result.deleted, "inserted": result.inserted}
