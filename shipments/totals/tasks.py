"""Celery entry points of the totals, and the queueing of a refresh after a write commits.

Both tasks are idempotent: they recompute absolute values, so running one twice is harmless.
"""

import contextlib
import contextvars
import logging
from collections.abc import Iterator

from celery import shared_task
from django.db import transaction

from .rebuild import rebuild
from .refresh import refresh

log = logging.getLogger(__name__)

_queue_on_commit = contextvars.ContextVar("queue_refresh_on_commit", default=True)


@shared_task(name="shipments.refresh_totals")
def refresh_totals() -> int:
    """Recompute the cells marked stale; returns how many. Queued on commit and run by beat."""
    return refresh().cells


@shared_task(name="shipments.rebuild_totals", soft_time_limit=3000, time_limit=3600)
def rebuild_totals() -> dict:
    """Recompute every total from the records (nightly); changes nothing when all is well."""
    result = rebuild()
    return {"deleted": result.deleted, "inserted": result.inserted}


def refresh_after_commit() -> None:
    """Queue a refresh once the caller's transaction commits (services call it after marking cells)."""
    if _queue_on_commit.get():
        transaction.on_commit(queue_refresh)


@contextlib.contextmanager
def deferred_refresh() -> Iterator[None]:
    """Within this block writes mark cells but queue no refresh: for bulk loads that refresh once after."""
    token = _queue_on_commit.set(False)
    try:
        yield
    finally:
        _queue_on_commit.reset(token)


def queue_refresh() -> None:
    """Ask a worker to refresh. If the broker is down the marks stay, and beat's run catches up."""
    try:
        refresh_totals.apply_async(retry=False)
    except Exception:
        log.warning("Could not queue refresh_totals; the periodic run will pick the change up.", exc_info=True)
